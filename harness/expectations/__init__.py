"""Known findings: what TF.js or an engine does that breaks a promise, and which differences it explains.

`scenarios/expectations.toml` lists them. Each entry says what it is, which promise it breaks, which
rows it applies to and exactly which differences it explains:

    [[finding]]
    id = "move-model-loses-source"   # stable and short: reports, rows and baselines name it
    kind = "tfjs-bug"                # tfjs-bug | engine-bug | docs | hazard | capacity (KINDS)
    title = "tf.io.moveModel deletes its source before the destination is saved"
    promise = "the exact sentence of the guide or API doc, or the upstream test, that it contradicts"
    link = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-core/src/io/model_management.ts#L95"
    reason = "the evidence: what was measured, where, and why it happens"
    # which rows (every condition optional but scheme; a list, or one value):
    scheme = "quota-localstorage"    # or ["a", "b"], or "*" with except_schemes = [...]
    engines = ["webkit"]             # builds = ["system"] (playwright | system | remote), models, formats
                                     # ("layers-model" | "graph-model"), tfjs, backends, contexts,
                                     # hostings (the row's hosting profile: harness.schemes.hosting), and
                                     # exceeds = ["localstorage"]: the row's model is bigger than that
                                     # medium holds in any engine (harness.golden.fit); traits =
                                     # ["keras-config-keys"]: what the model's files are
                                     # (harness.golden.traits), except_traits: what they must not be;
                                     # never a model's name where a trait says it
    when = [                         # or alternatives (each a table of the same conditions): the entry
      {scheme = "quota-localstorage"},                        # applies where its own conditions and
      {scheme = "model-management", exceeds = ["localstorage"]},  # at least one of these hold
    ]
    intermittent = true              # it happens only sometimes: a row that passes is not stale
    # which differences (harness.trip.compare.Difference) it explains, by field, never by text search:
    explains = [
      {what = "moved-across-source.tfjs-error", path = "load", message = "Cannot find model"},
    ]

In `what` and `path` a `*` stands for any run of characters; everything else must be equal (so
`load` does not match `load-golden`). `message`, when given, is a regular expression that must match
the difference's message (re.search). A difference no entry explains fails its row.

`kind = "hazard"` entries describe behaviour that upstream intends (its own tests assert it) but by
which a user can lose data. Their rows expect what upstream asserts and pass; the scheme reports the
hazard by its id (row `hazards`), so a hazard entry has no `scheme` and no `explains`.

`kind = "capacity"` entries say that a medium is too small for the model, not that anything is broken:
each one applies only by `exceeds` (on the entry, or in every `when`), so its rows are exactly those of
models over a medium's limit by the numbers harness.golden.fit computes from the files.

`judge(findings, differences)` gives the row's `Verdict`: passed, failed, xfailed (every difference
explained), capacity (every difference explained, by capacity findings only: the row failed because the
model does not fit) or xpassed (a finding applied and nothing it explains happened: stale, unless the
finding is intermittent).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

from harness.paths import EXPECTATIONS

DEFAULT = EXPECTATIONS
KINDS = ("tfjs-bug", "engine-bug", "docs", "hazard", "capacity")
CONDITIONS = ("engines", "builds", "models", "formats", "tfjs", "backends", "contexts", "hostings", "exceeds", "traits")
_REQUIRED = {"id", "kind", "title", "promise", "link", "reason"}
_WHEN_KEYS = {"scheme", "except_schemes", "except_traits", *CONDITIONS}
_KEYS = _REQUIRED | _WHEN_KEYS | {"when", "intermittent", "explains"}
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ID_CHARS = 40


class FindingsError(ValueError):
    """expectations.toml is not what harness.expectations reads; the message names the entry and key."""


def _pattern(text: str) -> re.Pattern:
    """`*` matches any run of characters, the rest literally (brackets and dots included)."""
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Explains:
    """Which differences a finding explains: `what` and `path` patterns, an optional message regex."""

    what: str
    path: str
    message: str | None = None

    def covers(self, difference) -> bool:
        return (bool(_pattern(self.what).match(difference.what)) and bool(_pattern(self.path).match(difference.path))
                and (self.message is None or re.search(self.message, difference.message) is not None))

    def as_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclasses.dataclass(frozen=True)
class Row:
    """What a finding's conditions are matched against: one row's key."""

    scheme: str
    engine: str
    model: str
    tfjs: str  # the semver ("4.22.0"), "A->B" for a cross-version row
    format: str = "layers-model"
    build: str | None = None  # playwright | system | remote (None: not known, e.g. the engine is missing)
    backend: str = "cpu"
    context: str = "window"
    hosting: str = "plain"  # the hosting profile the model was served with (harness.schemes.hosting)
    exceeds: tuple[str, ...] = ()  # the media the model does not fit in, in any engine (harness.golden.fit)
    traits: tuple[str, ...] = ()  # what the model's files are (harness.golden.traits)


@dataclasses.dataclass(frozen=True)
class When:
    """The rows a finding applies to: every condition given must hold (an empty one: no condition)."""

    scheme: tuple[str, ...] = ()  # ("*",) for every scheme
    except_schemes: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    builds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    tfjs: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    hostings: tuple[str, ...] = ()
    exceeds: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()
    except_traits: tuple[str, ...] = ()

    def holds(self, row: Row) -> bool:
        values = {"engines": row.engine, "builds": row.build, "models": row.model, "formats": row.format,
                  "tfjs": row.tfjs, "backends": row.backend, "contexts": row.context,
                  "hostings": row.hosting}
        return ((not self.scheme or "*" in self.scheme or row.scheme in self.scheme) and row.scheme not in self.except_schemes
                and all(not getattr(self, key) or values[key] in getattr(self, key) for key in values)
                and (not self.exceeds or any(medium in row.exceeds for medium in self.exceeds))
                and (not self.traits or any(trait in row.traits for trait in self.traits))
                and not any(trait in row.traits for trait in self.except_traits))


@dataclasses.dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    title: str
    promise: str
    link: str
    reason: str
    where: When = When()  # the entry's own conditions (scheme, engines, ...): they hold for every row it applies to
    when: tuple[When, ...] = ()  # alternatives (`when = [{...}, ...]`): at least one must hold too
    intermittent: bool = False
    explains: tuple[Explains, ...] = ()

    def applies(self, row: Row) -> bool:
        if self.kind == "hazard":
            return False  # reported by the schemes themselves (Trip.hazard), never matched to rows
        return self.where.holds(row) and (not self.when or any(w.holds(row) for w in self.when))

    def covers(self, difference) -> bool:
        return any(e.covers(difference) for e in self.explains)

    def describe(self) -> str:
        return f"{self.id} ({self.kind}): {self.title}"

    def record(self) -> dict:
        """What conformance.json says about the finding (its `findings` table)."""
        return {"kind": self.kind, "title": self.title, "promise": self.promise, "link": self.link,
                "intermittent": self.intermittent}


def _tuple(value: Any, where: str, key: str) -> tuple[str, ...]:
    values = (value,) if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) and v for v in values):
        raise FindingsError(f"{where}: {key} must be a non-empty string or a list of them, got {value!r}")
    return tuple(values)


def _tables(value: Any, where: str, key: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FindingsError(f"{where}: {key} must be a list of tables")
    return value


def _when(table: dict, where: str) -> When:
    unknown = set(table) - _WHEN_KEYS
    if unknown:
        raise FindingsError(f"{where}: unknown condition(s) {sorted(unknown)}; known: {', '.join(sorted(_WHEN_KEYS))}")
    return When(**{key: _tuple(value, where, key) for key, value in table.items()})


def _explains(entries: Any, where: str) -> tuple[Explains, ...]:
    if not isinstance(entries, list) or not entries:
        raise FindingsError(f"{where}: explains must be a non-empty list of {{what, path, message?}} tables")
    out = []
    for i, e in enumerate(entries):
        bad = set(e) - {"what", "path", "message"} if isinstance(e, dict) else {"(not a table)"}
        if bad or not isinstance(e.get("what"), str) or not isinstance(e.get("path"), str):
            raise FindingsError(f"{where}: explains[{i}] = {e!r}: needs what and path (strings), an optional "
                                f"message regex, nothing else")
        if e.get("message") is not None:
            try:
                re.compile(e["message"])
            except re.error as err:
                raise FindingsError(f"{where}: explains[{i}].message is not a regular expression: {err}") from None
        out.append(Explains(e["what"], e["path"], e.get("message")))
    return tuple(out)


def parse(entries: list[dict], source: str = "expectations") -> list[Finding]:
    """Findings from TOML tables, every key checked (FindingsError names the entry and what is wrong)."""
    findings, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{source}: finding #{i + 1} ({entry.get('id', 'no id')})"
        unknown, missing = set(entry) - _KEYS, _REQUIRED - set(entry)
        if unknown or missing:
            raise FindingsError(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
        if not isinstance(entry["id"], str) or not _ID.match(entry["id"]) or len(entry["id"]) > ID_CHARS:
            raise FindingsError(f"{where}: id must be lower-case words joined by '-', at most {ID_CHARS} characters")
        if entry["id"] in seen:
            raise FindingsError(f"{where}: id {entry['id']!r} is used twice")
        seen.add(entry["id"])
        if entry["kind"] not in KINDS:
            raise FindingsError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
        for key in ("title", "promise", "reason"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise FindingsError(f"{where}: {key} must be a non-empty string")
        if not isinstance(entry["link"], str):
            raise FindingsError(f"{where}: link must be a string")
        hazard = entry["kind"] == "hazard"
        if hazard and ((_WHEN_KEYS | {"when", "explains", "intermittent"}) & set(entry)):
            raise FindingsError(f"{where}: a hazard is reported by the scheme that observes it (Trip.hazard): "
                                f"it has no scheme, conditions or explains")
        when = tuple(_when(w, f"{where}: when[{i}]") for i, w in enumerate(_tables(entry.get("when", []), where, "when")))
        own = _when({k: entry[k] for k in _WHEN_KEYS if k in entry}, where)
        if entry["kind"] == "capacity" and not (own.exceeds or (when and all(w.exceeds for w in when))):
            raise FindingsError(f"{where}: a capacity finding applies by the media the model does not fit: it needs "
                                f"exceeds (on the entry, or in every `when`)")
        if not hazard and (not (own.scheme or (when and all(w.scheme for w in when))) or "explains" not in entry):
            raise FindingsError(f"{where}: needs scheme (which rows: on the entry, or in every `when`) and explains "
                                f"(which differences)")
        findings.append(Finding(
            id=entry["id"], kind=entry["kind"], title=" ".join(entry["title"].split()), promise=entry["promise"],
            link=entry["link"], reason=entry["reason"], where=own, when=when,
            intermittent=bool(entry.get("intermittent", False)),
            explains=_explains(entry["explains"], where) if "explains" in entry else ()))
    return findings


def load(path: Path = DEFAULT) -> list[Finding]:
    if not Path(path).exists():
        return []
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise FindingsError(f"{path}: not valid TOML: {e}") from None
    return parse(data.get("finding", []), str(path))


def match(findings: Iterable[Finding], row: Row) -> list[Finding]:
    """Every finding whose conditions hold for `row`."""
    return [f for f in findings if f.applies(row)]


def by_id(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def record(d: dict):
    """A difference record of conformance.json (a dict) as a Difference again (what `Finding.covers` and
    `judge` take)."""
    from harness.trip.compare import Difference

    return Difference(str(d.get("what", "")), str(d.get("path", "")), str(d.get("message", "")),
                      expected=d.get("expected"), actual=d.get("actual"))


# -- verdicts ---------------------------------------------------------------------------------------

OUTCOMES = ("passed", "failed", "xfailed", "capacity", "xpassed")  # a verdict's; the row adds skipped and error


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How a row's differences stand against the findings that apply to it."""

    outcome: str  # one of OUTCOMES
    differences: tuple  # Difference records, in the order the scheme found them
    explained_by: tuple  # the finding id explaining each difference, or None
    findings: tuple[Finding, ...]  # the findings that applied to the row

    @property
    def strict_stale(self) -> bool:
        """A non-intermittent finding applied and the row passed: the expectation is stale."""
        return self.outcome == "xpassed" and not all(f.intermittent for f in self.findings)

    @property
    def explaining(self) -> list[Finding]:
        """The findings that explained at least one difference (all applying ones for an xpassed row)."""
        if self.outcome == "xpassed":
            return list(self.findings)
        ids = set(self.explained_by)
        return [f for f in self.findings if f.id in ids]

    def records(self) -> list[dict]:
        """The differences as conformance.json rows carry them (`finding`: the id that explains it)."""
        out = []
        for d, fid in zip(self.differences, self.explained_by):
            record = d.as_json()
            if fid is not None:
                record["finding"] = fid
            out.append(record)
        return out

    def unexplained(self) -> list:
        return [d for d, fid in zip(self.differences, self.explained_by) if fid is None]


def judge(findings: list[Finding], differences: list) -> Verdict:
    """Each difference is explained by the first applying finding that covers it, or by none."""
    explained = tuple(next((f.id for f in findings if f.covers(d)), None) for d in differences)
    if not differences:
        outcome = "xpassed" if findings else "passed"
    elif any(fid is None for fid in explained):
        outcome = "failed"
    elif all(f.kind == "capacity" for f in findings if f.id in explained):
        outcome = "capacity"  # it failed only because the model does not fit (the findings apply by exceeds)
    else:
        outcome = "xfailed"
    return Verdict(outcome, tuple(differences), explained, tuple(findings))
