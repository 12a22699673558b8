"""TF.js's own io contract against the harness: `scenarios/upstream-coverage.toml`.

One `[[behaviour]]` per user-visible behaviour that upstream's io tests assert (tensorflow/tfjs
`tfjs-core/src/io/*_test.ts`, tfjs-node's file_system_test.ts, the tfjs-layers save/load tests), with
the harness rows (`scheme` and `model`) that exercise it for real, or why none does:

    [[behaviour]]
    id = "A1"                                      # the group letter and a number, stable
    file = "tfjs-core/src/io/local_storage_test.ts"
    test = "Save artifacts succeeds"               # upstream's it(...) name, as upstream spells it
    what = "Save writes exactly 5 keys ..."        # what upstream asserts, one line
    coverage = "real"                              # COVERAGE
    rows = [{scheme = "localstorage", model = "mlp"}]   # real and partial: at least one; none: no rows
    missing = "..."                                # partial: what of upstream's assertion no row checks
    why = "..."                                    # not-applicable: an internal helper, no user-visible effect

`load()` refuses a malformed map with the entry and key named; `figure()` is the coverage README states;
tests/test_upstream_coverage.py checks that every mapped row is in the collected matrix. `python -m
harness upstream` prints the figure and the behaviours no row covers.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from harness.paths import UPSTREAM_COVERAGE

COVERAGE = ("real", "partial", "none", "not-applicable")
_REQUIRED = ("id", "file", "test", "what", "coverage")
_KEYS = {*_REQUIRED, "rows", "missing", "why"}
_ID = re.compile(r"^[A-Z][0-9]+[a-z]?$")


class CoverageError(ValueError):
    """The map is not what harness.upstream reads; the message names the entry and key."""


@dataclasses.dataclass(frozen=True)
class Behaviour:
    id: str
    file: str
    test: str
    what: str
    coverage: str
    rows: tuple[tuple[str, str], ...] = ()  # (scheme, model)
    missing: str = ""
    why: str = ""


def load(path: Path = UPSTREAM_COVERAGE) -> list[Behaviour]:
    with open(path, "rb") as f:
        try:
            doc = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise CoverageError(f"{path}: {e}") from None
    unknown = set(doc) - {"behaviour"}
    if unknown:
        raise CoverageError(f"{path}: unknown top-level keys {sorted(unknown)} (only [[behaviour]])")
    out, seen = [], set()
    for i, entry in enumerate(doc.get("behaviour") or []):
        out.append(_behaviour(entry, f"{path.name}: behaviour {entry.get('id') or f'#{i + 1}'}"))
        if out[-1].id in seen:
            raise CoverageError(f"{path.name}: behaviour {out[-1].id} appears twice")
        seen.add(out[-1].id)
    if not out:
        raise CoverageError(f"{path}: no [[behaviour]] entries")
    return out


def _behaviour(entry: dict, where: str) -> Behaviour:
    missing = [k for k in _REQUIRED if not isinstance(entry.get(k), str) or not entry[k].strip()]
    if missing:
        raise CoverageError(f"{where}: {', '.join(missing)} missing (a non-empty string each)")
    if set(entry) - _KEYS:
        raise CoverageError(f"{where}: unknown keys {sorted(set(entry) - _KEYS)}")
    if not _ID.match(entry["id"]):
        raise CoverageError(f"{where}: id {entry['id']!r} is not a group letter and a number (A1, D12)")
    coverage = entry["coverage"]
    if coverage not in COVERAGE:
        raise CoverageError(f"{where}: coverage {coverage!r} is not one of {', '.join(COVERAGE)}")
    rows = entry.get("rows") or []
    if coverage in ("real", "partial") and not rows:
        raise CoverageError(f"{where}: coverage {coverage} needs rows (the scheme and model that exercise it)")
    if coverage in ("none", "not-applicable") and rows:
        raise CoverageError(f"{where}: coverage {coverage} with rows: a row that exercises it makes it real or partial")
    for row in rows:
        if not isinstance(row, dict) or set(row) != {"scheme", "model"}:
            raise CoverageError(f"{where}: a row is {{scheme = ..., model = ...}}, got {row!r}")
    if coverage == "partial" and not str(entry.get("missing", "")).strip():
        raise CoverageError(f"{where}: coverage partial needs `missing` (what of upstream's assertion no row checks)")
    if coverage == "not-applicable" and not str(entry.get("why", "")).strip():
        raise CoverageError(f"{where}: coverage not-applicable needs `why` (an internal helper with no user-visible effect)")
    return Behaviour(entry["id"], entry["file"], entry["test"], entry["what"], coverage,
                     tuple((r["scheme"], r["model"]) for r in rows), entry.get("missing", ""), entry.get("why", ""))


def counts(behaviours: list[Behaviour]) -> dict[str, int]:
    return {c: sum(b.coverage == c for b in behaviours) for c in COVERAGE}


def figure(behaviours: list[Behaviour]) -> str:
    """The coverage README states: the share of upstream's user-visible behaviours that rows do for real."""
    n = counts(behaviours)
    applicable = len(behaviours) - n["not-applicable"]
    share = 100 * n["real"] / applicable if applicable else 0.0
    return (f"{n['real']} of {applicable} upstream io behaviours covered for real ({share:.0f}%), "
            f"{n['partial']} partly, {n['none']} not at all ({n['not-applicable']} not applicable)")


def main() -> int:
    behaviours = load()
    print(figure(behaviours))
    for b in behaviours:
        if b.coverage in ("none", "partial"):
            print(f"  {b.id:<5} {b.coverage:<8} {b.file.rsplit('/', 1)[-1]}: {b.test!r}: "
                  f"{b.missing or b.what}")
    return 0
