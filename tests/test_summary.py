"""Tests for harness.report.markdown: the Markdown job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import re

import pytest

from harness.report import baseline, document
from harness.report import markdown as summary

ENGINES = [{"engine": "chromium", "version": "156.0", "driver": "playwright", "build": "playwright"},
           {"engine": "webkit", "version": None, "driver": None, "build": None, "missing": "run playwright install"}]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]
FINDINGS = {
    "dtype-added": {"kind": "tfjs-bug", "title": "Embedding save adds a dtype", "promise": "save is idempotent",
                    "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "drops-download": {"kind": "engine-bug", "title": "WebKitGTK drops a | download", "promise": "both files arrive",
                       "link": "https://bugs.webkit.org/", "intermittent": True},
    "move-overwrites": {"kind": "hazard", "title": "moveModel overwrites", "promise": "no data loss", "link": "",
                        "intermittent": False},
}


def difference(what="loaded", path="$.format", message="expected 'layers-model', got None", finding=None):
    d = {"what": what, "path": path, "expected": None, "actual": None, "message": message}
    if finding:
        d["finding"] = finding
    return d


def row(scheme, outcome, engine="chromium", model="mlp", tfjs="4.22.0", findings=None, differences=None, hazards=()):
    if findings is None:
        findings = ["dtype-added"] if outcome in ("xfailed", "xpassed") else []
    if differences is None:
        differences = [] if outcome == "passed" else [difference(finding=findings[0] if outcome == "xfailed" else None)]
    r = {"engine": engine, "build": "playwright", "context": "window", "backend": "cpu", "tfjs": tfjs, "scheme": scheme,
         "model": model, "outcome": outcome, "differences": differences, "findings": list(findings),
         "hazards": list(hazards), "detail": "", "duration_s": 0.1, "test": f"t[{scheme}-{model}-{engine}]"}
    r["detail"] = document.detail(r)
    return r


def doc(*rows, tfjs=TFJS):
    return document.build(ENGINES, tfjs, list(rows), FINDINGS)


def table_rows(text: str, header_start: str) -> list[list[str]]:
    """The body rows of the first table whose header line starts with `header_start`, split on unescaped pipes."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    body = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        body.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return body


def test_title_totals_builds_and_matrix():
    text = summary.markdown(doc(row("indexeddb", "passed"), row("indexeddb", "xfailed", model="cnn"),
                                row("http", "failed"), row("http", "passed", engine="node"),
                                row("http", "xpassed", engine="node", model="cnn")))
    assert text.startswith("## TF.js io conformance\n")
    assert "**2** passed, **1** failed, **1** xfailed, **1** xpassed (5 rows)" in text.splitlines()
    assert "- chromium: 156.0 (playwright, playwright build)" in text
    assert "- webkit: not installed: run playwright install" in text
    assert "- TF.js 4.22.0 (npm:@tensorflow/tfjs@4.22.0)" in text
    assert "| scheme | chromium | node |" in text
    assert table_rows(text, "| scheme |") == [["indexeddb", "1 pass, xfail: dtype-added", "-"],
                                             ["http", "**1 FAIL**", "**1 XPASS**, 1 pass"]]
    assert text.endswith("\n")


def test_matrix_cells_name_the_findings_and_hazards():
    text = summary.markdown(doc(row("downloads", "xfailed", engine="webkit", findings=["drops-download"]),
                                row("downloads", "xfailed", engine="webkit", model="cnn", findings=["drops-download"]),
                                row("model-management", "passed", engine="webkit", hazards=[
                                    {"id": "move-overwrites", "what": "storage", "path": "dest", "message": "gone"}])))
    assert table_rows(text, "| scheme |") == [["downloads", "xfail: drops-download x2"],
                                             ["model-management", "1 pass, hazard: move-overwrites"]]


def test_findings_section_lists_id_kind_rows_engines_and_linked_title():
    text = summary.markdown(doc(row("indexeddb", "xfailed"), row("indexeddb", "xfailed", engine="node"),
                                row("downloads", "xfailed", engine="webkit", findings=["drops-download"]),
                                row("model-management", "passed", hazards=[
                                    {"id": "move-overwrites", "what": "storage", "path": "dest", "message": "gone"}]),
                                row("http", "passed")))
    assert "### Findings (3)" in text.splitlines()
    assert table_rows(text, "| id | kind |") == [
        ["drops-download", "engine-bug (intermittent)", "1", "webkit",
         r"[WebKitGTK drops a \| download](https://bugs.webkit.org/)"],
        ["dtype-added", "tfjs-bug", "2", "chromium, node", "[Embedding save adds a dtype](https://github.com/tensorflow/tfjs/issues/1)"],
        ["move-overwrites", "hazard", "1", "chromium", "moveModel overwrites"],  # no link: plain title
    ]
    assert "### Findings" not in summary.markdown(doc(row("http", "passed"), row("http", "failed", model="cnn")))


def test_failed_error_and_xpassed_rows_are_listed_with_their_first_unexplained_difference():
    text = summary.markdown(doc(
        row("http", "failed", differences=[difference("loaded", "$.signature", "missing", finding="dtype-added"),
                                           difference("storage", "weights", "weights | differ\nsecond line")]),
        row("downloads", "error", differences=[difference("error", "call", "TimeoutError: <script>alert(1)</script>")]),
        row("indexeddb", "xfailed"),
        row("quota", "xpassed", differences=[difference("expectation", "dtype-added", "nothing it explains happened",
                                                        finding="dtype-added")]),
    ))
    assert "### Rows that failed, errored or went stale (3)" in text.splitlines()
    body = table_rows(text, "| outcome |")
    assert [r[:2] for r in body] == [["failed", "http"], ["error", "downloads"], ["xpassed", "quota"]]
    assert body[0][6] == r"storage weights: weights \| differ"
    assert body[2][6] == "expectation dtype-added: nothing it explains happened"
    assert "second line" not in text
    assert "<script>" not in text and "error call: TimeoutError: &lt;script&gt;alert(1)&lt;/script&gt;" in body[1][6]


