"""The report contract: `test-results/conformance.json`, schema 3 (harness/report/conformance.schema.json).

    {"schema": 3,
     "engines": [{"engine", "version", "driver", "build", ...}],
     "tfjs": [{"version", "source", "semver"?}],
     "findings": {id: {"kind", "title", "promise", "link", "intermittent"}},   the findings the rows name
     "results": [row, ...], "timing": {...}, "zoo": ..., "shard"?, "selection"?, "flaky"?, "merged"?}

A row upgraded from schema 1 carries `from_schema: 1`: its differences and findings were not recorded
as data then (its `detail` is kept as it was), so the schema's "a non-passed row has differences" rule
does not hold for it.

A row is keyed by ROW_KEY (engine, build, context, backend, tfjs, scheme, model, hosting) and carries its
`outcome` (OUTCOMES), its `differences` ([{what, path, expected, actual, message, finding?}]: what the
comparator found, and for a row that did not run or broke, why), the `findings` that explain it, the
`hazards` its scheme observed, and `detail`: text rendered from the differences, for people. Every tool
that reads a row (baseline, merge, expectations update, mutation scoring, the reports) reads the fields.

A `capacity` row failed only because its model does not fit a medium: every difference is explained by
findings of kind capacity, and `observed.fit` has the numbers it was judged by (harness.golden.fit).

Older documents are still read, as schema 3 (`upgrade`):
- schema 1 (before structured rows): their rows get a build (from their engine records), the context
  "window" and no differences;
- schema 2 (before the capacity outcome): an xfailed row explained only by capacity findings, with the
  fit numbers that put its model over a medium, is a capacity row.
"""

from __future__ import annotations

import collections
import functools
import json
from pathlib import Path

from harness.paths import RESULTS_SCHEMA

SCHEMA = 3
READS = (1, 2, 3)  # the schemas diff, merge and --baseline accept
OUTCOMES = ("passed", "failed", "xfailed", "capacity", "xpassed", "skipped", "error")
KNOWN = frozenset({"xfailed", "capacity"})  # failed, every difference explained by a known finding
ROW_KEY = ("engine", "build", "context", "backend", "tfjs", "scheme", "model", "hosting")
DEFAULT_CONTEXT = "window"
DEFAULT_HOSTING = "plain"  # how the model is served: the harness's own static files (harness.schemes.hosting)


class DocumentError(ValueError):
    """Not a conformance document this harness can read (the message says why)."""


def row_key(row: dict) -> tuple:
    return tuple(row.get(k, DEFAULT_HOSTING) if k == "hosting" else row.get(k) for k in ROW_KEY)


def build(engines: list[dict], tfjs: list[dict], results: list[dict], findings: dict | None = None) -> dict:
    """A schema-3 document over `results`, with the findings table restricted to the ids they name."""
    for row in results:
        if row["outcome"] not in OUTCOMES:
            raise ValueError(f"row {row.get('test')}: outcome {row['outcome']!r} is not one of {OUTCOMES}")
    named = {fid for row in results for fid in row.get("findings", [])}
    named |= {h["id"] for row in results for h in row.get("hazards", [])}
    table = {fid: record for fid, record in (findings or {}).items() if fid in named}
    doc = {"schema": SCHEMA, "engines": engines, "tfjs": tfjs, "findings": table, "results": results}
    if any("repeat" in r for r in results):
        doc["flaky"] = flaky(results, table)
    return doc


def scheme_label(row: dict) -> str:
    """A row's scheme as reports name it: a hosting row's names its profile ("http-hosted · redirect")."""
    profile = row.get("hosting", DEFAULT_HOSTING)
    return row.get("scheme") if profile == DEFAULT_HOSTING else f"{row.get('scheme')} · {profile}"


def detail(row: dict) -> str:
    """The row's differences as text (what a person reads in a report or a failed test's output); a
    capacity row's first line says what its model does not fit, with the numbers."""
    text = render(row.get("differences") or [], f"{scheme_label(row)} / {row.get('model')} / {row.get('engine')}")
    fits = (row.get("observed") or {}).get("fit")
    if row.get("outcome") == "capacity" and fits:
        from harness.golden import fit

        return f"capacity: the model does not fit ({fit.describe(fits)})\n{text}"
    return text


def render(differences: list[dict], where: str) -> str:
    """Difference records as text: a header, then one line each, tagged with the finding that explains it."""
    if not differences:
        return ""
    lines = [f"{len(differences)} difference(s) in {where}:"]
    for d in differences:
        known = f"  [{d['finding']}]" if d.get("finding") else ""
        lines.append(f"  - {d['what']} {d['path']}: {d['message']}{known}")
    return "\n".join(lines)


