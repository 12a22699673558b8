"""--update-expectations: pin unexplained failures, drop stale entries, keep the rest byte-identical.

The rows are schema-2 conformance rows (harness/report/conformance.schema.json); `update` reads their
fields (outcome, differences and the finding explaining each, findings), never their `detail`."""

import tomllib

import pytest

from harness import expectations
from harness.expectations import update as update_mod
from harness.expectations.update import PLACEHOLDER, UpdateError, stale, unexplained, update
from harness.report import document
from harness.trip.compare import Difference

TODAY = "2025-01-02"
KEY_LINE = update_mod._key_line  # the real one, for the broken variants to fall back on

HEAD = """\
# Known findings: a header comment that must survive.
# Second line of it.

"""
KEPT = '''\
[[finding]]
id = "guide-form-ignored"
kind = "docs"
title = "the guide's browserHTTPRequest form is ignored"
promise = "tf.io.browserHTTPRequest(url, {method, headers}) saves with that method and those headers"
link = "https://example.invalid/1"
reason = """guide form ignored \\
(second line)"""
scheme = "browser-http-request"
explains = [{what = "tfjs-error", path = "save", message = "guide-form"}]  # an inline comment

'''
SECTION = """\
# --- a section comment, separated by blank lines ---

"""
STALE = '''\
[[finding]]
id = "stale-topology"
kind = "tfjs-bug"
title = "topology differs"
promise = "a saved model loads back with the topology it was saved with"
link = "https://example.invalid/stale"
reason = """a multi-line reason with lines that look like TOML:
[[finding]]
# not a comment
[not-a-header]"""
scheme = ["indexeddb", "localstorage"]
engines = ["chromium"]
explains = [
  {what = "topology", path = "$.x"},  # a comment inside an array
  # a comment line inside an array
]

'''
FLAKY = """\
[[finding]]
id = "flaky-download"
kind = "engine-bug"
title = "flaky download"
promise = "a downloads:// save delivers both files"
link = "https://example.invalid/flaky"
reason = "flaky download"
scheme = "downloads"
engines = ["webkit"]
intermittent = true
explains = [{what = "downloads", path = "files", message = "did not deliver both files"}]

"""
LAST = """\
# --- last section ---

[[finding]]
id = "quota-hang"
kind = "engine-bug"
title = "hang"
promise = "a save into a full medium rejects"
link = "https://example.invalid/last"
reason = "hang"
scheme = "quota-indexeddb"
engines = ["firefox"]
explains = [{what = "timeout", path = "save"}]
"""
TOML = HEAD + KEPT + SECTION + STALE + FLAKY + LAST
IDS = ["guide-form-ignored", "stale-topology", "flaky-download", "quota-hang"]


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "expectations.toml"
    p.write_text(TOML, encoding="utf-8")
    assert [f.id for f in expectations.load(p)] == IDS
    return p


def diff(what, path, message="differs", finding=None):
    """A difference record as a conformance.json row carries it."""
    record = Difference(what, path, message).as_json()
    if finding:
        record["finding"] = finding
    return record


def row(scheme, engine="chromium", model="mlp", outcome="passed", differences=(), findings=(), tfjs="4.22.0",
        build="playwright", context="window", backend="cpu", detail=None):
    """A schema-2 row (checked against conformance.schema.json); `detail` rendered from the differences
    as harness.report.document does, unless given."""
    differences = [dict(d) for d in differences]
    r = {"engine": engine, "build": build, "context": context, "backend": backend, "tfjs": tfjs, "scheme": scheme,
         "model": model, "format": "layers-model", "outcome": outcome, "differences": differences,
         "findings": list(findings), "hazards": [], "duration_s": 0.1,
         "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]"}
    r["detail"] = document.detail(r) if detail is None else detail
    document.validate(document.build([], [], [r]))
    return r


def failed(scheme, differences, **kw):
    return row(scheme, outcome="failed", differences=differences,
               findings=sorted({d["finding"] for d in differences if d.get("finding")}), **kw)


