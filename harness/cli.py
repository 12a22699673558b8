"""`tfjs-conformance`: a team's own model, from its own repository, in one command.

    tfjs-conformance setup                   TF.js (the pinned npm versions) into the per-user cache, and the
                                             engines (as root: apt-installs what is missing)
    tfjs-conformance check path/model.json   does it round-trip in every engine and medium, and does it fit?
        [--engine E] [--scheme S] [--context C] [--backend B] [--tfjs-version V | --tfjs-bundle PATH]
        [--inputs FILE] [--results-dir DIR]

`check` runs the harness's round-trip scenarios over the model (pytest, as `pytest scenarios --model
PATH` does in a checkout) and prints, from the run's conformance.json: engine x scheme outcomes with the
findings that explain any non-pass; whether it fits (its localStorage size, base64, against the limit
every engine was measured at, and its one IndexedDB value against Chromium's per-value limit); the time
to save and to load it per engine and medium. It writes report.html and conformance.json to
--results-dir. Exit status: 0 when every row passed or is explained by a known finding, 1 when a row
failed that no known finding explains (or broke), 2 on bad input (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import paths

ROUND_TRIPS = "test_roundtrip.py"  # the scenario `check` runs: every scheme x the user's model
# The checkout's pytest settings (pyproject.toml) the harness needs, given to a run from anywhere: its
# server and pages live in the session's event loop.
PYTEST_SETTINGS = {"asyncio_mode": "auto", "asyncio_default_fixture_loop_scope": "session",
                   "asyncio_default_test_loop_scope": "session"}


class BadInput(Exception):
    """What the user gave cannot be used: the message is the one line `check` prints (exit 2)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tfjs-conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    setup = sub.add_parser("setup", help="install TF.js into the per-user cache, and find or install the engines")
    setup.add_argument("--no-engines", action="store_true", help="TF.js only")
    check = sub.add_parser("check", help="round-trip a model.json in every engine and medium; does it fit?")
    check.add_argument("model", help="the model.json (layers or graph; its shards beside it)")
    for flag, what in (("--engine", "an engine (repeatable; default: every engine found)"),
                       ("--scheme", "a scheme (repeatable; default: every one: localstorage, indexeddb, http, ...)"),
                       ("--context", "a context (window, dedicated-worker, ...; repeatable)"),
                       ("--backend", "a TF.js backend (cpu, webgl, wasm, ...; repeatable)"),
                       ("--tfjs-version", "an installed TF.js version"), ("--tfjs-bundle", "a local TF.js UMD bundle")):
        check.add_argument(flag, action="append", default=[], help=what)
    check.add_argument("--inputs", metavar="FILE", help="the model's inputs (JSON), for a model with inputs of unknown "
                                                         "shape (as pytest's --model-inputs)")
    check.add_argument("--results-dir", default="tfjs-conformance-results", help="where report.html and conformance.json go")
    args = parser.parse_args(argv)
    try:
        if args.command == "setup":
            return setup_command(engines=not args.no_engines)
        return check_command(args)
    except BadInput as e:
        print(f"tfjs-conformance: {e}", file=sys.stderr)
        return 2


# -- setup ---------------------------------------------------------------------------------------


