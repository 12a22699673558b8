"""Tests for harness.report.document (the conformance.json contract, schema 3) and harness.report.text
(the findings list, the engine x scheme matrix, the timing table)."""

from __future__ import annotations

import json
import re

import pytest

from harness.report import document
from harness.report import text as report

ENGINES = [
    {"engine": "chromium", "version": "131.0.6778.33", "driver": "playwright", "build": "playwright"},
    {"engine": "firefox", "version": "140.3.0esr", "driver": "webdriver", "build": "system"},
]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]
BUILDS = {"chromium": "playwright", "firefox": "system"}
FINDINGS = {
    "dtype-added": {"kind": "tfjs-bug", "title": "Embedding save adds a dtype", "promise": "save is idempotent",
                    "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "drops-download": {"kind": "engine-bug", "title": "WebKitGTK drops one of two downloads",
                       "promise": "both files arrive", "link": "https://bugs.webkit.org/", "intermittent": True},
    "move-overwrites": {"kind": "hazard", "title": "moveModel overwrites the destination", "promise": "no data loss",
                        "link": "", "intermittent": False},
    "unused-finding": {"kind": "docs", "title": "no row names it", "promise": "p", "link": "", "intermittent": False},
    "ls-capacity": {"kind": "capacity", "title": "over localStorage's limit", "promise": "a limit per origin",
                    "link": "", "intermittent": False},
}
FIT = {"localstorage_chars": 13_812_345, "localstorage_limit_chars": 5_241_856, "indexeddb_value_bytes": 10_400_000,
       "chromium_indexeddb_value_limit_bytes": 133_169_152, "exceeds": ["localstorage", "localstorage-x2", "localstorage-x3"]}


def difference(what="loaded", path="$.format", message="expected 'layers-model', got None", finding=None,
               expected="layers-model", actual=None):
    d = {"what": what, "path": path, "expected": expected, "actual": actual, "message": message}
    if finding:
        d["finding"] = finding
    return d


def hazard(hid="move-overwrites"):
    return {"id": hid, "what": "storage", "path": "dest", "message": "the destination was overwritten"}


def row(engine, scheme, outcome, model="mlp", findings=None, differences=None, hazards=(), **extra):
    """A valid schema-3 row: a row that did not pass has a difference, an xfailed/xpassed row a finding, a
    capacity row a capacity finding and the fit numbers."""
    if findings is None:
        findings = {"xfailed": ["dtype-added"], "xpassed": ["dtype-added"], "capacity": ["ls-capacity"]}.get(outcome, [])
    if differences is None:
        explained = findings[0] if outcome in document.KNOWN else None
        differences = [] if outcome == "passed" else [difference(finding=explained)]
    if outcome == "capacity":
        extra.setdefault("observed", {"fit": FIT})
    r = {"engine": engine, "build": BUILDS.get(engine), "context": "window", "backend": "cpu", "tfjs": "4.22.0",
         "scheme": scheme, "model": model, "outcome": outcome, "differences": differences, "findings": list(findings),
         "hazards": list(hazards), "detail": "", "test": f"t[{scheme}-{model}-{engine}]", "duration_s": 0.1}
    r.update(extra)
    r["detail"] = document.detail(r)
    return r


def doc_of(rows, engines=ENGINES):
    return document.build(engines, TFJS, rows, FINDINGS)


def cells(text: str) -> dict[str, list[str]]:
    """The table's body rows (between the dashes and the tally), split on runs of 2+ spaces, by scheme."""
    lines = text.splitlines()
    body = lines[2:next(i for i, line in enumerate(lines) if line.endswith(" rows)"))]
    return {parts[0]: parts[1:] for parts in (re.split(r"\s{2,}", line.strip()) for line in body)}


# -- document.build -----------------------------------------------------------------------------


