"""A Markdown summary of a conformance document, for GitHub's job summary ($GITHUB_STEP_SUMMARY).

    text = markdown(doc, baseline=baseline.diff(old, doc))   # baseline optional
    write_step_summary(text)                                  # appends when $GITHUB_STEP_SUMMARY is set

Sections: title, totals per outcome, engines and TF.js builds, the scheme x engine matrix (one per
TF.js version when there are several), the failed / error rows with their detail's first line, and
the comparison with the baseline. Lists are capped so that the text stays far below GitHub's 1 MiB
limit per step.
"""

from __future__ import annotations

import html
import os
import re
import warnings

from harness.report import text as report
from harness.report.baseline import BaselineDiff, Change, first_line, what_changed
from harness.report.document import OUTCOMES

MAX_LISTED = 200  # rows listed per section; the rest are counted
MAX_BYTES = 1_000_000  # GitHub rejects a step summary over 1024 KiB
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def markdown(doc: dict, baseline: BaselineDiff | None = None) -> str:
    results = doc.get("results") or []
    out = ["## TF.js io conformance", ""]
    if not results:
        out += ["No conformance rows in this run.", ""]
    else:
        counts = report.count_outcomes(results, lambda r: None)[None]
        out += [", ".join(f"**{counts[o]}** {o}" for o in OUTCOMES if counts[o]) + f" ({len(results)} rows)", ""]
    out += _findings(doc)
    out += _builds(doc)
    versions = list(dict.fromkeys(r.get("tfjs") for r in results))
    if len(versions) == 1:
        out += _matrix(results)
    else:
        for version in versions:
            out += [f"### TF.js {_esc(str(version))}", ""]
            out += _matrix([r for r in results if r.get("tfjs") == version])
    out += _failures(results)
    if baseline is not None:
        out += _baseline(baseline)
    text = "\n".join(out).rstrip("\n") + "\n"
    return _cap(text)


