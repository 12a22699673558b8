"""`--update-expectations`: rewrite scenarios/expectations.toml to the outcomes of a run.

The web-platform-tests way: a run is green when its outcomes match the expectations, and updating
the expectations records the current outcomes. Here that means two edits, made to the file AS TEXT
so every comment and every untouched entry stays byte-identical:

* a row that failed for real (outcome "failed", not a strict xfail that passed) and that no finding
  explains gets a new [[finding]] pinned to it (scheme, engines, models, tfjs) with the "what path"
  prefix of each of its differences (see harness.trip.roundtrip.summary) and a reason saying when it was
  recorded. Rows of one scheme whose first difference is the same share one entry, as long as the
  entry's engines x models x tfjs is exactly the rows that failed (else it is split: an entry must
  not cover a row that passed, or the next run goes red with an XPASS);
* an entry that is not `intermittent`, matched rows that now pass (an XPASS(strict) row, or a plain
  pass), and matched no row that still fails, xfails or errored, is stale: its block is removed.

Entries whose rows were not run (or were skipped) are left alone. The new text is checked before it
replaces the file: it must parse with tomllib and with harness.expectations.load, hold exactly the
expected entries, and the new entries must match their rows; it is written to a temporary file in
the same directory and moved over the original with os.replace, so a failed check leaves the
original untouched.

    report = update(path, rows, expectations.load(path), today=datetime.date.today().isoformat())
    print(report.format())
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from harness import expectations
from harness.expectations import Finding

try:  # optional: the values of new entries are formatted by hand when it is absent
    import tomli_w
except ImportError:  # pragma: no cover - depends on the environment
    tomli_w = None

FormatOf = Callable[[str], str]
XPASS = "XPASS(strict)"  # pytest's longrepr of a strict xfail that passed: "[XPASS(strict)] <reason>"
NOT_EXPLAINED = "not explained by this row's known findings:"  # harness.expectations.judge
REASON_CHARS = 300
DIFFERENCE_CHARS = 200
_ITEM = "  - "  # a difference line of harness.trip.roundtrip.summary
_FINDING_HEADER = re.compile(r"\[\[\s*finding\s*\]\]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_ORDER = ("scheme", "engines", "models", "tfjs", "differences", "reason", "link")


def _layers_model(model: str) -> str:
    return "layers-model"


class UpdateError(RuntimeError):
    """The expectations file could not be updated; the original is untouched."""


@dataclasses.dataclass
class UpdateReport:
    added: list[dict]  # the new entries, as their TOML keys and values
    removed: list[str]  # the reasons of the removed (stale) entries
    kept: int  # existing entries left in the file
    unrecorded: list[dict] = dataclasses.field(default_factory=list)  # failed rows no entry can explain: {test, why}
    unresolved: list[dict] = dataclasses.field(default_factory=list)  # XPASS rows whose findings stay: {test, why}
    path: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def format(self) -> str:
        where = f" {self.path}" if self.path else ""
        lines = [f"expectations{where}: {len(self.added)} added, {len(self.removed)} removed, {self.kept} kept"]
        for entry in self.added:
            where = " ".join(f"{k}={entry[k]!r}" for k in ("scheme", "engines", "models", "tfjs") if k in entry)
            lines.append(f"  + {where} differences={entry['differences']!r}")
        for reason in self.removed:
            lines.append(f"  - stale, removed: {_one_line(reason, 160)}")
        for row in self.unrecorded:
            lines.append(f"  ! not recorded: {row['test']}: {row['why']}")
        for row in self.unresolved:
            lines.append(f"  ! still passes under a kept finding: {row['test']}: {row['why']}")
        return "\n".join(lines)


# -- rows -----------------------------------------------------------------------------------------


def is_xpass(row: dict) -> bool:
    """A strict xfail that passed: reported "failed" with pytest's XPASS(strict) text as the detail."""
    detail = (row.get("detail") or "").lstrip()
    return row.get("outcome") == "failed" and XPASS in detail.split("\n", 1)[0]


def _kind(row: dict) -> str:
    """passed | xpass | failed (a real failure) | xfailed | skipped | error."""
    return "xpass" if is_xpass(row) else str(row.get("outcome"))


def _matching(findings: list[Finding], row: dict, format_of: FormatOf) -> list[Finding]:
    model = str(row.get("model"))
    return expectations.match(findings, str(row.get("scheme")), str(row.get("engine")), model,
                              str(row.get("tfjs") or ""), format_of(model))


