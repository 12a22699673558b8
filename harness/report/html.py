"""test-results/report.html: one self-contained page (inline CSS and JS, nothing fetched) over a
conformance document.

    write(doc, results_dir)  # -> results_dir / "report.html"

The page: the engines (version, driver, build) and TF.js builds; the totals; a matrix whose rows are
scheme x model and whose columns are engine x TF.js version (x backend; a level with one value is
left out, so one TF.js version gives one column per engine), each cell coloured by its worst outcome
(passed green, xfailed amber, failed red, error purple, skipped grey, no row blank); then a list of
the rows that did not pass. A cell that did not pass (or has artifact files) links to its row's
panel: outcome, test id, duration, the detail text, `observed` and `quota` as JSON, and relative
links to every file under results_dir / test_dir_name(test) (harness.report.artifacts). Panels open with
CSS `:target`, so the page works without JS; the JS only adds filtering and Escape to close.

Everything from the document is HTML-escaped.
"""

from __future__ import annotations

import collections
import html
import json
from pathlib import Path
from urllib.parse import quote

from harness.report import artifacts
from harness.report import text as report
from harness.report.baseline import first_line

FILENAME = "report.html"
_WORST_FIRST = ("error", "failed", "skipped", "xfailed", "passed")  # as in harness.report.text
_SHORT = {"passed": "pass", "failed": "FAIL", "xfailed": "xfail", "skipped": "skip", "error": "ERROR"}

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .5em}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4;position:sticky;top:0}
.info td,.info th{border:none;padding:1px 8px 1px 0}
.matrix td{text-align:center;min-width:4.5em;white-space:nowrap}
.matrix td a{color:inherit;display:block}
.o-passed{background:#c8e6c9}.o-xfailed{background:#ffe0a3}.o-failed{background:#f4a6a6}
.o-error{background:#d7b8f3}.o-skipped{background:#e0e0e0}.o-missing{background:transparent}
.legend span{display:inline-block;padding:1px 8px;margin-right:4px;border:1px solid #ccc}
.controls{margin:1em 0}
.hide-passing tr.all-passed{display:none}
tr.filtered{display:none}
pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;white-space:pre-wrap;word-break:break-word;max-height:40em;overflow:auto}
.detail{display:none}
.detail:target{display:block;position:fixed;top:0;right:0;bottom:0;width:min(70em,60vw);overflow:auto;
  background:#fff;border-left:3px solid #888;box-shadow:-4px 0 12px rgba(0,0,0,.2);padding:0 1.2em 1.2em;z-index:10}
.detail h2{font-size:1.15em;padding:.3em .5em}
.close{float:right;font-size:1.6em;text-decoration:none;color:#444;margin-top:.3em}
.problems td{text-align:left}
"""

_JS = """
(function(){
  var table=document.getElementById('matrix'), hide=document.getElementById('hide-passing'),
      filter=document.getElementById('filter');
  function apply(){
    table.classList.toggle('hide-passing', hide.checked);
    var words=filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var rows=table.tBodies[0].rows;
    for(var i=0;i<rows.length;i++){
      var key=rows[i].getAttribute('data-key');
      rows[i].classList.toggle('filtered', !words.every(function(w){return key.indexOf(w)>=0;}));
    }
  }
  hide.addEventListener('change', apply); filter.addEventListener('input', apply);
  document.addEventListener('keydown', function(e){
    if(e.key==='Escape' && location.hash.length>1){ location.hash='_'; }
  });
})();
"""


def render(doc: dict, results_dir: Path) -> str:
    """The page for `doc`; artifact links are relative to `results_dir` (where report.html goes)."""
    results_dir = Path(results_dir)
    results = doc.get("results") or []
    with_files = _artifact_dirs(results_dir)
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             "<title>TF.js io conformance</title><style>", _CSS, "</style></head><body>",
             "<h1>TF.js io conformance</h1>", _header(doc, results), _legend()]
    # which rows get a panel: every row that did not pass, and any row with artifact files
    panels = {i for i, r in enumerate(results)
              if r.get("outcome") != "passed" or artifacts.test_dir_name(str(r.get("test", ""))) in with_files}
    if results:
        parts.append("<div class=\"controls\"><label><input type=\"checkbox\" id=\"hide-passing\"> "
                     "only rows with a cell that did not pass</label> &nbsp; "
                     "<label>filter: <input type=\"search\" id=\"filter\" placeholder=\"scheme or model\"></label></div>")
        parts.append(_matrix(results, panels))
        parts.append(_problems(results))
        parts.append("<div id=\"details\">")
        parts.extend(_panel(i, results[i], results_dir, with_files) for i in sorted(panels))
        parts.append("</div>")
        parts.append(f"<script>{_JS}</script>")
    else:
        parts.append("<p>No conformance rows in this run.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write(doc: dict, results_dir: Path) -> Path:
    """Write render(doc, results_dir) to results_dir / "report.html"; return its path."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / FILENAME
    path.write_text(render(doc, results_dir), "utf-8")
    return path


# -- sections -----------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _header(doc: dict, results: list[dict]) -> str:
    rows = []
    for e in doc.get("engines") or []:
        if e.get("version"):
            what = f"{_e(e['version'])} ({_e(e.get('driver'))}, {_e(e.get('build'))} build)"
        elif "missing" in e:
            what = f"not installed: {_e(e['missing'])}"
        elif "failed" in e:
            what = f"failed to start: {_e(e['failed'])}"
        else:
            what = "version unknown"
        rows.append(f"<tr><th>{_e(e.get('engine'))}</th><td>{what}</td></tr>")
    for t in doc.get("tfjs") or []:
        rows.append(f"<tr><th>TF.js {_e(t.get('version'))}</th><td>{_e(t.get('source'))}</td></tr>")
    counts = collections.Counter(r.get("outcome") for r in results)
    total = ", ".join(f"<span class=\"o-{o}\">{counts[o]} {o}</span>" for o in report.OUTCOMES if counts[o])
    rows.append(f"<tr><th>rows</th><td>{total + ' ' if total else ''}({len(results)} rows)</td></tr>")
    return "<table class=\"info\">" + "".join(rows) + "</table>"


def _legend() -> str:
    items = "".join(f"<span class=\"o-{o}\">{o}</span>" for o in ("passed", "xfailed", "failed", "error", "skipped"))
    return f"<p class=\"legend\">{items}<span class=\"o-missing\">no row</span></p>"


def _matrix(results: list[dict], panels: set[int]) -> str:
    # columns: (engine, tfjs, backend) that have rows; a level with one value is left out of the labels
    engines = list(dict.fromkeys(r.get("engine") for r in results))
    versions = list(dict.fromkeys(r.get("tfjs") for r in results))
    backends = list(dict.fromkeys(r.get("backend") for r in results))
    present = {(r.get("engine"), r.get("tfjs"), r.get("backend")) for r in results}
    columns = [(e, t, b) for e in engines for t in versions for b in backends if (e, t, b) in present]
    # rows: scheme x model, schemes in order of appearance, a scheme's models in order of appearance
    models: dict[object, list] = collections.defaultdict(list)
    for r in results:
        if r.get("model") not in models[r.get("scheme")]:
            models[r.get("scheme")].append(r.get("model"))
    cells: dict[tuple, list[int]] = collections.defaultdict(list)
    for i, r in enumerate(results):
        cells[r.get("scheme"), r.get("model"), r.get("engine"), r.get("tfjs"), r.get("backend")].append(i)

    def sub_label(t, b) -> str:
        bits = ([f"tfjs {t}"] if len(versions) > 1 else []) + ([str(b)] if len(backends) > 1 else [])
        return " ".join(bits)

    out = ["<table class=\"matrix\" id=\"matrix\"><thead>"]
    if len(versions) > 1 or len(backends) > 1:
        spans = collections.Counter(c[0] for c in columns)
        out.append("<tr><th rowspan=\"2\">scheme</th><th rowspan=\"2\">model</th>"
                   + "".join(f"<th colspan=\"{spans[e]}\">{_e(e)}</th>" for e in engines) + "</tr>")
        out.append("<tr>" + "".join(f"<th>{_e(sub_label(t, b))}</th>" for _, t, b in columns) + "</tr>")
    else:
        out.append("<tr><th>scheme</th><th>model</th>" + "".join(f"<th>{_e(e)}</th>" for e, _, _ in columns) + "</tr>")
    out.append("</thead><tbody>")
    for scheme, scheme_models in models.items():
        for model in scheme_models:
            tds, all_passed = [], True
            for e, t, b in columns:
                ids = cells.get((scheme, model, e, t, b), [])
                if not ids:
                    tds.append("<td class=\"o-missing\"></td>")
                    continue
                outcomes = [results[i].get("outcome") for i in ids]
                worst = next((o for o in _WORST_FIRST if o in outcomes), "missing")
                all_passed = all_passed and worst == "passed"
                tds.append(f"<td class=\"o-{_e(worst)}\">" + "".join(_badge(i, results[i], i in panels) for i in ids) + "</td>")
            key = f"{scheme} {model}".lower()
            css = " class=\"all-passed\"" if all_passed else ""
            out.append(f"<tr{css} data-key=\"{_e(key)}\"><th>{_e(scheme)}</th><th>{_e(model)}</th>{''.join(tds)}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _badge(i: int, row: dict, has_panel: bool) -> str:
    outcome = row.get("outcome")
    text = _e(_SHORT.get(outcome, outcome))
    title = _e(f"{outcome}, {row.get('duration_s', 0)} s: {row.get('test', '')}")
    if has_panel:
        return f"<a href=\"#r{i}\" title=\"{title}\">{text}</a>"
    return f"<span title=\"{title}\">{text}</span>"


def _problems(results: list[dict]) -> str:
    bad = [(i, r) for i, r in enumerate(results) if r.get("outcome") != "passed"]
    if not bad:
        return "<p>Every row passed.</p>"
    bad.sort(key=lambda ir: (_WORST_FIRST.index(ir[1].get("outcome")) if ir[1].get("outcome") in _WORST_FIRST else -1, ir[0]))
    rows = [f"<tr class=\"o-{_e(r.get('outcome'))}\"><td><a href=\"#r{i}\">{_e(r.get('outcome'))}</a></td>"
            f"<td>{_e(r.get('scheme'))}</td><td>{_e(r.get('model'))}</td><td>{_e(r.get('engine'))}</td>"
            f"<td>{_e(r.get('tfjs'))}</td><td>{_e(first_line(r.get('detail')))}</td></tr>" for i, r in bad]
    return (f"<h2>Rows that did not pass ({len(bad)})</h2><table class=\"problems\"><thead><tr><th>outcome</th>"
            "<th>scheme</th><th>model</th><th>engine</th><th>tfjs</th><th>detail</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _panel(i: int, row: dict, results_dir: Path, with_files: set[str]) -> str:
    outcome = row.get("outcome")
    test = str(row.get("test", ""))
    out = [f"<section class=\"detail\" id=\"r{i}\"><a class=\"close\" href=\"#_\" title=\"close (Esc)\">&times;</a>",
           f"<h2 class=\"o-{_e(outcome)}\">{_e(outcome)}: {_e(row.get('scheme'))} / {_e(row.get('model'))} / "
           f"{_e(row.get('engine'))}</h2><table class=\"info\">",
           f"<tr><th>test</th><td><code>{_e(test)}</code></td></tr>",
           f"<tr><th>tfjs</th><td>{_e(row.get('tfjs'))}</td></tr>",
           f"<tr><th>backend</th><td>{_e(row.get('backend'))}</td></tr>",
           f"<tr><th>duration</th><td>{_e(row.get('duration_s'))} s</td></tr></table>"]
    if row.get("detail"):
        out.append(f"<h3>detail</h3><pre>{_e(row['detail'])}</pre>")
    for name in ("observed", "quota"):
        if row.get(name) is not None:
            out.append(f"<h3>{name}</h3><pre>{_e(_json(row[name]))}</pre>")
    name = artifacts.test_dir_name(test)
    files = artifacts.files(results_dir, test) if name in with_files else []
    if files:
        links = []
        for rel in files:
            href = quote(f"{name}/{rel.as_posix()}")
            size = (results_dir / name / rel).stat().st_size
            links.append(f"<li><a href=\"{_e(href)}\">{_e(rel.as_posix())}</a> ({size:,} bytes)</li>")
        out.append(f"<h3>artifacts ({len(files)})</h3><ul>" + "".join(links) + "</ul>")
    else:
        out.append(f"<p>No artifact files (under <code>{_e(name)}/</code>).</p>")
    out.append("</section>")
    return "".join(out)


def _artifact_dirs(results_dir: Path) -> set[str]:
    """Names of the directories directly under results_dir (one listing, not one stat per row)."""
    try:
        return {p.name for p in results_dir.iterdir() if p.is_dir()}
    except OSError:
        return set()


def _json(value: object) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)