def test_a_schema_1_row_without_differences_shows_its_detail():
    old = {"schema": 1, "engines": ENGINES, "tfjs": TFJS, "results": [
        {"engine": "chromium", "tfjs": "4.22.0", "backend": "cpu", "scheme": "http", "model": "mlp", "outcome": "failed",
         "duration_s": 0.1, "detail": "\nAssertionError: weights differ\nmore", "test": "t"}]}
    text = summary.markdown(baseline.check(old))
    assert table_rows(text, "| outcome |") == [["failed", "http", "mlp", "chromium", "4.22.0", "cpu",
                                                "AssertionError: weights differ"]]


def test_no_failure_section_when_nothing_failed():
    text = summary.markdown(doc(row("s", "passed"), row("s", "skipped", model="x"), row("s", "xfailed", model="y")))
    assert "Rows that failed, errored or went stale" not in text


def test_one_matrix_per_tfjs_version_when_there_are_several():
    tfjs = [*TFJS, {"version": "4.21.0->4.22.0", "source": "cross"}]
    text = summary.markdown(doc(row("indexeddb", "passed"), row("indexeddb", "failed", tfjs="4.21.0->4.22.0"), tfjs=tfjs))
    assert "### TF.js 4.22.0" in text and "### TF.js 4.21.0-&gt;4.22.0" in text
    first, second = text.split("### TF.js 4.21.0-&gt;4.22.0")
    assert table_rows(first, "| scheme |") == [["indexeddb", "1 pass"]]
    assert table_rows(second, "| scheme |") == [["indexeddb", "**1 FAIL**"]]


def test_empty_document():
    text = summary.markdown({"schema": 2, "engines": [], "tfjs": [], "findings": {}, "results": []})
    assert "No conformance rows" in text and "| scheme" not in text


def test_baseline_section():
    old = doc(row("a", "passed"), row("b", "failed"), row("c", "passed"), row("d", "passed"))
    new = doc(row("a", "error", differences=[difference("error", "call", "Error: page crashed\n...")]), row("b", "passed"),
              row("c", "passed"),
              row("d", "xfailed", findings=["drops-download"], differences=[difference(finding="drops-download")]))
    text = summary.markdown(new, baseline.diff(old, new))
    section = text[text.index("### Against the baseline"):]
    assert section.splitlines()[2] == ("**1 regression**: 1 regressions, 1 fixes, 1 intermittent, 0 changed, 0 new, "
                                       "0 missing, 1 unchanged")
    assert table_rows(section, "| scheme | model | engine | tfjs | was |") == [
        ["a", "mlp", "chromium", "4.22.0", "passed", "error", "error call: Error: page crashed"]]
    assert "#### Fixed (1)" in section
    known = section[section.index("#### Known intermittent (passed -> xfailed) (1)"):]
    assert table_rows(known, "| scheme |") == [
        ["d", "mlp", "chromium", "4.22.0", "passed", "xfailed", "loaded $.format: expected 'layers-model', got None"]]
    clean = summary.markdown(new, baseline.diff(new, new))
    assert "no regressions: 0 regressions, 0 fixes, 0 intermittent, 0 changed, 0 new, 0 missing, 4 unchanged" in clean
    two = doc(row("a", "error"), row("b", "failed"))
    assert "**2 regressions**: 2 regressions" in summary.markdown(two, baseline.diff(doc(row("a", "passed"),
                                                                                         row("b", "passed")), two))


def test_long_lists_are_capped(monkeypatch):
    monkeypatch.setattr(summary, "MAX_LISTED", 3)
    text = summary.markdown(doc(*(row(f"s{i}", "failed") for i in range(10))))
    assert len(table_rows(text, "| outcome |")) == 3 and "... and 7 more (see conformance.json)" in text


def test_text_is_capped_below_githubs_limit(monkeypatch):
    monkeypatch.setattr(summary, "MAX_BYTES", 2000)
    text = summary.markdown(doc(*(row(f"scheme{i}", "failed", differences=[difference(message="x" * 150)])
                                  for i in range(100))))
    assert len(text.encode()) < 2100 and text.endswith("(summary cut at 1 MB; see conformance.json)\n")


def test_write_step_summary_appends_when_the_variable_is_set(tmp_path, monkeypatch):
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert summary.write_step_summary("## one") is True
    assert summary.write_step_summary("two\n") is True
    assert target.read_text() == "earlier step\n## one\ntwo\n"


@pytest.mark.parametrize("value", [None, ""])
def test_write_step_summary_is_a_no_op_without_the_variable(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    else:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", value)
    assert summary.write_step_summary("text") is False


def test_write_step_summary_warns_instead_of_raising(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "dir" / "f.md"))
    with pytest.warns(UserWarning, match="cannot write"):
        assert summary.write_step_summary("text") is False


def test_several_backends_get_a_line_per_scheme_and_backend():
    rows = [row("indexeddb", "passed"), {**row("indexeddb", "xfailed", model="y"), "backend": "webgl-f16", "findings": ["f16"]}]
    text = summary.markdown(doc(*rows))
    assert "| scheme / backend |" in text
    assert "| indexeddb / cpu |" in text and "| indexeddb / webgl-f16 |" in text