def test_document_has_the_contract_shape_and_only_the_findings_its_rows_name():
    rows = [row("chromium", "indexeddb", "passed"), row("chromium", "localstorage", "xfailed"),
            row("firefox", "model-management", "passed", hazards=[hazard()])]
    doc = doc_of(rows)
    assert doc == {"schema": 3, "engines": ENGINES, "tfjs": TFJS, "results": rows,
                   "findings": {"dtype-added": FINDINGS["dtype-added"], "move-overwrites": FINDINGS["move-overwrites"]}}
    assert json.loads(json.dumps(doc)) == doc
    document.validate(doc)
    assert document.build(ENGINES, TFJS, [row("chromium", "s", "passed")])["findings"] == {}


@pytest.mark.parametrize("outcome", document.OUTCOMES)
def test_document_accepts_every_known_outcome(outcome, tmp_path):
    doc = doc_of([row("chromium", "s", outcome)])
    assert doc["results"][0]["outcome"] == outcome
    document.write(tmp_path / "c.json", doc)  # valid against the schema
    assert json.loads((tmp_path / "c.json").read_text())["results"][0]["outcome"] == outcome


def test_the_outcomes_and_the_row_key():
    assert document.OUTCOMES == ("passed", "failed", "xfailed", "capacity", "xpassed", "skipped", "error")
    assert document.ROW_KEY == ("engine", "build", "context", "backend", "tfjs", "scheme", "model", "hosting")
    assert document.row_key(row("firefox", "http", "passed")) == ("firefox", "system", "window", "cpu", "4.22.0",
                                                                  "http", "mlp", "plain")  # a row without hosting: plain
    assert document.row_key({**row("firefox", "http", "passed"), "hosting": "signed"})[-1] == "signed"


@pytest.mark.parametrize("outcome", ["pass", "xpass", "FAIL", "", None])
def test_document_rejects_unknown_outcome(outcome):
    rows = [row("chromium", "indexeddb", "passed"), dict(row("firefox", "indexeddb", "passed"), outcome=outcome)]
    with pytest.raises(ValueError, match="is not one of"):
        doc_of(rows)


# -- document.write: validated against conformance.schema.json ---------------------------------------------


def test_write_creates_parents_and_round_trips(tmp_path):
    doc = doc_of([row("chromium", "s", "passed"), row("firefox", "s", "failed")])
    path = document.write(tmp_path / "a" / "b" / "conformance.json", doc)
    assert path == tmp_path / "a" / "b" / "conformance.json"
    assert json.loads(path.read_text()) == doc
    assert path.read_text().endswith("\n")


def _without(r: dict, key: str) -> dict:
    return {k: v for k, v in r.items() if k != key}


@pytest.mark.parametrize(("bad_row", "where"), [
    (row("chromium", "s", "failed", differences=[]), "results/0/differences: [] should be non-empty"),
    (row("chromium", "s", "error", differences=[]), "results/0/differences: [] should be non-empty"),
    (row("chromium", "s", "skipped", differences=[]), "results/0/differences: [] should be non-empty"),
    (row("chromium", "s", "xfailed", findings=[], differences=[difference()]), "results/0/findings: [] should be non-empty"),
    (row("chromium", "s", "xpassed", findings=[], differences=[difference()]), "results/0/findings: [] should be non-empty"),
    (_without(row("chromium", "s", "passed"), "hazards"), "results/0: 'hazards' is a required property"),
    (row("chromium", "s", "passed", build="debian"), "results/0/build: 'debian' is not one of"),
    (row("chromium", "s", "failed", differences=[{**difference(), "extra": 1}]), "results/0/differences/0: Additional"),
    (row("chromium", "s", "failed", differences=[_without(difference(), "expected")]),
     "results/0/differences/0: 'expected' is a required property"),
])
def test_write_refuses_an_invalid_row_and_writes_nothing(tmp_path, bad_row, where):
    doc = doc_of([bad_row])  # build() accepts it (its outcome is known); the schema does not
    path = tmp_path / "out" / "conformance.json"
    with pytest.raises(document.DocumentError) as e:
        document.write(path, doc)
    assert str(e.value).startswith(f"not a valid conformance document at {where}")
    assert not path.exists()


