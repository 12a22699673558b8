"""Tests for harness.report.html: the self-contained test-results/report.html."""

from __future__ import annotations

import html.parser
import time

from harness.report import artifacts
from harness.report import html as html_report

ENGINES = [{"engine": "chromium", "version": "156.0", "driver": "playwright", "build": "system"},
           {"engine": "firefox", "version": "153.7.0", "driver": "playwright", "build": "system"}]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]


def row(scheme, outcome, engine="chromium", model="mlp", tfjs="4.22.0", detail="", **extra):
    return {"engine": engine, "tfjs": tfjs, "backend": "cpu", "scheme": scheme, "model": model,
            "outcome": outcome, "duration_s": 0.25, "detail": detail,
            "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]", **extra}


def doc(*rows, tfjs=TFJS, engines=ENGINES):
    return {"schema": 1, "engines": engines, "tfjs": tfjs, "results": list(rows)}


class Page(html.parser.HTMLParser):
    """What the checks need from the page: every start tag with its attributes, the script count, and
    the matrix's cells (class and text) per body row."""

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


def test_page_is_self_contained(tmp_path):
    text = html_report.render(doc(row("indexeddb", "failed")), tmp_path)
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)  # no external script, image or frame
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert not attrs.get("href", "").startswith(("http:", "https:", "//"))
    assert page.scripts == 1 and "<style>" in text


def test_header_shows_engines_and_tfjs_builds(tmp_path):
    engines = [*ENGINES, {"engine": "webkit", "version": None, "missing": "apt-get install webkit2gtk-driver"}]
    text = html_report.render(doc(row("s", "passed"), engines=engines), tmp_path)
    assert "156.0 (playwright, system build)" in text and "153.7.0" in text
    assert "not installed: apt-get install webkit2gtk-driver" in text
    assert "TF.js 4.22.0" in text and "npm:@tensorflow/tfjs@4.22.0" in text


def test_cells_are_coloured_by_outcome_and_missing_cells_are_blank(tmp_path):
    rows = [row("s", o, model=o) for o in ("passed", "xfailed", "failed", "error", "skipped")]
    rows.append(row("s", "passed", engine="firefox", model="passed"))
    page = Page(html_report.render(doc(*rows), tmp_path))
    assert page.header_cells == ["scheme", "model", "chromium", "firefox"]
    assert page.matrix_rows == [
        [("o-passed", "pass"), ("o-passed", "pass")],
        [("o-xfailed", "xfail"), ("o-missing", "")],
        [("o-failed", "FAIL"), ("o-missing", "")],
        [("o-error", "ERROR"), ("o-missing", "")],
        [("o-skipped", "skip"), ("o-missing", "")],
    ]
    text = html_report.render(doc(*rows), tmp_path)
    for css, colour in ((".o-passed", "#c8e6c9"), (".o-xfailed", "#ffe0a3"), (".o-failed", "#f4a6a6"),
                        (".o-error", "#d7b8f3"), (".o-skipped", "#e0e0e0")):
        assert f"{css}{{background:{colour}}}" in text


def test_non_passed_cells_link_to_a_panel_and_passed_cells_do_not(tmp_path):
    rows = [row("s", "passed"), row("s", "failed", model="cnn")]
    page = Page(html_report.render(doc(*rows), tmp_path))
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("#r")]
    assert set(links) == {"#r1"}
    ids = [a["id"] for t, a in page.tags if t == "section"]
    assert ids == ["r1"]


def test_a_cell_with_several_rows_takes_the_worst_outcome(tmp_path):
    a = row("s", "passed")
    b = dict(row("s", "error"), test="other::test[s-mlp-chromium]")
    page = Page(html_report.render(doc(a, b), tmp_path))
    assert page.matrix_rows == [[("o-error", "passERROR")]]


def test_everything_from_the_document_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    r = row(f"s{evil}", "failed", model=f"m\"'{evil}", detail=f"AssertionError: {evil}\n& more",
            observed={"file": evil, "n": [1, 2]}, quota={"bytes": 1, "how": evil})
    r["test"] = f"t.py::t[{evil}]"
    engines = [{"engine": f"e{evil}", "version": evil, "driver": evil, "build": evil}]
    text = html_report.render(doc(dict(r, engine=f"e{evil}"), tfjs=[{"version": evil, "source": evil}],
                                  engines=engines), tmp_path)
    assert evil not in text
    assert text.count("<script>") == 1  # the page's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&amp; more" in text
    # observed and quota pretty-printed as JSON (escaped)
    assert "&quot;file&quot;: &quot;&lt;script&gt;" in text and "\n    1,\n    2\n" in text
    assert "&quot;how&quot;" in text
    page = Page(text)  # parses; attribute values round-trip
    assert any(a.get("data-key", "").startswith("s<script>") for t, a in page.tags if t == "tr")


