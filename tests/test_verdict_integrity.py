"""Verdict integrity: each check is as strict as it claims, and no finding swallows another failure.

One test (or a few) per defect of the verdict-integrity issue; each failed before its fix. The
end-to-end ones run real rows (Node, or Chromium where the scheme needs a browser) on TF.js bundles
with one fault each, against the real expectations file: a row the fault breaks must go red, where
the old harness reported it green or xfailed.
"""

from __future__ import annotations

import asyncio
import json
import shutil

import numpy as np
import pytest

from harness import expectations, tfjs
from harness.engines.base import Build, Page
from harness.golden import load as load_golden
from harness.measure import capacity
from harness.paths import REPO
from harness.report import document
from harness.schemes import Unsupported
from harness.schemes.files import Downloads
from harness.schemes.http import named_statuses
from harness.schemes.negative import _no_cors as no_cors_case
from harness.schemes.negative import judge_refusal
from harness.trip.compare import diff_arrays
from harness.trip.roundtrip import ExpectedSave

# -- faults in TF.js, for the end-to-end checks ----------------------------------------------------

# GraphModel keeps its executor tensors apart from the artifacts GraphModel.save hands back: one ulp of
# dense/bias changed there changes the predictions by ~1e-7, inside the graph golden's tolerance.
GRAPH_TENSOR = ("newMap[key] = [map[key]];",
                "newMap[key] = [key === 'dense/bias' ? (function (t) { var v = t.dataSync().slice(); "
                "new Uint32Array(v.buffer)[0] ^= 1; return tensor(v, t.shape, t.dtype); })(map[key]) : map[key]];")
# The http weights loader flips the first byte of every weight file it fetches: the reference load of
# a bring-your-own model and its round trip see the same wrong bytes.
HTTP_WEIGHTS = ("bufferPromises = responses.map(function (response) {\n\t            return response.arrayBuffer();",
                "bufferPromises = responses.map(function (response) {\n\t            return response.arrayBuffer()"
                ".then(function (b) { if (b.byteLength) new Uint8Array(b)[0] ^= 1; return b; });")
# IndexedDB saves the weights with the first byte's low bit flipped (harness.measure.mutants has it too).
IDB_FLIP = ("modelArtifacts.weightData = CompositeArrayBuffer.join(modelArtifacts.weightData);",
            "modelArtifacts.weightData = (function (b) { new Uint8Array(b)[0] ^= 1; return b; })"
            "(CompositeArrayBuffer.join(modelArtifacts.weightData));")


def bundle(tmp_path, fault) -> str:
    text = (tfjs.installed().dist / "tf.js").read_text()
    original, replacement = fault
    assert text.count(original) == 1, f"the fault's snippet moved in tf.js: {original[:60]!r}"
    path = tmp_path / "faulty" / "tf.js"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(original, replacement))
    return str(path)


def run_rows(pytester, tmp_path, *args, scenario="test_roundtrip.py") -> dict:
    """Run the scenario file in a fresh pytest, in window (one row per scheme, model and engine: the sampled
    contexts' rows would share those keys); its rows by (scheme, model, engine)."""
    shutil.copy(REPO / "scenarios" / scenario, pytester.path / scenario)
    results = tmp_path / "results"
    pinned = () if "--context" in args else ("--context", "window")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", scenario, "--results-dir", str(results), *pinned, *args,
                                  timeout=600)
    doc = json.loads((results / "conformance.json").read_text())
    return {(r["scheme"], r["model"], r["engine"]): r for r in doc["results"]}


@pytest.fixture
def conformance(pytester, harness_ini):
    return pytester


# -- 1. a finding explains only what it documents: tests/test_expectations.py ----------------------

# -- 2. one TF.js error no longer hides the rest of the row -------------------------------------------


