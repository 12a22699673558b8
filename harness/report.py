"""The report contract: `test-results/conformance.json`, and the engine x scheme matrix.

    {"schema": 1,
     "engines": [{"engine", "version", "driver", "build"}],
     "tfjs": [{"version", "source"}],
     "results": [{"engine", "tfjs", "backend", "scheme", "model", "outcome", "duration_s", "detail", "test"}]}

`outcome` is one of OUTCOMES. Later tools read this file: change it only by adding fields.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

SCHEMA = 1
OUTCOMES = ("passed", "failed", "xfailed", "skipped", "error")
_CELL = {"passed": "pass", "failed": "FAIL", "xfailed": "xfail", "skipped": "skip", "error": "ERROR"}
_WORST_FIRST = ("error", "failed", "skipped", "xfailed", "passed")


def document(engines: list[dict], tfjs: list[dict], results: list[dict]) -> dict:
    for row in results:
        if row["outcome"] not in OUTCOMES:
            raise ValueError(f"row {row.get('test')}: outcome {row['outcome']!r} is not one of {OUTCOMES}")
    return {"schema": SCHEMA, "engines": engines, "tfjs": tfjs, "results": results}


def write(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def matrix(doc: dict) -> str:
    """Scheme x engine table (one row per scheme, one column per engine); a cell counts its rows'
    outcomes, worst first (e.g. "1 FAIL, 2 xfail, 12 pass"). Then a tally, the engines' versions and
    why any is missing."""
    results = doc["results"]
    if not results:
        return "(no conformance rows in this run)"
    engines = list(dict.fromkeys(r["engine"] for r in results))
    schemes = list(dict.fromkeys(r["scheme"] for r in results))
    cells = collections.defaultdict(collections.Counter)
    for r in results:
        cells[r["scheme"], r["engine"]][r["outcome"]] += 1

    def cell(counts: collections.Counter) -> str:
        if not counts:
            return "-"
        return ", ".join(f"{counts[o]} {_CELL[o]}" for o in _WORST_FIRST if counts[o])

    head = ["scheme", *engines]
    rows = [[s, *(cell(cells[s, e]) for e in engines)] for s in schemes]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)]
    tally = collections.Counter(r["outcome"] for r in results)
    lines.append(", ".join(f"{tally[o]} {o}" for o in OUTCOMES if tally[o]) + f" ({len(results)} rows)")
    info = {e["engine"]: e for e in doc["engines"]}
    for e in engines:
        entry = info.get(e, {})
        if entry.get("version"):
            lines.append(f"{e}: {entry['version']} ({entry.get('driver')}, {entry.get('build')} build)")
        elif "missing" in entry:
            lines.append(f"{e}: not installed: {entry['missing']}")
        elif "failed" in entry:
            lines.append(f"{e}: failed to start: {entry['failed']}")
    return "\n".join(lines)