def xpassed(scheme, *findings, **kw):
    """A row the findings applied to and nothing they explain happened: one stale record each, as
    harness.pytest.rows writes them."""
    return row(scheme, outcome="xpassed", findings=findings, differences=[
        {"what": "expectation", "path": fid, "expected": "a difference it explains", "actual": None,
         "message": f"finding {fid} applies to this row but nothing it explains happened", "finding": fid}
        for fid in findings], **kw)


def skipped(scheme, **kw):
    return row(scheme, outcome="skipped", differences=[diff("skipped", "setup", "webkit not installed")], **kw)


def error(scheme, differences=(), **kw):
    """A row that broke (after its verdict, when `differences` are given): the exception comes last."""
    broke = {"what": "error", "path": "call", "expected": None, "actual": "EngineError", "message": "EngineError: crashed"}
    return row(scheme, outcome="error", differences=[*differences, broke], **kw)


def xfailed(scheme, finding, differences, **kw):
    return row(scheme, outcome="xfailed", differences=[{**d, "finding": finding} for d in differences],
               findings=[finding], **kw)


def key(r) -> expectations.Row:
    return expectations.Row(scheme=r["scheme"], engine=r["engine"], model=r["model"], tfjs=r["tfjs"],
                            format=r["format"], build=r["build"], backend=r["backend"], context=r["context"])


def next_run(path, r) -> expectations.Verdict:
    """How the row's differences stand against the file's findings: what the next run would report."""
    found = expectations.match(expectations.load(path), key(r))
    differences = [Difference(d["what"], d["path"], d["message"], d["expected"], d["actual"]) for d in r["differences"]]
    return expectations.judge(found, differences)


def files_in(directory):
    return sorted(p.name for p in directory.iterdir())


# -- new failures -------------------------------------------------------------------------------------


def test_a_new_failure_adds_an_entry_that_then_explains_the_row(path):
    rows = [failed("memory", [diff("topology", "$.modelTopology.config.name", "expected 'a', got 'b'"),
                              diff("weights", "dense/kernel", "byte 3 differs")], model="cnn")]
    assert unexplained(rows) == rows
    report = update(path, rows, expectations.load(path), TODAY)

    assert report.removed == [] and report.kept == 4 and report.unrecorded == [] and report.unresolved == []
    first = "topology $.modelTopology.config.name: expected 'a', got 'b'"
    assert report.added == [{
        "id": "recorded-memory-topology", "kind": "tfjs-bug", "title": f"recorded on {TODAY}: {first}",
        "promise": PLACEHOLDER, "link": "", "scheme": "memory", "engines": ["chromium"], "builds": ["playwright"],
        "contexts": ["window"], "backends": ["cpu"], "models": ["cnn"], "tfjs": ["4.22.0"],
        "reason": f"recorded by --update-expectations on {TODAY}: {first}",
        "explains": [{"what": "topology", "path": "$.modelTopology.config.name"},
                     {"what": "weights", "path": "dense/kernel"}]}]
    text = path.read_text(encoding="utf-8")
    assert text.startswith(TOML)  # appended: everything before is untouched
    assert text[len(TOML):] == f'''
[[finding]]
id = "recorded-memory-topology"
kind = "tfjs-bug"
title = "recorded on {TODAY}: {first}"
promise = "{PLACEHOLDER}"
link = ""
scheme = "memory"
engines = ["chromium"]
builds = ["playwright"]
contexts = ["window"]
backends = ["cpu"]
models = ["cnn"]
tfjs = ["4.22.0"]
reason = "recorded by --update-expectations on {TODAY}: {first}"
explains = [
  {{what = "topology", path = "$.modelTopology.config.name"}},
  {{what = "weights", path = "dense/kernel"}},
]
'''
    assert [f.id for f in expectations.load(path)] == IDS + ["recorded-memory-topology"]

    verdict = next_run(path, rows[0])  # the next run xfails the row, by the new entry
    assert verdict.outcome == "xfailed"
    assert verdict.explained_by == ("recorded-memory-topology", "recorded-memory-topology")
    assert unexplained([{**rows[0], "outcome": verdict.outcome, "differences": verdict.records()}]) == []
    for other in (dict(engine="firefox"), dict(tfjs="4.21.0"), dict(build="system"), dict(model="mlp")):
        assert expectations.match(expectations.load(path), key(row("memory", **{"model": "cnn", **other}))) == []


