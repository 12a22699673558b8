"""test-results/report.html: one self-contained page (inline CSS and JS, nothing fetched) over a
conformance document (harness.report.document, schema 2).

    write(doc, results_dir)  # -> results_dir / "report.html"

The page, top to bottom:

- the engines (version, driver, build), the TF.js builds and the totals per outcome;
- the findings (`#findings`): one line per distinct finding any row names (in `findings` or
  `hazards`): id, kind, title, the rows and engines it appears on and its link; the line's tooltip and
  its expandable part say the promise it breaks, and the expandable part lists its rows;
- filters by engine, context, backend, finding kind and outcome, a free-text filter on scheme and
  model, and "only rows that did not pass". They need JS; without it they stay hidden and the page
  shows everything;
- the matrix: one row per scheme x model, one column per engine (split by build, context, backend and
  TF.js where the rows have more than one of them). A cell is coloured by its worst outcome and names
  the findings of its xfailed and xpassed rows and the hazards its rows observed;
- the rows that did not pass, worst first, with the difference that says most about each;
- a panel per row that did not pass, observed a hazard or has artifact files (`#r<index>`, opened from
  its cell by CSS :target): outcome, test id, build, context, backend, TF.js, durations, the
  differences as a table (each naming the finding that explains it), the hazards, `observed` and
  `quota` as JSON, and relative links to the files under results_dir / test_dir_name(test)
  (harness.report.artifacts), trace.zip first.

Everything from the document is HTML-escaped; a finding's link becomes an <a> only when it is http(s).
"""

from __future__ import annotations

import collections
import dataclasses
import html
import json
from pathlib import Path
from urllib.parse import quote

from harness.report import artifacts, hosting
from harness.report import text as report
from harness.report.baseline import first_line
from harness.report.document import OUTCOMES, first_difference, scheme_label

FILENAME = "report.html"
_WORST_FIRST = ("error", "failed", "xpassed", "skipped", "xfailed", "capacity", "passed")  # as in harness.report.text
_SHORT = {"passed": "pass", "failed": "FAIL", "xfailed": "xfail", "capacity": "capacity", "xpassed": "XPASS", "skipped": "skip",
          "error": "ERROR"}
_KINDS = ("tfjs-bug", "engine-bug", "docs", "capacity", "hazard")  # the findings list's order
_LEVELS = ("build", "context", "backend", "tfjs")  # matrix column levels under the engine, when they vary
_FILTERS = (("engine", "all engines"), ("context", "all contexts"), ("backend", "all backends"),
            ("kind", "all finding kinds"), ("outcome", "all outcomes"))  # select#filter-<name>, "any" label