def test_a_capacity_refusal_no_longer_hides_indexeddb_corruption(conformance, tmp_path):
    """sharded cannot be saved to localStorage (capacity); the row's IndexedDB half must still be checked:
    with IndexedDB corrupting the weights, reload-persistence-sharded fails (it was xfailed by the
    capacity finding, whose first TF.js error ended the row)."""
    rows = run_rows(conformance, tmp_path, "--engine", "chromium", "--tfjs-bundle", bundle(tmp_path, IDB_FLIP),
                    "-k", "reload-persistence-sharded-chromium or save-result-sharded-chromium", "--zoo", "full")
    row = rows["reload-persistence", "sharded", "chromium"]
    assert row["outcome"] == "failed"
    unexplained = [d for d in row["differences"] if not d.get("finding")]
    assert unexplained and all(d["what"].startswith("indexeddb.loaded") for d in unexplained), unexplained
    assert any(d.get("finding") and d["what"] == "save[localstorage].tfjs-error" for d in row["differences"])
    save_result = rows["save-result", "sharded", "chromium"]  # every other target's byte counts were checked
    assert save_result["outcome"] == "capacity"  # it failed only because sharded does not fit localStorage
    assert "localstorage" in save_result["observed"]["fit"]["exceeds"]
    assert save_result["detail"].startswith("capacity: the model does not fit (localStorage: ")
    assert [d["what"] for d in save_result["differences"]] == ["save-result[localstorage].tfjs-error"]


# -- 3. intermittent findings: pinned text, and "never passes" is suspicious ---------------------------


def test_an_intermittent_row_that_never_passes_is_suspicious():
    findings = {"webkitgtk-download-drop": {"kind": "engine-bug", "title": "t", "promise": "p", "link": "",
                                            "intermittent": True}}
    rows = [{"engine": "webkit", "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0",
             "scheme": "downloads", "model": "mlp", "outcome": "xfailed", "repeat": i,
             "differences": [{"what": "downloads", "path": "files", "expected": None, "actual": None,
                              "message": "only the weights file m.weights.bin arrived; m.json missing",
                              "finding": "webkitgtk-download-drop"}], "findings": ["webkitgtk-download-drop"]}
            for i in range(3)]
    (entry,) = document.flaky(rows, findings)
    assert "suspicious" in entry and "never passed in 3 repeats" in entry["suspicious"]
    rows[1] = {**rows[1], "outcome": "passed", "differences": [], "findings": []}
    (entry,) = document.flaky(rows, findings)
    assert "suspicious" not in entry and entry["outcomes"] == {"xfailed": 2, "passed": 1}


# -- 4. negative-cors is not satisfied by its own URL -----------------------------------------------


def _attempt():
    (served,) = no_cors_case(None, {}, {"model.json": b""})
    return served.attempt


@pytest.mark.parametrize("name, message, clear", [
    ("TypeError", "Failed to fetch", True),
    ("TypeError", "NetworkError when attempting to fetch resource.", True),
    ("TypeError", "Load failed", True),
    # a 404 from a URL that contains "cors" used to pass
    ("Error", "Request to https://127.0.0.1:41000/nocors/uploads/ab/model.json failed with status code 404. "
              "Please verify this URL points to the model JSON of the model to load.", False),
    ("TypeError", "Failed to fetch https://127.0.0.1:41000/nocors/x (status 403)", False),
])
def test_the_cors_refusal_must_be_a_network_error_without_a_status(name, message, clear):
    outcome = {"outcome": "rejected", "error": {"name": name, "message": message, "phase": "load"}}
    assert (judge_refusal(_attempt(), outcome) == []) is clear


# -- 5. the capacity probe counts only a refused save as "does not fit" --------------------------------


class _Replies(Page):
    """A page whose steps answer from a script: (save reply, fingerprint reply)."""

    def __init__(self, replies):
        self.replies = list(replies)

    async def run_step(self, name, args, timeout):
        return self.replies.pop(0)

    async def close(self):
        pass