def test_two_engines_failing_the_same_way_share_one_entry(path):
    diffs = [diff("save-result", "$.weightDataBytes", "expected 848, got 0")]
    rows = [failed("file-browser", diffs, engine="firefox"), failed("file-browser", diffs, engine="chromium"),
            failed("file-browser", diffs, engine="firefox"), row("file-browser", engine="webkit")]
    report = update(path, rows, None, TODAY)

    assert len(report.added) == 1
    entry = report.added[0]
    assert entry["engines"] == ["chromium", "firefox"] and entry["models"] == ["mlp"]
    assert entry["explains"] == [{"what": "save-result", "path": "$.weightDataBytes"}]
    for r in rows[:3]:
        verdict = next_run(path, r)
        assert verdict.outcome == "xfailed" and verdict.explained_by == (entry["id"],)
    assert next_run(path, rows[3]).outcome == "passed"  # webkit passed: the entry does not apply to it


@pytest.mark.parametrize("axis", ["models", "tfjs"])
def test_a_group_that_is_not_a_full_product_is_split(path, axis):
    """chromium/A and firefox/B fail (A, B: models or TF.js versions); one entry for both engines and
    both would also cover chromium/B and firefox/A, which passed: the next run would go red with an XPASS."""
    a, b = {"models": ({"model": "mlp"}, {"model": "cnn"}), "tfjs": ({"tfjs": "4.22.0"}, {"tfjs": "4.21.0"})}[axis]
    diffs = [diff("topology", "$.x")]
    rows = [failed("memory", diffs, engine="chromium", **a), failed("memory", diffs, engine="firefox", **b)]
    passed = [row("memory", engine="chromium", **b), row("memory", engine="firefox", **a)]
    report = update(path, rows + passed, None, TODAY)

    assert sorted((e["engines"], e[axis]) for e in report.added) == [
        (["chromium"], list(a.values())), (["firefox"], list(b.values()))]
    assert sorted(e["id"] for e in report.added) == ["recorded-memory-topology", "recorded-memory-topology-2"]
    for r in rows:
        assert next_run(path, r).outcome == "xfailed"
    for r in passed:
        assert next_run(path, r).outcome == "passed"


def test_different_first_differences_make_different_entries(path):
    rows = [failed("memory", [diff("topology", "$.a", "x")], engine="chromium"),
            failed("memory", [diff("weights", "w", "y")], engine="firefox")]
    report = update(path, rows, None, TODAY)
    assert [(e["id"], e["engines"], e["explains"]) for e in report.added] == [
        ("recorded-memory-topology", ["chromium"], [{"what": "topology", "path": "$.a"}]),
        ("recorded-memory-weights", ["firefox"], [{"what": "weights", "path": "w"}])]
    assert [next_run(path, r).explained_by for r in rows] == [("recorded-memory-topology",), ("recorded-memory-weights",)]


