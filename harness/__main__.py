"""`python -m harness COMMAND`: the harness's command line.

    engines [--install]   list the engines found (name, version, driver, build); install missing ones
    diff OLD.json NEW.json
                          compare two conformance.json: regressions, fixes, changes (harness.baseline);
                          exit 1 on a regression, 2 when a file is unreadable
"""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    engines = sub.add_parser("engines", help="list the engines found; --install the missing ones")
    engines.add_argument("--install", action="store_true", help="as root: apt-get the missing system builds")
    compare = sub.add_parser("diff", help="compare two conformance.json; exit 1 on a regression, 2 on unreadable input")
    compare.add_argument("old", metavar="OLD.json", help="the baseline")
    compare.add_argument("new", metavar="NEW.json", help="this run")
    args = parser.parse_args(argv)
    if args.command == "engines":
        from harness.engines.install import main as engines_main

        return engines_main(install=args.install)
    if args.command == "diff":
        from harness.baseline import main as diff_main

        return diff_main(args.old, args.new)
    return 2


if __name__ == "__main__":
    sys.exit(main())
