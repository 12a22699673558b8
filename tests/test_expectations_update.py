"""--update-expectations: pin unexplained failures, drop stale entries, keep the rest byte-identical."""

import tomllib

import pytest

from harness import expectations
from harness.expectations import update as update_mod
from harness.trip.compare import Difference
from harness.expectations.update import UpdateError, stale, unexplained, update
from harness.trip.roundtrip import summary

TODAY = "2025-01-02"

HEAD = """\
# Known findings: a header comment that must survive.
# Second line of it.

"""
KEPT = '''\
[[finding]]
scheme = "browser-http-request"
reason = """guide form ignored \\
(second line)"""
link = "https://example.invalid/1"
differences = ["guide-form"]  # an inline comment

'''
SECTION = """\
# --- a section comment, separated by blank lines ---

"""
STALE = '''\
[[finding]]
scheme = ["indexeddb", "localstorage"]
engines = ["chromium"]
differences = [
  "topology $.x",  # a comment inside an array
  # a comment line inside an array
]
reason = """a multi-line reason with lines that look like TOML:
[[finding]]
# not a comment
[not-a-header]"""
link = "https://example.invalid/stale"

'''
FLAKY = """\
[[finding]]
scheme = "downloads"
engines = ["webkit"]
intermittent = true
differences = ["did not deliver both files"]
reason = "flaky download"
link = "https://example.invalid/flaky"

"""
LAST = """\
# --- last section ---

[[finding]]
scheme = "quota-indexeddb"
engines = ["firefox"]
reason = "hang"
link = "https://example.invalid/last"
"""
TOML = HEAD + KEPT + SECTION + STALE + FLAKY + LAST


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "expectations.toml"
    p.write_text(TOML, encoding="utf-8")
    return p


def row(scheme, engine="chromium", model="mlp", outcome="passed", detail="", tfjs="4.22.0"):
    return {"engine": engine, "tfjs": tfjs, "backend": "cpu", "scheme": scheme, "model": model,
            "outcome": outcome, "duration_s": 0.1, "detail": detail,
            "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]"}


def failed(scheme, differences, engine="chromium", model="mlp", **kw):
    """A failed row's detail, as harness.plugin writes it from harness.trip.roundtrip's AssertionError."""
    text = summary(differences, f"in {scheme} round trip of {model} on {engine}")
    return row(scheme, engine, model, "failed", f"AssertionError: {text}", **kw)


def xpass(scheme, engine="chromium", model="mlp"):
    """A strict xfail that passed: pytest's longrepr, as harness.plugin._detail writes it."""
    return row(scheme, engine, model, "failed", "[XPASS(strict)] known finding: whatever (https://x)")


def xfailed(scheme, engine="chromium", model="mlp"):
    return row(scheme, engine, model, "xfailed", "known finding: ...\nKnownFinding: 1 difference(s) ...")


def files_in(directory):
    return sorted(p.name for p in directory.iterdir())


# -- new failures -------------------------------------------------------------------------------------


def test_a_new_failure_adds_an_entry_that_then_explains_the_row(path):
    diffs = [Difference("topology", "$.modelTopology.config.name", "expected 'a', got 'b'"),
             Difference("weights", "dense/kernel", "byte 3 differs")]
    rows = [failed("memory", diffs, model="cnn")]
    report = update(path, rows, expectations.load(path), TODAY)

    assert report.removed == [] and report.kept == 4
    assert report.added == [{
        "scheme": "memory", "engines": ["chromium"], "models": ["cnn"], "tfjs": ["4.22.0"],
        "differences": ["topology $.modelTopology.config.name", "weights dense/kernel"],
        "reason": f"recorded by --update-expectations on {TODAY}: topology $.modelTopology.config.name: "
                  "expected 'a', got 'b'",
        "link": ""}]
    text = path.read_text(encoding="utf-8")
    assert text.startswith(TOML)  # appended: everything before is untouched
    assert text[len(TOML):].startswith("\n[[finding]]\n")

    findings = expectations.load(path)
    found = expectations.match(findings, "memory", "chromium", "cnn", "4.22.0")
    assert [f.reason for f in found] == [report.added[0]["reason"]]
    with pytest.raises(expectations.KnownFinding):  # the next run xfails the row
        expectations.judge(found, diffs, "summary")
    assert expectations.match(findings, "memory", "firefox", "cnn", "4.22.0") == []
    assert expectations.match(findings, "memory", "chromium", "cnn", "4.21.0") == []
    assert unexplained(rows, findings) == []