def _kind(replies):
    probe = capacity.Probe(None, type("S", (), {"url": "http://x", "fixture_url": lambda self, g: "u"})(), "", "4.22.0",
                           "indexeddb", None)
    g = capacity.golden.sized(capacity.SIZED_ROW_BYTES)
    return asyncio.run(probe._round_trip(_Replies(replies), g, ExpectedSave.of(g, "4.22.0"), "indexeddb://p"))[0]


def test_capacity_tells_a_refusal_from_data_loss():
    ok = {"status": "ok", "result": {}}
    refused = {"status": "error", "error": {"name": "QuotaExceededError", "message": "full", "phase": "save"}}
    hang = {"status": "error", "error": {"name": "DeadlineExceeded", "message": "never settled", "phase": "save"}}
    lost = {"status": "error", "error": {"name": "Error", "message": "Cannot find model with path 'p' in IndexedDB.",
                                         "phase": "load"}}
    wrong = {"status": "ok", "result": {"sha256": "00", "weightBytes": 1, "modelTopology": {}}}
    assert _kind([refused]) == "rejected"
    assert _kind([hang]) == "hang"
    assert _kind([ok, lost]) == "lost"  # was counted as "does not fit"
    assert _kind([ok, wrong]) == "corrupt"  # was counted as "does not fit"


def test_a_lost_model_at_the_boundary_is_a_finding_in_the_table():
    probe = capacity.Probe(None, None, "", "4.22.0", "indexeddb", 2**20)

    async def fits(size):
        kind = "fits" if size <= 2 * capacity.SIZED_ROW_BYTES else "lost"
        probe.tries.append({"weight_bytes": size, "ok": kind == "fits", "kind": kind, "error": f"{kind} at {size}"})
        return kind == "fits", None if kind == "fits" else f"{kind} at {size}"

    found = asyncio.run(capacity.bisect(fits, 8 * capacity.SIZED_ROW_BYTES, capacity.SIZED_ROW_BYTES))
    row = capacity.row("chromium", "indexeddb", 2**20, found, probe, capacity.SIZED_ROW_BYTES, 8 * capacity.SIZED_ROW_BYTES)
    assert row["failure_kind"] == "lost" and row["findings"] and row["findings"][0]["what"] == "capacity.lost"
    assert "**lost** (a finding, not a capacity)" in capacity.table([row])
    # the window's storage mode is a column: an on-disk profile's numbers are told from an ephemeral context's
    on_disk = capacity.row("chromium", "indexeddb", 2**20, found, probe, capacity.SIZED_ROW_BYTES,
                           8 * capacity.SIZED_ROW_BYTES, "persistent-window")
    assert row["context"] == "window" and on_disk["context"] == "persistent-window"
    lines = capacity.table([on_disk, row]).splitlines()
    assert lines[2].startswith("| chromium | window | indexeddb |") and lines[3].startswith("| chromium | persistent-window |")


# -- 6. quota rows never skip copy/move silently: harness/schemes/quota.py (Unsupported or "not-checked") --

# -- 7. model.json is compared whole ----------------------------------------------------------------


def test_an_extra_or_missing_model_json_key_is_a_difference():
    want = ExpectedSave.of(load_golden("mlp"), "4.22.0")
    written = {**want.model_json, "weightsManifest": [{"paths": ["./m.weights.bin"], "weights": want.weight_specs}]}
    assert want.check_model_json("downloads", written, want.weight_data, ["./m.weights.bin"]) == []
    extra = {**written, "signature": {"inputs": {}}}
    assert [(d.path, d.message[:14])
            for d in want.check_model_json("downloads", extra, want.weight_data, ["./m.weights.bin"])] == [
        ("$.signature", "unexpected key")]
    missing = {k: v for k, v in written.items() if k != "convertedBy"}  # None used to equal a missing key
    assert [d.path
            for d in want.check_model_json("downloads", missing, want.weight_data, ["./m.weights.bin"])] == ["$.convertedBy"]


