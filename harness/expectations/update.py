"""`--update-expectations`: rewrite scenarios/expectations.toml to the outcomes of a run.

The web-platform-tests way: a run is green when its outcomes match the expectations, and updating
the expectations records the current outcomes. It reads the rows' fields (outcome, differences and the
finding that explains each, findings), never their text, and makes two edits to the file AS TEXT, so
every comment and every untouched entry stays byte-identical:

* the rows that failed (outcome "failed") with differences no finding explains get a new [[finding]]
  pinned to them (scheme, engines, builds, models, tfjs) that explains exactly those differences (their
  `what` and `path`). Rows of one scheme whose first unexplained difference is the same share one entry,
  as long as the entry's engines x models x tfjs is exactly the rows that failed (else it is split: an
  entry must not apply to a row that passed, or the next run goes red with an XPASS). Its kind, title
  and promise are placeholders a person replaces: what it breaks is a judgement, not a measurement;
* an entry that is not `intermittent`, that a row named as stale (outcome "xpassed") and that no row
  names as explaining a difference (xfailed or failed), is removed.

Entries whose rows were not run (or were skipped) are left alone. The new text is checked before it
replaces the file: it must parse with tomllib and with harness.expectations.load, hold exactly the
expected entries, and the new entries must apply to their rows and explain their differences; it is
written to a temporary file in the same directory and moved over the original with os.replace, so a
failed check leaves the original untouched.

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

REASON_CHARS = 300
PLACEHOLDER = "(to be written: which sentence of the guide or the API doc, or which upstream test, does this break?)"
_FINDING_HEADER = re.compile(r"\[\[\s*finding\s*\]\]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_ORDER = ("id", "kind", "title", "promise", "link", "scheme", "engines", "builds", "contexts", "backends", "models",
              "tfjs", "reason", "explains")


class UpdateError(RuntimeError):
    """The expectations file could not be updated; the original is untouched."""


@dataclasses.dataclass
class UpdateReport:
    added: list[dict]  # the new entries, as their TOML keys and values
    removed: list[str]  # the ids of the removed (stale) entries
    kept: int  # existing entries left in the file
    unrecorded: list[dict] = dataclasses.field(default_factory=list)  # failed rows no entry can explain: {test, why}
    unresolved: list[dict] = dataclasses.field(default_factory=list)  # xpassed rows whose findings stay: {test, why}
    path: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def format(self) -> str:
        where = f" {self.path}" if self.path else ""
        lines = [f"expectations{where}: {len(self.added)} added, {len(self.removed)} removed, {self.kept} kept"]
        for entry in self.added:
            where = " ".join(f"{k}={entry[k]!r}" for k in ("scheme", "engines", "models", "tfjs") if k in entry)
            lines.append(f"  + {entry['id']}: {where} explains={[(e['what'], e['path']) for e in entry['explains']]!r}")
        for fid in self.removed:
            lines.append(f"  - stale, removed: {fid}")
        for row in self.unrecorded:
            lines.append(f"  ! not recorded: {row['test']}: {row['why']}")
        for row in self.unresolved:
            lines.append(f"  ! still passes under a kept finding: {row['test']}: {row['why']}")
        return "\n".join(lines)


# -- rows -----------------------------------------------------------------------------------------


def _test(row: dict) -> str:
    return row.get("test") or f"{row.get('scheme')}-{row.get('model')}-{row.get('engine')}"


def unexplained(rows: list[dict]) -> list[dict]:
    """Rows that failed with at least one difference no finding explains."""
    return [row for row in rows if row.get("outcome") == "failed"
            and any(not d.get("finding") for d in row.get("differences") or [])]


def stale(rows: list[dict], findings: list[Finding]) -> list[Finding]:
    """Strict findings that rows named as stale (xpassed) and no row named as explaining a difference.
    Intermittent findings are never stale; a finding no row named is not stale either."""
    stale_ids = {fid for r in rows if r.get("outcome") == "xpassed" for fid in r.get("findings") or []}
    used = {d.get("finding") for r in rows if r.get("outcome") in ("xfailed", "capacity", "failed", "error")
            for d in r.get("differences") or []}
    return [f for f in findings if not f.intermittent and f.id in stale_ids and f.id not in used]


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


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "x"


def _new_id(scheme: str, what: str, taken: set[str]) -> str:
    """recorded-<scheme>-<what>, at most expectations.ID_CHARS long, made unique with -2, -3, ..."""
    base = f"recorded-{_slug(scheme, 17)}-{_slug(what, 8)}"
    fid, n = base, 2
    while fid in taken:
        fid, n = f"{base}-{n}", n + 1
    taken.add(fid)
    return fid


def _entries(rows: list[dict], findings: list[Finding], today: str) -> tuple[list[dict], list[list[dict]], list[dict]]:
    """New entries for the unexplained failed rows, the rows of each entry, and the rows left unrecorded."""
    groups: dict[tuple, list[tuple[dict, list[dict]]]] = {}
    unrecorded = []
    taken = {f.id for f in findings}
    for row in rows:
        if row.get("outcome") != "failed":
            continue
        diffs = [d for d in row.get("differences") or [] if not d.get("finding")]
        if not diffs:
            unrecorded.append({"test": _test(row), "why": "it failed, but every difference is explained (a stale strict "
                                                          "finding, or an error after the verdict)"})
            continue
        # one entry per build, context and backend too: an entry must not apply to a row that passed
        key = (str(row.get("scheme")), diffs[0]["what"], diffs[0]["path"], row.get("tfjs") is None,
               str(row.get("build")), str(row.get("context") or "window"), str(row.get("backend") or "cpu"))
        groups.setdefault(key, []).append((row, diffs))
    entries, entry_rows = [], []
    for (scheme, what, _, _, build, context, backend), members in sorted(groups.items(), key=lambda kv: kv[0][:3] + kv[0][4:]):
        combos = {(str(r.get("engine")), str(r.get("model")), r.get("tfjs")) for r, _ in members}
        for engines, models, versions in _boxes(combos):
            mine = sorted(((r, d) for r, d in members if str(r.get("engine")) in engines
                           and str(r.get("model")) in models and r.get("tfjs") in versions),
                          key=lambda m: (str(m[0].get("engine")), str(m[0].get("model")), str(m[0].get("tfjs"))))
            explains = list(dict.fromkeys((d["what"], d["path"]) for _, diffs in mine for d in diffs))
            first = mine[0][1][0]
            entry = {"id": _new_id(scheme, what, taken), "kind": "tfjs-bug",
                     "title": _one_line(f"recorded on {today}: {first['what']} {first['path']}: {first['message']}", 160),
                     "promise": PLACEHOLDER, "link": "", "scheme": scheme, "engines": engines}
            if build != "None":
                entry["builds"] = [build]
            entry["contexts"], entry["backends"] = [context], [backend]
            entry["models"] = models
            if versions != [None]:
                entry["tfjs"] = [str(v) for v in versions]
            entry["reason"] = (f"recorded by --update-expectations on {today}: "
                               f"{_one_line(first['what'] + ' ' + first['path'] + ': ' + first['message'], REASON_CHARS)}")
            entry["explains"] = [{"what": w, "path": p} for w, p in explains]
            entries.append({k: (_clean_value(v)) for k, v in entry.items()})
            entry_rows.append([r for r, _ in mine])
    return entries, entry_rows, unrecorded


def _clean_value(value):
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v) for k, v in value.items()}
    return value


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
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\x85\u2028\u2029":  # line breaks to str.splitlines
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
    if isinstance(value, dict):  # an inline table (an `explains` item)
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {value!r} here")


def _key_line(key: str, value, newline: str = "\n") -> str:
    if key == "explains":  # one inline table per line
        return f"explains = [{newline}" + "".join(f"  {toml_value(v)},{newline}" for v in value) + "]"
    return f"{key} = {toml_value(value)}"


def entry_text(entry: dict, newline: str = "\n") -> str:
    """One [[finding]] block, keys in the usual order."""
    keys = [k for k in _KEY_ORDER if k in entry] + [k for k in entry if k not in _KEY_ORDER]
    return newline.join(["[[finding]]", *(_key_line(k, entry[k], newline) for k in keys)]) + newline


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


def _lines(text: str) -> list[str]:
    """Lines with their ends, split at \n only (TOML's line break; str.splitlines also breaks at U+2028,
    U+0085... which may stand raw inside a TOML string)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _edit(text: str, remove: set[int], entries: list[dict]) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = _lines(text)
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
        if out and _lines(out)[-1].strip():  # one blank line between entries
            out += newline
        out += entry_text(entry, newline)
    return out