def test_two_engines_failing_the_same_way_share_one_entry(path):
    diff = [Difference("save-result", "$.weightDataBytes", "expected 848, got 0")]
    rows = [failed("file-browser", diff, engine="firefox"), failed("file-browser", diff, engine="chromium"),
            failed("file-browser", diff, engine="firefox"), row("file-browser", engine="webkit")]
    report = update(path, rows, None, TODAY)

    assert len(report.added) == 1
    entry = report.added[0]
    assert entry["engines"] == ["chromium", "firefox"] and entry["models"] == ["mlp"]
    assert entry["differences"] == ["save-result $.weightDataBytes"]
    findings = expectations.load(path)
    for engine in ("chromium", "firefox"):
        assert expectations.match(findings, "file-browser", engine, "mlp", "4.22.0")
    assert expectations.match(findings, "file-browser", "webkit", "mlp", "4.22.0") == []


def test_a_group_that_is_not_a_full_product_is_split(path):
    """chromium/mlp and firefox/cnn fail; one entry for both engines and both models would also
    cover chromium/cnn and firefox/mlp, which passed: the next run would go red with an XPASS."""
    diff = [Difference("topology", "$.x", "differs")]
    rows = [failed("memory", diff, engine="chromium", model="mlp"),
            failed("memory", diff, engine="firefox", model="cnn"),
            row("memory", engine="chromium", model="cnn"), row("memory", engine="firefox", model="mlp")]
    report = update(path, rows, None, TODAY)

    assert sorted((e["engines"], e["models"]) for e in report.added) == [(["chromium"], ["mlp"]), (["firefox"], ["cnn"])]
    findings = expectations.load(path)
    assert not expectations.match(findings, "memory", "chromium", "cnn", "4.22.0")
    assert not expectations.match(findings, "memory", "firefox", "mlp", "4.22.0")


def test_different_first_differences_make_different_entries(path):
    rows = [failed("memory", [Difference("topology", "$.a", "x")], engine="chromium"),
            failed("memory", [Difference("weights", "w", "y")], engine="firefox")]
    report = update(path, rows, None, TODAY)
    assert [(e["engines"], e["differences"]) for e in report.added] == [(["chromium"], ["topology $.a"]),
                                                                         (["firefox"], ["weights w"])]


def test_a_difference_a_matching_finding_does_not_explain_gets_its_own_entry(path):
    """The row matched an entry but failed on another difference: the new entry covers only the
    unexplained one, the old entry stays, and together they xfail the row."""
    known = Difference("tfjs-error", "save", "guide-form ignored")
    new = Difference("weights", "dense/bias", "byte 0 differs")
    findings = expectations.load(path)
    matched = expectations.match(findings, "browser-http-request", "firefox", "mlp", "4.22.0")
    with pytest.raises(AssertionError) as info:
        expectations.judge(matched, [known, new], summary([known, new], "in browser-http-request round trip"))
    rows = [row("browser-http-request", "firefox", outcome="failed", detail=f"AssertionError: {info.value}")]
    assert unexplained(rows, findings) == rows

    report = update(path, rows, findings, TODAY)
    assert [e["differences"] for e in report.added] == [["weights dense/bias"]]
    assert report.removed == []
    after = expectations.load(path)
    with pytest.raises(expectations.KnownFinding):
        expectations.judge(expectations.match(after, "browser-http-request", "firefox", "mlp", "4.22.0"),
                           [known, new], "summary")


def test_a_failure_without_differences_is_reported_not_recorded(path):
    rows = [row("memory", outcome="failed", detail="AssertionError: assert 1 == 2")]
    before = path.read_bytes()
    report = update(path, rows, None, TODAY)
    assert report.added == [] and not report.changed
    assert [r["test"] for r in report.unrecorded] == [rows[0]["test"]]
    assert path.read_bytes() == before