@pytest.mark.parametrize(("findings", "where"), [
    ({"Not_An_Id": FINDINGS["dtype-added"]}, "findings: 'Not_An_Id' does not match"),
    ({"dtype-added": {**FINDINGS["dtype-added"], "kind": "bug"}}, "findings/dtype-added/kind: 'bug' is not one of"),
    ({"dtype-added": _without(FINDINGS["dtype-added"], "promise")}, "findings/dtype-added: 'promise' is a required"),
])
def test_write_refuses_an_invalid_findings_table(tmp_path, findings, where):
    doc = {**doc_of([row("chromium", "s", "xfailed")]), "findings": findings}
    with pytest.raises(document.DocumentError, match=re.escape(where)):
        document.write(tmp_path / "c.json", doc)
    assert not (tmp_path / "c.json").exists()


def test_write_refuses_non_finite_numbers(tmp_path):
    doc = doc_of([row("chromium", "s", "passed", duration_s=float("nan"))])
    with pytest.raises(ValueError, match="not JSON compliant"):
        document.write(tmp_path / "c.json", doc)
    assert not (tmp_path / "c.json").exists()


# -- document.read / upgrade: schema 1 is still read -------------------------------------------------


def _schema1_row(engine, scheme, outcome, detail=""):
    return {"engine": engine, "tfjs": "4.22.0", "backend": "cpu", "scheme": scheme, "model": "mlp",
            "outcome": outcome, "duration_s": 0.1, "detail": detail, "test": f"t[{scheme}-mlp-{engine}]"}


def test_read_upgrades_a_schema_1_document(tmp_path):
    old = {"schema": 1, "engines": ENGINES, "tfjs": TFJS,
           "results": [_schema1_row("chromium", "s", "passed"), _schema1_row("firefox", "s", "failed", "boom\nmore"),
                       _schema1_row("webkit", "s", "skipped")]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    doc = document.read(tmp_path / "old.json")
    assert doc["schema"] == 3 and doc["upgraded_from"] == 1 and doc["findings"] == {}
    assert [(r["build"], r["context"], r["differences"], r["findings"]) for r in doc["results"]] == [
        ("playwright", "window", [], []), ("system", "window", [], []), (None, "window", [], [])]
    assert doc["results"][1]["detail"] == "boom\nmore"  # kept as it was
    assert [document.row_key(r) for r in doc["results"]][0] == ("chromium", "playwright", "window", "cpu", "4.22.0",
                                                                  "s", "mlp", "plain")
    # a document without "schema" is schema 1
    assert document.upgrade({"results": [_schema1_row("chromium", "s", "passed")]})["upgraded_from"] == 1


def test_upgrade_keeps_a_schema_3_document_as_it_is():
    doc = doc_of([row("chromium", "s", "failed")])
    assert document.upgrade(doc) is doc


def test_upgrade_names_a_schema_2_documents_capacity_rows_by_their_findings_and_numbers():
    over = row("chromium", "localstorage", "capacity", model="big")
    rows = [{**over, "outcome": "xfailed"},  # schema 2 called it xfailed
            {**over, "model": "unmeasured", "outcome": "xfailed", "observed": {}},  # no numbers: it stays xfailed
            {**over, "model": "fits", "outcome": "xfailed", "observed": {"fit": {**over["observed"]["fit"], "exceeds": []}}},
            row("chromium", "localstorage", "xfailed", model="bug"),  # a tfjs-bug finding
            row("chromium", "indexeddb", "failed")]
    old = {"schema": 2, "engines": ENGINES, "tfjs": TFJS, "findings": FINDINGS, "results": rows}
    new = document.upgrade(old)
    assert new["schema"] == 3 and new["upgraded_from"] == 2
    assert [r["outcome"] for r in new["results"]] == ["capacity", "xfailed", "xfailed", "xfailed", "failed"]
    document.validate(new)
    assert old["results"][0]["outcome"] == "xfailed"  # the document read is not changed


def test_a_capacity_row_carries_the_numbers_it_was_judged_by(tmp_path):
    good = row("chromium", "localstorage", "capacity", model="big")
    assert good["detail"].startswith("capacity: the model does not fit (localStorage: 13,812,345 characters, over "
                                     "5,241,856)\n1 difference(s) in localstorage / big / chromium:")
    three = {**FIT, "localstorage_chars": 2_000_000, "exceeds": ["localstorage-x3"]}
    assert document.detail({**good, "observed": {"fit": three}}).startswith(
        "capacity: the model does not fit (localStorage, three copies at once: 6,000,000 characters, over 5,241,856)")
    document.write(tmp_path / "ok.json", doc_of([good]))
    for bad in ({**good, "observed": {}}, {**good, "observed": {"fit": {**FIT, "exceeds": []}}}, {**good, "findings": []}):
        with pytest.raises(document.DocumentError, match="not a valid conformance document at results/0"):
            document.write(tmp_path / "bad.json", doc_of([bad]))


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ("{not json", "not JSON"),
    ("[]", 'not a conformance document (no "results" list)'),
    ('{"schema": 2}', 'not a conformance document (no "results" list)'),
    ('{"schema": 4, "results": []}', "schema 4; this harness reads schemas 1, 2, 3"),
    ('{"schema": "2", "results": []}', "schema '2'; this harness reads schemas 1, 2, 3"),
    ('{"results": [{"outcome": "passed"}]}', "results[0] is not a conformance row"),
    ('{"results": [1]}', "results[0] is not a conformance row"),
])
def test_read_says_why_a_file_is_not_a_conformance_document(tmp_path, content, message):
    path = tmp_path / "c.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(document.DocumentError, match=re.escape(message)) as e:
        document.read(path)
    assert str(path) in str(e.value)


