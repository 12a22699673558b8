"""`python -m harness COMMAND`: the harness's command line.

    engines [--install]   list the engines found (name, version, driver, build); install missing ones
    diff OLD.json NEW.json
                          compare two conformance.json: regressions, fixes, changes (harness.report.baseline);
                          exit 1 on a regression, 2 when a file is unreadable
    bench [--engine E ...] [--sizes 1MB,16MB,128MB] [--repeat 3]
                          TF.js save/load time beside the raw medium (harness.measure.bench): a table and bench.json
    mutants [--engine E ...] [--only NAME ...] [--keep DIR] [--list]
                          mutation testing of the suite: run it on copies of TF.js's tf.js with one
                          fault each (harness.measure.mutants); exit 1 if a mutant survives, 2 if the pristine
                          bundle is not green
    merge A.json B.json ... [-o DIR] [--partial]
                          join the conformance.json of several jobs (--shard K/N, or other machines) into
                          one report (harness.report.merge); exit 2 if they are not parts of one run
    upstream              TF.js's own io tests against the rows (scenarios/upstream-coverage.toml,
                          harness.upstream): the coverage figure and what no row covers
    hosting [conformance.json]
                          the error-attribution table of the hosting rows (harness.report.hosting), as
                          Markdown; default test-results/conformance.json
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
    from harness.measure.bench import add_arguments as bench_arguments

    bench_arguments(sub.add_parser("bench", help="TF.js save/load time beside the raw medium, per engine x scheme x size "
                                                 "(figures only; test-results/bench.json)"))
    mutants = sub.add_parser("mutants", help="mutation testing: run the suite on TF.js bundles with one fault each")
    from harness.measure.mutants import add_arguments

    add_arguments(mutants)
    from harness.report.merge import add_arguments as merge_arguments

    merge_arguments(sub.add_parser("merge", help="join several conformance.json (shards, machines) into one report"))
    sub.add_parser("upstream", help="TF.js's own io tests against the rows: the coverage figure, the gaps")
    hosting = sub.add_parser("hosting", help="the hosting profiles' error-attribution table, as Markdown")
    hosting.add_argument("path", nargs="?", default="test-results/conformance.json", metavar="conformance.json")
    args = parser.parse_args(argv)
    if args.command == "engines":
        from harness.engines.install import main as engines_main

        return engines_main(install=args.install)
    if args.command == "diff":
        from harness.report.baseline import main as diff_main

        return diff_main(args.old, args.new)
    if args.command == "bench":
        from harness.measure.bench import main_args as bench_main

        return bench_main(args)
    if args.command == "mutants":
        from harness.measure.mutants import main as mutants_main

        return mutants_main(args)
    if args.command == "merge":
        from harness.report.merge import main as merge_main

        return merge_main(args)
    if args.command == "upstream":
        from harness.upstream import main as upstream_main

        return upstream_main()
    if args.command == "hosting":
        from harness.report.hosting import main as hosting_main

        return hosting_main(args.path)
    return 2


if __name__ == "__main__":
    sys.exit(main())
