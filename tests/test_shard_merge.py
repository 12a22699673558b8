"""--shard K/N and `python -m harness merge`: shards are disjoint and cover the run, the merge refuses
what is not one run, and two shards run here and merged give the same rows as one unsharded run."""

import json
import shutil
import subprocess
import sys
import types

import pytest

from harness.report import merge
from harness.report import text as report
from harness.report import shard
from harness.paths import REPO

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


def _doc(rows, shard_label=None, engine="node"):
    doc = report.document([{"engine": engine, "version": "20", "driver": "node", "build": "system"}],
                          [{"version": "4.22.0"}], rows)
    if shard_label:
        doc["shard"] = shard_label
        doc["selection"] = {"engines": [engine]}
    return doc


def _row(test, outcome="passed", engine="node"):
    return {"engine": engine, "tfjs": "4.22.0", "backend": "cpu", "scheme": "file-node", "model": test,
            "outcome": outcome, "duration_s": 0.1, "detail": "", "test": f"t[{test}-{engine}]"}


def test_merge_checks_each_engine_jobs_shards_apart():
    """The workflow's engine x shard jobs: every engine has its own 1/2 and 2/2."""
    docs = [(f"{e}-{k}.json", _doc([_row(f"m{k}", engine=e)], f"{k}/2", engine=e)) for e in ("chromium", "node") for k in (1, 2)]
    assert len(merge.merge(docs)["results"]) == 4
    with pytest.raises(merge.MergeError, match="2/2 of the chromium run missing"):
        merge.merge([d for d in docs if d[0] != "chromium-2.json"])


def test_merge_joins_shards_and_refuses_what_is_not_one_run():
    a, b = _doc([_row("mlp")], "1/2"), _doc([_row("cnn", "failed")], "2/2")
    merged = merge.merge([("a.json", a), ("b.json", b)])
    assert [r["model"] for r in merged["results"]] == ["mlp", "cnn"] and len(merged["engines"]) == 1
    assert [m["shard"] for m in merged["merged"]] == ["1/2", "2/2"]
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


def test_two_shards_merged_give_the_rows_of_one_unsharded_run(pytester, tmp_path):
    pytester.makeini(INI)
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    common = ["-p", "no:cacheprovider", "--engine", "node", "--engine", "chromium", "--zoo", "full", "-k",
              "(mlp or cnn or rnn) and (file-node or localstorage)", "test_roundtrip.py"]
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