def test_a_difference_a_matching_finding_does_not_explain_gets_its_own_entry(path):
    """The row matched an entry but failed on another difference: the new entry covers only the
    unexplained one, the old entry stays, and together they xfail the row."""
    known = Difference("tfjs-error", "save", "guide-form ignored")
    new = Difference("weights", "dense/bias", "byte 0 differs")
    findings = expectations.load(path)
    base = row("browser-http-request", "firefox")
    verdict = expectations.judge(expectations.match(findings, key(base)), [known, new])
    assert verdict.outcome == "failed" and verdict.explained_by == ("guide-form-ignored", None)
    rows = [failed("browser-http-request", verdict.records(), engine="firefox")]
    assert rows[0]["findings"] == ["guide-form-ignored"] and unexplained(rows) == rows

    report = update(path, rows, findings, TODAY)
    assert [e["explains"] for e in report.added] == [[{"what": "weights", "path": "dense/bias"}]]
    assert report.removed == [] and report.kept == 4
    after = next_run(path, rows[0])
    assert after.outcome == "xfailed"
    assert after.explained_by == ("guide-form-ignored", "recorded-browser-http-requ-weights")


def test_a_failure_without_differences_is_reported_not_recorded(path):
    """A schema-1 row (upgraded: no differences) that failed: nothing to pin an entry to."""
    rows = document.upgrade({"results": [{"engine": "chromium", "tfjs": "4.22.0", "backend": "cpu", "scheme": "memory",
                                          "model": "mlp", "outcome": "failed", "detail": "AssertionError: assert 1 == 2",
                                          "test": "scenarios/test_roundtrip.py::test_roundtrip[memory-mlp-chromium]"}]},
                            )["results"]
    assert rows[0]["differences"] == [] and unexplained(rows) == []
    before = path.read_bytes()
    report = update(path, rows, None, TODAY)
    assert report.added == [] and not report.changed
    assert [r["test"] for r in report.unrecorded] == [rows[0]["test"]]
    assert path.read_bytes() == before


def test_a_failed_row_whose_differences_are_all_explained_is_reported_not_recorded(path):
    """Every difference names its finding, yet the row failed (an error after the verdict, say): no
    new entry could make it xfail, so it is reported, not recorded."""
    rows = [failed("indexeddb", [diff("topology", "$.x", finding="stale-topology")])]
    before = path.read_bytes()
    report = update(path, rows, None, TODAY)
    assert report.added == [] and report.removed == [] and not report.changed
    assert [r["test"] for r in report.unrecorded] == [rows[0]["test"]]
    assert "every difference is explained" in report.unrecorded[0]["why"]
    assert path.read_bytes() == before


def test_errors_skips_and_xpasses_are_not_new_failures(path):
    rows = [error("indexeddb"), error("memory", [diff("topology", "$.a")]), skipped("indexeddb"),
            xpassed("downloads", "flaky-download", engine="webkit")]
    before = path.read_bytes()
    assert unexplained(rows) == []
    report = update(path, rows, None, TODAY)
    assert report.added == [] and report.unrecorded == [] and not report.changed
    assert path.read_bytes() == before


def test_the_title_and_reason_are_one_trimmed_line(path):
    rows = [failed("memory", [diff("topology", "$.a", "  \n " + "x" * 500 + "\nsecond line\t ")])]
    entry = update(path, rows, None, TODAY).added[0]
    title, reason = entry["title"], entry["reason"]
    assert title.startswith(f"recorded on {TODAY}: topology $.a: xxx") and title.endswith("x...")
    assert len(title) == 160
    assert reason.startswith(f"recorded by --update-expectations on {TODAY}: topology $.a: xxx")
    assert len(reason.split(": ", 1)[1]) == update_mod.REASON_CHARS
    for text in (title, reason):
        assert "\n" not in text and "\t" not in text and "  " not in text and text == text.strip()
    loaded = expectations.load(path)[-1]
    assert (loaded.title, loaded.reason) == (title, reason)


# -- stale entries --------------------------------------------------------------------------------------


def test_a_stale_strict_entry_is_removed_and_everything_else_stays_byte_identical(path):
    rows = [xpassed("indexeddb", "stale-topology"), row("localstorage"), row("indexeddb", "firefox")]
    findings = expectations.load(path)
    assert [f.id for f in stale(rows, findings)] == ["stale-topology"]

    report = update(path, rows, findings, TODAY)
    assert report.added == [] and report.kept == 3 and report.removed == ["stale-topology"]
    assert report.unresolved == []
    assert path.read_text(encoding="utf-8") == HEAD + KEPT + SECTION + FLAKY + LAST
    assert [f for f in expectations.load(path)] == [f for f in findings if f.id != "stale-topology"]


