"""--shard K/N and `python -m harness merge`: shards are disjoint and cover the run, the merge refuses
what is not one run, and two shards run here and merged give the same rows as one unsharded run."""

import argparse
import json
import shutil
import subprocess
import sys
import types

import pytest

from harness.paths import REPO
from harness.report import document, merge, shard
from harness.report import text as report

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


def _items(n):
    return [types.SimpleNamespace(nodeid=f"scenarios/test_roundtrip.py::test_roundtrip[s{i}-mlp-chromium]") for i in range(n)]


def test_shards_are_disjoint_cover_everything_and_do_not_depend_on_what_else_was_collected():
    items = _items(200)
    parts = [shard.split(items, k, 3)[0] for k in (1, 2, 3)]
    ids = [i.nodeid for part in parts for i in part]
    assert sorted(ids) == sorted(i.nodeid for i in items) and len(ids) == len(set(ids))
    assert all(len(part) > 40 for part in parts)  # a hash, not "all in shard 1"
    fewer = items[::2]  # another job collected half of the tests: each keeps its shard
    assert {i.nodeid for i in shard.split(fewer, 2, 3)[0]} == {i.nodeid for i in parts[1]} & {i.nodeid for i in fewer}


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ValueError):
        shard.parse(text)


FINDINGS = {
    "dtype-added": {"kind": "tfjs-bug", "title": "Embedding save adds a dtype", "promise": "save is idempotent",
                    "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "drops-download": {"kind": "engine-bug", "title": "WebKitGTK drops a download", "promise": "both files arrive",
                       "link": "https://bugs.webkit.org/", "intermittent": True},
}


def _doc(rows, shard_label=None, engine="node", findings=FINDINGS):
    doc = document.build([{"engine": engine, "version": "20", "driver": "node", "build": "system"}],
                         [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}], rows, findings)
    if shard_label:
        doc["shard"] = shard_label
        doc["selection"] = {"engines": [engine]}
    return doc


def _row(test, outcome="passed", engine="node", findings=None):
    if findings is None:
        findings = ["dtype-added"] if outcome in ("xfailed", "xpassed") else []
    differences = [] if outcome == "passed" else [
        {"what": "loaded", "path": "$.format", "expected": "layers-model", "actual": None,
         "message": "expected 'layers-model', got None", **({"finding": findings[0]} if outcome == "xfailed" else {})}]
    r = {"engine": engine, "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0",
         "scheme": "file-node", "model": test, "outcome": outcome, "differences": differences, "findings": findings,
         "hazards": [], "detail": "", "duration_s": 0.1, "test": f"t[{test}-{engine}]"}
    r["detail"] = document.detail(r)
    return r


def _schema1(rows, shard_label=None, engine="node"):
    doc = {"schema": 1, "engines": [{"engine": engine, "version": "20", "driver": "node", "build": "system"}],
           "tfjs": [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}],
           "results": [{"engine": engine, "tfjs": "4.22.0", "backend": "cpu", "scheme": "file-node", "model": m,
                        "outcome": outcome, "duration_s": 0.1, "detail": "", "test": f"t[{m}-{engine}]"}
                       for m, outcome in rows]}
    if shard_label:
        doc["shard"] = shard_label
    return doc


def test_merge_checks_each_engine_jobs_shards_apart():
    """The workflow's engine x shard jobs: every engine has its own 1/2 and 2/2."""
    docs = [(f"{e}-{k}.json", _doc([_row(f"m{k}", engine=e)], f"{k}/2", engine=e)) for e in ("chromium", "node") for k in (1, 2)]
    assert len(merge.merge(docs)["results"]) == 4
    with pytest.raises(merge.MergeError, match="2/2 of the chromium run missing"):
        merge.merge([d for d in docs if d[0] != "chromium-2.json"])