# -- 8. a graph model's executor tensors are compared with the golden --------------------------------


def test_a_graph_model_whose_tensors_differ_from_its_artifacts_fails(conformance, tmp_path):
    rows = run_rows(conformance, tmp_path, "--engine", "node", "--tfjs-bundle", bundle(tmp_path, GRAPH_TENSOR),
                    "-k", "http-graph-node")
    row = rows["http", "graph", "node"]
    assert row["outcome"] == "failed"
    assert [(d["what"], d["path"]) for d in row["differences"]] == [("loaded.tensors", "dense/bias")]


# -- 9. tests/test_release_gating.py asserts exact counts and texts ----------------------------------

# -- 10. passed -> xfailed is a regression unless the finding is intermittent: tests/test_baseline.py --

# -- 11. an HTTP status is matched as a status ------------------------------------------------------


def test_named_statuses_are_statuses_not_digits_anywhere():
    assert named_statuses("BrowserHTTPRequest.save() failed due to HTTP response status 401.") == [401]
    assert named_statuses("Request to http://h:40123/x failed with status code 404. Please verify") == [404]
    assert named_statuses("fetch http://127.0.0.1:40123/uploads/401abc/model.json: Failed to fetch") == []
    assert named_statuses("token 4017 or port :401") == []


# -- 12. skips that hide regressions ----------------------------------------------------------------


def test_a_missing_engine_fails_the_run_in_ci(conformance, tmp_path, monkeypatch):
    config = tmp_path / "engines.toml"
    config.write_text('[engines.chromium]\nbuilds = ["system"]\nexecutable = "/nonexistent/chromium"\n')
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", conformance.path)
    common = ["-p", "no:cacheprovider", "test_roundtrip.py", "--engine-config", str(config), "--context", "window",
              "-k", "localstorage-mlp"]
    monkeypatch.delenv("CI", raising=False)
    conformance.runpytest_subprocess(*common, timeout=120).assert_outcomes(skipped=1)
    monkeypatch.setenv("CI", "true")
    result = conformance.runpytest_subprocess(*common, timeout=120)
    result.assert_outcomes(errors=1)
    assert "A missing engine fails the run" in result.stdout.str()
    monkeypatch.delenv("CI")
    conformance.runpytest_subprocess(*common, "--missing-engines", "fail", timeout=120).assert_outcomes(errors=1)


class _NoCapture(Page):
    def __init__(self, build):
        self.build = build

    async def run_step(self, name, args, timeout):  # the save resolves
        return {"status": "ok", "result": {"saveResult": {"modelArtifactsInfo": {}}}}

    async def close(self):
        pass


class _Trip:
    def __init__(self, page):
        self.page, self.driver = page, type("D", (), {"spec": type("S", (), {"name": "e"})()})()


def test_only_a_declared_inability_skips_downloads():
    declared = Build(kind="remote", driver="webdriver", browser_type="webkit", downloads="", no_downloads="on its machine")
    with pytest.raises(Unsupported, match="on its machine"):
        asyncio.run(Downloads().run(_Trip(_NoCapture(declared))))
    able = Build(kind="system", driver="playwright", browser_type="chromium")  # declares downloads: "event"
    page = _NoCapture(able)
    page.downloads = Page.downloads.__get__(page)  # the base class: NotImplementedError
    with pytest.raises(Exception) as info:  # a driver not doing what its build declares is a harness error
        asyncio.run(Downloads().run(_Trip(page)))
    assert not isinstance(info.value, Unsupported)


# -- 13. prediction dtype is compared -----------------------------------------------------------------


def test_predictions_of_another_dtype_differ():
    ints, floats = np.array([1, 2], "<i4"), np.array([1, 2], "<f4")
    (d,) = diff_arrays(floats, ints, 1e-5, 1e-6, "predictions", "output0")
    assert (d.path, d.expected, d.actual) == ("output0.dtype", "float32", "int32")
    assert diff_arrays(np.array([3], "<i4"), np.array([4], "<i4"), 1.0, 1.0, "p", "o")  # integers: exact, no tolerance


