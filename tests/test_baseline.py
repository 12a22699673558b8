"""Tests for harness.report.baseline (comparing two conformance.json, schema 1 or 2) and `python -m harness diff`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report import artifacts, baseline, document

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = {
    "dtype-added": {"kind": "tfjs-bug", "title": "Embedding save adds a dtype", "promise": "save is idempotent",
                    "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "drops-download": {"kind": "engine-bug", "title": "WebKitGTK drops a download", "promise": "both files arrive",
                       "link": "https://bugs.webkit.org/", "intermittent": True},
    "slow-quota": {"kind": "capacity", "title": "quota prompt sometimes late", "promise": "p", "link": "",
                   "intermittent": True},
    "ls-capacity": {"kind": "capacity", "title": "over localStorage's limit", "promise": "p", "link": "",
                    "intermittent": False},
}
FIT = {"localstorage_chars": 6_000_000, "localstorage_limit_chars": 5_241_856, "indexeddb_value_bytes": 4_000_000,
       "chromium_indexeddb_value_limit_bytes": 133_169_152, "exceeds": ["localstorage"]}
ENGINES = [{"engine": "chromium", "version": "156", "driver": "playwright", "build": "system"}]


def difference(what="loaded", path="$.format", message="expected 'layers-model', got None", finding=None):
    d = {"what": what, "path": path, "expected": None, "actual": None, "message": message}
    if finding:
        d["finding"] = finding
    return d


def row(scheme, outcome, engine="chromium", model="mlp", tfjs="4.22.0", findings=None, differences=None, test=None,
        build="system", context="window"):
    """A schema-3 row; a row that did not pass has a difference, an xfailed/xpassed one a finding, a capacity
    one a capacity finding and the fit numbers."""
    if findings is None:
        findings = {"xfailed": ["dtype-added"], "xpassed": ["dtype-added"], "capacity": ["ls-capacity"]}.get(outcome, [])
    if differences is None:
        explained = findings[0] if outcome in document.KNOWN else None
        differences = [] if outcome == "passed" else [difference(finding=explained)]
    r = {"engine": engine, "build": build, "context": context, "backend": "cpu", "tfjs": tfjs, "scheme": scheme,
         "model": model, "outcome": outcome, "differences": differences, "findings": list(findings), "hazards": [],
         "detail": "", "duration_s": 0.1,
         "test": test or f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]"}
    if outcome == "capacity":
        r["observed"] = {"fit": FIT}
    r["detail"] = document.detail(r)
    return r


def doc(*rows, engines=None, findings=FINDINGS):
    return document.build(engines or ENGINES, [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}],
                          list(rows), findings)


def schema1_row(scheme, outcome, engine="chromium", detail=""):
    return {"engine": engine, "tfjs": "4.22.0", "backend": "cpu", "scheme": scheme, "model": "mlp", "outcome": outcome,
            "duration_s": 0.1, "detail": detail, "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-mlp-{engine}]"}


def schema1(*rows, engines=None):
    return {"schema": 1, "engines": engines or ENGINES,
            "tfjs": [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}], "results": list(rows)}


def schemes(changes):
    return [c.row["scheme"] for c in changes]


def only(cls):
    return {name: int(name == cls) for name in baseline.CLASSES}


def test_the_classes_and_the_key():
    assert baseline.CLASSES == ("regressions", "fixes", "intermittent", "changed", "new", "missing", "unchanged")
    assert baseline.KEY == document.ROW_KEY


@pytest.mark.parametrize(("was", "now", "cls"), [
    ("passed", "failed", "regressions"),
    ("passed", "error", "regressions"),
    ("xfailed", "failed", "regressions"),
    ("xfailed", "error", "regressions"),
    ("xpassed", "failed", "regressions"),
    ("xpassed", "error", "regressions"),
    ("passed", "xfailed", "regressions"),  # under a finding that is not intermittent: a regression all the same
    ("xpassed", "xfailed", "regressions"),
    ("failed", "passed", "fixes"),
    ("error", "passed", "fixes"),
    ("xfailed", "passed", "fixes"),
    ("failed", "xpassed", "fixes"),
    ("xfailed", "xpassed", "fixes"),
    ("skipped", "failed", "changed"),
    ("passed", "skipped", "changed"),
    ("failed", "xfailed", "changed"),
    ("error", "xfailed", "changed"),
    ("failed", "error", "changed"),
    ("skipped", "passed", "changed"),
    ("passed", "xpassed", "changed"),
    ("xpassed", "passed", "changed"),
    ("passed", "passed", "unchanged"),
    ("failed", "failed", "unchanged"),
    ("xfailed", "xfailed", "unchanged"),
    ("passed", "capacity", "regressions"),  # the model no longer fits: a gate must see it
    ("capacity", "failed", "regressions"),
    ("capacity", "error", "regressions"),
    ("capacity", "passed", "fixes"),
    ("failed", "capacity", "changed"),
    ("xfailed", "capacity", "changed"),
    ("capacity", "capacity", "unchanged"),
])
def test_every_transition_lands_in_one_class(was, now, cls):
    d = baseline.diff(doc(row("s", was)), doc(row("s", now)))
    assert d.counts() == only(cls)
    assert baseline.regressed(d) is (cls == "regressions")


@pytest.mark.parametrize(("was", "findings", "cls"), [
    ("passed", ["drops-download"], "intermittent"),
    ("xpassed", ["drops-download"], "intermittent"),
    ("passed", ["drops-download", "slow-quota"], "intermittent"),  # every finding intermittent
    ("passed", ["drops-download", "dtype-added"], "regressions"),  # one is not
    ("passed", ["dtype-added"], "regressions"),
    ("passed", ["not-in-the-table"], "regressions"),  # not known to be intermittent
    ("passed", [], "regressions"),  # xfailed under no finding at all (not a valid row, still a regression)
])
def test_passed_to_xfailed_is_a_regression_unless_every_finding_of_the_new_row_is_intermittent(was, findings, cls):
    new = row("downloads", "xfailed", findings=findings, differences=[difference(finding=(findings or [None])[0])])
    d = baseline.diff(doc(row("downloads", was, findings=["drops-download"] if was == "xpassed" else None)), doc(new))
    assert d.counts() == only(cls)
    assert baseline.regressed(d) is (cls == "regressions")


def test_a_schema_2_baseline_of_a_model_over_a_medium_compares_unchanged_with_its_capacity_row():
    now = row("localstorage", "capacity")
    old = {**doc(now), "schema": 2, "results": [{**now, "outcome": "xfailed"}]}  # as schema 2 wrote it
    assert baseline.diff(old, doc(now)).counts() == only("unchanged")


def test_intermittent_is_read_from_the_new_documents_findings_table():
    old_table = {**FINDINGS, "dtype-added": {**FINDINGS["dtype-added"], "intermittent": True}}
    new_table = {**FINDINGS, "drops-download": {**FINDINGS["drops-download"], "intermittent": False}}
    # intermittent in the baseline only: a regression now
    d = baseline.diff(doc(row("s", "passed"), findings=old_table), doc(row("s", "xfailed"), findings=FINDINGS))
    assert d.counts() == only("regressions")
    # intermittent in the baseline, no longer in this run
    strict = row("s", "xfailed", findings=["drops-download"], differences=[difference(finding="drops-download")])
    d = baseline.diff(doc(row("s", "passed")), doc(strict, findings=new_table))
    assert d.counts() == only("regressions")


def test_new_and_missing_rows():
    d = baseline.diff(doc(row("gone", "passed"), row("same", "passed")),
                      doc(row("same", "passed"), row("added", "failed")))
    assert schemes(d.new) == ["added"] and d.new[0].old is None
    assert schemes(d.missing) == ["gone"] and d.missing[0].new is None
    assert schemes(d.unchanged) == ["same"]
    assert d.counts() == {**only("new"), "missing": 1, "unchanged": 1}
    assert not baseline.regressed(d)  # a new failing row or a vanished row is not a regression


def test_key_includes_tfjs_version_engine_backend_and_context():
    old = doc(row("s", "passed", tfjs="4.21.0"), row("s", "passed", engine="firefox"))
    new = doc(row("s", "failed", tfjs="4.22.0"), row("s", "passed", engine="firefox"))
    d = baseline.diff(old, new)
    assert not d.regressions
    assert [c.row["tfjs"] for c in d.new] == ["4.22.0"] and [c.row["tfjs"] for c in d.missing] == ["4.21.0"]
    assert d.tfjs_versions == (["4.21.0", "4.22.0"], ["4.22.0"])
    webgl = dict(row("s", "failed"), backend="webgl")
    assert baseline.diff(doc(row("s", "passed")), doc(webgl)).counts() == {**only("new"), "missing": 1}
    worker = row("s", "failed", context="worker")
    d = baseline.diff(doc(row("s", "passed")), doc(worker))
    assert d.counts() == {**only("new"), "missing": 1}
    assert d.new[0].label() == "s / mlp / chromium (tfjs 4.22.0, cpu, system, worker)"
    assert d.missing[0].label() == "s / mlp / chromium (tfjs 4.22.0, cpu, system)"


def test_an_engine_whose_build_changed_is_listed_and_its_rows_are_not_compared():
    old = doc(row("s", "passed", engine="webkit", build="playwright"), row("s", "passed"))
    new = doc(row("s", "failed", engine="webkit", build="system"), row("s", "passed"))
    d = baseline.diff(old, new)
    assert d.engine_builds == [("webkit", ["playwright"], ["system"])]
    assert d.counts() == {**only("new"), "missing": 1, "unchanged": 1}
    assert not baseline.regressed(d)
    assert [c.row["build"] for c in d.new] == ["system"] and [c.row["build"] for c in d.missing] == ["playwright"]
    lines = baseline.format(d).splitlines()
    assert lines[1] == ("  webkit: build playwright -> system: another engine build, its rows are not compared "
                        "(they are new and missing rows)")
    assert "  s / mlp / webkit (tfjs 4.22.0, cpu, system): new, failed" in lines
    assert "  s / mlp / webkit (tfjs 4.22.0, cpu, playwright): was passed" in lines


def test_rows_of_a_build_both_documents_ran_are_still_compared():
    old = doc(row("s", "passed", engine="webkit", build="playwright"))
    new = doc(row("s", "failed", engine="webkit", build="playwright"), row("s", "passed", engine="webkit", build="system"))
    d = baseline.diff(old, new)
    assert d.engine_builds == [("webkit", ["playwright"], ["playwright", "system"])]
    assert d.counts() == {**only("regressions"), "new": 1}
    assert baseline.diff(old, old).engine_builds == []


def test_a_schema_1_baseline_is_upgraded_and_compared():
    old = schema1(schema1_row("a", "passed"), schema1_row("b", "failed", detail="AssertionError: x"),
                  schema1_row("c", "passed"))
    new = doc(row("a", "error"), row("b", "passed"), row("c", "passed"))
    d = baseline.diff(old, new)  # the schema-1 rows take their engine record's build ("system"): same keys
    assert d.counts() == {**only("regressions"), "fixes": 1, "unchanged": 1}
    assert d.engine_builds == []
    assert d.regressions[0].old["context"] == "window" and d.regressions[0].old["differences"] == []
    # an engine record without a build: the rows' build is unknown, so they are another build's
    d = baseline.diff(schema1(schema1_row("a", "passed"), engines=[{"engine": "chromium", "version": "156"}]), new)
    assert d.engine_builds == [("chromium", [None], ["system"])]
    assert d.counts() == {"regressions": 0, "fixes": 0, "intermittent": 0, "changed": 0, "new": 3, "missing": 1,
                          "unchanged": 0}


def test_cross_version_and_bundle_tfjs_labels_are_plain_keys():
    at = baseline.KEY.index("tfjs")
    for label in ("4.21.0->4.22.0", "tf.min.js@1a2b3c4d5e6f"):
        d = baseline.diff(doc(row("s", "passed", tfjs=label)), doc(row("s", "error", tfjs=label)))
        assert len(d.regressions) == 1 and d.regressions[0].key[at] == label


def test_duplicate_keys_are_told_apart_by_test_id():
    a = row("quota", "passed", test="t1[quota-mlp-chromium]")
    b = row("quota", "passed", test="t2[quota-mlp-chromium]")
    d = baseline.diff(doc(a, b), doc(a, dict(b, outcome="failed", differences=[difference()])))
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
    assert baseline.format(d).splitlines()[1] == "  chromium: 155 -> 156"


def test_format_lists_regressions_first_with_the_first_unexplained_difference():
    weights = difference("storage.weightData", "dense/kernel", "float32 [4, 2]: first difference at element 3\n  more")
    known = difference("loaded", "$.signature", "missing (expected {})", finding="dtype-added")
    old = doc(row("fixed", "failed"), row("broke", "passed"), row("known", "passed"), row("odd", "skipped",
              differences=[difference("skipped", "setup", "no engine")]))
    new = doc(row("fixed", "passed"),
              row("known", "xfailed", findings=["drops-download"],
                  differences=[difference("downloads", "files", "did not deliver both files", finding="drops-download")]),
              row("broke", "xfailed", differences=[known, weights]),
              row("odd", "failed", differences=[difference("tfjs-error", "load", "TypeError: x")]))
    text = baseline.format(baseline.diff(old, new))
    assert text.splitlines() == [
        "baseline: 1 regressions, 1 fixes, 1 intermittent, 1 changed, 0 new, 0 missing, 0 unchanged",
        "REGRESSIONS (1):",
        "  broke / mlp / chromium (tfjs 4.22.0, cpu, system): passed -> xfailed",
        "      storage.weightData dense/kernel: float32 [4, 2]: first difference at element 3",
        "fixed (1):",
        "  fixed / mlp / chromium (tfjs 4.22.0, cpu, system): failed -> passed",
        "known intermittent (passed -> xfailed under intermittent findings) (1):",
        "  known / mlp / chromium (tfjs 4.22.0, cpu, system): passed -> xfailed",
        "      downloads files: did not deliver both files [drops-download]",
        "other changes (1):",
        "  odd / mlp / chromium (tfjs 4.22.0, cpu, system): skipped -> failed",
        "      tfjs-error load: TypeError: x",
    ]


def test_format_without_regressions_says_so_and_caps_long_lists():
    old = doc(*(row(f"s{i}", "passed") for i in range(80)))
    text = baseline.format(baseline.diff(old, doc()))
    lines = text.splitlines()
    assert lines[0] == "baseline: 0 regressions, 0 fixes, 0 intermittent, 0 changed, 0 new, 80 missing, 0 unchanged"
    assert lines[1:3] == ["  tfjs: 4.22.0 -> (none)", "missing rows (in the baseline, not in this run) (80):"]
    assert lines[-2:] == ["  ... and 30 more", "no regressions"]
    assert len(lines) == 3 + 50 + 2


def test_format_lists_every_regression():
    old = doc(*(row(f"s{i}", "passed") for i in range(60)))
    new = doc(*(row(f"s{i}", "failed") for i in range(60)))
    lines = baseline.format(baseline.diff(old, new)).splitlines()
    assert lines[1] == "REGRESSIONS (60):"
    assert sum(line.endswith(": passed -> failed") for line in lines) == 60
    assert "no regressions" not in lines and not any(line.startswith("  ... and") for line in lines)


def test_first_line_skips_blank_lines_and_cuts():
    assert baseline.first_line("\n  \n  hello \nworld") == "hello"
    assert baseline.first_line(None) == ""
    assert baseline.first_line("x" * 300, limit=10) == "xxxxxxx..."


@pytest.mark.parametrize("bad", [[], {"results": "no"}, {"schema": 4, "results": []}, {"schema": "2", "results": []},
                                 {"results": [{"outcome": "passed"}]}, {"results": [1]}])
def test_diff_rejects_what_is_not_a_conformance_document(bad):
    with pytest.raises(baseline.BaselineError):
        baseline.diff(bad, doc())
    with pytest.raises(baseline.BaselineError):
        baseline.diff(doc(), bad)


def test_load_reports_unreadable_files(tmp_path):
    with pytest.raises(baseline.BaselineError, match="cannot read"):
        baseline.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(baseline.BaselineError, match="not JSON"):
        baseline.load(tmp_path / "bad.json")
    (tmp_path / "new.json").write_text(json.dumps({"schema": 4, "results": []}))
    with pytest.raises(baseline.BaselineError, match="schema 4"):
        baseline.load(tmp_path / "new.json")
    (tmp_path / "ok.json").write_text(json.dumps(doc(row("s", "passed"))))
    assert baseline.load(tmp_path / "ok.json")["results"][0]["scheme"] == "s"
    (tmp_path / "old.json").write_text(json.dumps(schema1(schema1_row("s", "passed"))))
    loaded = baseline.load(tmp_path / "old.json")
    assert loaded["schema"] == 3 and loaded["results"][0]["build"] == "system"


# -- the command line ---------------------------------------------------------------------------


def run_diff(*args):
    return subprocess.run([sys.executable, "-m", "harness", "diff", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_cli_exits_1_on_a_regression_and_prints_it(tmp_path):
    old = write(tmp_path / "old.json", doc(row("indexeddb", "passed")))
    new = write(tmp_path / "new.json", doc(row("indexeddb", "error", differences=[
        difference("error", "call", "TimeoutError: step load", finding=None)])))
    p = run_diff(old, new)
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[1:4] == ["REGRESSIONS (1):",
                                          "  indexeddb / mlp / chromium (tfjs 4.22.0, cpu, system): passed -> error",
                                          "      error call: TimeoutError: step load"]


def test_cli_exits_0_without_a_regression(tmp_path):
    old = write(tmp_path / "old.json", doc(row("indexeddb", "failed")))
    new = write(tmp_path / "new.json", doc(row("indexeddb", "passed"), row("http", "failed")))
    p = run_diff(old, new)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == ("baseline: 0 regressions, 1 fixes, 0 intermittent, 0 changed, 1 new, 0 missing, "
                                        "0 unchanged")
    assert "fixed (1):" in p.stdout and "new rows (1):" in p.stdout
    assert p.stdout.endswith("no regressions\n")


@pytest.mark.parametrize(("findings", "rc"), [(["drops-download"], 0), (["dtype-added"], 1)])
def test_cli_passed_to_xfailed_fails_the_gate_unless_the_finding_is_intermittent(tmp_path, findings, rc):
    old = write(tmp_path / "old.json", doc(row("downloads", "passed")))
    new = write(tmp_path / "new.json", doc(row("downloads", "xfailed", findings=findings,
                                               differences=[difference(finding=findings[0])])))
    p = run_diff(old, new)
    assert p.returncode == rc, p.stdout + p.stderr
    first = p.stdout.splitlines()[0]
    assert first.startswith(f"baseline: {rc} regressions, 0 fixes, {1 - rc} intermittent, ")


def test_cli_compares_a_schema_1_baseline_with_a_schema_2_run(tmp_path):
    old = write(tmp_path / "old.json", schema1(schema1_row("indexeddb", "passed"), schema1_row("http", "passed")))
    new = write(tmp_path / "new.json", doc(row("indexeddb", "failed"), row("http", "passed")))
    p = run_diff(old, new)
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[0] == ("baseline: 1 regressions, 0 fixes, 0 intermittent, 0 changed, 0 new, 0 missing, "
                                        "1 unchanged")
    assert run_diff(old, old).returncode == 0


def test_cli_an_engine_build_change_is_not_a_regression(tmp_path):
    old = write(tmp_path / "old.json", doc(row("s", "passed", engine="webkit", build="playwright")))
    new = write(tmp_path / "new.json", doc(row("s", "failed", engine="webkit", build="system")))
    p = run_diff(old, new)
    assert p.returncode == 0, p.stderr
    assert "  webkit: build playwright -> system: another engine build" in p.stdout


@pytest.mark.parametrize("content", [None, "{oops", '{"schema": 1}', "[]", '{"schema": 4, "results": []}'])
def test_cli_exits_2_on_unreadable_input(tmp_path, content):
    good = write(tmp_path / "good.json", doc(row("s", "passed")))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    p = run_diff(good, bad)
    assert p.returncode == 2
    assert p.stderr.startswith("harness diff: ") and "bad.json" in p.stderr and p.stdout == ""
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