def test_merge_joins_shards_and_refuses_what_is_not_one_run():
    a, b = _doc([_row("mlp")], "1/2"), _doc([_row("cnn", "failed")], "2/2")
    merged = merge.merge([("a.json", a), ("b.json", b)])
    assert merged["schema"] == 3
    assert [r["model"] for r in merged["results"]] == ["mlp", "cnn"] and len(merged["engines"]) == 1
    assert merged["merged"] == [{"file": "a.json", "rows": 1, "shard": "1/2"}, {"file": "b.json", "rows": 1, "shard": "2/2"}]
    assert "incomplete" not in merged
    with pytest.raises(merge.MergeError, match="2/2 of the node run missing"):
        merge.merge([("a.json", a)])
    assert merge.merge([("a.json", a)], partial=True)["incomplete"] == ["shard 2/2 of the node run missing"]
    with pytest.raises(merge.MergeError, match="in both"):
        merge.merge([("a.json", a), ("c.json", _doc([_row("mlp")], "2/2"))])
    with pytest.raises(merge.MergeError, match="given twice"):
        merge.merge([("a.json", a), ("c.json", _doc([_row("cnn")], "1/2"))])
    with pytest.raises(merge.MergeError, match="of different N"):
        merge.merge([("a.json", a), ("c.json", _doc([_row("cnn")], "2/3"))])
    with pytest.raises(merge.MergeError, match="not a conformance document"):
        merge.merge([("a.json", a), ("x.json", {"rows": []})])
    with pytest.raises(merge.MergeError, match="schema 4"):
        merge.merge([("a.json", a), ("x.json", {"schema": 4, "results": []})])


def test_merge_joins_the_findings_tables_and_keeps_only_what_the_rows_name():
    a = _doc([_row("mlp", "xfailed")], "1/2")
    b = _doc([_row("cnn", "xfailed", findings=["drops-download"])], "2/2")
    assert set(a["findings"]) == {"dtype-added"} and set(b["findings"]) == {"drops-download"}
    merged = merge.merge([("a.json", a), ("b.json", b)])
    assert merged["findings"] == FINDINGS
    document.validate(merged)
    lines = report.findings(merged).splitlines()
    assert [line.split()[:3] for line in lines[2:-1]] == [["dtype-added", "tfjs-bug", "1"],
                                                          ["drops-download", "engine-bug", "(intermittent)"]]
    # a finding named by no merged row is dropped
    c = {**_doc([_row("rnn")]), "findings": {"dtype-added": FINDINGS["dtype-added"]}}
    assert merge.merge([("c.json", c)])["findings"] == {}


def test_merge_refuses_a_finding_id_that_means_two_things():
    other = {**FINDINGS, "dtype-added": {**FINDINGS["dtype-added"], "intermittent": True}}
    a = _doc([_row("mlp", "xfailed")], "1/2")
    b = _doc([_row("cnn", "xfailed")], "2/2", findings=other)
    with pytest.raises(merge.MergeError, match="finding dtype-added says different things in two files"):
        merge.merge([("a.json", a), ("b.json", b)])
    # the same record twice is one finding
    same = _doc([_row("cnn", "xfailed")], "2/2")
    assert merge.merge([("a.json", a), ("b.json", same)])["findings"] == {"dtype-added": FINDINGS["dtype-added"]}


def test_merge_recomputes_flaky_rows_over_the_jobs():
    a = _doc([{**_row("mlp"), "repeat": 0}])
    b = _doc([{**_row("mlp", "xfailed", findings=["drops-download"]), "repeat": 1, "test": "t[mlp-node]-r1"}])
    merged = merge.merge([("a.json", a), ("b.json", b)])
    assert [f["outcomes"] for f in merged["flaky"]] == [{"passed": 1, "xfailed": 1}]


def test_merge_upgrades_schema_1_documents():
    merged = merge.merge([("old.json", _schema1([("mlp", "passed")], "1/2")),
                          ("new.json", _doc([_row("cnn", "failed")], "2/2"))])
    assert merged["schema"] == 3
    assert [(r["model"], r["build"], r["context"], len(r["differences"])) for r in merged["results"]] == [
        ("mlp", "system", "window", 0), ("cnn", "system", "window", 1)]
    assert merged["results"][1]["differences"][0]["path"] == "$.format"
    assert merged["merged"] == [{"file": "old.json", "rows": 1, "shard": "1/2"}, {"file": "new.json", "rows": 1, "shard": "2/2"}]


def test_a_merge_of_schema_1_documents_can_be_written(tmp_path):
    merged = merge.merge([("old.json", _schema1([("mlp", "passed")]))])
    merge.write(merged, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "conformance.json").read_text())["schema"] == 3


