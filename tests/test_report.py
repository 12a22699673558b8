"""Tests for harness.report.text: the conformance.json contract and the engine x scheme matrix."""

from __future__ import annotations

import json
import re

import pytest

from harness.report import text as report

ENGINES = [
    {"engine": "chromium", "version": "131.0.6778.33", "driver": "playwright", "build": "playwright"},
    {"engine": "firefox", "version": "140.3.0esr", "driver": "webdriver", "build": "system"},
]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]


def row(engine, scheme, outcome, model="mlp", detail=""):
    return {"engine": engine, "tfjs": "4.22.0", "backend": "cpu", "scheme": scheme, "model": model,
            "outcome": outcome, "duration_s": 0.1, "detail": detail, "test": f"t[{scheme}-{model}-{engine}]"}


def cells(text: str) -> dict[str, list[str]]:
    """The table's body rows (between the dashes and the tally), split on runs of 2+ spaces, by scheme."""
    lines = text.splitlines()
    body = lines[2:next(i for i, line in enumerate(lines) if line.endswith(" rows)"))]
    return {parts[0]: parts[1:] for parts in (re.split(r"\s{2,}", line.strip()) for line in body)}


def test_document_has_the_contract_shape():
    rows = [row("chromium", "indexeddb", "passed")]
    doc = report.document(ENGINES, TFJS, rows)
    assert doc == {"schema": 1, "engines": ENGINES, "tfjs": TFJS, "results": rows}
    assert json.loads(json.dumps(doc)) == doc


@pytest.mark.parametrize("outcome", report.OUTCOMES)
def test_document_accepts_every_known_outcome(outcome):
    assert report.document(ENGINES, TFJS, [row("chromium", "s", outcome)])["results"][0]["outcome"] == outcome


@pytest.mark.parametrize("outcome", ["pass", "xpassed", "FAIL", "", None])
def test_document_rejects_unknown_outcome(outcome):
    rows = [row("chromium", "indexeddb", "passed"), row("firefox", "indexeddb", outcome)]
    with pytest.raises(ValueError, match="is not one of"):
        report.document(ENGINES, TFJS, rows)


def test_write_creates_parents_and_round_trips(tmp_path):
    doc = report.document(ENGINES, TFJS, [row("chromium", "s", "passed")])
    path = report.write(tmp_path / "a" / "b" / "conformance.json", doc)
    assert path.exists()
    assert json.loads(path.read_text()) == doc
    assert path.read_text().endswith("\n")


def test_matrix_schemes_are_rows_and_engines_are_columns():
    rows = [
        row("chromium", "indexeddb", "passed"),
        row("chromium", "localstorage", "passed"),
        row("firefox", "indexeddb", "passed"),
        row("firefox", "localstorage", "failed"),
    ]
    text = report.matrix(report.document(ENGINES, TFJS, rows))
    lines = text.splitlines()
    assert lines[0].split() == ["scheme", "chromium", "firefox"]
    assert set(lines[1]) <= {"-", " "}
    assert cells(text) == {"indexeddb": ["1 pass", "1 pass"], "localstorage": ["1 pass", "1 FAIL"]}


def test_matrix_cell_counts_outcomes_worst_first():
    rows = [
        row("chromium", "indexeddb", "passed", model="a"),
        row("chromium", "indexeddb", "failed", model="b"),
        row("chromium", "localstorage", "passed", model="a"),
        row("chromium", "localstorage", "xfailed", model="b"),
        row("chromium", "localstorage", "skipped", model="c"),
        row("firefox", "indexeddb", "failed", model="a"),
        row("firefox", "indexeddb", "error", model="b"),
        row("firefox", "indexeddb", "passed", model="c"),
        row("firefox", "localstorage", "xfailed", model="a"),
        row("firefox", "localstorage", "passed", model="b"),
    ]
    got = cells(report.matrix(report.document(ENGINES, TFJS, rows)))
    assert got == {"indexeddb": ["1 FAIL, 1 pass", "1 ERROR, 1 FAIL, 1 pass"], "localstorage": ["1 skip, 1 xfail, 1 pass", "1 xfail, 1 pass"]}


def test_matrix_counts_rows_of_each_outcome():
    rows = [row("chromium", "s", "failed", model=m) for m in "abc"] + [row("chromium", "s", "passed", model="d")]
    assert cells(report.matrix(report.document(ENGINES, TFJS, rows))) == {"s": ["3 FAIL, 1 pass"]}


