"""Every golden model through real TF.js in Node (no browser): harness/golden/tfjs_check.js serves
fixtures/ over http, tf.loadLayersModel()s (or tf.loadGraphModel()s) each model, saves it with
tf.io.withSaveHandler and predicts (executes) on the golden inputs. The golden must load, predict
within its tolerance, and come back identical except for the differences TF.js 4.22.0 is known to
make (pinned below: findings). Quantized goldens come back dequantized: as examples.json
"after_load" says, bit for bit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from harness import golden
from harness.paths import REPO

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


LAYERS_MODELS = tuple(n for n in golden.MODELS if golden.load(n).format == "layers-model")
GRAPH_MODELS = tuple(n for n in golden.MODELS if golden.load(n).format == "graph-model")


@pytest.mark.parametrize("name", golden.MODELS)
def test_tfjs_loads_and_predicts_within_tolerance(report, name):
    r = report["models"][name]
    assert "loadError" not in r, r.get("loadError")
    assert "executeError" not in r, r.get("executeError")
    g = golden.load(name)
    assert "outputCountMismatch" not in r
    assert len(r["predictions"]) == len(g.outputs)
    for p, spec in zip(r["predictions"], g.examples["outputs"]):
        assert p["shape"] == spec["shape"] == p["expectedShape"]
        assert p["dtype"] == spec["dtype"]
        assert p["outside"] == 0 and p["nanMismatch"] == 0, p


@pytest.mark.parametrize("name", LAYERS_MODELS)
def test_tfjs_holds_the_after_load_weights(report, name):
    """model.getWeights() after loading = the golden's after-load weights (quantized: dequantized
    by numpy the way TF.js does it), bit for bit."""
    w = report["models"][name]["getWeights"]
    assert w["count"] == w["expectedCount"] and w["equal"], w["differing"]


@pytest.mark.parametrize("config", ["save", "saveIncludeOptimizer"])
@pytest.mark.parametrize("name", LAYERS_MODELS)
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


# GraphModel.save(handler) hands the handler the artifacts it loaded (this.artifacts), unchanged:
# the keys of io.getModelArtifactsForJSONSync, in its order (signature after the weights; absent
# optional fields such as userDefinedMetadata are not keys at all); generatedBy/convertedBy are the
# file's (not rewritten, unlike layers models); weightData is what the http loader read: one
# ArrayBuffer per shard, in an array. Quantized weight specs would keep their "quantization".
GRAPH_SAVE_KEYS = ["modelTopology", "format", "generatedBy", "convertedBy", "weightSpecs", "weightData", "signature"]


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_tfjs_graph_model_saves_back_the_golden(report, name):
    if report["tfjs"] != "4.22.0":
        pytest.skip(f"findings pinned for TF.js 4.22.0, not {report['tfjs']}")
    r = report["models"][name]
    g = golden.load(name)
    save = r["save"]
    assert save["topLevelKeys"] == GRAPH_SAVE_KEYS
    assert save["jsonDiff"] == [] and save["topologyKeyOrderEqual"] and save["signatureKeyOrderEqual"]
    assert save["weightSpecsDiff"] == [] and save["weights"]["equal"], save["weights"]["differing"]
    shards = sum(len(group["paths"]) for group in g.model_json["weightsManifest"])
    assert save["weightDataKind"] == f"array of {shards} ArrayBuffer(s)"
    assert r["inputNodes"] == [e["name"] for e in g.examples["inputs"]]
    assert r["outputNodes"] == [e["name"] for e in g.examples["outputs"]]  # signature output order