_LISTED_ROWS = 50  # rows listed under one finding; the rest are counted

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .5em}
h2{font-size:1.2em;margin:1.2em 0 .4em}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4}
.info td,.info th{border:none;padding:1px 8px 1px 0}
.matrix thead{position:sticky;top:0;z-index:1}
.matrix td{text-align:center;min-width:4.5em;max-width:18em}
.matrix td a{color:inherit}
.matrix td a.cell{display:block}
.matrix td .runs a{font-size:.85em;margin:0 2px}
.o-passed{background:#c8e6c9}.o-xfailed{background:#ffe0a3}.o-capacity{background:#f3e5ab}.o-failed{background:#f4a6a6}
.o-xpassed{background:#9fd3f5}.o-error{background:#d7b8f3}.o-skipped{background:#e0e0e0}.o-missing{background:transparent}
.legend span,.totals span{display:inline-block;padding:1px 8px;margin-right:4px;border:1px solid #ccc}
.findings td{text-align:left}
.findings summary{cursor:pointer}
.findings tr:target{outline:3px solid #f0a000}
.kind{font-size:.85em;padding:0 6px;border-radius:3px;background:#eee;white-space:nowrap}
.k-tfjs-bug{background:#ffd6d6}.k-engine-bug{background:#ffe8c2}.k-docs{background:#dde8ff}
.k-capacity{background:#e6e6e6}.k-hazard{background:#fff3a0}
.promise{margin:.3em 0;font-style:italic}
.controls{margin:1em 0;display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center}
.off{display:none!important}
.matrix td.nomatch{background:transparent}
.matrix td.nomatch>*{visibility:hidden}
pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;white-space:pre-wrap;word-break:break-word;max-height:40em;overflow:auto}
code{overflow-wrap:break-word}
.detail{display:none}
.detail:target{display:block;position:fixed;top:0;right:0;bottom:0;width:min(70em,60vw);overflow:auto;
  background:#fff;border-left:3px solid #888;box-shadow:-4px 0 12px rgba(0,0,0,.2);padding:0 1.2em 1.2em;z-index:10}
.detail h2{font-size:1.15em;padding:.3em .5em}
.close{float:right;font-size:1.6em;text-decoration:none;color:#444;margin-top:.3em}
.differences td.unexplained{background:#f4a6a6;font-weight:bold}
.differences td{max-width:30em}
"""

_JS = """
(function(){
  function byId(id){ return document.getElementById(id); }
  var matrix=byId('matrix'), text=byId('filter'), failing=byId('hide-passing');
  var selects={}, COLUMN=['engine','context','backend'], ROW=['engine','context','backend','kinds','outcome'];
  [['engine','engine'],['context','context'],['backend','backend'],['kinds','kind'],['outcome','outcome']]
    .forEach(function(p){ selects[p[0]]=byId('filter-'+p[1]); });
  function matches(el, keys){
    for(var i=0;i<keys.length;i++){
      var want=selects[keys[i]].value, have=el.getAttribute('data-'+keys[i]);
      if(want && have!==null && have.split(' ').indexOf(want)<0) return false;
    }
    return true;
  }
  function said(el, words){
    var key=el.getAttribute('data-key');
    return key===null || words.every(function(w){ return key.indexOf(w)>=0; });
  }
  function show(el, on){ el.classList.toggle('off', !on); }
  function columns(){
    var heads=matrix.tHead.querySelectorAll('th.col'), groups=matrix.tHead.querySelectorAll('th.group');
    for(var i=0;i<heads.length;i++) show(heads[i], matches(heads[i], COLUMN));
    for(var g=0;g<groups.length;g++){
      var n=0, engine=groups[g].getAttribute('data-engine');
      for(var j=0;j<heads.length;j++)
        if(heads[j].getAttribute('data-engine')===engine && !heads[j].classList.contains('off')) n++;
      groups[g].colSpan=Math.max(n,1); show(groups[g], n>0);
    }
  }
  function cells(words){
    var trs=matrix.tBodies[0].rows;
    for(var i=0;i<trs.length;i++){
      var tds=trs[i].getElementsByTagName('td'), any=false;
      for(var j=0;j<tds.length;j++){
        var td=tds[j], column=matches(td, COLUMN), hit=column && matches(td, ROW);
        show(td, column); td.classList.toggle('nomatch', column && !hit);
        if(hit && td.hasAttribute('data-rows') && !(failing.checked && td.classList.contains('o-passed'))) any=true;
      }
      show(trs[i], any && said(trs[i], words));
    }
  }
  function lists(words){
    var items=document.querySelectorAll('.filterable'), shown=0, problems=0;
    for(var i=0;i<items.length;i++){
      var el=items[i], on=matches(el, ROW) && said(el, words)
        && !(failing.checked && el.getAttribute('data-outcome')==='passed');
      show(el, on);
      if(el.classList.contains('problem')){ problems++; if(on) shown++; }
    }
    var count=byId('problems-shown');
    if(count) count.textContent = shown===problems ? '' : ', '+shown+' shown';
  }
  function apply(){
    var words=text.value.toLowerCase().split(/\\s+/).filter(Boolean);
    columns(); cells(words); lists(words);
  }
  byId('controls').hidden=false;
  Object.keys(selects).forEach(function(k){ selects[k].addEventListener('change', apply); });
  failing.addEventListener('change', apply); text.addEventListener('input', apply);
  document.addEventListener('keydown', function(e){
    if(e.key==='Escape' && location.hash.length>1){ location.hash='_'; }
  });
  apply();
})();
"""


def render(doc: dict, results_dir: Path) -> str:
    """The page for `doc`; artifact links are relative to `results_dir` (where report.html goes)."""
    results_dir = Path(results_dir)
    results = doc.get("results") or []
    table = doc.get("findings") or {}
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             "<title>TF.js io conformance</title><style>", _CSS, "</style></head><body>",
             "<h1>TF.js io conformance</h1>", _header(doc, results)]
    if not results:
        parts.append("<p>No conformance rows in this run.</p></body></html>\n")
        return "".join(parts)
    with_files = _artifact_dirs(results_dir)
    panels = {i for i, r in enumerate(results) if _has_panel(r, with_files)}
    parts += [_findings(results, table, panels), _controls(results, table), _legend(),
              _matrix(results, table, panels), hosting.html_section(hosting.attribution(results)),
              _problems(results, table),
              "<div id=\"details\">",
              *(_panel(i, results[i], results_dir, with_files) for i in sorted(panels)),
              "</div>", f"<script>{_JS}</script></body></html>\n"]
    return "".join(parts)


def write(doc: dict, results_dir: Path) -> Path:
    """Write render(doc, results_dir) to results_dir / "report.html"; return its path."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / FILENAME
    path.write_text(render(doc, results_dir), "utf-8")
    return path


# -- helpers ------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _token(value: object) -> str:
    """`value` as one word of a space-separated data-* attribute (what the filters compare)."""
    return "_".join(str(value).split()) or "-"


def _data(**values: object) -> str:
    """` data-name="v1 v2"` attributes; a list value becomes its distinct tokens."""
    out = []
    for name, value in values.items():
        words = value if isinstance(value, (list, tuple)) else [value]
        out.append(f" data-{name}=\"{_e(' '.join(dict.fromkeys(_token(w) for w in words)))}\"")
    return "".join(out)


def _row_data(rows: list[dict], table: dict) -> str:
    """The filter attributes of an element standing for `rows`: engine, context, backend, outcome, kinds."""
    return _data(**_row_values(rows), kinds=[k for r in rows for k in _row_kinds(r, table)])


def _row_values(rows: list[dict]) -> dict[str, list]:
    return {key: [r.get(key) for r in rows] for key in ("engine", "context", "backend", "outcome")}


def _named_ids(row: dict) -> list[str]:
    """The finding ids a row names: its findings, its differences' findings and its hazards."""
    ids = [*(row.get("findings") or []), *(d["finding"] for d in row.get("differences") or [] if d.get("finding")),
           *(h["id"] for h in row.get("hazards") or [])]
    return list(dict.fromkeys(ids))


def _row_kinds(row: dict, table: dict) -> list[str]:
    return list(dict.fromkeys((table.get(fid) or {}).get("kind", "unknown") for fid in _named_ids(row)))


def _finding_link(fid: str) -> str:
    return f"<a class=\"fid\" href=\"#f-{_e(fid)}\">{_e(fid)}</a>"


def _external_link(url: object) -> str:
    """An <a> to `url` when it is http(s), else the text alone (no javascript: or data: links)."""
    url = "" if url is None else str(url)
    if not url.startswith(("https://", "http://")):
        return _e(url) or "-"
    shown = _shorten(url.split("://", 1)[1], 60)
    return f"<a class=\"finding-link\" href=\"{_e(url)}\" title=\"{_e(url)}\" rel=\"noreferrer\">{_e(shown)}</a>"


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 3] + "..."


def _where(row: dict) -> str:
    return f"{scheme_label(row)} / {row.get('model')} / {row.get('engine')}"


def _worst(rows: list[dict]) -> str:
    outcomes = {r.get("outcome") for r in rows}
    return next((o for o in _WORST_FIRST if o in outcomes), "missing")


def _worst_first(indexed: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    rank = {o: k for k, o in enumerate(_WORST_FIRST)}
    return sorted(indexed, key=lambda ir: (rank.get(ir[1].get("outcome"), -1), ir[0]))


def _has_panel(row: dict, with_files: set[str]) -> bool:
    return (row.get("outcome") != "passed" or bool(row.get("hazards"))
            or artifacts.test_dir_name(str(row.get("test", ""))) in with_files)


def _artifact_dirs(results_dir: Path) -> set[str]:
    """Names of the directories directly under results_dir (one listing, not one stat per row)."""
    try:
        return {p.name for p in results_dir.iterdir() if p.is_dir()}
    except OSError:
        return set()


def _json(value: object, indent: int | None = 2) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


# -- header -------------------------------------------------------------------------------------


def _header(doc: dict, results: list[dict]) -> str:
    """Engines, TF.js builds, totals per outcome, and where flaky or merged runs say so."""
    rows = []
    for e in doc.get("engines") or []:
        what = report.describe_engine(e, esc=_e) or "version unknown"
        rows.append(f"<tr><th>{_e(e.get('engine'))}</th><td>{what}</td></tr>")
        for name, facts in report.shown_backends(e):  # what each backend really was there
            rows.append(f"<tr><th>{_e(e.get('engine'))} / {_e(name)}</th>"
                        f"<td>{_e(report.describe_backend(facts))}</td></tr>")
    for t in doc.get("tfjs") or []:
        rows.append(f"<tr><th>TF.js {_e(t.get('version'))}</th><td>{_e(t.get('source'))}</td></tr>")
    counts = collections.Counter(r.get("outcome") for r in results)
    total = "".join(f"<span class=\"o-{o}\">{counts[o]} {o}</span>" for o in OUTCOMES if counts[o])
    rows.append(f"<tr><th>rows</th><td class=\"totals\">{total} ({len(results)} rows)</td></tr>")
    if doc.get("flaky"):
        suspicious = sum(1 for f in doc["flaky"] if "suspicious" in f)
        rows.append(f"<tr><th>flaky</th><td>{len(doc['flaky']) - suspicious} rows differ between repeats, "
                    f"{suspicious} suspicious</td></tr>")
    if doc.get("merged"):
        merged = ", ".join(f"{_e(m.get('file'))} ({_e(m.get('shard', 'unsharded'))}, {_e(m.get('rows'))} rows)"
                           for m in doc["merged"])
        rows.append(f"<tr><th>merged from</th><td>{merged}</td></tr>")
    return "<table class=\"info\" id=\"header\">" + "".join(rows) + "</table>"


# -- findings -----------------------------------------------------------------------------------


def _rows_by_finding(results: list[dict]) -> dict[str, list[int]]:
    """Each finding id the rows name (findings, differences, hazards) -> the indices of those rows."""
    named: dict[str, list[int]] = collections.defaultdict(list)
    for i, r in enumerate(results):
        for fid in _named_ids(r):
            named[fid].append(i)
    return named


def _findings(results: list[dict], table: dict, panels: set[int]) -> str:
    """The findings list: one line per distinct finding, the tfjs bugs first, the hazards last."""
    named = _rows_by_finding(results)
    head = f"<section id=\"findings\"><h2>Findings ({len(named)})</h2>"
    if not named:
        return head + "<p>No known finding applies to this run's rows.</p></section>"
    rank = {k: n for n, k in enumerate(_KINDS)}
    order = sorted(named, key=lambda fid: (rank.get((table.get(fid) or {}).get("kind"), len(_KINDS)), fid))
    lines = [_finding_line(fid, table.get(fid) or {}, [(i, results[i]) for i in named[fid]], panels)
             for fid in order]
    return (head + "<table class=\"findings\"><thead><tr><th>id</th><th>kind</th><th>rows</th><th>engines</th>"
            "<th>title (click for the promise it breaks and its rows)</th><th>link</th></tr></thead><tbody>"
            + "".join(lines) + "</tbody></table></section>")


def _finding_line(fid: str, record: dict, rows: list[tuple[int, dict]], panels: set[int]) -> str:
    """One finding: id, kind, rows, engines, title (opening to its promise and rows) and link."""
    kind = record.get("kind", "unknown")
    intermittent = " (intermittent)" if record.get("intermittent") else ""
    engines = ", ".join(_e(e) for e in dict.fromkeys(r.get("engine") for _, r in rows))
    title = record.get("title") or "(not in the document's findings table)"
    promise = record.get("promise") or ""
    listed = "".join(f"<li>{_row_ref(i, r, i in panels)}</li>" for i, r in rows[:_LISTED_ROWS])
    more = f"<li>and {len(rows) - _LISTED_ROWS} more</li>" if len(rows) > _LISTED_ROWS else ""
    data = _data(**_row_values([r for _, r in rows]), kinds=kind)
    return (f"<tr class=\"filterable finding\" id=\"f-{_e(fid)}\" title=\"{_e(promise)}\"{data}>"
            f"<td><code>{_e(fid)}</code></td><td><span class=\"kind k-{_e(_token(kind))}\">{_e(kind)}</span>"
            f"{intermittent}</td><td>{len(rows)}</td><td>{engines}</td>"
            f"<td><details><summary>{_e(title)}</summary><p class=\"promise\">breaks: {_e(promise) or '-'}</p>"
            f"<ul class=\"finding-rows\">{listed}{more}</ul></details></td>"
            f"<td>{_external_link(record.get('link'))}</td></tr>")


def _row_ref(i: int, row: dict, has_panel: bool) -> str:
    """A row named by what it is (scheme / model / engine, outcome), linked to its panel when it has one."""
    text = f"{_e(_where(row))} ({_e(row.get('outcome'))})"
    return f"<a href=\"#r{i}\">{text}</a>" if has_panel else text


# -- filters ------------------------------------------------------------------------------------


def _controls(results: list[dict], table: dict) -> str:
    """The filters (hidden until the page's JS shows them: without JS they would do nothing)."""
    values = {
        "engine": list(dict.fromkeys(r.get("engine") for r in results)),
        "context": list(dict.fromkeys(r.get("context") for r in results)),
        "backend": list(dict.fromkeys(r.get("backend") for r in results)),
        "kind": _present_kinds(results, table),
        "outcome": [o for o in OUTCOMES if any(r.get("outcome") == o for r in results)],
    }
    selects = []
    for name, any_label in _FILTERS:
        options = "".join(f"<option value=\"{_e(_token(v))}\">{_e(v)}</option>" for v in values[name])
        selects.append(f"<label>{name} <select id=\"filter-{name}\"><option value=\"\">{any_label}</option>"
                       f"{options}</select></label>")
    return ("<div class=\"controls\" id=\"controls\" hidden>" + "".join(selects)
            + "<label><input type=\"checkbox\" id=\"hide-passing\"> only rows that did not pass</label>"
            "<label>filter: <input type=\"search\" id=\"filter\" placeholder=\"scheme or model\"></label></div>")


def _present_kinds(results: list[dict], table: dict) -> list[str]:
    kinds = {k for r in results for k in _row_kinds(r, table)}
    return [k for k in _KINDS if k in kinds] + sorted(kinds - set(_KINDS))


def _legend() -> str:
    shown = ("passed", "xfailed", "capacity", "xpassed", "failed", "error", "skipped")
    items = "".join(f"<span class=\"o-{o}\">{o}</span>" for o in shown)
    return f"<p class=\"legend\">{items}<span class=\"o-missing\">no row</span></p>"


# -- matrix -------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Grid:
    """The matrix's shape: which levels split the engine columns, the columns, the rows, the cells."""

    varying: list[str]  # the _LEVELS with more than one value among the rows
    columns: list[tuple]  # (engine, *values of the varying levels), in order of appearance
    lines: list[tuple]  # (scheme, model), schemes in order of appearance, a scheme's models likewise
    cells: dict[tuple, list[int]]  # (scheme, model, column) -> row indices
    sample: dict[tuple, dict]  # column -> one of its rows (its engine, context and backend)


def _grid(results: list[dict]) -> _Grid:
    order = {level: {v: k for k, v in enumerate(dict.fromkeys(r.get(level) for r in results))}
             for level in ("engine", *_LEVELS)}
    varying = [level for level in _LEVELS if len(order[level]) > 1]
    cells: dict[tuple, list[int]] = collections.defaultdict(list)
    sample: dict[tuple, dict] = {}
    models: dict[object, dict] = collections.defaultdict(dict)  # scheme -> its models, as dict keys
    for i, r in enumerate(results):
        column = (r.get("engine"), *(r.get(level) for level in varying))
        sample.setdefault(column, r)
        scheme = scheme_label(r)
        cells[scheme, r.get("model"), column].append(i)
        models[scheme][r.get("model")] = None
    levels = ("engine", *varying)
    columns = sorted(sample, key=lambda c: tuple(order[level][v] for level, v in zip(levels, c)))
    lines = [(scheme, model) for scheme, names in models.items() for model in names]
    return _Grid(varying, columns, lines, cells, sample)


def _column_label(varying: list[str], column: tuple) -> str:
    words = []
    for level, value in zip(varying, column[1:]):
        if level == "tfjs":
            words.append(f"tfjs {value}")
        elif level == "build":
            words.append(f"{value} build" if value else "unknown build")
        else:
            words.append(str(value))
    return " ".join(words)


def _column_data(grid: _Grid, column: tuple) -> str:
    r = grid.sample[column]
    return _data(engine=r.get("engine"), context=r.get("context"), backend=r.get("backend"))


def _matrix_head(grid: _Grid) -> str:
    if not grid.varying:
        return ("<thead><tr><th>scheme</th><th>model</th>"
                + "".join(f"<th class=\"col\"{_column_data(grid, c)}>{_e(c[0])}</th>" for c in grid.columns)
                + "</tr></thead>")
    spans = collections.Counter(c[0] for c in grid.columns)
    groups = "".join(f"<th class=\"group\" colspan=\"{n}\"{_data(engine=e)}>{_e(e)}</th>" for e, n in spans.items())
    subs = "".join(f"<th class=\"col\"{_column_data(grid, c)}>{_e(_column_label(grid.varying, c))}</th>"
                   for c in grid.columns)
    return (f"<thead><tr><th rowspan=\"2\">scheme</th><th rowspan=\"2\">model</th>{groups}</tr>"
            f"<tr>{subs}</tr></thead>")


def _matrix(results: list[dict], table: dict, panels: set[int]) -> str:
    """Scheme x model rows, engine columns; each cell coloured by its worst outcome, naming its findings."""
    grid = _grid(results)
    out = [f"<h2>Matrix</h2><table class=\"matrix\" id=\"matrix\">{_matrix_head(grid)}<tbody>"]
    for scheme, model in grid.lines:
        tds = "".join(_cell(grid, column, [(i, results[i]) for i in grid.cells.get((scheme, model, column), [])],
                            table, panels) for column in grid.columns)
        key = f"{scheme} {model}".lower()
        out.append(f"<tr data-key=\"{_e(key)}\"><th>{_e(scheme)}</th><th>{_e(model)}</th>{tds}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(grid: _Grid, column: tuple, rows: list[tuple[int, dict]], table: dict, panels: set[int]) -> str:
    """One matrix cell: its label, linked to its row's panel (one link per row when it has several)."""
    if not rows:
        return f"<td class=\"o-missing\"{_column_data(grid, column)}></td>"
    plain = [r for _, r in rows]
    label = _e(_cell_label(plain))
    title = _e("; ".join(f"{r.get('outcome')}, {r.get('duration_s', 0)} s: {r.get('test', '')}" for r in plain))
    linked = [(i, r) for i, r in rows if i in panels]
    if len(rows) == 1 and linked:
        body = f"<a class=\"cell\" href=\"#r{rows[0][0]}\" title=\"{title}\">{label}</a>"
    else:
        runs = "".join(f"<a href=\"#r{i}\" title=\"{_e(r.get('test'))}\">{_e(_SHORT.get(r.get('outcome')))}</a>"
                       for i, r in _worst_first(linked))
        body = f"<span title=\"{title}\">{label}</span>" + (f"<div class=\"runs\">{runs}</div>" if runs else "")
    data = _column_data(grid, column) + _data(outcome=[r.get("outcome") for r in plain],
                                              kinds=[k for r in plain for k in _row_kinds(r, table)],
                                              rows=[i for i, _ in rows])
    return f"<td class=\"o-{_e(_worst(plain))}\"{data}>{body}</td>"


def _cell_label(rows: list[dict]) -> str:
    """What a matrix cell says about its rows: the outcomes worst first (counted when there are several),
    the findings of its xfailed, capacity and xpassed rows in their place, then the hazards its rows observed:
    "FAIL", "xfail: embedding-dtype-added", "2 pass, hazard: save-overwrites-silently"."""
    counts = collections.Counter(r.get("outcome") for r in rows)
    parts = []
    for outcome in _WORST_FIRST:
        if not counts[outcome]:
            continue
        short = _SHORT[outcome] if len(rows) == 1 else f"{counts[outcome]} {_SHORT[outcome]}"
        if outcome in ("xfailed", "capacity", "xpassed"):
            ids = collections.Counter(f for r in rows if r.get("outcome") == outcome for f in r.get("findings") or ["?"])
            short = f"{_SHORT[outcome]}: " + " ".join(f + (f" x{n}" if n > 1 else "") for f, n in ids.items())
        parts.append(short)
    hazards = collections.Counter(h["id"] for r in rows for h in r.get("hazards") or [])
    if hazards:
        parts.append("hazard: " + " ".join(h + (f" x{n}" if n > 1 else "") for h, n in hazards.items()))
    return ", ".join(parts)


# -- rows that did not pass ---------------------------------------------------------------------


def _problems(results: list[dict], table: dict) -> str:
    bad = _worst_first([(i, r) for i, r in enumerate(results) if r.get("outcome") != "passed"])
    if not bad:
        return "<h2 id=\"problems\">Rows that did not pass (0)</h2><p>Every row passed.</p>"
    lines = [_problem_line(i, r, table) for i, r in bad]
    return (f"<h2 id=\"problems\">Rows that did not pass ({len(bad)}<span id=\"problems-shown\"></span>)</h2>"
            "<table class=\"problems\"><thead><tr><th>outcome</th><th>scheme</th><th>model</th><th>engine</th>"
            "<th>build</th><th>context</th><th>backend</th><th>tfjs</th><th>findings</th><th>first difference</th>"
            "</tr></thead><tbody>" + "".join(lines) + "</tbody></table>")


def _problem_line(i: int, row: dict, table: dict) -> str:
    key = f"{row.get('scheme')} {row.get('model')}".lower()
    findings = " ".join(_finding_link(fid) for fid in _named_ids(row))
    return (f"<tr class=\"filterable problem o-{_e(row.get('outcome'))}\" data-key=\"{_e(key)}\"{_row_data([row], table)}>"
            f"<td><a href=\"#r{i}\">{_e(row.get('outcome'))}</a></td><td>{_e(row.get('scheme'))}</td>"
            f"<td>{_e(row.get('model'))}</td><td>{_e(row.get('engine'))}</td><td>{_e(row.get('build'))}</td>"
            f"<td>{_e(row.get('context'))}</td><td>{_e(row.get('backend'))}</td><td>{_e(row.get('tfjs'))}</td>"
            f"<td>{findings}</td><td>{_e(_summary(row))}</td></tr>")


def _summary(row: dict) -> str:
    """The difference that says most about the row, on one line (else its detail's first line)."""
    d = first_difference(row)
    if d is None:
        return first_line(row.get("detail"))
    return _shorten(f"{d.get('what')} {d.get('path')}: {d.get('message')}", 200)


# -- row panels ---------------------------------------------------------------------------------


def _panel(i: int, row: dict, results_dir: Path, with_files: set[str]) -> str:
    outcome = row.get("outcome")
    return "".join([
        f"<section class=\"detail\" id=\"r{i}\"><a class=\"close\" href=\"#_\" title=\"close (Esc)\">&times;</a>",
        f"<h2 class=\"o-{_e(outcome)}\">{_e(outcome)}: {_e(_where(row))}</h2>",
        _panel_info(row), _differences(row), _hazards(row),
        f"<h3>detail</h3><pre>{_e(row['detail'])}</pre>" if row.get("detail") and not row.get("differences") else "",
        *(f"<h3>{name}</h3><pre>{_e(_json(row[name]))}</pre>" for name in ("observed", "quota") if row.get(name) is not None),
        _artifact_links(str(row.get("test", "")), results_dir, with_files),
        "</section>"])


def _panel_info(row: dict) -> str:
    timed = (("duration_s", "call"), ("test_s", "setup + call + teardown"), ("page_s", "in page"))
    durations = ", ".join(f"{label} {row[key]} s" for key, label in timed if row.get(key) is not None)
    facts = [("test", f"<code>{_e(row.get('test'))}</code>"), ("engine", _e(row.get("engine"))),
             ("build", _e(row.get("build"))), ("context", _e(row.get("context"))),
             ("backend", _e(row.get("backend"))), ("tfjs", _e(row.get("tfjs"))),
             *([("format", _e(row["format"]))] if row.get("format") else []),
             ("duration", durations or "-"),
             *([("host", _e(report.host_label(row["host"])))] if row.get("host") else []),
             ("findings", " ".join(_finding_link(f) for f in row.get("findings") or []) or "none")]
    return "<table class=\"info\">" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts) + "</table>"


def _differences(row: dict) -> str:
    diffs = row.get("differences") or []
    if not diffs:
        return ""
    lines = []
    for d in diffs:
        finding = _finding_link(d["finding"]) if d.get("finding") else "unexplained"
        css = "" if d.get("finding") else " class=\"unexplained\""
        lines.append(f"<tr><td><code>{_e(d.get('what'))}</code></td><td><code>{_e(d.get('path'))}</code></td>"
                     f"<td><code>{_e(_value(d.get('expected')))}</code></td><td><code>{_e(_value(d.get('actual')))}</code></td>"
                     f"<td>{_e(d.get('message'))}</td><td{css}>{finding}</td></tr>")
    return (f"<h3>differences ({len(diffs)})</h3><table class=\"differences\"><thead><tr><th>what</th><th>path</th>"
            "<th>expected</th><th>actual</th><th>message</th><th>finding</th></tr></thead><tbody>"
            + "".join(lines) + "</tbody></table>")


def _value(value: object) -> str:
    return _shorten(_json(value, indent=None), 500)


def _hazards(row: dict) -> str:
    hazards = row.get("hazards") or []
    if not hazards:
        return ""
    lines = "".join(f"<tr><td>{_finding_link(h.get('id'))}</td><td><code>{_e(h.get('what'))}</code></td>"
                    f"<td><code>{_e(h.get('path'))}</code></td><td>{_e(h.get('message'))}</td></tr>" for h in hazards)
    return (f"<h3>hazards ({len(hazards)})</h3><table class=\"hazards\"><thead><tr><th>id</th><th>what</th>"
            f"<th>path</th><th>message</th></tr></thead><tbody>{lines}</tbody></table>")


def _artifact_links(test: str, results_dir: Path, with_files: set[str]) -> str:
    """Relative links to the row's artifact files with their sizes, trace.zip first."""
    name = artifacts.test_dir_name(test)
    files = artifacts.files(results_dir, test) if name in with_files else []
    if not files:
        return f"<p>No artifact files (under <code>{_e(name)}/</code>).</p>"
    links = []
    for rel in sorted(files, key=lambda p: (p.as_posix() != "trace.zip", p.as_posix())):
        href = quote(f"{name}/{rel.as_posix()}")
        size = (results_dir / name / rel).stat().st_size
        hint = " &mdash; <code>npx playwright show-trace</code>" if rel.as_posix() == "trace.zip" else ""
        links.append(f"<li><a href=\"{_e(href)}\">{_e(rel.as_posix())}</a> ({size:,} bytes){hint}</li>")
    return f"<h3>artifacts ({len(files)})</h3><ul>" + "".join(links) + "</ul>"
