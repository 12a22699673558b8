"""`python -m harness COMMAND`: the harness's command line.

    engines [--install]   list the engines found (name, version, driver, build); install missing ones
"""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    engines = sub.add_parser("engines", help="list the engines found; --install the missing ones")
    engines.add_argument("--install", action="store_true", help="as root: apt-get the missing system builds")
    args = parser.parse_args(argv)
    if args.command == "engines":
        from harness.engines.install import main as engines_main

        return engines_main(install=args.install)
    return 2


if __name__ == "__main__":
    sys.exit(main())