def test_matrix_empty_cell_and_engine_versions():
    rows = [row("chromium", "indexeddb", "passed"), row("webkit", "localstorage", "skipped")]
    engines = ENGINES + [{"engine": "webkit", "version": None, "driver": None, "build": None}]
    text = report.matrix(report.document(engines, TFJS, rows))
    assert cells(text) == {"indexeddb": ["1 pass", "-"], "localstorage": ["-", "1 skip"]}
    assert "chromium: 131.0.6778.33 (playwright, playwright build)" in text.splitlines()


def test_matrix_shows_why_a_missing_engine_is_missing():
    rows = [row("webkit", "indexeddb", "skipped")]
    engines = [{"engine": "webkit", "version": None, "driver": None, "build": None,
                "missing": "system build (WebKitWebDriver): not found"}]
    text = report.matrix(report.document(engines, TFJS, rows))
    assert "webkit: not installed: system build (WebKitWebDriver): not found" in text.splitlines()


def test_matrix_summary_line_counts_outcomes():
    rows = [
        row("chromium", "indexeddb", "passed"),
        row("chromium", "localstorage", "passed"),
        row("firefox", "indexeddb", "failed"),
        row("firefox", "localstorage", "skipped"),
        row("firefox", "memory", "error"),
    ]
    lines = report.matrix(report.document(ENGINES, TFJS, rows)).splitlines()
    assert "2 passed, 1 failed, 1 skipped, 1 error (5 rows)" in lines


def test_matrix_without_rows():
    assert report.matrix(report.document(ENGINES, TFJS, [])) == "(no conformance rows in this run)"


def test_matrix_columns_are_aligned():
    rows = [row("chromium", "a-long-scheme-name", "passed"), row("firefox", "x", "failed")]
    lines = report.matrix(report.document(ENGINES, TFJS, rows)).splitlines()[:4]
    # Where the second and third columns start on each line (after the first run of 2+ spaces).
    starts = [[m.end() for m in re.finditer(r"\s{2,}", line)] for line in lines]
    assert all(len(s) == 2 for s in starts), lines
    assert len({tuple(s) for s in starts}) == 1, lines


def test_flaky_lists_rows_whose_repeats_differ():
    def row(outcome, i, scheme="downloads"):
        return {"engine": "webkit", "tfjs": "4.22.0", "backend": "cpu", "scheme": scheme, "model": "mlp",
                "outcome": outcome, "duration_s": 0.1, "detail": "" if outcome == "passed" else "lost a file\nmore",
                "test": f"t[{scheme}-r{i}]", "repeat": i}

    rows = [row("passed", 0), row("xfailed", 1), row("passed", 2),
            row("passed", 0, "http"), row("passed", 1, "http"), row("passed", 2, "http")]
    doc = report.document([], [], rows)
    assert doc["flaky"] == [{"engine": "webkit", "tfjs": "4.22.0", "backend": "cpu", "scheme": "downloads",
                             "model": "mlp", "outcomes": {"passed": 2, "xfailed": 1}, "details": ["lost a file"]}]
    text = report.matrix(doc)
    assert "flaky: 1 of 2 rows differ between 3 repeats" in text and "FLAKY downloads / mlp / webkit" in text


def test_no_flaky_key_without_repeats():
    doc = report.document([], [], [{"engine": "node", "tfjs": "4.22.0", "backend": "cpu", "scheme": "http",
                                    "model": "mlp", "outcome": "passed", "duration_s": 0.1, "detail": "", "test": "t"}])
    assert "flaky" not in doc


def test_timing_sums_test_and_page_time_per_engine_and_the_overhead_ratio():
    rows = [
        {"engine": "chromium", "outcome": "passed", "test_s": 3.0, "page_s": 1.0},
        {"engine": "chromium", "outcome": "failed", "test_s": 2.0, "page_s": 1.5},
        {"engine": "node", "outcome": "passed", "test_s": 1.0},  # no page step ran (page_s missing)
        {"engine": "webkit", "outcome": "passed"},  # a row from an older report: no times, not counted
    ]
    t = report.timing(rows, wall_s=12.34)
    assert t["wall_s"] == 12.3
    assert t["engines"]["chromium"] == {"rows": 2, "test_s": 5.0, "page_s": 2.5, "overhead": 1.0}
    assert t["engines"]["node"] == {"rows": 1, "test_s": 1.0, "page_s": 0.0, "overhead": None}
    assert "webkit" not in t["engines"]
    table = report.timing_table(t)
    assert "wall time 12.3 s" in table and "1.00" in table and table.splitlines()[-1].split()[:4] == ["all", "3", "6.0", "2.5"]
