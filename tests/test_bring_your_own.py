"""`pytest --model path/to/model.json`: a model converted by someone else, through real schemes.

The model is one the nsfwjs npm package ships (a graph model made by the official TensorFlow.js
converter, 5.7 MB in two shards): extracted to a plain folder, then run with --model in a pytest
subprocess, like a user reproducing a report about their own model.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness.config import REPO

EXTRACT = REPO / "tests" / "support" / "extract_nsfwjs_model.js"
# Browser storage, the model server (every engine, Node too) and file://: each engine reads the user's shards
# through a medium of its own. (browser-http-request is a known all-engine finding, and browser-files of a
# sharded model is the zoo's sharded row: left out to keep this run near two minutes.)
SCHEMES = "indexeddb- or (http- and not browser-http-request) or file-node-"


@pytest.fixture(scope="module")
def converted_model(tmp_path_factory):
    if not (REPO / "node_modules" / "nsfwjs").exists():
        pytest.skip("nsfwjs is not installed (npm ci)")
    out = tmp_path_factory.mktemp("byo") / "mobilenet_v2_mid"
    proc = subprocess.run([shutil.which("node"), str(EXTRACT), "mobilenet_v2_mid", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["format"] == "graph-model" and len(info["shards"]) > 1, info
    return out / "model.json"


def test_a_converted_sharded_model_runs_through_every_engine(converted_model, tmp_path):
    results = tmp_path / "results"
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", str(REPO / "scenarios" / "test_roundtrip.py"), "-q", "-p", "no:cacheprovider",
         "--model", str(converted_model), "--results-dir", str(results), "-k", SCHEMES],
        capture_output=True, text=True, cwd=REPO, timeout=900,
    )
    doc = json.loads((results / "conformance.json").read_text())
    rows = doc["results"]
    engines = {e["engine"] for e in doc["engines"] if e.get("version")}
    assert {r["model"] for r in rows} == {"byo-mobilenet_v2_mid"}
    assert {r["engine"] for r in rows} == engines and len(engines) >= 2, doc["engines"]
    bad = [(r["test"], r["outcome"], r["detail"][:800]) for r in rows if r["outcome"] not in ("passed", "xfailed")]
    assert not bad, proc.stdout[-3000:]