def test_removing_the_last_entry_leaves_its_section_comment_and_no_trailing_blank_lines(path):
    report = update(path, [xpassed("quota-indexeddb", "quota-hang", engine="firefox")], None, TODAY)
    assert report.removed == ["quota-hang"]
    assert path.read_text(encoding="utf-8") == HEAD + KEPT + SECTION + STALE + FLAKY + "# --- last section ---\n"


def test_an_entry_that_still_xfails_or_fails_somewhere_is_kept(path):
    findings = expectations.load(path)
    used = [diff("topology", "$.x", finding="stale-topology")]
    for other in (xfailed("localstorage", "stale-topology", [diff("topology", "$.x")]),
                  failed("localstorage", used + [diff("weights", "w")]),
                  error("localstorage", used)):
        rows = [xpassed("indexeddb", "stale-topology"), other]
        assert stale(rows, findings) == [], other["outcome"]
    # ...but a row that passes, or names the finding only in `findings`, does not keep it
    for other in (row("localstorage"), skipped("localstorage", findings=["stale-topology"])):
        assert [f.id for f in stale([xpassed("indexeddb", "stale-topology"), other], findings)] == ["stale-topology"]

    rows = [xpassed("indexeddb", "stale-topology"), xfailed("localstorage", "stale-topology", [diff("topology", "$.x")])]
    report = update(path, rows, findings, TODAY)
    assert report.removed == [] and not report.changed
    assert [r["test"] for r in report.unresolved] == [rows[0]["test"]]
    assert "stale-topology" in report.unresolved[0]["why"]
    assert path.read_text(encoding="utf-8") == TOML


def test_intermittent_entries_are_never_removed(path):
    rows = [row("downloads", "webkit"), xpassed("downloads", "flaky-download", engine="webkit")]
    assert stale(rows, expectations.load(path)) == []
    report = update(path, rows, None, TODAY)
    assert not report.changed and report.unresolved == [] and path.read_text(encoding="utf-8") == TOML


def test_entries_whose_rows_did_not_run_are_left_alone(path):
    before = path.read_bytes()
    rows = [row("memory"), skipped("indexeddb"), skipped("quota-indexeddb", engine="firefox")]
    report = update(path, rows, None, TODAY)
    assert not report.changed and report.kept == 4
    assert path.read_bytes() == before


def test_remove_and_add_in_one_update(path):
    rows = [xpassed("indexeddb", "stale-topology"),
            failed("file-node", [diff("file.weightData", "w", "1 byte")], engine="node", build=None)]
    report = update(path, rows, None, TODAY)
    assert report.removed == ["stale-topology"] and [e["id"] for e in report.added] == ["recorded-file-node-file-wei"]
    assert "builds" not in report.added[0]  # the row's build is not known
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEAD + KEPT + SECTION + FLAKY + LAST
                           + '\n[[finding]]\nid = "recorded-file-node-file-wei"\nkind = "tfjs-bug"\n')
    assert [f.id for f in expectations.load(path)] == ["guide-form-ignored", "flaky-download", "quota-hang",
                                                       "recorded-file-node-file-wei"]
    assert next_run(path, rows[1]).outcome == "xfailed"