def difference_lines(detail: str) -> list[str]:
    """The differences a failed row's detail lists (the unexplained ones when findings matched it)."""
    if NOT_EXPLAINED in detail:
        detail = detail.split(NOT_EXPLAINED, 1)[1]
    return [line[len(_ITEM):].rstrip() for line in detail.splitlines() if line.startswith(_ITEM) and line[len(_ITEM):].strip()]


def difference_key(line: str) -> str:
    """The stable part of a difference line "what path: message": "what path" (the message carries
    values that change from run to run). Any prefix of str(difference) is a substring of it, so a
    detail cut short still gives a key that covers the difference."""
    key = line.split(": ", 1)[0].strip() or line.strip()
    return key[:DIFFERENCE_CHARS]


def unexplained(rows: list[dict], findings: list[Finding], format_of: FormatOf = _layers_model) -> list[dict]:
    """Rows that failed for real (not an XPASS) and that no finding explains: no finding matches
    them, or the detail lists differences their findings do not explain."""
    return [row for row in rows if _kind(row) == "failed"
            and (NOT_EXPLAINED in (row.get("detail") or "") or not _matching(findings, row, format_of))]


def stale(rows: list[dict], findings: list[Finding], format_of: FormatOf = _layers_model) -> list[Finding]:
    """Strict findings whose rows now pass: they matched at least one row that passed (an XPASS, or
    a plain pass) and no row that failed, xfailed or errored. Intermittent findings are never stale;
    a finding that matched no row run (or only skipped rows) is not stale either."""
    kinds: dict[int, set[str]] = {i: set() for i in range(len(findings))}
    for row in rows:
        matched = _matching(findings, row, format_of)
        for i, finding in enumerate(findings):
            if any(finding is m for m in matched):
                kinds[i].add(_kind(row))
    return [f for i, f in enumerate(findings) if not f.intermittent
            and kinds[i] & {"passed", "xpass"} and not kinds[i] & {"failed", "xfailed", "error"}]


# -- new entries ----------------------------------------------------------------------------------


def _boxes(combos: set[tuple]) -> list[tuple[list, list, list]]:
    """(engines, models, tfjs) lists whose products are exactly `combos` (engine, model, tfjs)."""
    def exact(items: set[tuple], *axes: int) -> bool:
        size = 1
        for axis in axes:
            size *= len({c[axis] for c in items})
        return size == len(items)

    def sort(values: Iterable) -> list:
        return sorted(set(values), key=lambda v: (v is None, str(v)))

    if exact(combos, 0, 1, 2):
        return [(sort(c[0] for c in combos), sort(c[1] for c in combos), sort(c[2] for c in combos))]
    merged: dict[tuple, list] = {}  # (engines, tfjs) -> models
    for model in sort(c[1] for c in combos):
        sub = {c for c in combos if c[1] == model}
        if exact(sub, 0, 2):
            parts = [(tuple(sort(c[0] for c in sub)), tuple(sort(c[2] for c in sub)))]
        else:
            parts = [(tuple(sort(c[0] for c in sub if c[2] == t)), (t,)) for t in sort(c[2] for c in sub)]
        for part in parts:
            merged.setdefault(part, []).append(model)
    return [(list(engines), models, list(tfjs)) for (engines, tfjs), models in merged.items()]


def _clean(text: str) -> str:
    """No lone surrogates (they cannot be written as UTF-8 nor escaped in TOML)."""
    return _SURROGATE.sub("\ufffd", text)


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _entries(rows: list[dict], findings: list[Finding], today: str,
             format_of: FormatOf) -> tuple[list[dict], list[list[dict]], list[dict]]:
    """New entries for the unexplained rows, the rows of each entry, and the rows left unrecorded."""
    groups: dict[tuple, list[tuple[dict, list[str]]]] = {}
    unrecorded = []
    candidates = unexplained(rows, findings, format_of)
    for row in rows:
        if _kind(row) != "failed":
            continue
        lines = difference_lines(row.get("detail") or "")
        test = row.get("test") or f"{row.get('scheme')}-{row.get('model')}-{row.get('engine')}"
        if not any(row is c for c in candidates):
            unrecorded.append({"test": test, "why": "a finding matches it but it failed outside that finding "
                                                    "(not through harness.expectations.judge)"})
        elif not lines:
            unrecorded.append({"test": test, "why": "its detail lists no difference (it failed outside the "
                                                    "comparison, so no known finding can xfail it)"})
        else:
            key = (str(row.get("scheme")), difference_key(lines[0]), row.get("tfjs") is None)
            groups.setdefault(key, []).append((row, lines))
    entries, entry_rows = [], []
    for (scheme, _, _), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        combos = {(str(r.get("engine")), str(r.get("model")), r.get("tfjs")) for r, _ in members}
        for engines, models, versions in _boxes(combos):
            mine = sorted(((r, lines) for r, lines in members if str(r.get("engine")) in engines
                           and str(r.get("model")) in models and r.get("tfjs") in versions),
                          key=lambda m: (str(m[0].get("engine")), str(m[0].get("model")), str(m[0].get("tfjs"))))
            differences = list(dict.fromkeys(difference_key(line) for _, lines in mine for line in lines))
            entry = {"scheme": scheme, "engines": engines, "models": models}
            if versions != [None]:
                entry["tfjs"] = [str(v) for v in versions]
            entry["differences"] = differences
            entry["reason"] = f"recorded by --update-expectations on {today}: {_one_line(mine[0][1][0], REASON_CHARS)}"
            entry["link"] = ""
            entries.append({k: ([_clean(x) for x in v] if isinstance(v, list) else _clean(v)) for k, v in entry.items()})
            entry_rows.append([r for r, _ in mine])
    return entries, entry_rows, unrecorded