# -- detail, render, first_difference ---------------------------------------------------------------


def test_detail_renders_the_differences_tagged_with_their_findings():
    r = row("chromium", "localstorage", "xfailed", model="embedding", differences=[
        difference("loaded", "$.modelTopology.config.dtype", "unexpected key (value 'float32')", finding="dtype-added"),
        difference("storage.weightData", "dense/kernel", "float32 [2]: first difference at element 0"),
    ])
    assert r["detail"] == ("2 difference(s) in localstorage / embedding / chromium:\n"
                           "  - loaded $.modelTopology.config.dtype: unexpected key (value 'float32')  [dtype-added]\n"
                           "  - storage.weightData dense/kernel: float32 [2]: first difference at element 0")
    assert document.detail(row("chromium", "s", "passed")) == ""
    assert document.render([difference("a", "b", "c")], "here") == "1 difference(s) in here:\n  - a b: c"


def test_first_difference_prefers_what_no_finding_explains():
    known, new = difference("loaded", "$.signature", "missing", finding="dtype-added"), difference("storage", "w", "x")
    assert document.first_difference({"differences": [known, new]}) == new
    assert document.first_difference({"differences": [known, new]}, unexplained_first=False) == known
    assert document.first_difference({"differences": [known]}) == known
    assert document.first_difference({"differences": []}) is None
    assert document.first_difference({}) is None


# -- the findings list -----------------------------------------------------------------------------