# -- update ---------------------------------------------------------------------------------------


def update(path: Path, rows: list[dict], findings: list[Finding] | None, today: str) -> UpdateReport:
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

    gone = stale(rows, findings)
    remove = {i for i, f in enumerate(findings) if any(f is g for g in gone)}
    entries, entry_rows, unrecorded = _entries(rows, findings, today)
    kept = [f for i, f in enumerate(findings) if i not in remove]
    kept_ids = {f.id for f in kept}
    unresolved = []
    for row in rows:
        if row.get("outcome") == "xpassed":
            still = [fid for fid in row.get("findings") or [] if fid in kept_ids]
            strict = [fid for fid in still if not next(f for f in kept if f.id == fid).intermittent]
            if strict:
                unresolved.append({"test": _test(row), "why": "kept because other rows still need it: " + ", ".join(strict)})
    report = UpdateReport(entries, [findings[i].id for i in sorted(remove)], len(kept), unrecorded, unresolved, str(path))
    if not report.changed:
        return report

    new_text = _edit(text, remove, entries)
    try:
        expected = kept + expectations.parse(entries, "the new entries")
    except expectations.FindingsError as e:
        raise UpdateError(f"a recorded entry would not load ({e}): {path.name} left as it was") from e
    passing = [r for r in rows if r.get("outcome") in ("passed", "xpassed")]
    _replace(path, new_text, lambda written: _check(written, path, expected, entries, entry_rows, passing))
    return report


def _row_key(row: dict, finding: Finding) -> expectations.Row:
    return expectations.Row(scheme=str(row.get("scheme")), engine=str(row.get("engine")), model=str(row.get("model")),
                            tfjs=str(row.get("tfjs") or ""), format=str(row.get("format") or "layers-model"),
                            build=row.get("build"), backend=str(row.get("backend") or "cpu"),
                            context=str(row.get("context") or "window"))


def _check(written: Path, path: Path, expected: list[Finding], entries: list[dict], entry_rows: list[list[dict]],
           passing: list[dict]) -> None:
    """The written text parses, loads, holds exactly `expected`, and the new entries apply to their rows,
    explain their differences, and apply to no row that passed (it would go red as stale)."""
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
            if not finding.applies(_row_key(row, finding)):
                raise UpdateError(f"a recorded entry does not apply to its row {row.get('test')}: left as it was")
            for d in row.get("differences") or []:
                if not d.get("finding") and not finding.covers(expectations.record(d)):
                    raise UpdateError(f"a recorded entry does not explain the differences of {row.get('test')}")
        for row in passing:
            if finding.applies(_row_key(row, finding)):
                raise UpdateError(f"a recorded entry would apply to {row.get('test')}, which passed: left as it was")


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