def test_write_validates_and_writes_the_three_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    merged = merge.merge([("a.json", _doc([_row("mlp", "xfailed")], "1/2")), ("b.json", _doc([_row("cnn")], "2/2"))])
    paths = merge.write(merged, tmp_path / "out")
    assert paths == [tmp_path / "out" / "conformance.json", tmp_path / "out" / "report.html", tmp_path / "out" / "summary.md"]
    assert json.loads(paths[0].read_text()) == merged
    assert paths[1].exists() and "### Findings (1)" in paths[2].read_text()
    invalid = {**merged, "results": [{**merged["results"][0], "findings": []}]}  # an xfailed row naming no finding
    with pytest.raises(document.DocumentError, match="results/0/findings"):
        merge.write(invalid, tmp_path / "bad")
    assert not (tmp_path / "bad" / "conformance.json").exists()


def _main(files, out, partial=False):
    return merge.main(argparse.Namespace(files=[str(f) for f in files], out=str(out), partial=partial))


def test_main_exit_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_doc([_row("mlp", "xfailed")], "1/2")))
    b.write_text(json.dumps(_doc([_row("cnn", "failed")], "2/2")))
    assert _main([a, b], tmp_path / "out") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "kind", "rows", "engines", "title"]
    assert "file-node  1 FAIL, xfail: dtype-added" in out
    assert out[-3:] == [f"written: {tmp_path / 'out' / name}" for name in ("conformance.json", "report.html", "summary.md")]
    assert _main([a], tmp_path / "part") == 2
    assert capsys.readouterr().out == ("merge: shard(s) 2/2 of the node run missing: the merged report would not cover "
                                       "the run (--partial merges what there is)\n")
    assert not (tmp_path / "part").exists()
    assert _main([a], tmp_path / "part", partial=True) == 0
    assert "INCOMPLETE: shard 2/2 of the node run missing" in capsys.readouterr().out.splitlines()
    assert _main([a, tmp_path / "nope.json"], tmp_path / "x") == 2
    assert capsys.readouterr().out.startswith(f"merge: {tmp_path / 'nope.json'}: cannot read")


def test_two_shards_merged_give_the_rows_of_one_unsharded_run(pytester, tmp_path):
    pytester.makeini(INI)
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    common = ["-p", "no:cacheprovider", "--engine", "node", "--engine", "chromium", "--zoo", "full", "--context", "window",
              "-k", "(mlp or cnn or rnn) and (file-node or localstorage)", "test_roundtrip.py"]
    runs = {}
    for name, extra in (("whole", []), ("s1", ["--shard", "1/2"]), ("s2", ["--shard", "2/2"])):
        result = pytester.runpytest_subprocess(*common, *extra, "--results-dir", str(tmp_path / name), timeout=300)
        assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), result.stdout.str()
        runs[name] = json.loads((tmp_path / name / "conformance.json").read_text())
    assert runs["s1"]["shard"] == "1/2" and runs["s2"]["shard"] == "2/2"
    assert runs["s1"]["selection"] == {"engines": ["node", "chromium"]}
    assert runs["s1"]["results"] and runs["s2"]["results"]  # both shards ran something
    out = subprocess.run([sys.executable, "-m", "harness", "merge", str(tmp_path / "s1" / "conformance.json"),
                          str(tmp_path / "s2" / "conformance.json"), "-o", str(tmp_path / "merged")],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "conformance.json" in out.stdout and "scheme" in out.stdout  # the matrix, and where it was written
    merged = json.loads((tmp_path / "merged" / "conformance.json").read_text())
    key = lambda doc: sorted((r["test"], r["outcome"], r["engine"], r["scheme"], r["model"]) for r in doc["results"])  # noqa: E731
    assert key(merged) == key(runs["whole"]) and len(merged["results"]) == 6
    assert (tmp_path / "merged" / "report.html").exists() and (tmp_path / "merged" / "summary.md").exists()
    refused = subprocess.run([sys.executable, "-m", "harness", "merge", str(tmp_path / "s1" / "conformance.json"),
                              "-o", str(tmp_path / "partial")], capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "2/2 of the chromium+node run missing" in refused.stdout
    assert not (tmp_path / "partial").exists()
