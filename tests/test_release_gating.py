"""Release gating end to end: a TF.js bundle with one line changed in the localStorage handler,
run through --tfjs-bundle against a baseline made with the pristine bundle, turns the right row red
and the baseline diff non-zero; the pristine bundle stays green."""

import json
import shutil
import subprocess
import sys

import pytest

from harness import tfjs
from harness.paths import REPO

# tfjs-core's BrowserLocalStorage.load, in the UMD bundle: the weights read back from localStorage.
PRISTINE_LINE = "out.weightData = base64StringToArrayBuffer(weightDataBase64);"
BROKEN_LINE = ("out.weightData = (function (b) { new Uint8Array(b)[0] ^= 1; return b; })"
               "(base64StringToArrayBuffer(weightDataBase64));")
ROWS = "localstorage-mlp-chromium or indexeddb-mlp-chromium"


def _bundles(tmp_path):
    source = tfjs.installed().dist / "tf.js"  # the unminified UMD bundle, as the TF.js repo builds it
    text = source.read_text()
    assert text.count(PRISTINE_LINE) == 1, "the localStorage handler's line moved: update PRISTINE_LINE"
    (tmp_path / "pristine").mkdir()
    (tmp_path / "broken").mkdir()
    pristine, broken = tmp_path / "pristine" / "tf.js", tmp_path / "broken" / "tf.js"
    shutil.copy(source, pristine)
    broken.write_text(text.replace(PRISTINE_LINE, BROKEN_LINE))
    return pristine, broken


def _rows(path):
    return {(r["scheme"], r["model"], r["engine"]): r for r in json.loads(path.read_text())["results"]}


def test_a_broken_bundle_turns_its_rows_red_against_the_pristine_baseline(harness_ini: pytest.Pytester, tmp_path):
    pytester = harness_ini
    pristine, broken = _bundles(tmp_path)
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    common = ["-p", "no:cacheprovider", "--engine", "chromium", "--context", "window", "-k", ROWS, "test_roundtrip.py"]

    base = pytester.runpytest_subprocess(*common, "--tfjs-bundle", str(pristine), "--results-dir", str(tmp_path / "base"),
                                         timeout=300)
    assert base.ret == pytest.ExitCode.OK, base.stdout.str()
    before = _rows(tmp_path / "base" / "conformance.json")
    assert {r["outcome"] for r in before.values()} == {"passed"} and len(before) == 2
    assert all(r["tfjs"].startswith("tf.js@") for r in before.values())

    new = pytester.runpytest_subprocess(*common, "--tfjs-bundle", str(broken), "--results-dir", str(tmp_path / "new"),
                                        "--baseline", str(tmp_path / "base" / "conformance.json"), timeout=300)
    assert new.ret != pytest.ExitCode.OK
    after = _rows(tmp_path / "new" / "conformance.json")
    broken_row = after["localstorage", "mlp", "chromium"]
    assert broken_row["outcome"] == "failed"
    # the comparator names the flipped byte: every loaded copy's first weight, at byte 0, bit 0
    flipped = [d for d in broken_row["differences"] if d["what"] == "loaded.weightData"]
    assert [d["path"] for d in flipped] == ["dense_1/kernel"]
    assert "first difference at element 0, byte 0 of the weight" in flipped[0]["message"]
    assert after["indexeddb", "mlp", "chromium"]["outcome"] == "passed"  # only the handler that changed is red
    assert before["localstorage", "mlp", "chromium"]["tfjs"] != after["localstorage", "mlp", "chromium"]["tfjs"]
    assert "baseline: 1 regressions, 0 fixes" in new.stdout.str()
    assert "REGRESSIONS (1):" in new.stdout.str()

    diff = subprocess.run([sys.executable, "-m", "harness", "diff", str(tmp_path / "base" / "conformance.json"),
                           str(tmp_path / "new" / "conformance.json")], capture_output=True, text=True, cwd=REPO)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "REGRESSIONS (1):\n  localstorage / mlp / chromium (tfjs " in diff.stdout
    assert diff.stdout.startswith("baseline: 1 regressions, 0 fixes, 0 intermittent, 0 changed, 0 new, 0 missing, 1 unchanged")


def test_update_expectations_records_a_new_failure_and_the_next_run_is_green(harness_ini: pytest.Pytester, tmp_path):
    """--update-expectations: a row failing with no entry (the file-node graph finding, with an empty
    expectations file) is recorded; the same run again is then green (the row an xfail)."""
    pytester = harness_ini
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    findings = tmp_path / "expectations.toml"
    findings.write_text("# known findings\n")
    common = ["-p", "no:cacheprovider", "--engine", "node", "--context", "window", "-k", "file-node-graph-node",
              "test_roundtrip.py",
              "--expectations", str(findings), "--results-dir", str(tmp_path / "r")]

    first = pytester.runpytest_subprocess(*common, "--update-expectations", timeout=300)
    assert first.ret != pytest.ExitCode.OK  # it failed: nothing knew about it yet
    text = findings.read_text()
    assert text.count("[[finding]]") == 1 and 'scheme = "file-node"' in text and 'id = "recorded-file-node-' in text
    assert "recorded by --update-expectations" in text

    second = pytester.runpytest_subprocess(*common, timeout=300)
    assert second.ret == pytest.ExitCode.OK, second.stdout.str()
    second.assert_outcomes(xfailed=1)