def test_findings_lists_id_kind_rows_engines_and_title_kind_first():
    rows = [row("chromium", "localstorage", "xfailed", model="a"), row("firefox", "localstorage", "xfailed", model="a"),
            row("chromium", "indexeddb", "xfailed", model="b"),
            row("webkit", "downloads", "xfailed", findings=["drops-download"]),
            row("chromium", "model-management", "passed", hazards=[hazard()]),
            row("firefox", "http", "xfailed", findings=["unlisted-id"])]
    text = report.findings(doc_of(rows))
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["id", "kind", "rows", "engines", "title"]
    assert set(lines[1]) == {"-", " "}
    assert [re.split(r"\s{2,}", line) for line in lines[2:-1]] == [
        ["dtype-added", "tfjs-bug", "3", "chromium, firefox", "Embedding save adds a dtype"],
        ["drops-download", "engine-bug (intermittent)", "1", "webkit", "WebKitGTK drops one of two downloads"],
        ["move-overwrites", "hazard", "1", "chromium", "moveModel overwrites the destination"],
        ["unlisted-id", "?", "1", "firefox"],  # named by a row, not in the table
    ]
    assert lines[-1] == ("links: dtype-added https://github.com/tensorflow/tfjs/issues/1; drops-download "
                         "https://bugs.webkit.org/; move-overwrites -; unlisted-id -")
    assert "unused-finding" not in text


def test_findings_cuts_long_titles_and_says_when_there_are_none():
    long = {**FINDINGS["dtype-added"], "title": "x" * 120}
    text = report.findings(document.build(ENGINES, TFJS, [row("chromium", "s", "xfailed")], {"dtype-added": long}))
    assert text.splitlines()[2].endswith("  " + "x" * 87 + "...")
    assert report.findings(doc_of([row("chromium", "s", "passed"), row("firefox", "s", "failed")])) == \
        "(no known finding applies to this run's rows)"


# -- the matrix -------------------------------------------------------------------------------------


def test_matrix_schemes_are_rows_and_engines_are_columns():
    rows = [
        row("chromium", "indexeddb", "passed"),
        row("chromium", "localstorage", "passed"),
        row("firefox", "indexeddb", "passed"),
        row("firefox", "localstorage", "failed"),
    ]
    text = report.matrix(doc_of(rows))
    lines = text.splitlines()
    assert lines[0].split() == ["scheme", "chromium", "firefox"]
    assert set(lines[1]) <= {"-", " "}
    assert cells(text) == {"indexeddb": ["1 pass", "1 pass"], "localstorage": ["1 pass", "1 FAIL"]}


def test_matrix_cell_counts_outcomes_worst_first_and_names_the_findings_of_xfailed_rows():
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
        row("firefox", "localstorage", "xfailed", model="c"),
        row("firefox", "localstorage", "xpassed", model="d"),
        row("firefox", "localstorage", "passed", model="b"),
        row("firefox", "localstorage", "capacity", model="e"),
    ]
    got = cells(report.matrix(doc_of(rows)))
    assert got == {"indexeddb": ["1 FAIL, 1 pass", "1 ERROR, 1 FAIL, 1 pass"],
                   "localstorage": ["1 skip, 1 pass, xfail: dtype-added",
                                    "1 XPASS, 1 pass, xfail: dtype-added x2, capacity: ls-capacity"]}


def test_finding_cell_names_each_finding_and_hazard_with_its_count():
    rows = [row("webkit", "downloads", "xfailed", model="a", findings=["drops-download"]),
            row("webkit", "downloads", "xfailed", model="b", findings=["drops-download", "dtype-added"]),
            row("webkit", "downloads", "xfailed", model="c"),
            row("webkit", "downloads", "passed", model="d", hazards=[hazard()]),
            row("webkit", "downloads", "passed", model="e", hazards=[hazard()]),
            row("webkit", "downloads", "error", model="f")]
    assert report.finding_cell(rows) == ("1 ERROR, 2 pass, xfail: drops-download x2 dtype-added x2, "
                                         "hazard: move-overwrites x2")
    assert report.finding_cell([row("webkit", "s", "xfailed", findings=[], differences=[difference()])]) == "xfail: ?"
    assert report.finding_cell([]) == "-"
    text = report.matrix(doc_of(rows))
    assert cells(text) == {"downloads": ["1 ERROR, 2 pass, xfail: drops-download x2 dtype-added x2, "
                                         "hazard: move-overwrites x2"]}


