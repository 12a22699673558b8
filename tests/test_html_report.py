"""Tests for harness.report.html: the self-contained test-results/report.html over a schema-2 document."""

from __future__ import annotations

import html.parser
import time
from urllib.parse import unquote

from harness.report import artifacts, document
from harness.report import html as html_report

ENGINES = [{"engine": "chromium", "version": "156.0", "driver": "playwright", "build": "system"},
           {"engine": "firefox", "version": "153.7.0", "driver": "playwright", "build": "system"}]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]
FINDINGS = {
    "embedding-dtype-added": {"kind": "tfjs-bug", "title": "A load + save adds config.dtype to an Embedding layer",
                              "promise": "save(load(x)) writes what x was",
                              "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "ls-capacity": {"kind": "capacity", "title": "over localStorage's limit", "promise": "a limit per origin",
                    "link": "", "intermittent": False},
    "webkit-drops-download": {"kind": "engine-bug", "title": "WebKitGTK drops one of two downloads",
                              "promise": "both files are delivered", "link": "https://bugs.webkit.org/",
                              "intermittent": True},
    "save-overwrites-silently": {"kind": "hazard", "title": "save() replaces a stored model without asking",
                                 "promise": "a user does not lose a model by saving another under its name",
                                 "link": "https://www.tensorflow.org/js/guide/save_load", "intermittent": False},
}


def diff(what="loaded", path="$.weights[0]", expected=1.0, actual=2.0, message="weights differ", finding=None):
    d = {"what": what, "path": path, "expected": expected, "actual": actual, "message": message}
    return {**d, "finding": finding} if finding else d


def row(scheme, outcome, engine="chromium", model="mlp", differences=None, findings=None, hazards=None, **extra):
    """A schema-3 row; a row that did not pass gets one difference, an xfailed or xpassed row a finding, a
    capacity row a capacity finding and its fit numbers."""
    if findings is None:
        findings = {"xfailed": ["embedding-dtype-added"], "xpassed": ["embedding-dtype-added"],
                    "capacity": ["ls-capacity"]}.get(outcome, [])
    if differences is None:
        differences = [] if outcome == "passed" else [diff(finding=findings[0] if outcome in ("xfailed", "capacity") else None)]
    if outcome == "capacity":
        extra.setdefault("observed", {"fit": {"localstorage_chars": 6_000_000, "localstorage_limit_chars": 5_241_856,
                                              "indexeddb_value_bytes": 4_000_000,
                                              "chromium_indexeddb_value_limit_bytes": 133_169_152,
                                              "exceeds": ["localstorage"]}})
    r = {"engine": engine, "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0",
         "scheme": scheme, "model": model, "format": "layers-model", "outcome": outcome, "differences": differences,
         "findings": findings, "hazards": hazards or [], "duration_s": 0.25,
         "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]", **extra}
    r.setdefault("detail", document.detail(r))
    return r


def hazard(hid="save-overwrites-silently", message="the second save replaced the first"):
    return {"id": hid, "what": "storage", "path": "indexeddb://m", "message": message}


def doc(*rows, tfjs=TFJS, engines=ENGINES, findings=FINDINGS, valid=True):
    d = document.build(engines, tfjs, list(rows), findings)
    if valid:
        document.validate(d)
    return d