def test_a_matched_row_that_failed_outside_its_finding_is_reported_not_recorded(path):
    """A row a finding matched fails through harness.expectations.judge with a "not explained" list;
    without one it failed some other way, and no new entry could xfail it (xfail raises=KnownFinding)."""
    rows = [failed("indexeddb", [Difference("topology", "$.a", "x")])]  # the stale entry matches it
    report = update(path, rows, None, TODAY)
    assert report.added == [] and "outside" in report.unrecorded[0]["why"]


def test_errors_skips_and_xpasses_are_not_new_failures(path):
    rows = [row("indexeddb", outcome="error", detail="EngineError: crashed"),
            row("indexeddb", outcome="skipped", detail="not installed"),
            xpass("indexeddb", engine="firefox")]
    assert unexplained(rows, expectations.load(path)) == []
    assert update(path, rows, None, TODAY).added == []


def test_the_reason_is_one_trimmed_line(path):
    rows = [failed("memory", [Difference("topology", "$.a", "x" * 500 + "\nsecond line")])]
    reason = update(path, rows, None, TODAY).added[0]["reason"]
    assert reason.startswith(f"recorded by --update-expectations on {TODAY}: topology $.a: xxx")
    assert len(reason.split(": ", 1)[1]) == update_mod.REASON_CHARS and "\n" not in reason


# -- stale entries --------------------------------------------------------------------------------------


def test_a_stale_strict_entry_is_removed_and_everything_else_stays_byte_identical(path):
    rows = [xpass("indexeddb"), row("localstorage", outcome="passed"), row("indexeddb", "firefox")]
    findings = expectations.load(path)
    assert [f.link for f in stale(rows, findings)] == ["https://example.invalid/stale"]

    report = update(path, rows, findings, TODAY)
    assert report.added == [] and report.kept == 3
    assert report.removed == [next(f.reason for f in findings if f.link.endswith("/stale"))]
    assert path.read_text(encoding="utf-8") == HEAD + KEPT + SECTION + FLAKY + LAST
    assert [f.link for f in expectations.load(path)] == [f.link for f in findings if not f.link.endswith("/stale")]


def test_removing_the_last_entry_leaves_its_section_comment_and_no_trailing_blank_lines(path):
    rows = [xpass("quota-indexeddb", engine="firefox")]
    update(path, rows, None, TODAY)
    assert path.read_text(encoding="utf-8") == HEAD + KEPT + SECTION + STALE + FLAKY + "# --- last section ---\n"


def test_an_entry_that_still_xfails_or_fails_somewhere_is_kept(path):
    findings = expectations.load(path)
    for other in (xfailed("localstorage"), failed("localstorage", [Difference("topology", "$.x", "d")]),
                  row("localstorage", outcome="error", detail="EngineError: crashed")):
        rows = [xpass("indexeddb"), other]
        assert stale(rows, findings) == []
    report = update(path, [xpass("indexeddb"), xfailed("localstorage")], findings, TODAY)
    assert report.removed == [] and not report.changed
    assert [r["test"] for r in report.unresolved] == [xpass("indexeddb")["test"]]
    assert path.read_text(encoding="utf-8") == TOML


def test_an_xpass_no_entry_matches_is_reported(path):
    """e.g. a graph-model finding (formats = [...]) when format_of is not given."""
    report = update(path, [xpass("memory")], None, TODAY)
    assert not report.changed and "no finding" in report.unresolved[0]["why"]


def test_intermittent_entries_are_never_removed(path):
    rows = [row("downloads", "webkit", outcome="passed"), xpass("downloads", "webkit")]
    assert [f.link for f in stale(rows, expectations.load(path))] == []
    report = update(path, rows, None, TODAY)
    assert not report.changed and path.read_text(encoding="utf-8") == TOML


def test_entries_whose_rows_did_not_run_are_left_alone(path):
    before = path.read_bytes()
    rows = [row("memory"), row("indexeddb", outcome="skipped", detail="webkit not installed")]
    report = update(path, rows, None, TODAY)
    assert not report.changed and report.kept == 4
    assert path.read_bytes() == before