def first_difference(row: dict, unexplained_first: bool = True) -> dict | None:
    """The difference that says most about the row: the first no finding explains (what a mutant or a
    regression changed), else the first."""
    diffs = row.get("differences") or []
    if unexplained_first:
        for d in diffs:
            if not d.get("finding"):
                return d
    return diffs[0] if diffs else None


def flaky(results: list[dict], findings: dict | None = None) -> list[dict]:
    """Rows run more than once (--repeat) whose outcomes differ, and rows under an intermittent finding
    that never passed in any repeat ("suspicious": the finding may hide a harness bug or a change):
    [{key fields..., "outcomes": {outcome: count}, "first_differences": [...], "suspicious"?: why}]."""
    groups: dict[tuple, list[dict]] = collections.defaultdict(list)
    for r in results:
        groups[row_key(r)].append(r)
    intermittent = {fid for fid, f in (findings or {}).items() if f.get("intermittent")}
    out = []
    for key, rows in groups.items():
        outcomes = collections.Counter(r["outcome"] for r in rows)
        entry = {**dict(zip(ROW_KEY, key)), "outcomes": dict(outcomes),
                 "first_differences": [first_difference(r) for r in rows if r["outcome"] != "passed"]}
        named = {fid for r in rows for fid in r.get("findings", [])} & intermittent
        if len(rows) > 1 and len(outcomes) > 1:
            out.append(entry)
        elif len(rows) > 1 and named and set(outcomes) <= KNOWN:
            out.append({**entry, "suspicious": f"under the intermittent finding(s) {', '.join(sorted(named))} "
                                               f"this row never passed in {len(rows)} repeats"})
    return out


# -- reading and writing ------------------------------------------------------------------------


@functools.cache
def json_schema() -> dict:
    return json.loads(RESULTS_SCHEMA.read_text("utf-8"))


def validate(doc: dict) -> None:
    """DocumentError unless `doc` is a valid schema-2 document (conformance.schema.json)."""
    import jsonschema

    try:
        jsonschema.validate(doc, json_schema())
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise DocumentError(f"not a valid conformance document at {where}: {e.message}") from None


def write(path: Path, doc: dict) -> Path:
    """Validate `doc` against the schema, then write it (nothing is written when it is invalid)."""
    validate(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path


def read(path: Path) -> dict:
    """A conformance.json of schema 1 or 2, as schema 2; DocumentError saying why it cannot be read."""
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except OSError as e:
        raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DocumentError(f"{path}: not JSON: {e}") from None
    return upgrade(doc, str(path))


def upgrade(doc: object, name: str = "document") -> dict:
    """`doc` as schema 3 (a schema-1 document's rows get their engine's build, context "window", no
    differences, and their `detail` kept as it was; a schema-2 document's capacity rows are named so);
    DocumentError if it is not a conformance document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise DocumentError(f"{name}: not a conformance document (no \"results\" list)")
    schema = doc.get("schema", 1)
    if type(schema) is not int or schema not in READS:
        raise DocumentError(f"{name}: schema {schema!r}; this harness reads schemas {', '.join(map(str, READS))}")
    for i, row in enumerate(doc["results"]):
        if not isinstance(row, dict) or "outcome" not in row or not {"engine", "scheme", "model"} <= row.keys():
            raise DocumentError(f"{name}: results[{i}] is not a conformance row")
    if schema == 3:
        return doc
    if schema == 2:
        return {**doc, "schema": SCHEMA, "upgraded_from": 2, "results": [_capacity(row, doc.get("findings") or {})
                                                                         for row in doc["results"]]}
    builds = {e.get("engine"): e.get("build") for e in doc.get("engines") or [] if isinstance(e, dict)}
    rows = [{**row, "build": row.get("build", builds.get(row["engine"])), "context": row.get("context", DEFAULT_CONTEXT),
             "differences": row.get("differences", []), "findings": row.get("findings", []),
             "hazards": row.get("hazards", []), "detail": row.get("detail") or "", "from_schema": schema}
            for row in doc["results"]]
    return {**doc, "schema": SCHEMA, "upgraded_from": schema, "findings": doc.get("findings", {}), "results": rows}


def _capacity(row: dict, findings: dict) -> dict:
    """A schema-2 row as schema 3: xfailed by capacity findings alone, with the fit numbers that put its
    model over a medium, it is a capacity row (without the numbers it stays xfailed)."""
    ids = row.get("findings") or []
    over = ((row.get("observed") or {}).get("fit") or {}).get("exceeds")
    if row.get("outcome") == "xfailed" and ids and over and all((findings.get(i) or {}).get("kind") == "capacity" for i in ids):
        return {**row, "outcome": "capacity"}
    return row