def test_count_outcomes_and_cell():
    rows = [row("chromium", "s", "passed"), row("chromium", "s", "xfailed"), row("firefox", "s", "error")]
    counts = report.count_outcomes(rows, lambda r: r["engine"])
    assert report.cell(counts["chromium"]) == "1 xfail, 1 pass"
    assert report.cell(counts["firefox"]) == "1 ERROR"
    assert report.cell(counts["webkit"]) == "-"


def test_matrix_counts_rows_of_each_outcome():
    rows = [row("chromium", "s", "failed", model=m) for m in "abc"] + [row("chromium", "s", "passed", model="d")]
    assert cells(report.matrix(doc_of(rows))) == {"s": ["3 FAIL, 1 pass"]}


def test_matrix_empty_cell_and_engine_versions():
    rows = [row("chromium", "indexeddb", "passed"), row("webkit", "localstorage", "skipped")]
    engines = ENGINES + [{"engine": "webkit", "version": None, "driver": None, "build": None}]
    text = report.matrix(doc_of(rows, engines))
    assert cells(text) == {"indexeddb": ["1 pass", "-"], "localstorage": ["-", "1 skip"]}
    assert "chromium: 131.0.6778.33 (playwright, playwright build)" in text.splitlines()
    assert not any(line.startswith("webkit:") for line in text.splitlines())  # a record that says nothing
    assert not any(line.startswith("firefox:") for line in text.splitlines())  # no firefox rows


def test_matrix_shows_why_a_missing_engine_is_missing():
    rows = [row("webkit", "indexeddb", "skipped")]
    engines = [{"engine": "webkit", "version": None, "driver": None, "build": None,
                "missing": "system build (WebKitWebDriver): not found"}]
    text = report.matrix(doc_of(rows, engines))
    assert "webkit: not installed: system build (WebKitWebDriver): not found" in text.splitlines()


def test_describe_engine():
    assert report.describe_engine(ENGINES[1]) == "140.3.0esr (webdriver, system build)"
    remote = {"engine": "chromium", "version": "131", "driver": "playwright", "build": "remote", "endpoint": "ws://h:3000"}
    assert report.describe_engine(remote) == "131 (playwright, remote build at ws://h:3000)"
    assert report.describe_engine({"engine": "x", "failed": "crashed"}) == "failed to start: crashed"
    assert report.describe_engine({"engine": "x", "missing": "a<b"}, esc=lambda v: v.replace("<", "&lt;")) == \
        "not installed: a&lt;b"
    assert report.describe_engine({"engine": "x"}) is None


def test_hosts_are_listed_only_when_rows_ran_elsewhere():
    local = {"runner": "ci-1", "endpoint": "local"}
    remote = {"runner": "ci-1", "endpoint": "playwright-server", "url": "ws://h:3000/"}
    assert report.hosts([row("chromium", "s", "passed", host=local)]) == []
    assert report.hosts([row("chromium", "s", "passed", host=local), row("firefox", "s", "passed", host=remote),
                         row("firefox", "t", "passed", host=remote)]) == [
        "where the rows ran:", "  chromium: ci-1 (local): 1 rows", "  firefox: ci-1 -> playwright-server ws://h:3000/: 2 rows"]
    assert report.host_label(None) == "unknown host"


def test_matrix_summary_line_counts_outcomes():
    rows = [
        row("chromium", "indexeddb", "passed"),
        row("chromium", "localstorage", "passed"),
        row("firefox", "indexeddb", "failed"),
        row("firefox", "localstorage", "skipped"),
        row("firefox", "memory", "error"),
        row("firefox", "http", "xpassed"),
    ]
    lines = report.matrix(doc_of(rows)).splitlines()
    assert "2 passed, 1 failed, 1 xpassed, 1 skipped, 1 error (6 rows)" in lines