def test_update_never_reads_detail(tmp_path):
    """Rows whose `detail` says something else entirely (the text an older, text-parsing version
    acted on) give exactly the update their fields give."""
    garbage = ("[XPASS(strict)] not explained by this row's known findings:\n"
               "  - topology $.x: differs  [stale-topology]\n"
               "AssertionError: 2 difference(s) in memory / mlp / chromium:\n  - weights w: byte 0 differs\n")

    def rows(detail):
        return [xpassed("indexeddb", "stale-topology", detail=detail),
                xpassed("downloads", "flaky-download", engine="webkit", detail=detail),
                xfailed("quota-indexeddb", "quota-hang", [diff("timeout", "save")], engine="firefox", detail=detail),
                failed("memory", [diff("topology", "$.a", "x")], detail=detail),
                failed("quota-indexeddb", [diff("timeout", "save", finding="quota-hang")], engine="firefox", detail=detail),
                row("localstorage", detail=detail),
                error("indexeddb", [diff("weights", "w")], detail=detail),
                skipped("indexeddb", detail=detail)]

    results = []
    for name, detail in (("fields", None), ("empty", ""), ("garbage", garbage)):
        p = tmp_path / name / "expectations.toml"
        p.parent.mkdir()
        p.write_text(TOML, encoding="utf-8")
        report = update(p, rows(detail), None, TODAY)
        report.path = ""
        results.append((report, p.read_bytes()))
    assert results[0][0].removed == ["stale-topology"] and len(results[0][0].added) == 1
    assert len(results[0][0].unrecorded) == 1 and results[0][0].unresolved == []
    assert results[1] == results[0] and results[2] == results[0]


# -- safety ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("broken, message", [
    (lambda key, value, newline="\n": f"{key} = {value}", "not valid TOML"),  # unquoted
    (lambda key, value, newline="\n": "bogus = true" if key == "link" else KEY_LINE(key, value, newline),
     "does not load"),  # TOML, but not an expectations entry
    (lambda key, value, newline="\n": "" if key == "models" else KEY_LINE(key, value, newline),
     "expected entries"),  # loads, but not what was meant
])
def test_invalid_output_never_replaces_the_file(path, monkeypatch, broken, message):
    monkeypatch.setattr(update_mod, "_key_line", broken)
    before, names = path.read_bytes(), files_in(path.parent)
    rows = [xpassed("indexeddb", "stale-topology"), failed("indexeddb", [diff("topology", "$.a", "x")], engine="firefox")]
    with pytest.raises(UpdateError, match=message):
        update(path, rows, None, TODAY)
    assert path.read_bytes() == before
    assert files_in(path.parent) == names  # no temporary file left behind


