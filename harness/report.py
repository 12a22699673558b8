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
    """Engine x scheme table; a cell counts outcomes, worst first (e.g. "FAIL 1/2")."""
    results = doc["results"]
    if not results:
        return "(no conformance rows in this run)"
    engines = list(dict.fromkeys(r["engine"] for r in results))
    schemes = list(dict.fromkeys(r["scheme"] for r in results))
    cells = collections.defaultdict(collections.Counter)
    for r in results:
        cells[r["engine"], r["scheme"]][r["outcome"]] += 1

    def cell(counts: collections.Counter) -> str:
        if not counts:
            return "-"
        total = sum(counts.values())
        worst = next(o for o in ("error", "failed", "skipped", "xfailed", "passed") if counts[o])
        return f"{_CELL[worst]} {counts[worst]}/{total}"

    info = {e["engine"]: e for e in doc["engines"]}
    label = lambda e: f"{e} {info.get(e, {}).get('version') or ('(not installed)' if 'missing' in info.get(e, {}) else '')}"  # noqa: E731
    head = ["engine", *schemes]
    rows = [[label(e).strip(), *(cell(cells[e, s]) for s in schemes)] for e in engines]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)]
    tally = collections.Counter(r["outcome"] for r in results)
    lines.append(", ".join(f"{tally[o]} {o}" for o in OUTCOMES if tally[o]) + f" ({len(results)} rows)")
    lines += [f"{e}: not installed: {info[e]['missing']}" for e in engines if "missing" in info.get(e, {})]
    lines += [f"{e}: failed to start: {info[e]['failed']}" for e in engines if "failed" in info.get(e, {})]
    return "\n".join(lines)