def test_matrix_one_table_per_tfjs_build():
    rows = [row("chromium", "s", "passed"), row("chromium", "s", "failed", tfjs="4.21.0->4.22.0")]
    lines = report.matrix(doc_of(rows)).splitlines()
    assert lines.index("TF.js 4.22.0, backend cpu:") < lines.index("TF.js 4.21.0->4.22.0, backend cpu:")
    assert lines[lines.index("TF.js 4.22.0, backend cpu:") + 3].split() == ["s", "1", "pass"]
    assert lines[lines.index("TF.js 4.21.0->4.22.0, backend cpu:") + 3].split() == ["s", "1", "FAIL"]


def test_matrix_without_rows():
    assert report.matrix(doc_of([])) == "(no conformance rows in this run)"


def test_matrix_columns_are_aligned():
    rows = [row("chromium", "a-long-scheme-name", "passed"), row("firefox", "x", "failed")]
    lines = report.matrix(doc_of(rows)).splitlines()[:4]
    # Where the second and third columns start on each line (after the first run of 2+ spaces).
    starts = [[m.end() for m in re.finditer(r"\s{2,}", line)] for line in lines]
    assert all(len(s) == 2 for s in starts), lines
    assert len({tuple(s) for s in starts}) == 1, lines


# -- flaky and suspicious rows (--repeat) ------------------------------------------------------------


def _repeated(scheme, outcomes, findings=None):
    return [row("webkit", scheme, outcome, findings=findings if outcome != "passed" else [], repeat=i,
                test=f"t[{scheme}-r{i}]") for i, outcome in enumerate(outcomes)]


def test_flaky_lists_rows_whose_repeats_differ_and_suspicious_intermittent_rows():
    rows = (_repeated("downloads", ["passed", "xfailed", "passed"], ["drops-download"])
            + _repeated("browser-to-node", ["xfailed"] * 3, ["drops-download"])  # never passed: suspicious
            + _repeated("indexeddb", ["xfailed"] * 3)  # a strict finding: expected to fail every time
            + _repeated("http", ["passed"] * 3))
    doc = doc_of(rows)
    key = {"engine": "webkit", "build": None, "context": "window", "backend": "cpu", "tfjs": "4.22.0", "model": "mlp",
           "hosting": "plain"}
    d = difference(finding="drops-download")
    assert doc["flaky"] == [
        {**key, "scheme": "downloads", "outcomes": {"passed": 2, "xfailed": 1}, "first_differences": [d]},
        {**key, "scheme": "browser-to-node", "outcomes": {"xfailed": 3}, "first_differences": [d, d, d],
         "suspicious": "under the intermittent finding(s) drops-download this row never passed in 3 repeats"},
    ]
    lines = report.matrix(doc).splitlines()
    assert "flaky: 1 of 4 rows differ between 3 repeats" in lines
    assert "  FLAKY downloads / mlp / webkit (tfjs 4.22.0): 2 passed, 1 xfailed" in lines
    assert ("  SUSPICIOUS browser-to-node / mlp / webkit (tfjs 4.22.0): 3 xfailed: under the intermittent finding(s) "
            "drops-download this row never passed in 3 repeats") in lines
    assert not any("indexeddb /" in line or "http /" in line for line in lines)


def test_flaky_needs_repeats_of_one_row_key():
    once = [row("webkit", "downloads", "xfailed", findings=["drops-download"])]
    assert document.flaky(once, FINDINGS) == []  # one run under an intermittent finding says nothing
    # two builds of one engine are two rows, not two repeats of one
    builds = [row("webkit", "s", "passed", build="playwright", repeat=0),
              row("webkit", "s", "failed", build="system", repeat=0)]
    assert document.flaky(builds, FINDINGS) == []
    mixed = _repeated("s", ["failed", "xfailed"], ["drops-download"])
    assert [f["outcomes"] for f in document.flaky(mixed, FINDINGS)] == [{"failed": 1, "xfailed": 1}]
    assert "suspicious" not in document.flaky(mixed, FINDINGS)[0]
    # without the findings table nothing is known to be intermittent
    assert document.flaky(_repeated("s", ["xfailed"] * 2, ["drops-download"])) == []