def test_panel_shows_detail_duration_and_links_every_artifact_file(tmp_path):
    r = row("indexeddb", "failed", detail="AssertionError: weights differ")
    d = tmp_path / artifacts.test_dir_name(r["test"])
    (d / "pages").mkdir(parents=True)
    (d / "diff.txt").write_text("diff")
    (d / "trace.zip").write_bytes(b"PK" * 10)
    (d / "pages" / "weird name #1.json").write_text("{}")
    text = html_report.render(doc(r), tmp_path)
    page = Page(text)
    hrefs = [a["href"] for t, a in page.tags if t == "a" and not a.get("href", "#").startswith("#")]
    name = artifacts.test_dir_name(r["test"])
    assert hrefs == [f"{name}/diff.txt", f"{name}/pages/weird%20name%20%231.json", f"{name}/trace.zip"]
    for href in hrefs:  # relative to report.html in results_dir
        from urllib.parse import unquote
        assert (tmp_path / unquote(href)).is_file()
    assert "artifacts (3)" in text and "(20 bytes)" in text
    assert "AssertionError: weights differ" in text and "0.25 s" in text


def test_a_passed_row_with_artifact_files_gets_a_panel_too(tmp_path):
    r = row("s", "passed")
    d = tmp_path / artifacts.test_dir_name(r["test"])
    d.mkdir()
    (d / "trace.zip").write_bytes(b"x")
    page = Page(html_report.render(doc(r), tmp_path))
    assert [a["id"] for t, a in page.tags if t == "section"] == ["r0"]


def test_panel_without_artifacts_says_so(tmp_path):
    text = html_report.render(doc(row("s", "error")), tmp_path / "does-not-exist")
    assert "No artifact files" in text


def test_several_tfjs_versions_make_engine_by_version_columns(tmp_path):
    tfjs = [*TFJS, {"version": "4.21.0->4.22.0", "source": "cross"}, {"version": "tf.min.js@1a2b3c4d5e6f", "source": "file"}]
    rows = [row("s", "passed"), row("s", "failed", tfjs="4.21.0->4.22.0"),
            row("s", "passed", engine="firefox"), row("s", "xfailed", engine="firefox", tfjs="tf.min.js@1a2b3c4d5e6f")]
    text = html_report.render(doc(*rows, tfjs=tfjs), tmp_path)
    page = Page(text)
    assert page.header_cells == ["scheme", "model", "chromium", "firefox",
                                 "tfjs 4.22.0", "tfjs 4.21.0->4.22.0", "tfjs 4.22.0", "tfjs tf.min.js@1a2b3c4d5e6f"]
    assert '<th colspan="2">chromium</th><th colspan="2">firefox</th>' in text
    assert page.matrix_rows == [[("o-passed", "pass"), ("o-failed", "FAIL"), ("o-passed", "pass"), ("o-xfailed", "xfail")]]


def test_one_tfjs_version_gives_plain_engine_columns(tmp_path):
    page = Page(html_report.render(doc(row("s", "passed"), row("s", "passed", engine="firefox")), tmp_path))
    assert page.header_cells == ["scheme", "model", "chromium", "firefox"]


def test_problem_list_is_worst_first(tmp_path):
    rows = [row("a", "xfailed"), row("b", "failed"), row("c", "error"), row("d", "passed")]
    text = html_report.render(doc(*rows), tmp_path)
    assert "Rows that did not pass (3)" in text
    problems = text[text.index("Rows that did not pass"):text.index('<div id="details">')]
    assert problems.index("error") < problems.index("failed") < problems.index("xfailed")


def test_empty_document(tmp_path):
    text = html_report.render({"schema": 1, "engines": [], "tfjs": [], "results": []}, tmp_path)
    assert "No conformance rows" in text and "<script>" not in text


def test_write_puts_report_html_in_results_dir(tmp_path):
    path = html_report.write(doc(row("s", "failed")), tmp_path / "test-results")
    assert path == tmp_path / "test-results" / "report.html"
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_thousands_of_rows_render_quickly(tmp_path):
    outcomes = ("passed", "passed", "passed", "xfailed", "failed", "error", "skipped")
    rows = [row(f"scheme{s}", outcomes[(s + m + e) % len(outcomes)], engine=f"engine{e}", model=f"model{m}",
                detail="AssertionError: x\n" * 20, observed={"k": list(range(20))})
            for s in range(15) for m in range(50) for e in range(4)]
    for i in range(0, len(rows), 7):  # some rows with artifact files
        d = tmp_path / artifacts.test_dir_name(rows[i]["test"])
        d.mkdir(exist_ok=True)
        (d / "diff.txt").write_text("x")
    start = time.perf_counter()
    text = html_report.render(doc(*rows), tmp_path)
    elapsed = time.perf_counter() - start
    assert len(rows) == 3000 and elapsed < 5, elapsed
    assert len(Page(text).matrix_rows) == 750
