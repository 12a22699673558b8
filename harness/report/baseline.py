"""Compare two conformance documents (conformance.json, schema 1 or 2): what regressed, what got
fixed, what changed.

A row is identified by harness.report.document.ROW_KEY (engine, build, context, backend, tfjs, scheme,
model): Playwright's WebKit and WebKitGTK are both "webkit", and are never compared with each other
(an engine whose build changed is listed, and its rows are new and missing). Rows whose key is not
unique (in either document) are told apart by their test id too, then by their order.

Classes, old outcome -> new outcome:
    regressions    passed | xfailed | capacity | xpassed -> failed | error  (the class that fails a gate), and
                   passed | xpassed -> xfailed | capacity unless every finding that explains the new row
                   is intermittent: a candidate's new failure is a regression even when a finding covers it
    fixes          failed | error | xfailed | capacity -> passed | xpassed
    intermittent   passed | xpassed -> xfailed under intermittent findings only (not a regression)
    changed        any other change (e.g. skipped -> failed, passed -> skipped, failed -> xfailed)
    new            only in the new document
    missing        only in the old document
    unchanged      same outcome

`python -m harness diff OLD.json NEW.json` prints `format(diff(old, new))`; exit 1 on a regression.
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

from harness.report import document

KEY = document.ROW_KEY
_GOOD = frozenset({"passed", *document.KNOWN, "xpassed"})
_BAD = frozenset({"failed", "error"})
_PASSED = frozenset({"passed", "xpassed"})
_LIST_AT_MOST = 50  # rows listed per class in format(); the rest are counted


class BaselineError(ValueError):
    """A document that cannot be compared (unreadable, not JSON, not a conformance document)."""


@dataclasses.dataclass(frozen=True)
class Change:
    """One row in one or both documents: `old` / `new` are the rows (None where absent)."""

    key: tuple
    old: dict | None
    new: dict | None

    @property
    def old_outcome(self) -> str | None:
        return self.old["outcome"] if self.old else None

    @property
    def new_outcome(self) -> str | None:
        return self.new["outcome"] if self.new else None

    @property
    def row(self) -> dict:
        """The newest row there is."""
        return self.new or self.old  # type: ignore[return-value]

    def label(self) -> str:
        """"scheme / model / engine (tfjs 4.22.0, cpu)"."""
        r = self.row
        extra = ", ".join(str(x) for x in (r.get("build"), r.get("context"), r.get("hosting"))
                          if x and x not in (document.DEFAULT_CONTEXT, document.DEFAULT_HOSTING))
        return (f"{r.get('scheme')} / {r.get('model')} / {r.get('engine')} (tfjs {r.get('tfjs')}, {r.get('backend')}"
                f"{', ' + extra if extra else ''})")


@dataclasses.dataclass
class BaselineDiff:
    regressions: list[Change] = dataclasses.field(default_factory=list)
    fixes: list[Change] = dataclasses.field(default_factory=list)
    intermittent: list[Change] = dataclasses.field(default_factory=list)
    changed: list[Change] = dataclasses.field(default_factory=list)
    new: list[Change] = dataclasses.field(default_factory=list)
    missing: list[Change] = dataclasses.field(default_factory=list)
    unchanged: list[Change] = dataclasses.field(default_factory=list)
    # (engine, old version, new version) for every engine in both documents whose version differs
    engine_versions: list[tuple[str, str | None, str | None]] = dataclasses.field(default_factory=list)
    # (engine, old builds, new builds) for every engine whose build differs: its rows are not compared
    engine_builds: list[tuple[str, list, list]] = dataclasses.field(default_factory=list)
    # the TF.js versions of each document, when they differ
    tfjs_versions: tuple[list[str], list[str]] | None = None

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CLASSES}


CLASSES = ("regressions", "fixes", "intermittent", "changed", "new", "missing", "unchanged")


def load(path: Path) -> dict:
    """Read a conformance.json (schema 1 or 2, as schema 2); BaselineError (with the reason) if it is not one."""
    try:
        return document.read(Path(path))
    except document.DocumentError as e:
        raise BaselineError(str(e)) from None


def check(doc: object, name: str = "document") -> dict:
    """`doc` as schema 2; BaselineError unless it has the shape diff() reads."""
    try:
        return document.upgrade(doc, name)
    except document.DocumentError as e:
        raise BaselineError(str(e)) from None


def diff(old: dict, new: dict) -> BaselineDiff:
    """Classify every row of `old` and `new` (see the module docstring). Lists keep `new`'s row order
    (then `old`'s, for missing rows)."""
    old, new = check(old, "old"), check(new, "new")
    old_rows, new_rows = old["results"], new["results"]
    intermittent = {fid for fid, f in (new.get("findings") or {}).items() if f.get("intermittent")}
    # Gating a candidate against a release: each run tested one build and they differ, so rows match on
    # everything else (that build's id is read as TESTED in a row's tfjs, "A->B" included).
    old_tested, new_tested = _tested(old), _tested(new)
    if len(old_tested) == 1 and len(new_tested) == 1 and old_tested != new_tested:
        old_rows, new_rows = _as_tested(old_rows, *old_tested), _as_tested(new_rows, *new_tested)
    duplicated = _duplicated_keys(old_rows) | _duplicated_keys(new_rows)
    old_by_key = _keyed(old_rows, duplicated)
    new_by_key = _keyed(new_rows, duplicated)
    d = BaselineDiff()
    for key, row in new_by_key.items():
        before = old_by_key.get(key)
        change = Change(_base_key(row), before, row)
        if before is None:
            d.new.append(change)
        else:
            _classes(d, before["outcome"], row, intermittent).append(change)
    d.missing = [Change(_base_key(row), row, None) for key, row in old_by_key.items() if key not in new_by_key]
    d.engine_versions = _engine_versions(old, new)
    d.engine_builds = _engine_builds(old_rows, new_rows)
    old_tfjs, new_tfjs = _tfjs_versions(old), _tfjs_versions(new)
    if old_tfjs != new_tfjs:
        d.tfjs_versions = (old_tfjs, new_tfjs)
    return d


def regressed(d: BaselineDiff) -> bool:
    """Whether any row went from passed/xfailed to failed/error."""
    return bool(d.regressions)


def format(d: BaselineDiff) -> str:  # noqa: A001 (the brief's name; this module never needs the builtin)
    """A readable text block: the counts, then regressions (each with its new detail's first line),
    fixes, newly known findings, other changes, new and missing rows (at most 50 listed per class)."""
    counts = d.counts()
    lines = ["baseline: " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())]
    lines += [f"  {line}" for line in what_changed(d)]
    sections = (
        ("REGRESSIONS", d.regressions, True),
        ("fixed", d.fixes, False),
        ("known intermittent (passed -> xfailed under intermittent findings)", d.intermittent, True),
        ("other changes", d.changed, True),
        ("new rows", d.new, False),
        ("missing rows (in the baseline, not in this run)", d.missing, False),
    )
    for title, changes, with_detail in sections:
        if not changes:
            continue
        lines.append(f"{title} ({len(changes)}):")
        shown = changes if title == "REGRESSIONS" else changes[:_LIST_AT_MOST]
        for c in shown:
            lines.append(f"  {c.label()}: {_transition(c)}")
            first = _first_difference(c.new) if with_detail and c.new else ""
            if first:
                lines.append(f"      {first}")
        if len(shown) < len(changes):
            lines.append(f"  ... and {len(changes) - len(shown)} more")
    if not d.regressions:
        lines.append("no regressions")
    return "\n".join(lines)


