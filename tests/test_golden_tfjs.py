"""Every golden model through real TF.js in Node (no browser): harness/golden/tfjs_check.js serves
fixtures/ over http, tf.loadLayersModel()s each model, saves it with tf.io.withSaveHandler and
predicts on the golden inputs. The golden must load, predict within its tolerance, and come back
identical except for the differences TF.js 4.22.0 is known to make (pinned below: findings)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from harness import golden
from harness.config import REPO

NODE_MODULES = REPO / "node_modules"
CHECK_JS = REPO / "harness" / "golden" / "tfjs_check.js"

# What TF.js 4.22.0 does differently from the golden, by save config -> model -> JSON paths that
# differ (the golden is the form TF.js/Keras writes; these are findings, not golden mistakes).
KNOWN_JSON_DIFFS = {
    "save": {
        # Embedding built from JSON gains dtype "float32"; built with only inputLength it has none.
        "embedding": {"$.modelTopology.config.layers[0].config.dtype": ("<absent>", "float32")},
        # save() without {includeOptimizer: true} drops trainingConfig (and the optimizer weights);
        # layers models never carry a signature.
        "metadata": {"$.signature": None, "$.trainingConfig": None},
    },
    "saveIncludeOptimizer": {
        "embedding": {"$.modelTopology.config.layers[0].config.dtype": ("<absent>", "float32")},
        "metadata": {"$.signature": None},
    },
}
# model -> (expected weight bytes, bytes TF.js saves) where they differ, default save config.
KNOWN_WEIGHT_DIFFS = {"save": {"metadata": (280, 92)}, "saveIncludeOptimizer": {}}


@pytest.fixture(scope="module")
def report():
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "@tensorflow" / "tfjs" / "package.json").exists():
        pytest.skip("needs node and node_modules/@tensorflow/tfjs (make setup)")
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    proc = subprocess.run(
        [node, str(CHECK_JS), str(golden.FIXTURES), *golden.MODELS], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", golden.MODELS)
def test_tfjs_loads_and_predicts_within_tolerance(report, name):
    r = report["models"][name]
    assert "loadError" not in r, r.get("loadError")
    g = golden.load(name)
    assert "outputCountMismatch" not in r
    assert len(r["predictions"]) == len(g.outputs)
    for p, spec in zip(r["predictions"], g.examples["outputs"]):
        assert p["shape"] == spec["shape"] == p["expectedShape"]
        assert p["outside"] == 0 and p["nanMismatch"] == 0, p


@pytest.mark.parametrize("config", ["save", "saveIncludeOptimizer"])
@pytest.mark.parametrize("name", golden.MODELS)
def test_tfjs_saves_back_the_golden(report, name, config):
    if report["tfjs"] != "4.22.0":
        pytest.skip(f"findings pinned for TF.js 4.22.0, not {report['tfjs']}")
    r = report["models"][name][config]
    known = KNOWN_JSON_DIFFS[config].get(name, {})
    got = {d["path"]: d for d in r["jsonDiff"]}
    assert set(got) == set(known), r["jsonDiff"]
    for path, values in known.items():
        if values is not None:
            assert (got[path]["expected"], got[path]["actual"]) == values
    if not known:
        assert r["topologyKeyOrderEqual"]  # same keys, same order, as JSON.stringify writes them
    weights = r["weights"]
    if name in KNOWN_WEIGHT_DIFFS[config]:
        assert (weights["expectedBytes"], weights["actualBytes"]) == KNOWN_WEIGHT_DIFFS[config][name]
    else:
        assert r["weightSpecsDiff"] == [] and weights["equal"], (r["weightSpecsDiff"], weights["differing"])