def write_step_summary(text: str) -> bool:
    """Append `text` to the file named by $GITHUB_STEP_SUMMARY; False (nothing written) when the
    variable is unset or empty, or the file cannot be written (a warning says why)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        warnings.warn(f"GITHUB_STEP_SUMMARY={path}: cannot write the summary: {e}", stacklevel=2)
        return False
    return True


# -- sections -----------------------------------------------------------------------------------


def _builds(doc: dict) -> list[str]:
    lines = []
    for e in doc.get("engines") or []:
        name = _esc(str(e.get("engine")))
        described = report.describe_engine(e, esc=lambda v: _esc(str(v)), detail=lambda v: first_line(str(v)))
        lines.append(f"- {name}: {described or 'version unknown'}")
        lines += [f"  - {_esc(str(b))}: {_esc(report.describe_backend(facts))}"
                  for b, facts in report.shown_backends(e)]
    for t in doc.get("tfjs") or []:
        lines.append(f"- TF.js {_esc(str(t.get('version')))} ({_esc(str(t.get('source')))})")
    return [*lines, ""] if lines else []


def _findings(doc: dict) -> list[str]:
    """The findings the rows name: id, kind, rows, engines, title (linked)."""
    table = doc.get("findings") or {}
    rows: dict[str, list[dict]] = {}
    for r in doc.get("results") or []:
        for fid in [*(r.get("findings") or []), *(h["id"] for h in r.get("hazards") or [])]:
            rows.setdefault(fid, []).append(r)
    if not rows:
        return []
    lines = [f"### Findings ({len(rows)})", "", "| id | kind | rows | engines | title |", "|---|---|---|---|---|"]
    for fid, named in sorted(rows.items()):
        f = table.get(fid) or {}
        title = _esc(str(f.get("title", "")))
        if f.get("link"):
            title = f"[{title}]({f['link']})"
        kind = f.get("kind", "?") + (" (intermittent)" if f.get("intermittent") else "")
        engines = ", ".join(dict.fromkeys(r["engine"] for r in named))
        lines.append(f"| {_esc(fid)} | {_esc(kind)} | {len(named)} | {_esc(engines)} | {title} |")
    return [*lines, ""]


def _matrix(results: list[dict]) -> list[str]:
    """Scheme x engine; with several backends, a line per scheme and backend ("indexeddb / webgl")."""
    engines = list(dict.fromkeys(r["engine"] for r in results))
    several = len({r.get("backend", "cpu") for r in results}) > 1

    def label(r: dict) -> str:
        return f"{r['scheme']} / {r.get('backend', 'cpu')}" if several else str(r["scheme"])

    schemes = list(dict.fromkeys(label(r) for r in results))
    cells: dict[tuple, list[dict]] = {}
    for r in results:
        cells.setdefault((label(r), r["engine"]), []).append(r)
    lines = [f"| scheme{' / backend' if several else ''} | " + " | ".join(_esc(str(e)) for e in engines) + " |",
             "|---" * (len(engines) + 1) + "|"]
    for s in schemes:
        lines.append(f"| {_esc(s)} | " + " | ".join(_cell(cells.get((s, e), [])) for e in engines) + " |")
    return [*lines, ""]


def _cell(rows: list[dict]) -> str:
    text = report.finding_cell(rows)
    # bold what needs a look
    return ", ".join(f"**{_esc(part)}**" if part.endswith(("FAIL", "ERROR", "XPASS")) else _esc(part)
                     for part in text.split(", "))


def _failures(results: list[dict]) -> list[str]:
    bad = [r for r in results if r.get("outcome") in ("failed", "error", "xpassed")]
    if not bad:
        return []
    lines = [f"### Rows that failed, errored or went stale ({len(bad)})", "",
             "| outcome | scheme | model | engine | tfjs | backend | detail |", "|---|---|---|---|---|---|---|"]
    for r in bad[:MAX_LISTED]:
        lines.append(f"| {r['outcome']} | {_esc(str(r.get('scheme')))} | {_esc(str(r.get('model')))} | "
                     f"{_esc(str(r.get('engine')))} | {_esc(str(r.get('tfjs')))} | {_esc(str(r.get('backend', 'cpu')))} | "
                     f"{_esc(_first(r))} |")
    if len(bad) > MAX_LISTED:
        lines.append(f"\n... and {len(bad) - MAX_LISTED} more (see conformance.json)")
    return [*lines, ""]


def _baseline(d: BaselineDiff) -> list[str]:
    counts = d.counts()
    verdict = f"**{len(d.regressions)} regression{'s' * (len(d.regressions) != 1)}**" if d.regressions else "no regressions"
    lines = ["### Against the baseline", "",
             verdict + ": " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()), ""]
    changed = what_changed(d)
    lines += [f"- {_esc(line)}" for line in changed] + ([""] if changed else [])
    for title, changes in (("Regressions", d.regressions), ("Fixed", d.fixes),
                           ("Known intermittent (passed -> xfailed)", d.intermittent), ("Other changes", d.changed)):
        if not changes:
            continue
        lines += [f"#### {title} ({len(changes)})", "",
                  "| scheme | model | engine | tfjs | was | now | detail |", "|---|---|---|---|---|---|---|"]
        lines += [_change_row(c) for c in changes[:MAX_LISTED]]
        if len(changes) > MAX_LISTED:
            lines.append(f"\n... and {len(changes) - MAX_LISTED} more")
        lines.append("")
    return lines


def _change_row(c: Change) -> str:
    r = c.row
    detail = _first(c.new) if c.new and c.new.get("outcome") != "passed" else ""
    return (f"| {_esc(str(r.get('scheme')))} | {_esc(str(r.get('model')))} | {_esc(str(r.get('engine')))} | "
            f"{_esc(str(r.get('tfjs')))} | {c.old_outcome} | {c.new_outcome} | {_esc(detail)} |")


def _first(row: dict) -> str:
    """The row's first unexplained difference (else its first), in one line."""
    from harness.report.document import first_difference

    d = first_difference(row)
    return first_line(f"{d['what']} {d['path']}: {d['message']}") if d else first_line(row.get("detail"))


# -- text ---------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Text safe in a Markdown table cell: HTML escaped (GitHub renders inline HTML), Markdown
    punctuation backslash-escaped (pipes would split the cell), on one line."""
    text = html.escape(" ".join(text.split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def _cap(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_BYTES:
        return text
    cut = data[:MAX_BYTES].decode("utf-8", "ignore")
    return cut[:cut.rfind("\n") + 1] + "\n... (summary cut at 1 MB; see conformance.json)\n"