# -- 14. an error after an xfail shows ---------------------------------------------------------------

FAKE_SCHEME = '''
import pytest
from harness.trip import roundtrip
from harness.trip.compare import Difference


class Documented:
    name, hosts, models = "fake-documented", ("node",), None

    async def run(self, trip):
        return [Difference("fake", "x", "documented")]

    def __str__(self):
        return self.name


@pytest.fixture
def breaks_in_teardown():
    yield
    raise RuntimeError("the harness broke after the verdict")


@pytest.mark.conformance(schemes=[Documented()], models=["mlp"])
async def test_fake(scheme, model, engine_name, make_trip, known_findings, breaks_in_teardown):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
'''
FAKE_FINDING = '''
[[finding]]
id = "fake-documented"
kind = "tfjs-bug"
title = "t"
promise = "p"
link = "https://example.invalid"
reason = "r"
scheme = "fake-documented"
explains = [{what = "fake", path = "x"}]
'''


def test_a_teardown_error_after_an_xfail_makes_the_row_an_error(conformance, tmp_path):
    conformance.makepyfile(test_fake=FAKE_SCHEME)
    findings = tmp_path / "e.toml"
    findings.write_text(FAKE_FINDING)
    results = tmp_path / "results"
    result = conformance.runpytest_subprocess("-p", "no:cacheprovider", "test_fake.py", "--engine", "node",
                                              "--expectations", str(findings), "--results-dir", str(results), timeout=300)
    result.assert_outcomes(xfailed=1, errors=1)
    (row,) = json.loads((results / "conformance.json").read_text())["results"]
    assert row["outcome"] == "error"
    assert [(d["what"], d["path"], d.get("finding")) for d in row["differences"]] == [
        ("fake", "x", "fake-documented"), ("error", "teardown", None)]
    assert "the harness broke after the verdict" in row["differences"][1]["message"]


# -- 15. bring-your-own is judged by Python's reading of the user's files ------------------------------


def test_a_user_model_is_judged_by_its_files_not_by_tfjs(conformance, tmp_path):
    """TF.js corrupting every weight file it fetches over http: the reference load and the round trip
    agree with each other (the old expectation), not with the files."""
    model = REPO / "fixtures" / "mlp" / "model.json"
    pristine = run_rows(conformance, tmp_path / "a", "--engine", "node", "--model", str(model), "-k", "custom-handler")
    assert pristine["custom-handler", "byo-mlp", "node"]["outcome"] == "passed"
    faulty = run_rows(conformance, tmp_path / "b", "--engine", "node", "--model", str(model), "-k", "custom-handler",
                      "--tfjs-bundle", bundle(tmp_path, HTTP_WEIGHTS))
    row = faulty["custom-handler", "byo-mlp", "node"]
    assert row["outcome"] == "failed"
    assert {d["what"] for d in row["differences"]} >= {"loaded.weightData"}


def test_the_expectation_of_a_user_model_is_read_by_numpy():
    from harness.golden import byo

    g = byo.load_user_model(REPO / "fixtures" / "quantized-uint8" / "model.json")
    zoo = load_golden("quantized-uint8")
    assert g.weight_data == zoo.weight_data  # the files' bytes
    assert g.after_load_data == zoo.after_load_data  # dequantized by numpy, as the golden writer dequantizes
    assert [s["dtype"] for s in g.after_load_specs] == ["float32"] * len(g.after_load_specs)


def test_expectations_rows_match_what_the_recorder_writes():
    """A row's key fields are what Finding.applies reads (harness.expectations.Row)."""
    fields = set(expectations.Row.__dataclass_fields__) - {"exceeds", "traits"}  # both read from the model files
    assert fields <= set(document.ROW_KEY) | {"format"}