class Page(html.parser.HTMLParser):
    """What the checks need from the page: every start tag with its attributes (in document order), the
    script count, the matrix's header cells, and its cells (class and text) per body row."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts = 0
        self.matrix_rows: list[list[tuple[str, str]]] = []  # (class, text) per td
        self.header_cells: list[str] = []
        self._in_matrix = self._in_body = self._in_head = False
        self._cell: list | None = None
        self._th: list | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script":
            self.scripts += 1
        if tag == "table" and attrs.get("id") == "matrix":
            self._in_matrix = True
        elif self._in_matrix and tag == "thead":
            self._in_head = True
        elif self._in_matrix and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.matrix_rows.append([])
        elif self._in_body and tag == "td":
            self._cell = [attrs.get("class", ""), ""]
        elif self._in_head and tag == "th":
            self._th = [""]

    def handle_endtag(self, tag):
        if self._in_matrix and tag == "table":
            self._in_matrix = self._in_body = self._in_head = False
        elif tag == "thead":
            self._in_head = False
        elif tag == "td" and self._cell is not None:
            self.matrix_rows[-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "th" and self._th is not None:
            self.header_cells.append(self._th[0])
            self._th = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data
        if self._th is not None:
            self._th[0] += data

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if "id" in a]

    def with_class(self, tag: str, css: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag and css in (a.get("class") or "").split()]


def section(text: str, start: str, end: str) -> str:
    """`text` from `start` to the first `end` after it."""
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def test_page_is_self_contained(tmp_path):
    d = doc(row("indexeddb", "failed"), row("indexeddb", "xfailed", model="embedding"),
            row("memory", "passed", hazards=[hazard()]))
    text = html_report.render(d, tmp_path)
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    links = {f["link"] for f in FINDINGS.values()}
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)  # no external script, image or frame
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        href = attrs.get("href", "")
        if href.startswith(("http:", "https:", "//")):  # only the findings' own links leave the page
            assert href in links and attrs.get("class") == "finding-link", (tag, attrs)
    assert page.scripts == 1 and "<style>" in text
    assert "@import" not in text and "url(" not in text


def test_header_shows_engines_tfjs_builds_and_totals(tmp_path):
    engines = [*ENGINES, {"engine": "webkit", "version": None, "missing": "apt-get install webkit2gtk-driver"}]
    text = html_report.render(doc(row("s", "passed"), row("t", "passed"), row("u", "xpassed"), engines=engines), tmp_path)
    header = section(text, 'id="header"', 'id="findings"')
    assert "156.0 (playwright, system build)" in header and "153.7.0" in header
    assert "not installed: apt-get install webkit2gtk-driver" in header
    assert "TF.js 4.22.0" in header and "npm:@tensorflow/tfjs@4.22.0" in header
    assert '<span class="o-passed">2 passed</span><span class="o-xpassed">1 xpassed</span> (3 rows)' in header


def test_header_says_what_each_backend_was_on_each_engine(tmp_path):
    engines = [{**ENGINES[0], "backends": {"cpu": {"backend": "cpu"}, "wasm": {
        "backend": "wasm", "WASM_HAS_SIMD_SUPPORT": True, "WASM_HAS_MULTITHREAD_SUPPORT": False, "crossOriginIsolated": True,
        "binary": "tfjs-backend-wasm-simd.wasm"}}}, *ENGINES[1:]]
    text = html_report.render(doc(row("s", "passed", backend="wasm"), engines=engines), tmp_path)
    header = section(text, 'id="header"', 'id="findings"')
    assert "/ wasm</th><td>SIMD on, threads off (crossOriginIsolated True): tfjs-backend-wasm-simd.wasm</td>" in header
    assert "/ cpu</th>" not in header  # cpu is what it says


def test_findings_list_comes_first_with_one_line_per_finding(tmp_path):
    rows = [row("indexeddb", "xfailed", model="embedding"), row("indexeddb", "xfailed", model="embedding", engine="firefox"),
            row("downloads", "xfailed", engine="firefox", findings=["webkit-drops-download"]),
            row("memory", "passed", hazards=[hazard()]), row("memory", "failed", model="cnn")]
    text = html_report.render(doc(*rows), tmp_path)
    page = Page(text)
    ids = page.ids()
    assert ids.index("findings") < ids.index("controls") < ids.index("matrix") < ids.index("problems") < ids.index("r0")
    lines = page.with_class("tr", "finding")
    # tfjs bugs first, hazards last; each line names its id, kind, rows, engines and link
    assert [a["id"] for a in lines] == ["f-embedding-dtype-added", "f-webkit-drops-download", "f-save-overwrites-silently"]
    assert lines[0]["title"] == "save(load(x)) writes what x was"  # the promise it breaks
    findings = section(text, 'id="findings"', 'id="controls"')
    assert "<h2>Findings (3)</h2>" in findings
    first = section(findings, 'id="f-embedding-dtype-added"', 'id="f-webkit-drops-download"')
    assert ('<td><code>embedding-dtype-added</code></td><td><span class="kind k-tfjs-bug">tfjs-bug</span></td>'
            "<td>2</td><td>chromium, firefox</td>") in first
    assert "<summary>A load + save adds config.dtype to an Embedding layer</summary>" in first
    assert "breaks: save(load(x)) writes what x was" in first
    assert '<a href="#r0">indexeddb / embedding / chromium (xfailed)</a>' in first
    assert 'href="https://github.com/tensorflow/tfjs/issues/1"' in first
    assert "engine-bug</span> (intermittent)" in findings
    assert "<td>1</td><td>chromium</td><td><details><summary>save() replaces" in findings


def test_a_finding_missing_from_the_table_and_a_non_http_link_are_shown_as_text(tmp_path):
    findings = {"odd-link": {**FINDINGS["embedding-dtype-added"], "link": "javascript:alert(1)"}}
    rows = [row("s", "xfailed", findings=["odd-link"]), row("t", "xfailed", findings=["not-in-table"])]
    text = html_report.render(doc(*rows, findings=findings, valid=False), tmp_path)
    assert 'href="javascript' not in text and "<td>javascript:alert(1)</td>" in text
    assert "(not in the document&#x27;s findings table)" in text
    assert '<span class="kind k-unknown">unknown</span>' in text


def test_no_findings_says_so(tmp_path):
    text = html_report.render(doc(row("s", "passed")), tmp_path)
    assert "<h2>Findings (0)</h2><p>No known finding applies to this run's rows.</p>" in text


def test_cells_are_coloured_by_outcome_and_name_their_findings(tmp_path):
    rows = [row("s", o, model=o) for o in ("passed", "xfailed", "xpassed", "failed", "error", "skipped", "capacity")]
    rows.append(row("s", "passed", engine="firefox", model="passed", hazards=[hazard()]))
    page = Page(html_report.render(doc(*rows), tmp_path))
    assert page.header_cells == ["scheme", "model", "chromium", "firefox"]
    assert page.matrix_rows == [
        [("o-passed", "pass"), ("o-passed", "pass, hazard: save-overwrites-silently")],
        [("o-xfailed", "xfail: embedding-dtype-added"), ("o-missing", "")],
        [("o-xpassed", "XPASS: embedding-dtype-added"), ("o-missing", "")],
        [("o-failed", "FAIL"), ("o-missing", "")],
        [("o-error", "ERROR"), ("o-missing", "")],
        [("o-skipped", "skip"), ("o-missing", "")],
        [("o-capacity", "capacity: ls-capacity"), ("o-missing", "")],
    ]
    text = html_report.render(doc(*rows), tmp_path)
    colours = {}
    for css in ("o-passed", "o-xfailed", "o-xpassed", "o-failed", "o-error", "o-skipped", "o-capacity"):
        colours[css] = text.split(f".{css}{{background:", 1)[1].split("}", 1)[0]
    assert len(set(colours.values())) == 7, colours  # xpassed and capacity have their own colours
    assert colours["o-passed"] == "#c8e6c9" and colours["o-failed"] == "#f4a6a6"


def test_a_cell_with_several_rows_counts_them_takes_the_worst_outcome_and_links_each(tmp_path):
    a = row("s", "passed")
    b = dict(row("s", "error"), test="other::test[s-mlp-chromium]")
    c = dict(row("s", "xfailed"), test="third::test[s-mlp-chromium]")
    d = dict(row("s", "xfailed"), test="fourth::test[s-mlp-chromium]")
    page = Page(html_report.render(doc(a, b, c, d), tmp_path))
    assert page.matrix_rows == [[("o-error", "1 ERROR, xfail: embedding-dtype-added x2, 1 passERRORxfailxfail")]]
    cell = page.with_class("td", "o-error")[0]
    assert cell["data-rows"] == "0 1 2 3" and cell["data-outcome"] == "passed error xfailed"
    runs = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("#r")][-3:]
    assert runs == ["#r1", "#r2", "#r3"]  # the passed row has no panel


def test_cells_of_rows_with_a_panel_link_to_it(tmp_path):
    rows = [row("s", "passed"), row("s", "failed", model="cnn"), row("s", "passed", model="rnn", hazards=[hazard()])]
    page = Page(html_report.render(doc(*rows), tmp_path))
    cells = [a["href"] for a in page.with_class("a", "cell")]
    assert cells == ["#r1", "#r2"]
    assert [a["id"] for t, a in page.tags if t == "section" and a.get("class") == "detail"] == ["r1", "r2"]


def test_elements_carry_what_the_filters_compare(tmp_path):
    rows = [row("s", "passed"), row("s", "xfailed", engine="firefox", context="worker"),
            row("t", "failed", backend="webgl", differences=[diff(), diff(finding="webkit-drops-download")],
                findings=["webkit-drops-download"])]
    page = Page(html_report.render(doc(*rows), tmp_path))
    selects = {a["id"]: a for t, a in page.tags if t == "select"}
    assert list(selects) == ["filter-engine", "filter-context", "filter-backend", "filter-kind", "filter-outcome"]
    options = [a["value"] for t, a in page.tags if t == "option"]
    assert options == ["", "chromium", "firefox", "", "window", "worker", "", "cpu", "webgl",
                       "", "tfjs-bug", "engine-bug", "", "passed", "failed", "xfailed"]
    assert [a["id"] for t, a in page.tags if t == "input"] == ["hide-passing", "filter"]
    cells = [a for t, a in page.tags if t == "td" and "data-rows" in a]
    assert [(c["data-engine"], c["data-context"], c["data-backend"], c["data-outcome"], c["data-kinds"]) for c in cells] == [
        ("chromium", "window", "cpu", "passed", ""), ("firefox", "worker", "cpu", "xfailed", "tfjs-bug"),
        ("chromium", "window", "webgl", "failed", "engine-bug")]
    problems = page.with_class("tr", "problem")
    assert [(p["data-engine"], p["data-outcome"], p["data-kinds"], p["data-key"]) for p in problems] == [
        ("chromium", "failed", "engine-bug", "t mlp"), ("firefox", "xfailed", "tfjs-bug", "s mlp")]
    finding = page.with_class("tr", "finding")[0]
    assert (finding["data-engine"], finding["data-kinds"], finding["data-outcome"]) == ("firefox", "tfjs-bug", "xfailed")
    assert "hidden" in page.with_class("div", "controls")[0]  # the script shows them


def test_engine_columns_split_by_the_levels_that_vary(tmp_path):
    tfjs = [*TFJS, {"version": "4.21.0->4.22.0", "source": "cross"}, {"version": "tf.min.js@1a2b3c4d5e6f", "source": "file"}]
    rows = [row("s", "passed"), row("s", "failed", tfjs="4.21.0->4.22.0"),
            row("s", "passed", engine="firefox"), row("s", "xfailed", engine="firefox", tfjs="tf.min.js@1a2b3c4d5e6f")]
    text = html_report.render(doc(*rows, tfjs=tfjs), tmp_path)
    page = Page(text)
    assert page.header_cells == ["scheme", "model", "chromium", "firefox",
                                 "tfjs 4.22.0", "tfjs 4.21.0->4.22.0", "tfjs 4.22.0", "tfjs tf.min.js@1a2b3c4d5e6f"]
    assert ('<th class="group" colspan="2" data-engine="chromium">chromium</th>'
            '<th class="group" colspan="2" data-engine="firefox">firefox</th>') in text
    assert page.matrix_rows == [[("o-passed", "pass"), ("o-failed", "FAIL"), ("o-passed", "pass"),
                                 ("o-xfailed", "xfail: embedding-dtype-added")]]
    rows = [row("s", "passed"), row("s", "failed", backend="webgl", build="playwright"), row("s", "passed", context="worker")]
    page = Page(html_report.render(doc(*rows), tmp_path))
    assert page.header_cells == ["scheme", "model", "chromium", "system build window cpu",
                                 "system build worker cpu", "playwright build window webgl"]


def test_one_value_per_level_gives_plain_engine_columns(tmp_path):
    page = Page(html_report.render(doc(row("s", "passed"), row("s", "passed", engine="firefox")), tmp_path))
    assert page.header_cells == ["scheme", "model", "chromium", "firefox"]
    assert [a["data-engine"] for a in page.with_class("th", "col")] == ["chromium", "firefox"]


def test_panel_shows_the_row_and_its_differences_as_a_table(tmp_path):
    r = row("indexeddb", "failed", differences=[
        diff(expected={"dtype": "float32"}, actual=None, message="dtype added", finding="embedding-dtype-added"),
        diff(what="predictions", path="output[0]", expected=[0.5], actual=[0.25], message="predictions differ")],
        findings=["embedding-dtype-added"], hazards=[hazard()], test_s=1.5, page_s=0.75,
        observed={"keys": ["a", "b"]}, quota={"usage": 10})
    text = html_report.render(doc(r), tmp_path)
    panel = section(text, '<section class="detail" id="r0">', "</section>")
    for fact in ("<tr><th>build</th><td>system</td></tr>", "<tr><th>context</th><td>window</td></tr>",
                 "<tr><th>backend</th><td>cpu</td></tr>", "<tr><th>tfjs</th><td>4.22.0</td></tr>",
                 "<tr><th>duration</th><td>call 0.25 s, setup + call + teardown 1.5 s, in page 0.75 s</td></tr>",
                 "<code>scenarios/test_roundtrip.py::test_roundtrip[indexeddb-mlp-chromium]</code>"):
        assert fact in panel
    table = section(panel, '<table class="differences">', '<h3>hazards')
    assert "<h3>differences (2)</h3>" in panel
    assert ("<tr><td><code>loaded</code></td><td><code>$.weights[0]</code></td>"
            "<td><code>{&quot;dtype&quot;: &quot;float32&quot;}</code></td><td><code>null</code></td>"
            '<td>dtype added</td><td><a class="fid" href="#f-embedding-dtype-added">embedding-dtype-added</a></td></tr>') in table
    assert ("<td><code>[0.5]</code></td><td><code>[0.25]</code></td><td>predictions differ</td>"
            '<td class="unexplained">unexplained</td>') in table
    assert ('<table class="hazards">' in panel and 'href="#f-save-overwrites-silently"' in panel
            and "the second save replaced the first" in panel)
    assert "<h3>detail</h3>" not in panel  # rendered from the differences the table shows
    assert "&quot;keys&quot;: [\n    &quot;a&quot;," in panel and "&quot;usage&quot;: 10" in panel


def test_a_row_without_differences_shows_its_detail(tmp_path):
    old = {"schema": 1, "engines": ENGINES, "tfjs": TFJS, "results": [
        {"engine": "chromium", "tfjs": "4.22.0", "backend": "cpu", "scheme": "s", "model": "m", "outcome": "failed",
         "detail": "AssertionError: weights differ", "test": "t::t[s]", "duration_s": 0.1}]}
    text = html_report.render(document.upgrade(old), tmp_path)
    assert "<h3>detail</h3><pre>AssertionError: weights differ</pre>" in text
    assert "<td>AssertionError: weights differ</td></tr>" in text  # the problem list's first line


def test_panel_links_every_artifact_file_trace_first(tmp_path):
    r = row("indexeddb", "failed")
    d = tmp_path / artifacts.test_dir_name(r["test"])
    (d / "pages").mkdir(parents=True)
    (d / "diff.txt").write_text("diff")
    (d / "trace.zip").write_bytes(b"PK" * 10)
    (d / "pages" / "weird name #1.json").write_text("{}")
    text = html_report.render(doc(r), tmp_path)
    page = Page(text)
    hrefs = [a["href"] for t, a in page.tags if t == "a" and not a.get("href", "#").startswith("#")]
    name = artifacts.test_dir_name(r["test"])
    assert hrefs == [f"{name}/trace.zip", f"{name}/diff.txt", f"{name}/pages/weird%20name%20%231.json"]
    for href in hrefs:  # relative to report.html in results_dir
        assert (tmp_path / unquote(href)).is_file()
    assert "artifacts (3)" in text and "(20 bytes)" in text and "npx playwright show-trace" in text


def test_a_passed_row_with_artifact_files_gets_a_panel_too(tmp_path):
    r = row("s", "passed")
    d = tmp_path / artifacts.test_dir_name(r["test"])
    d.mkdir()
    (d / "trace.zip").write_bytes(b"x")
    page = Page(html_report.render(doc(r), tmp_path))
    assert [a["id"] for t, a in page.tags if t == "section" and a.get("class") == "detail"] == ["r0"]


def test_panel_without_artifacts_says_so(tmp_path):
    text = html_report.render(doc(row("s", "error")), tmp_path / "does-not-exist")
    assert "No artifact files" in text


def test_problem_list_is_worst_first_with_the_unexplained_difference(tmp_path):
    rows = [row("a", "xfailed"), row("b", "failed", differences=[diff(message="explained", finding="embedding-dtype-added"),
                                                                  diff(what="storage", path="keys", message="a key is left")]),
            row("c", "error"), row("d", "passed"), row("e", "xpassed")]
    text = html_report.render(doc(*rows), tmp_path)
    problems = section(text, '<h2 id="problems">', '<div id="details">')
    assert "Rows that did not pass (4" in problems
    order = [Page(problems).with_class("tr", "problem")[k]["class"].split()[-1] for k in range(4)]
    assert order == ["o-error", "o-failed", "o-xpassed", "o-xfailed"]
    assert "<td>storage keys: a key is left</td>" in problems


def test_everything_from_the_document_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    findings = {"evil": {"kind": "tfjs-bug", "title": evil, "promise": f"\"{evil}", "link": f"https://x/{evil}",
                         "intermittent": False}}
    r = row(f"s{evil}", "failed", model=f"m\"'{evil}", engine=f"e{evil}", context=f"c {evil}",
            differences=[diff(what=evil, path=evil, expected=evil, actual={"k": evil}, message=f"{evil}\n& more",
                              finding="evil")],
            findings=["evil"], hazards=[hazard(hid="evil", message=evil)],
            observed={"file": evil, "n": [1, 2]}, quota={"bytes": 1, "how": evil}, test=f"t.py::t[{evil}]")
    engines = [{"engine": f"e{evil}", "version": evil, "driver": evil, "build": evil}]
    text = html_report.render(doc(r, tfjs=[{"version": evil, "source": evil}], engines=engines, findings=findings,
                                  valid=False), tmp_path)
    assert evil not in text
    assert text.count("<script>") == 1  # the page's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&amp; more" in text
    # observed and quota pretty-printed as JSON (escaped)
    assert "&quot;file&quot;: &quot;&lt;script&gt;" in text and "\n    1,\n    2\n" in text
    assert "&quot;how&quot;" in text
    page = Page(text)  # parses; attribute values round-trip
    assert any(a.get("data-key", "").startswith("s<script>") for t, a in page.tags if t == "tr")
    assert any(a.get("data-context") == "c_<script>alert(1)</script>" for t, a in page.tags if t == "td")
    assert any(a.get("title") == f"\"{evil}" for t, a in page.tags if t == "tr")
    assert any(a.get("value") == "e<script>alert(1)</script>" for t, a in page.tags if t == "option")


def test_empty_document(tmp_path):
    text = html_report.render(doc(), tmp_path)
    assert "No conformance rows" in text and "<script>" not in text


def test_write_puts_report_html_in_results_dir(tmp_path):
    path = html_report.write(doc(row("s", "failed")), tmp_path / "test-results")
    assert path == tmp_path / "test-results" / "report.html"
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_thousands_of_rows_render_quickly(tmp_path):
    outcomes = ("passed", "passed", "passed", "xfailed", "failed", "error", "skipped")
    rows = [row(f"scheme{s}", outcomes[(s + m + e) % len(outcomes)], engine=f"engine{e}", model=f"model{m}",
                observed={"k": list(range(20))}, hazards=[hazard()] if m % 10 == 0 else [])
            for s in range(15) for m in range(50) for e in range(4)]
    for i in range(0, len(rows), 7):  # some rows with artifact files
        d = tmp_path / artifacts.test_dir_name(rows[i]["test"])
        d.mkdir(exist_ok=True)
        (d / "diff.txt").write_text("x")
    start = time.perf_counter()
    text = html_report.render(doc(*rows, valid=False), tmp_path)
    elapsed = time.perf_counter() - start
    assert len(rows) == 3000 and elapsed < 5, elapsed
    assert text.count("<tr data-key=") == 750  # the matrix's rows (parsing the page would take longer)
    assert text.count('<tr class="filterable finding"') == 2
