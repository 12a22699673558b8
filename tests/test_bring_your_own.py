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

from harness.paths import REPO

EXTRACT = REPO / "tests" / "support" / "extract_nsfwjs_model.js"
# Browser storage, the model server and file://, in a browser and in Node: the user's shards through media of
# their own. Every scheme on every engine is the zoo's job (its graph and sharded models), and so are the URL
# forms of http (http-query, http-relative: 7 rows took 235 s under `make test`'s load, 33 s a row).
SCHEMES = "indexeddb-byo or http-byo or file-node-byo"
ENGINES = ("chromium", "node")


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


def test_a_converted_sharded_model_runs_in_a_browser_and_in_node(converted_model, tmp_path):
    results = tmp_path / "results"
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", str(REPO / "scenarios" / "test_roundtrip.py"),
         "-q", "-p", "no:cacheprovider",
         "--model", str(converted_model), "--results-dir", str(results), "-k", SCHEMES,
         *(arg for engine in ENGINES for arg in ("--engine", engine))],
        capture_output=True, text=True, cwd=REPO, timeout=900,
    )
    doc = json.loads((results / "conformance.json").read_text())
    rows = doc["results"]
    engines = {e["engine"] for e in doc["engines"] if e.get("version")}
    assert {r["model"] for r in rows} == {"byo-mobilenet_v2_mid"}
    assert {r["engine"] for r in rows} == engines == set(ENGINES), doc["engines"]
    bad = [(r["test"], r["outcome"], r["detail"][:800]) for r in rows if r["outcome"] not in ("passed", "xfailed")]
    assert not bad, proc.stdout[-3000:]