def what_changed(d: BaselineDiff) -> list[str]:
    """What differs between the two runs themselves: engine versions and builds, TF.js builds."""
    lines = [f"{engine}: {was or '(absent)'} -> {now or '(absent)'}" for engine, was, now in d.engine_versions]
    lines += [f"{engine}: build {', '.join(map(str, was))} -> {', '.join(map(str, now))}: another engine build, its rows "
              f"are not compared (they are new and missing rows)" for engine, was, now in d.engine_builds]
    if d.tfjs_versions:
        was, now = d.tfjs_versions
        lines.append(f"tfjs: {', '.join(was) or '(none)'} -> {', '.join(now) or '(none)'}")
    return lines


def _first_difference(row: dict) -> str:
    """The row's first unexplained difference (else its first), in one line: what changed."""
    d = document.first_difference(row)
    if d is None:
        return ""
    known = f" [{d['finding']}]" if d.get("finding") else ""
    return first_line(f"{d['what']} {d['path']}: {d['message']}{known}")


def first_line(text: str | None, limit: int = 200) -> str:
    """The first non-empty line of `text`, cut to `limit` characters."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[:limit - 3] + "..."
    return ""


def main(old_path: str, new_path: str) -> int:
    """`python -m harness diff OLD NEW`: print the diff; 1 on a regression, 0 otherwise, 2 on unreadable input."""
    import sys

    try:
        old, new = load(Path(old_path)), load(Path(new_path))
    except BaselineError as e:
        print(f"harness diff: {e}", file=sys.stderr)
        return 2
    d = diff(old, new)
    print(format(d))
    return 1 if regressed(d) else 0


# -- internals ----------------------------------------------------------------------------------


TESTED = "<tested build>"


def _tested(doc: dict) -> set[str]:
    return {str(t.get("version")) for t in doc.get("tfjs") or []}


def _as_tested(rows: list[dict], build: str) -> list[dict]:
    return [{**r, "tfjs": "->".join(TESTED if v == build else v for v in str(r.get("tfjs")).split("->"))} for r in rows]


def _base_key(row: dict) -> tuple:
    return tuple(row.get(k) for k in KEY)


def _duplicated_keys(rows: list[dict]) -> set[tuple]:
    counts = collections.Counter(_base_key(r) for r in rows)
    return {k for k, n in counts.items() if n > 1}


def _keyed(rows: list[dict], duplicated: set[tuple]) -> dict[tuple, dict]:
    """Rows by key; a duplicated key is extended with the test id and the occurrence among equals."""
    out: dict[tuple, dict] = {}
    seen: collections.Counter = collections.Counter()
    for row in rows:
        key = _base_key(row)
        if key in duplicated:
            key = (*key, row.get("test"))
            seen[key] += 1
            key = (*key, seen[key])
        out[key] = row
    return out


def _classes(d: BaselineDiff, was: str, row: dict, intermittent: set[str]) -> list[Change]:
    now = row["outcome"]
    if was == now:
        return d.unchanged
    if was in _GOOD and now in _BAD:
        return d.regressions
    if was in _PASSED and now in document.KNOWN:
        ids = row.get("findings") or []
        return d.intermittent if ids and all(i in intermittent for i in ids) else d.regressions
    if now in _PASSED and was in (_BAD | document.KNOWN):
        return d.fixes
    return d.changed


def _transition(c: Change) -> str:
    if c.old is None:
        return f"new, {c.new_outcome}"
    if c.new is None:
        return f"was {c.old_outcome}"
    return f"{c.old_outcome} -> {c.new_outcome}"


def _engine_versions(old: dict, new: dict) -> list[tuple[str, str | None, str | None]]:
    was = {e.get("engine"): e.get("version") for e in old.get("engines") or [] if isinstance(e, dict)}
    now = {e.get("engine"): e.get("version") for e in new.get("engines") or [] if isinstance(e, dict)}
    return [(name, was.get(name), now.get(name)) for name in dict.fromkeys([*now, *was])
            if name in was and name in now and was[name] != now[name]]


def _engine_builds(old_rows: list[dict], new_rows: list[dict]) -> list[tuple[str, list, list]]:
    was, now = collections.defaultdict(set), collections.defaultdict(set)
    for r in old_rows:
        was[r["engine"]].add(r.get("build"))
    for r in new_rows:
        now[r["engine"]].add(r.get("build"))
    return [(e, sorted(was[e], key=str), sorted(now[e], key=str)) for e in now if e in was and was[e] != now[e]]


def _tfjs_versions(doc: dict) -> list[str]:
    return sorted({str(r.get("tfjs")) for r in doc["results"]})
