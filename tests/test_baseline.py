"""Tests for harness.report.baseline (comparing two conformance.json) and `python -m harness diff`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report import artifacts
from harness.report import baseline

ROOT = Path(__file__).resolve().parents[1]


def row(scheme, outcome, engine="chromium", model="mlp", tfjs="4.22.0", detail="", test=None):
    return {"engine": engine, "tfjs": tfjs, "backend": "cpu", "scheme": scheme, "model": model,
            "outcome": outcome, "duration_s": 0.1, "detail": detail,
            "test": test or f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]"}


def doc(*rows, engines=None):
    return {"schema": 1, "engines": engines or [{"engine": "chromium", "version": "156", "driver": "playwright",
                                                 "build": "system"}],
            "tfjs": [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}], "results": list(rows)}


def schemes(changes):
    return [c.row["scheme"] for c in changes]


@pytest.mark.parametrize(("was", "now", "cls"), [
    ("passed", "failed", "regressions"),
    ("passed", "error", "regressions"),
    ("xfailed", "failed", "regressions"),
    ("xfailed", "error", "regressions"),
    ("failed", "passed", "fixes"),
    ("error", "passed", "fixes"),
    ("xfailed", "passed", "fixes"),
    ("passed", "xfailed", "newly_known"),
    ("skipped", "failed", "changed"),
    ("passed", "skipped", "changed"),
    ("failed", "xfailed", "changed"),
    ("failed", "error", "changed"),
    ("skipped", "passed", "changed"),
    ("passed", "passed", "unchanged"),
    ("failed", "failed", "unchanged"),
])
def test_every_transition_lands_in_one_class(was, now, cls):
    d = baseline.diff(doc(row("s", was)), doc(row("s", now)))
    assert d.counts() == {name: int(name == cls) for name in baseline.CLASSES}
    assert baseline.regressed(d) is (cls == "regressions")


def test_new_and_missing_rows():
    d = baseline.diff(doc(row("gone", "passed"), row("same", "passed")),
                      doc(row("same", "passed"), row("added", "failed")))
    assert schemes(d.new) == ["added"] and d.new[0].old is None
    assert schemes(d.missing) == ["gone"] and d.missing[0].new is None
    assert schemes(d.unchanged) == ["same"]
    assert not baseline.regressed(d)  # a new failing row or a vanished row is not a regression


def test_key_includes_tfjs_version_engine_and_backend():
    old = doc(row("s", "passed", tfjs="4.21.0"), row("s", "passed", engine="firefox"))
    new = doc(row("s", "failed", tfjs="4.22.0"), row("s", "passed", engine="firefox"))
    d = baseline.diff(old, new)
    assert not d.regressions
    assert [c.row["tfjs"] for c in d.new] == ["4.22.0"] and [c.row["tfjs"] for c in d.missing] == ["4.21.0"]
    assert d.tfjs_versions == (["4.21.0", "4.22.0"], ["4.22.0"])
    webgl = dict(row("s", "failed"), backend="webgl")
    assert baseline.diff(doc(row("s", "passed")), doc(webgl)).counts()["new"] == 1


def test_cross_version_and_bundle_tfjs_labels_are_plain_keys():
    for label in ("4.21.0->4.22.0", "tf.min.js@1a2b3c4d5e6f"):
        d = baseline.diff(doc(row("s", "passed", tfjs=label)), doc(row("s", "error", tfjs=label)))
        assert len(d.regressions) == 1 and d.regressions[0].key[1] == label


def test_duplicate_keys_are_told_apart_by_test_id():
    a = row("quota", "passed", test="t1[quota-mlp-chromium]")
    b = row("quota", "passed", test="t2[quota-mlp-chromium]")
    d = baseline.diff(doc(a, b), doc(a, dict(b, outcome="failed")))
    assert [c.new["test"] for c in d.regressions] == ["t2[quota-mlp-chromium]"]
    assert len(d.unchanged) == 1
    # the same key once in old and twice in new: one matches nothing by test id
    d = baseline.diff(doc(a), doc(a, b))
    assert len(d.unchanged) == 1 and len(d.new) == 1


def test_engine_version_changes_are_reported():
    old = doc(row("s", "passed"), engines=[{"engine": "chromium", "version": "155"}])
    new = doc(row("s", "passed"), engines=[{"engine": "chromium", "version": "156"}])
    d = baseline.diff(old, new)
    assert d.engine_versions == [("chromium", "155", "156")]
    assert "chromium: 155 -> 156" in baseline.format(d)


def test_format_lists_regressions_first_with_the_new_detail_first_line():
    old = doc(row("fixed", "failed"), row("broke", "passed"), row("known", "passed"))
    new = doc(row("fixed", "passed"), row("known", "xfailed", detail="known finding: x\nmore"),
              row("broke", "failed", detail="\nAssertionError: weights differ: dense/kernel\n  at byte 12"))
    text = baseline.format(baseline.diff(old, new))
    lines = text.splitlines()
    assert lines[0].startswith("baseline: 1 regressions, 1 fixes, 1 newly known")
    assert lines[1] == "REGRESSIONS (1):"
    assert lines[2] == "  broke / mlp / chromium (tfjs 4.22.0, cpu): passed -> failed"
    assert lines[3] == "      AssertionError: weights differ: dense/kernel"
    assert "at byte 12" not in text
    assert text.index("REGRESSIONS") < text.index("fixed (1)") < text.index("newly known findings")
    assert "      known finding: x" in lines
    assert "no regressions" not in text


def test_format_without_regressions_says_so_and_caps_long_lists():
    old = doc(*(row(f"s{i}", "passed") for i in range(80)))
    text = baseline.format(baseline.diff(old, doc()))
    assert text.endswith("no regressions")
    assert "missing rows (in the baseline, not in this run) (80):" in text
    assert "  ... and 30 more" in text


def test_first_line_skips_blank_lines_and_cuts():
    assert baseline.first_line("\n  \n  hello \nworld") == "hello"
    assert baseline.first_line(None) == ""
    assert baseline.first_line("x" * 300, limit=10) == "xxxxxxx..."


@pytest.mark.parametrize("bad", [[], {"results": "no"}, {"schema": 2, "results": []},
                                 {"results": [{"outcome": "passed"}]}, {"results": [1]}])
def test_diff_rejects_what_is_not_a_conformance_document(bad):
    with pytest.raises(baseline.BaselineError):
        baseline.diff(bad, doc())


def test_load_reports_unreadable_files(tmp_path):
    with pytest.raises(baseline.BaselineError, match="cannot read"):
        baseline.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(baseline.BaselineError, match="not JSON"):
        baseline.load(tmp_path / "bad.json")
    (tmp_path / "ok.json").write_text(json.dumps(doc(row("s", "passed"))))
    assert baseline.load(tmp_path / "ok.json")["results"][0]["scheme"] == "s"


# -- the command line ---------------------------------------------------------------------------


def run_diff(*args):
    return subprocess.run([sys.executable, "-m", "harness", "diff", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_cli_exits_1_on_a_regression_and_prints_it(tmp_path):
    old = write(tmp_path / "old.json", doc(row("indexeddb", "passed")))
    new = write(tmp_path / "new.json", doc(row("indexeddb", "error", detail="TimeoutError: step load")))
    p = run_diff(old, new)
    assert p.returncode == 1, p.stderr
    assert "REGRESSIONS (1):" in p.stdout and "TimeoutError: step load" in p.stdout


def test_cli_exits_0_without_a_regression(tmp_path):
    old = write(tmp_path / "old.json", doc(row("indexeddb", "failed")))
    new = write(tmp_path / "new.json", doc(row("indexeddb", "passed"), row("http", "failed")))
    p = run_diff(old, new)
    assert p.returncode == 0, p.stderr
    assert "fixed (1):" in p.stdout and "new rows (1):" in p.stdout


@pytest.mark.parametrize("content", [None, "{oops", '{"schema": 1}', "[]"])
def test_cli_exits_2_on_unreadable_input(tmp_path, content):
    good = write(tmp_path / "good.json", doc(row("s", "passed")))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    p = run_diff(good, bad)
    assert p.returncode == 2
    assert "bad.json" in p.stderr and p.stdout == ""
    assert run_diff(bad, good).returncode == 2


def test_cli_keeps_the_engines_subcommand():
    p = subprocess.run([sys.executable, "-m", "harness", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "engines" in p.stdout and "diff" in p.stdout


# -- harness.report.artifacts: the directory name both the plugin and the reports use -----------------------


def test_test_dir_name_is_safe_readable_and_deterministic():
    nodeid = "scenarios/test_roundtrip.py::test_roundtrip[indexeddb-mlp-chromium]"
    assert artifacts.test_dir_name(nodeid) == "scenarios_test_roundtrip.py_test_roundtrip_indexeddb-mlp-chromium"
    assert artifacts.test_dir_name("a  <b>\\c//d..e") == "a_b_c_d..e"
    assert artifacts.test_dir_name("x[4.21.0->4.22.0-tf.min.js@1a2b]") == "x_4.21.0-_4.22.0-tf.min.js_1a2b"
    for hostile in ("..", ".", "/", "", "../../etc/passwd", "\u00e9\u00e9"):
        name = artifacts.test_dir_name(hostile)
        assert name not in ("", ".", "..") and "/" not in name and not name.startswith(".")
        assert name == artifacts.test_dir_name(hostile)


def test_test_dir_name_caps_long_ids_with_a_hash():
    a = "t[" + "x" * 300 + "-a]"
    b = "t[" + "x" * 300 + "-b]"
    na, nb = artifacts.test_dir_name(a), artifacts.test_dir_name(b)
    assert len(na) <= artifacts.MAX_NAME and len(nb) <= artifacts.MAX_NAME
    assert na != nb and na[:-9] == nb[:-9]
    assert na[-9] == "-" and int(na[-8:], 16) >= 0
    assert len(artifacts.test_dir_name("y" * 150)) == 150  # exactly at the cap: no hash


def test_artifact_files_lists_every_file_relative_and_sorted(tmp_path):
    nodeid = "t.py::t[s-m-e]"
    d = tmp_path / artifacts.test_dir_name(nodeid)
    (d / "sub").mkdir(parents=True)
    for name in ("diff.txt", "sub/w.bin", "a.json"):
        (d / name).write_text("x")
    assert [p.as_posix() for p in artifacts.files(tmp_path, nodeid)] == ["a.json", "diff.txt", "sub/w.bin"]
    assert artifacts.files(tmp_path, "other") == []
