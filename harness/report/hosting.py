"""The error-attribution table of the hosting rows (harness.schemes.hosting): per profile and attempt, per
engine, what TF.js did, classed (exact | clear | partial | vague | silent-corruption | hang), with its
message verbatim. Read from the rows' `observed.hosting`, never from their text.

    table = attribution(doc["results"])     # None when the run has no hosting rows
    markdown(table)                         # README, the job summary, `python -m harness hosting`
"""

from __future__ import annotations

import dataclasses
import html

from harness.report.document import DEFAULT_HOSTING

MESSAGE_CHARS = 110


@dataclasses.dataclass
class Table:
    engines: list[str]
    # (profile, attempt label) -> engine -> model -> (class, "Name: message" or "")
    lines: dict[tuple[str, str], dict[str, dict[str, tuple[str, str]]]]
    expects: dict[tuple[str, str], dict[str, str]]  # (profile, attempt label) -> engine -> "load" | "reject"
    skipped: dict[tuple[str, str], str]  # (profile, engine) -> why its rows skipped


def attribution(results: list[dict]) -> Table | None:
    rows = [r for r in results if r.get("hosting", DEFAULT_HOSTING) != DEFAULT_HOSTING]
    if not rows:
        return None
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    lines: dict = {}
    expects: dict = {}
    skipped: dict = {}
    for r in rows:
        attempts = (r.get("observed") or {}).get("hosting") or {}
        if r["outcome"] == "skipped" and not attempts:
            skipped[r["hosting"], r["engine"]] = (r.get("differences") or [{}])[0].get("message", "skipped")
        for label, seen in attempts.items():
            error = seen.get("error") or {}
            said = f"{error.get('name')}: {error.get('message')}" if error else ""
            key = (r["hosting"], label)
            lines.setdefault(key, {}).setdefault(r["engine"], {})[r["model"]] = (seen.get("class", "?"), said)
            expects.setdefault(key, {})[r["engine"]] = (seen.get("expect") or {}).get("kind", "")
    return Table(engines, lines, expects, skipped)


def expected(by_engine: dict[str, str], engines: list[str]) -> str:
    """What an attempt expects: "load", or "reject (node: load)" where an engine expects otherwise (the
    most engines' expectation first; on a tie, that of the first engine in the table's order)."""
    kinds = [by_engine[e] for e in engines if e in by_engine]
    usual = max(dict.fromkeys(kinds), key=kinds.count)
    other = [f"{e}: {k}" for e, k in by_engine.items() if k != usual]
    return usual + (f" ({', '.join(other)})" if other else "")


def cell(by_model: dict[str, tuple[str, str]] | None) -> tuple[str, str]:
    """One engine's result for one attempt: its class(es), and what TF.js said (the first message)."""
    if not by_model:
        return "", ""
    classes = list(dict.fromkeys(c for c, _ in by_model.values()))
    label = classes[0] if len(classes) == 1 else " / ".join(f"{c} ({m})" for m, (c, _) in by_model.items())
    said = next((s for _, s in by_model.values() if s), "")
    return label, said


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 1] + "…"


def _lines(table: Table):
    """Per attempt: (profile, label, what it expects, per engine (class, what TF.js said, why it skipped)),
    "skipped" for the class of an engine whose rows of that profile skipped."""
    for (profile, label), engines in table.lines.items():
        cells = []
        for engine in table.engines:
            label_, said = cell(engines.get(engine))
            why = table.skipped.get((profile, engine), "") if not label_ else ""
            cells.append(("skipped" if why else label_, said, why))
        yield profile, label, expected(table.expects[profile, label], table.engines), cells


def markdown(table: Table) -> str:
    """The table as Markdown: profile, attempt, expected, then per engine its class and TF.js's words."""
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    out = ["| profile | attempt | expects | " + " | ".join(table.engines) + " |",
           "|---|---|---|" + "---|" * len(table.engines)]
    for profile, label, expects, cells in _lines(table):
        texts = [esc(f"**{label_}**" + (f": `{_short(said)}`" if said and label_ != "clear" else "")) if label_ else ""
                 for label_, said, _ in cells]
        out.append(f"| {profile} | {label} | {expects} | " + " | ".join(texts) + " |")
    for (profile, engine), why in table.skipped.items():
        out.append(f"\n{profile} on {engine}: skipped ({esc(why)})")
    return "\n".join(out) + "\n"


def html_section(table: Table | None) -> str:
    if table is None:
        return ""
    head = "".join(f"<th>{html.escape(e)}</th>" for e in table.engines)
    body = []
    for profile, label, expects, cells in _lines(table):
        tds = []
        for label_, said, why in cells:
            said = why or said
            klass = "o-passed" if label_ in ("exact", "clear") else "o-skipped" if label_ in ("", "skipped") else "o-xfailed"
            tds.append(f"<td class=\"{klass}\" title=\"{html.escape(said)}\"><b>{html.escape(label_)}</b>"
                       + (f"<br><code>{html.escape(_short(said))}</code>" if said else "") + "</td>")
        body.append(f"<tr><th>{html.escape(profile)}</th><td>{html.escape(label)}</td><td>{html.escape(expects)}</td>"
                    + "".join(tds) + "</tr>")
    return ("<section id=\"hosting\"><h2>Error attribution: hosting profiles</h2><p>What TF.js did with each "
            "hosting profile's attempts (exact: loaded bit for bit; clear: refused naming the failing URL and status; "
            "partial, vague: naming one, or neither; silent-corruption: load() resolved with other weights).</p>"
            f"<table class=\"matrix\"><thead><tr><th>profile</th><th>attempt</th><th>expects</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></section>")


def main(path: str) -> int:
    """`python -m harness hosting [conformance.json]`: the table as Markdown; exit 2 if unreadable or empty."""
    import sys

    from harness.report.document import DocumentError, read

    try:
        doc = read(path)
    except (OSError, ValueError, DocumentError) as e:
        print(f"python -m harness hosting: {path}: {e}", file=sys.stderr)
        return 2
    table = attribution(doc.get("results") or [])
    if table is None:
        print(f"python -m harness hosting: {path} has no hosting rows (run: pytest scenarios -k hosting-)", file=sys.stderr)
        return 2
    sys.stdout.write(markdown(table))
    return 0