def _as_finding(entry: dict) -> Finding:
    return Finding((entry["scheme"],), entry["reason"], entry["link"], tuple(entry.get("engines", ())),
                   tuple(entry.get("models", ())), tuple(entry.get("tfjs", ())), False,
                   tuple(entry.get("differences", ())))


# -- TOML text ------------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string. (json.dumps is close but not enough: with ensure_ascii=False it leaves
    DEL (U+007F) raw, which TOML forbids, and with ensure_ascii=True it escapes a lone surrogate
    as \\udcxx, which TOML rejects.)"""
    out = []
    for ch in _clean(text):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r} here")


def _key_line(key: str, value) -> str:
    if tomli_w is not None:
        return tomli_w.dumps({key: value}).rstrip("\n")
    return f"{key} = {toml_value(value)}"


def entry_text(entry: dict, newline: str = "\n") -> str:
    """One [[finding]] block, keys in the usual order."""
    keys = [k for k in _KEY_ORDER if k in entry] + [k for k in entry if k not in _KEY_ORDER]
    return newline.join(["[[finding]]", *(_key_line(k, entry[k]) for k in keys)]) + newline


def _line_kinds(lines: list[str]) -> list[str]:
    """Each line's kind: blank, comment, header (a [table] or [[array]] line), or content (a key, a
    value, or a line inside a multi-line string or array). A small lexer: strings, comments and
    brackets are enough to tell a header from a line inside a value."""
    kinds = []
    string = None  # '"""' or "'''" while a multi-line string is open
    depth = 0  # open [ and { of a value
    for line in lines:
        stripped = line.strip()
        if string or depth:
            kinds.append("content")
        elif not stripped:
            kinds.append("blank")
        elif stripped.startswith("#"):
            kinds.append("comment")
        elif stripped.startswith("["):
            kinds.append("header")
            continue  # brackets of a header are not a value's
        else:
            kinds.append("content")
        i = 0
        while i < len(line):
            if string:
                if string == '"""' and line[i] == "\\":
                    i += 2
                    continue
                if line.startswith(string, i):
                    i += 3
                    while i < len(line) and line[i] == string[0]:  # quotes right before the closing ones
                        i += 1
                    string = None
                    continue
                i += 1
                continue
            ch = line[i]
            if ch == "#":
                break
            if line.startswith('"""', i) or line.startswith("'''", i):
                string, i = line[i:i + 3], i + 3
                continue
            if ch in "\"'":
                i += 1
                while i < len(line) and line[i] != ch and line[i] not in "\r\n":
                    i += 2 if ch == '"' and line[i] == "\\" else 1
                i += 1
                continue
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            i += 1
    return kinds


def _finding_blocks(lines: list[str], kinds: list[str]) -> list[tuple[int, int]]:
    """(first, end) line ranges of the [[finding]] blocks, in file order: from the header through
    its last key (and comments right after it when a blank line follows them), plus the blank lines
    after it. Comments above a header and blank-line-separated comment sections are never included."""
    headers = [i for i, kind in enumerate(kinds) if kind == "header"]
    blocks = []
    for n, h in enumerate(headers):
        if not _FINDING_HEADER.match(lines[h].strip()):
            continue
        boundary = headers[n + 1] if n + 1 < len(headers) else len(lines)
        last = max(i for i in range(h, boundary) if kinds[i] in ("header", "content"))
        end = last + 1
        trailing = end
        while trailing < boundary and kinds[trailing] == "comment":
            trailing += 1
        if trailing > end and trailing < boundary and kinds[trailing] == "blank":
            end = trailing  # a comment attached to the block's last key
        while end < boundary and kinds[end] == "blank":
            end += 1
        blocks.append((h, end))
    return blocks