def test_no_flaky_key_without_repeats():
    assert "flaky" not in doc_of([row("node", "http", "passed")])


# -- timing -------------------------------------------------------------------------------------------


def test_timing_sums_test_and_page_time_per_engine_and_the_overhead_ratio():
    rows = [
        {"engine": "chromium", "outcome": "passed", "test_s": 3.0, "page_s": 1.0, "open_s": 0.5, "wait_s": 0.25},
        {"engine": "chromium", "outcome": "failed", "test_s": 2.0, "page_s": 1.5, "open_s": 0.5},
        {"engine": "node", "outcome": "passed", "test_s": 1.0},  # no page step ran (page_s missing)
        {"engine": "webkit", "outcome": "passed"},  # a row from an older report: no times, not counted
    ]
    t = report.timing(rows, wall_s=12.34)
    assert t["wall_s"] == 12.3
    assert t["engines"]["chromium"] == {"rows": 2, "test_s": 5.0, "page_s": 2.5, "open_s": 1.0, "wait_s": 0.2,
                                        "harness_s": 1.2, "overhead": 1.0, "harness": 0.5}
    assert t["engines"]["node"] == {"rows": 1, "test_s": 1.0, "page_s": 0.0, "open_s": 0.0, "wait_s": 0.0,
                                    "harness_s": 1.0, "overhead": None, "harness": None}
    assert "webkit" not in t["engines"]
    table = report.timing_table(t)
    assert "wall time 12.3 s (3 rows, 0.24 rows/s)" in table and "1.00" in table
    assert table.splitlines()[-1].split() == ["all", "3", "6.0", "2.5", "1.40", "1.0", "0.2", "2.2", "0.88"]
    assert "wall_s" not in report.timing(rows)


def test_a_run_in_several_contexts_gets_a_context_table_and_what_each_engine_did_with_a_third_party():
    partitioned = {"media": {"indexeddb": {"visible": False, "loaded": False, "partitioned": True},
                             "localstorage": {"visible": True, "loaded": True, "partitioned": False}}}
    rows = [
        row("chromium", "indexeddb", "passed"),
        row("chromium", "indexeddb", "failed", context="dedicated-worker"),
        row("chromium", "partitioning", "skipped", context="iframe-cross-site->top-level-cross-site",
            observed={"engine_denies": {"localStorage": "SecurityError", "indexedDB": "UnknownError"}}),
        row("firefox", "indexeddb", "passed", context="dedicated-worker"),
        row("firefox", "partitioning", "passed", context="iframe-cross-site->top-level-cross-site",
            observed={"partitioning": partitioned}),
    ]
    lines = report.matrix(doc_of(rows)).splitlines()
    head = lines.index(next(line for line in lines if line.startswith("context ")))
    assert lines[head].split() == ["context", "chromium", "firefox"]
    table = {line.split("  ")[0]: [c.strip() for c in line.split("  ")[1:] if c.strip()] for line in lines[head + 2:head + 5]}
    assert table == {"window": ["1 pass", "-"], "dedicated-worker": ["1 FAIL", "1 pass"],
                     "iframe-cross-site->top-level-cross-site": ["1 skip", "1 pass"]}
    assert "chromium: a cross-site frame's storage: indexeddb denied, localstorage denied" in lines
    assert "firefox: a cross-site frame's storage: indexeddb partitioned, localstorage shared" in lines


def test_a_run_in_one_context_has_no_context_table():
    assert "context " not in report.matrix(doc_of([row("chromium", "indexeddb", "passed")]))