def setup_command(engines: bool = True) -> int:
    """npm-install the pinned TF.js versions (harness/defaults/package.json and its lock) into the cache,
    unless a project's own node_modules has TF.js (then that one is used, and said); then the engines."""
    from harness import tfjs

    which, found = tfjs.node_modules_found()
    if which in ("project", "env"):
        print(f"TF.js: using the {which}'s {found} (setup installs nothing in its place)")
    else:
        cache = tfjs.cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        # the pins and npm's settings (a wheel carries .npmrc as npmrc: package data has no dot-files)
        pins = {"package.json": "package.json", "package-lock.json": "package-lock.json",
                ".npmrc": ".npmrc" if paths.CHECKOUT else "npmrc"}
        for target, name in pins.items():
            shutil.copyfile(paths.NPM_PINS / name, cache / target)
        npm = shutil.which("npm")
        if npm is None:
            raise BadInput("npm is not installed: install Node.js and npm (Debian: apt-get install nodejs npm), then run "
                           "setup again")
        print(f"TF.js: npm ci into {cache}", flush=True)
        done = subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=cache)
        if done.returncode != 0:
            print(f"tfjs-conformance setup: npm ci failed in {cache} (exit {done.returncode})", file=sys.stderr)
            return 1
    builds = tfjs.available()
    print("TF.js builds: " + ", ".join(f"{v} ({b.installed})" for v, b in builds.items()))
    if not engines:
        return 0
    from harness.engines.install import main as engines_main

    return engines_main(install=os.geteuid() == 0)


# -- check ---------------------------------------------------------------------------------------


def check_command(args: argparse.Namespace) -> int:
    from harness import backends, contexts
    from harness.golden import byo, fit
    from harness.schemes import SCHEMES

    try:
        golden = byo.load_user_model(args.model, args.inputs)
    except ValueError as e:  # a missing file, a model.json that is not one, a shard listed but absent
        raise BadInput(str(e).removeprefix("--model ")) from None
    unknown = [s for s in args.scheme if s not in SCHEMES]
    if unknown:
        raise BadInput(f"--scheme {', '.join(unknown)}: no such scheme; known: {', '.join(SCHEMES)}")
    for value in args.context:
        if value not in contexts.CONTEXTS and "->" not in value:
            raise BadInput(f"--context {value}: no such context; known: {', '.join(contexts.CONTEXTS)}")
    for value in args.backend:
        try:
            backends.get(value.split("->")[0])
        except ValueError as e:
            raise BadInput(f"--backend {value}: {e}") from None
    results = Path(args.results_dir).resolve()
    results.mkdir(parents=True, exist_ok=True)
    model = str(Path(args.model).resolve())
    command = [sys.executable, "-m", "pytest", str(paths.SCENARIOS / ROUND_TRIPS), "--model", model,
               "--results-dir", str(results), "-p", "no:cacheprovider", "-q",
               # the harness's own settings, whatever pytest configuration lies around the model or the venv
               "-c", os.devnull, "--rootdir", str(results),
               *(part for k, v in PYTEST_SETTINGS.items() for part in ("-o", f"{k}={v}")),
               *(["--model-inputs", f"{model}={Path(args.inputs).resolve()}"] if args.inputs else []),
               *_repeat("--engine", args.engine), *_repeat("--context", args.context),
               *_repeat("--tfjs-backend", args.backend), *_repeat("--tfjs-version", args.tfjs_version),
               *_repeat("--tfjs-bundle", args.tfjs_bundle)]
    if args.scheme:
        command += ["-k", " or ".join(f"{s}-{golden.name}-" for s in args.scheme)]
    log = results / "pytest.log"
    print(f"checking {model} ({golden.model_json.get('format', 'layers-model')}, {len(golden.weight_data):,} bytes "
          f"of weights); pytest's output: {log}", flush=True)
    with open(log, "w") as out:
        # from where it was started: the project's own node_modules and playwright.config are found there
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    doc_path = results / "conformance.json"
    if not doc_path.is_file():
        sys.stderr.write(log.read_text()[-4000:])
        print(f"tfjs-conformance: the run wrote no conformance.json (pytest exit {done.returncode}; see {log})",
              file=sys.stderr)
        return 1
    doc = json.loads(doc_path.read_text())
    from harness import tfjs

    for build in doc.get("tfjs") or []:
        where = f" ({build['installed']}: {tfjs.node_modules_dir()})" if build.get("installed") else ""
        print(f"TF.js {build['version']}: {build['source']}{where}")
    for engine in doc.get("engines") or []:
        print(f"{engine['engine']} {engine.get('version')} ({engine.get('driver')}, {engine.get('build')} build)")
    sys.stdout.write(summary(doc, fit.numbers(golden), fit))
    print(f"\nreport: {results / 'report.html'}\nconformance.json: {doc_path}")
    return exit_status(doc, done.returncode)


