"""Known findings: matching rows, explaining exactly the listed differences, strictness."""

import pytest

from harness import expectations
from harness.trip.compare import Difference

TOML = '''
[[finding]]
scheme = "*"
except_schemes = ["save-result"]
models = ["metadata"]
differences = ["$.signature"]
reason = "signature dropped"
link = "https://example.invalid/1"

[[finding]]
scheme = ["downloads", "browser-to-node"]
engines = ["webkit"]
intermittent = true
reason = "first download dropped"
link = "https://example.invalid/2"
'''


@pytest.fixture
def findings(tmp_path):
    path = tmp_path / "expectations.toml"
    path.write_text(TOML)
    return expectations.load(path)


def test_match_by_scheme_engine_model(findings):
    assert [f.reason for f in expectations.match(findings, "indexeddb", "chromium", "metadata", "4.22.0")] == ["signature dropped"]
    assert expectations.match(findings, "save-result", "chromium", "metadata", "4.22.0") == []
    assert expectations.match(findings, "indexeddb", "chromium", "mlp", "4.22.0") == []
    assert [f.reason for f in expectations.match(findings, "downloads", "webkit", "mlp", "4.22.0")] == ["first download dropped"]
    assert expectations.match(findings, "downloads", "firefox", "mlp", "4.22.0") == []


def test_judge_passes_without_differences(findings):
    expectations.judge(findings, [], "nothing")


def test_judge_known_differences_are_a_known_finding(findings):
    row = expectations.match(findings, "indexeddb", "chromium", "metadata", "4.22.0")
    with pytest.raises(expectations.KnownFinding):
        expectations.judge(row, [Difference("loaded", "$.signature", "missing")], "summary")


def test_judge_an_unexplained_difference_fails_the_row(findings):
    row = expectations.match(findings, "indexeddb", "chromium", "metadata", "4.22.0")
    diffs = [Difference("loaded", "$.signature", "missing"), Difference("loaded.weightData", "w", "byte 3")]
    with pytest.raises(AssertionError) as info:
        expectations.judge(row, diffs, "summary")
    assert not isinstance(info.value, expectations.KnownFinding)
    assert "not explained" in str(info.value) and "byte 3" in str(info.value)


def test_judge_without_findings_fails_on_any_difference():
    with pytest.raises(AssertionError) as info:
        expectations.judge([], [Difference("x", "y", "z")], "summary")
    assert not isinstance(info.value, expectations.KnownFinding)


def test_unknown_keys_are_refused(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text('[[finding]]\nscheme = "x"\nreason = "r"\nlink = "l"\nenigne = ["chromium"]\n')
    with pytest.raises(ValueError, match="enigne"):
        expectations.load(path)


def test_the_checked_in_expectations_load():
    assert expectations.load()  # scenarios/expectations.toml parses and has entries
