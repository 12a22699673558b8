"""Tests for harness.report.markdown: the Markdown job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import re

import pytest

from harness.report import baseline
from harness.report import markdown as summary

ENGINES = [{"engine": "chromium", "version": "156.0", "driver": "playwright", "build": "playwright"},
           {"engine": "webkit", "version": None, "driver": None, "build": None, "missing": "run playwright install"}]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]


def row(scheme, outcome, engine="chromium", model="mlp", tfjs="4.22.0", detail=""):
    return {"engine": engine, "tfjs": tfjs, "backend": "cpu", "scheme": scheme, "model": model,
            "outcome": outcome, "duration_s": 0.1, "detail": detail, "test": f"t[{scheme}-{model}-{engine}]"}


def doc(*rows, tfjs=TFJS):
    return {"schema": 1, "engines": ENGINES, "tfjs": tfjs, "results": list(rows)}


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
                                row("http", "failed", detail="AssertionError: boom"),
                                row("http", "passed", engine="node")))
    assert text.startswith("## TF.js io conformance\n")
    assert "**2** passed, **1** failed, **1** xfailed (4 rows)" in text
    assert "- chromium: 156.0 (playwright, playwright build)" in text
    assert "- webkit: not installed: run playwright install" in text
    assert "- TF.js 4.22.0 (npm:@tensorflow/tfjs@4.22.0)" in text
    assert "| scheme | chromium | node |" in text
    assert table_rows(text, "| scheme |") == [["indexeddb", "1 xfail, 1 pass", "-"], ["http", "**1 FAIL**", "1 pass"]]
    assert text.endswith("\n")


def test_failed_and_error_rows_are_listed_with_their_first_detail_line():
    text = summary.markdown(doc(row("http", "failed", detail="\nAssertionError: weights | differ\nsecond line"),
                                row("downloads", "error", detail="TimeoutError: <script>alert(1)</script>"),
                                row("indexeddb", "xfailed", detail="known")))
    assert "### Failed and errored rows (2)" in text
    body = table_rows(text, "| outcome |")
    assert [r[:2] for r in body] == [["failed", "http"], ["error", "downloads"]]
    assert body[0][5] == r"AssertionError: weights \| differ"
    assert "second line" not in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_no_failure_section_when_nothing_failed():
    assert "Failed and errored" not in summary.markdown(doc(row("s", "passed"), row("s", "skipped", model="x")))


def test_one_matrix_per_tfjs_version_when_there_are_several():
    tfjs = [*TFJS, {"version": "4.21.0->4.22.0", "source": "cross"}]
    text = summary.markdown(doc(row("indexeddb", "passed"), row("indexeddb", "failed", tfjs="4.21.0->4.22.0"), tfjs=tfjs))
    assert "### TF.js 4.22.0" in text and "### TF.js 4.21.0-&gt;4.22.0" in text
    first, second = text.split("### TF.js 4.21.0-&gt;4.22.0")
    assert table_rows(first, "| scheme |") == [["indexeddb", "1 pass"]]
    assert table_rows(second, "| scheme |") == [["indexeddb", "**1 FAIL**"]]


def test_empty_document():
    text = summary.markdown({"schema": 1, "engines": [], "tfjs": [], "results": []})
    assert "No conformance rows" in text and "| scheme" not in text


def test_baseline_section():
    old = doc(row("a", "passed"), row("b", "failed"), row("c", "passed"))
    new = doc(row("a", "error", detail="Error: page crashed\n..."), row("b", "passed"), row("c", "passed"))
    text = summary.markdown(new, baseline.diff(old, new))
    section = text[text.index("### Against the baseline"):]
    assert "**1 regression**: 1 regressions, 1 fixes, 0 newly known, 0 changed, 0 new, 0 missing, 1 unchanged" in section
    assert table_rows(section, "| scheme | model | engine | tfjs | was |")[0] == \
        ["a", "mlp", "chromium", "4.22.0", "passed", "error", "Error: page crashed"]
    assert "#### Fixed (1)" in section
    clean = summary.markdown(new, baseline.diff(new, new))
    assert "no regressions: 0 regressions" in clean


def test_long_lists_are_capped(monkeypatch):
    monkeypatch.setattr(summary, "MAX_LISTED", 3)
    text = summary.markdown(doc(*(row(f"s{i}", "failed") for i in range(10))))
    assert len(table_rows(text, "| outcome |")) == 3 and "... and 7 more" in text


def test_text_is_capped_below_githubs_limit(monkeypatch):
    monkeypatch.setattr(summary, "MAX_BYTES", 2000)
    text = summary.markdown(doc(*(row(f"scheme{i}", "failed", detail="x" * 150) for i in range(100))))
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