def exit_status(doc: dict, pytest_status: int) -> int:
    """1 when a row failed that no known finding explains, broke (error), or made a finding stale (xpassed),
    or pytest itself failed otherwise; else 0 (passed, skipped, xfailed and capacity rows)."""
    bad = [r for r in doc["results"] if r["outcome"] in ("failed", "error", "xpassed")]
    return 1 if bad or pytest_status not in (0, 1) else 0


def _repeat(flag: str, values: list[str]) -> list[str]:
    return [part for v in values for part in (flag, v)]


def summary(doc: dict, numbers: dict, fit) -> str:
    """The three tables `check` prints: outcomes, fit, times."""
    rows = doc["results"]
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    schemes = list(dict.fromkeys(r["scheme"] for r in rows))
    by = {}
    for r in rows:
        by.setdefault((r["scheme"], r["engine"]), []).append(r)
    out = ["", "engine x scheme (what each row's outcome was; findings explain the non-passes)"]
    table = [["scheme", *engines]]
    for s in schemes:
        table.append([s, *(_cell(by.get((s, e), [])) for e in engines)])
    out += _columns(table)
    found = sorted({f for r in rows for f in r.get("findings", [])})
    for fid in found:
        record = (doc.get("findings") or {}).get(fid, {})
        out.append(f"  {fid} ({record.get('kind')}): {record.get('title')}")
    unexplained = [r for r in rows if r["outcome"] in ("failed", "error")]
    for r in unexplained[:20]:
        first = (r.get("differences") or [{}])[0]
        out.append(f"  {r['outcome'].upper()} {r['scheme']} / {r['engine']}: {first.get('message', '')[:300]}")
    chars, limit = numbers["localstorage_chars"], numbers["localstorage_limit_chars"]
    value, value_limit = numbers["indexeddb_value_bytes"], numbers["chromium_indexeddb_value_limit_bytes"]
    out += ["", "does it fit?",
            f"  localStorage: {chars:,} characters (base64 weights and JSON) of {limit:,} per origin, measured in "
            f"every engine: {'fits' if chars <= limit else 'does NOT fit'}"
            + (f" (twice: {'fits' if 2 * chars <= limit else 'not'})" if chars <= limit else ""),
            f"  IndexedDB: one value of {value:,} bytes; Chromium's per-value limit {value_limit:,}: "
            f"{'fits' if value <= value_limit else 'does NOT fit'}",
            f"  {fit.describe(numbers)}"]
    out += ["", "time (s): save / load per engine and scheme, as the page measured TF.js's calls"]
    table = [["scheme", *engines]]
    for s in schemes:
        table.append([s, *(_times(by.get((s, e), [])) for e in engines)])
    out += _columns(table)
    return "\n".join(out) + "\n"


def _cell(rows: list[dict]) -> str:
    if not rows:
        return "-"
    outcomes = [r["outcome"] for r in rows]
    text = ", ".join(f"{n} {o}" if n > 1 else o for o, n in ((o, outcomes.count(o)) for o in dict.fromkeys(outcomes)))
    found = sorted({f for r in rows for f in r.get("findings", [])})
    return text + (f" ({' '.join(found)})" if found else "")


def _times(rows: list[dict]) -> str:
    """save / load seconds, summed over the rows' calls ("-": the scheme makes no such call, e.g. load-options
    loads the files as given)."""
    phases = [r.get("phase_s") or {} for r in rows]
    if not any(phases):
        return "-"
    said = [f"{sum(p.get(k, 0) for p in phases):.3f}" if any(k in p for p in phases) else "-" for k in ("save", "load")]
    return " / ".join(said)


def _columns(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]


if __name__ == "__main__":
    sys.exit(main())
