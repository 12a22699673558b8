"""``python -m harness.golden [--check] [--root DIR] [MODEL ...]``

Without ``--check``: regenerate the fixtures and print every file written.
With ``--check``: regenerate into a temp dir and exit 1 listing every file that
differs from (or is missing in / extra in) the fixtures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import FIXTURES, MODELS, check, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.golden", description=__doc__.split("\n\n")[1])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--root", type=Path, default=FIXTURES, help=f"fixtures dir (default {FIXTURES})")
    parser.add_argument("models", nargs="*", metavar="MODEL", help=f"default: all of {', '.join(MODELS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    names = tuple(args.models) or MODELS
    if args.check:
        problems = check(args.root, names)
        for line in problems:
            print(line)
        print(f"{len(problems)} file(s) out of date" if problems else "fixtures up to date", file=sys.stderr)
        return 1 if problems else 0
    for path in generate(args.root, names):
        print(os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