def test_a_file_changed_since_the_run_is_not_updated(path):
    findings = expectations.load(path)
    path.write_text(TOML.replace('reason = "hang"', 'reason = "edited"'), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(UpdateError, match="changed"):
        update(path, [xpassed("indexeddb", "stale-topology")], findings, TODAY)
    assert path.read_bytes() == before


def test_a_missing_file_is_created(tmp_path):
    path = tmp_path / "scenarios" / "expectations.toml"
    rows = [failed("memory", [diff("topology", "$.a", "x")])]
    report = update(path, rows, None, TODAY)
    assert len(report.added) == 1 and report.kept == 0
    assert path.read_text(encoding="utf-8").startswith('[[finding]]\nid = "recorded-memory-topology"\n')
    assert [f.id for f in expectations.load(path)] == ["recorded-memory-topology"]
    assert next_run(path, rows[0]).outcome == "xfailed"
    assert files_in(path.parent) == ["expectations.toml"]


@pytest.mark.parametrize("add", [
    False,
    True,
])
def test_crlf_files_stay_crlf(tmp_path, add):
    path = tmp_path / "expectations.toml"
    path.write_bytes(TOML.replace("\n", "\r\n").encode())
    rows = [xpassed("indexeddb", "stale-topology")] + ([failed("memory", [diff("topology", "$.a", "x")])] if add else [])
    report = update(path, rows, None, TODAY)
    assert report.removed == ["stale-topology"] and len(report.added) == int(add)
    data = path.read_bytes()
    assert data.startswith((HEAD + KEPT + SECTION + FLAKY + LAST).replace("\n", "\r\n").encode())
    assert [f.id for f in expectations.load(path)][3:] == (["recorded-memory-topology"] if add else [])
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("text", ['plain', 'quote " and \\ backslash', "new\nline\ttab\rcr", "nul \x00 esc \x1b del \x7f",
                                  "unicode é ✓ \u2028 𝄞", "$.signature", "a'b'''c\"\"\"d", "lone \udcff surrogate"])
def test_toml_strings_round_trip(text):
    value = tomllib.loads(f"v = {update_mod.toml_string(text)}")["v"]
    assert value == text.replace("\udcff", "\ufffd")


def test_format_lists_every_change(path):
    rows = [xpassed("indexeddb", "stale-topology"), failed("memory", [diff("topology", "$.a", "x")]),
            failed("browser-http-request", [diff("tfjs-error", "save", "guide-form", finding="guide-form-ignored")],
                   engine="webkit"),
            xpassed("browser-http-request", "guide-form-ignored"),
            xfailed("browser-http-request", "guide-form-ignored", [diff("tfjs-error", "save", "guide-form")],
                    engine="firefox")]
    report = update(path, rows, None, TODAY)
    assert report.format().splitlines() == [
        f"expectations {path}: 1 added, 1 removed, 3 kept",
        "  + recorded-memory-topology: scheme='memory' engines=['chromium'] models=['mlp'] tfjs=['4.22.0'] "
        "explains=[('topology', '$.a')]",
        "  - stale, removed: stale-topology",
        f"  ! not recorded: {rows[2]['test']}: {report.unrecorded[0]['why']}",
        f"  ! still passes under a kept finding: {rows[3]['test']}: kept because other rows still need it: "
        "guide-form-ignored",
    ]


def test_each_entry_of_the_real_file_can_be_removed_alone():
    """The block finder on scenarios/expectations.toml (read only): removing any one entry leaves
    exactly the others, and every comment line of the file."""
    text = expectations.DEFAULT.read_text(encoding="utf-8")
    entries = tomllib.loads(text)["finding"]
    assert len(entries) > 1 and [e["id"] for e in entries] == [f.id for f in expectations.load()]
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    for i in range(len(entries)):
        out = update_mod._edit(text, {i}, [])
        left = tomllib.loads(out)["finding"]
        assert [e.get("id") for e in left] == [e.get("id") for e in entries[:i] + entries[i + 1:]]
        assert left == entries[:i] + entries[i + 1:]
        assert [line for line in out.splitlines() if line.lstrip().startswith("#")] == comments
        assert not out.endswith("\n\n")


# -- found by these tests, fixed ---------------------------------------------------------------------------


def test_a_long_scheme_and_what_still_make_a_valid_id(path):
    rows = [failed("browser-http-request", [diff("save-result", "$.weightDataBytes", "expected 848, got 0")])]
    report = update(path, rows, None, TODAY)
    assert len(report.added[0]["id"]) <= expectations.ID_CHARS
    assert next_run(path, rows[0]).outcome == "xfailed"


@pytest.mark.parametrize("axis, a, b", [("build", "playwright", "system"), ("context", "window", "worker")])
def test_a_new_entry_does_not_apply_to_a_row_that_passed(path, axis, a, b):
    diffs = [diff("topology", "$.a")]
    rows = [failed("memory", diffs, engine="chromium", **{axis: a}), failed("memory", diffs, engine="firefox", **{axis: b})]
    passed = [row("memory", engine="chromium", **{axis: b}), row("memory", engine="firefox", **{axis: a})]
    update(path, rows + passed, None, TODAY)
    for r in rows:
        assert next_run(path, r).outcome == "xfailed"
    assert [next_run(path, r).outcome for r in passed] == ["passed", "passed"]


def test_a_file_written_by_update_can_be_updated_again(path):
    update(path, [failed("memory", [diff("topology", "$.a\u2028b", "x")])], None, TODAY)
    update(path, [failed("indexeddb", [diff("weights", "w")], engine="firefox")], None, TODAY)
    report = update(path, [xpassed("indexeddb", "stale-topology")], None, TODAY)
    assert report.removed == ["stale-topology"]