def _edit(text: str, remove: set[int], entries: list[dict]) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    kinds = _line_kinds(lines)
    blocks = _finding_blocks(lines, kinds)
    n_entries = len(tomllib.loads(text).get("finding", [])) if text else 0
    if len(blocks) != n_entries:
        raise UpdateError(f"found {len(blocks)} [[finding]] headers in the text but {n_entries} entries: "
                          "cannot tell the blocks apart safely")
    drop = set()
    for index in remove:
        drop.update(range(*blocks[index]))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    if lines and len(lines) - 1 in drop:  # the file's end was removed: no blank lines left there
        while kept and not kept[-1].strip():
            kept.pop()
    out = "".join(kept)
    for entry in entries:
        if out and not out.endswith(("\n", "\r")):
            out += newline
        if out and out.splitlines()[-1].strip():  # one blank line between entries
            out += newline
        out += entry_text(entry, newline)
    return out


# -- update ---------------------------------------------------------------------------------------


def update(path: Path, rows: list[dict], findings: list[Finding] | None, today: str,
           format_of: FormatOf = _layers_model) -> UpdateReport:
    """Rewrite `path` (the expectations file the rows ran under) to the rows' outcomes: pin the
    unexplained failures, remove the stale entries. `findings` must be what the file holds now
    (expectations.load(path)); None loads it. Raises UpdateError, leaving the file as it was, when
    the file changed since or the new text does not check out."""
    path = Path(path)
    on_disk = expectations.load(path)
    if findings is None:
        findings = on_disk
    elif list(findings) != on_disk:
        raise UpdateError(f"{path} changed since the run loaded it: not updating it")
    text = path.read_bytes().decode("utf-8") if path.exists() else ""

    gone = stale(rows, findings, format_of)
    remove = {i for i, f in enumerate(findings) if any(f is g for g in gone)}
    entries, entry_rows, unrecorded = _entries(rows, findings, today, format_of)
    removed_reasons = [findings[i].reason for i in sorted(remove)]
    kept = [f for i, f in enumerate(findings) if i not in remove]
    unresolved = []
    for row in rows:
        if is_xpass(row):
            still = [f for f in _matching(kept, row, format_of) if not f.intermittent]
            if not _matching(findings, row, format_of):
                unresolved.append({"test": row.get("test") or "", "why": "no finding of this file matches it "
                                   "(another --expectations file, or a model format format_of does not know)"})
            elif still:
                unresolved.append({"test": row.get("test") or "", "why": "kept because other rows still fail "
                                   "under it: " + " | ".join(_one_line(f.reason, 80) for f in still)})
    report = UpdateReport(entries, removed_reasons, len(kept), unrecorded, unresolved, str(path))
    if not report.changed:
        return report

    new_text = _edit(text, remove, entries)
    expected = kept + [_as_finding(e) for e in entries]
    _replace(path, new_text, lambda written: _check(written, path, expected, entries, entry_rows, format_of))
    return report


def _check(written: Path, path: Path, expected: list[Finding], entries: list[dict],
           entry_rows: list[list[dict]], format_of: FormatOf) -> None:
    """The written text parses, loads, holds exactly `expected`, and the new entries explain their rows."""
    try:
        with open(written, "rb") as f:
            tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise UpdateError(f"the updated {path.name} is not valid TOML ({e}): left as it was") from e
    try:
        loaded = expectations.load(written)
    except Exception as e:  # noqa: BLE001 - any failure to load means the text must not be used
        raise UpdateError(f"the updated {path.name} does not load ({e}): left as it was") from e
    if loaded != expected:
        raise UpdateError(f"the updated {path.name} does not hold the expected entries: left as it was")
    new = loaded[len(loaded) - len(entries):]
    for finding, rows in zip(new, entry_rows):
        for row in rows:
            if finding not in _matching(new, row, format_of):
                raise UpdateError(f"a recorded entry does not match its row {row.get('test')}: left as it was")
            if not all(finding.covers(line) for line in difference_lines(row.get("detail") or "")):
                raise UpdateError(f"a recorded entry does not cover the differences of {row.get('test')}")


def _replace(path: Path, new_text: str, check: Callable[[Path], None]) -> None:
    """Write next to the file, check what was written, then move it over the original (atomic on
    one file system). A failed check removes the temporary file and leaves the original as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new_text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        check(Path(tmp))
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