def test_remove_and_add_in_one_update(path):
    rows = [xpass("indexeddb"), failed("file-node", [Difference("file.weightData", "w", "1 byte")], engine="node")]
    report = update(path, rows, None, TODAY)
    assert len(report.removed) == 1 and len(report.added) == 1
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEAD + KEPT + SECTION + FLAKY + LAST + "\n[[finding]]\nscheme = \"file-node\"\n")
    assert expectations.match(expectations.load(path), "file-node", "node", "mlp", "4.22.0")


# -- safety ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("broken, message", [
    (lambda key, value: f"{key} = {value}", "not valid TOML"),  # unquoted
    (lambda key, value: "bogus = true" if key == "link" else f"{key} = {update_mod.toml_value(value)}",
     "does not load"),  # TOML, but not an expectations entry
    (lambda key, value: "" if key == "differences" else f"{key} = {update_mod.toml_value(value)}",
     "expected entries"),  # loads, but not what was meant
])
def test_invalid_output_never_replaces_the_file(path, monkeypatch, broken, message):
    monkeypatch.setattr(update_mod, "tomli_w", None)
    monkeypatch.setattr(update_mod, "_key_line", broken)
    before, names = path.read_bytes(), files_in(path.parent)
    rows = [xpass("indexeddb"), failed("indexeddb", [Difference("topology", "$.a", "x")], engine="firefox")]
    with pytest.raises(UpdateError, match=message):
        update(path, rows, None, TODAY)
    assert path.read_bytes() == before
    assert files_in(path.parent) == names  # no temporary file left behind


def test_a_file_changed_since_the_run_is_not_updated(path):
    findings = expectations.load(path)
    path.write_text(TOML.replace('reason = "hang"', 'reason = "edited"'), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(UpdateError, match="changed"):
        update(path, [xpass("indexeddb")], findings, TODAY)
    assert path.read_bytes() == before


def test_a_missing_file_is_created(tmp_path):
    path = tmp_path / "expectations.toml"
    report = update(path, [failed("memory", [Difference("topology", "$.a", "x")])], None, TODAY)
    assert len(report.added) == 1 and path.read_text(encoding="utf-8").startswith("[[finding]]\n")
    assert len(expectations.load(path)) == 1


def test_crlf_files_stay_crlf(tmp_path):
    path = tmp_path / "expectations.toml"
    path.write_bytes(TOML.replace("\n", "\r\n").encode())
    update(path, [xpass("indexeddb"), failed("memory", [Difference("topology", "$.a", "x")])], None, TODAY)
    data = path.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.startswith((HEAD + KEPT + SECTION + FLAKY + LAST).replace("\n", "\r\n").encode())


@pytest.mark.parametrize("text", ['plain', 'quote " and \\ backslash', "new\nline\ttab\rcr", "nul \x00 esc \x1b del \x7f",
                                  "unicode é ✓ \u2028 𝄞", "$.signature", "a'b'''c\"\"\"d", "lone \udcff surrogate"])
def test_toml_strings_round_trip(text):
    value = tomllib.loads(f"v = {update_mod.toml_string(text)}")["v"]
    assert value == text.replace("\udcff", "\ufffd")


def test_format_lists_every_change(path):
    rows = [xpass("indexeddb"), failed("memory", [Difference("topology", "$.a", "x")]),
            row("idb", outcome="failed", detail="AssertionError: assert False")]
    text = update(path, rows, None, TODAY).format()
    assert text.splitlines()[0] == f"expectations {path}: 1 added, 1 removed, 3 kept"
    assert "+ scheme='memory'" in text and "stale, removed: a multi-line reason" in text
    assert "not recorded: scenarios/test_roundtrip.py::test_roundtrip[idb-mlp-chromium]" in text


def test_each_entry_of_the_real_file_can_be_removed_alone():
    """The block finder on scenarios/expectations.toml (read only): removing any one entry leaves
    exactly the others, and every comment line of the file."""
    text = expectations.DEFAULT.read_text(encoding="utf-8")
    findings = expectations.load()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    for i in range(len(findings)):
        out = update_mod._edit(text, {i}, [])
        entries = tomllib.loads(out)["finding"]
        assert [e["reason"] for e in entries] == [f.reason for f in findings[:i] + findings[i + 1:]]
        assert [line for line in out.splitlines() if line.startswith("#")] == comments
        assert not out.endswith("\n\n")
