"""The fields TF.js itself writes over when it saves a loaded model: listed once, here. Everything
else must come back exactly as the golden, and nothing may be added (the comparator checks whole
documents).

A layers model (`LayersModel.save`, tfjs-layers/src/engine/training.ts at tfjs-v4.22.0 L2138-L2165)
re-serialises itself: `keras_version` and `backend` name TF.js, `generatedBy` names tfjs-layers,
`convertedBy` is null, and only `modelTopology`, `format`, `generatedBy`, `convertedBy`,
`trainingConfig`, `userDefinedMetadata` and the weights are written: a model.json's `signature`,
`modelInitializer` and `initializerSignature` are GraphModel fields that tfjs-layers never reads or
writes (graph_model.ts L199-L215 is their only reader), so a layers model saves without them.

A graph model saves the artifacts it loaded, unchanged (`GraphModel.save`: `handlerOrURL.save(this.artifacts)`,
tfjs-converter/src/executor/graph_model.ts L280-L300).
"""

from __future__ import annotations

import copy

LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-layers/src/engine/training.ts#L2138-L2165"
GRAPH_ONLY_FIELDS = ("signature", "modelInitializer", "initializerSignature")  # tfjs-layers drops them


def rewritten_on_save(tfjs_version: str) -> dict[str, object]:
    """JSON path -> the value TF.js writes there on save (paths as the comparator names them)."""
    return {
        "$.generatedBy": f"TensorFlow.js tfjs-layers v{tfjs_version}",
        "$.convertedBy": None,
        "$.modelTopology.keras_version": f"tfjs-layers {tfjs_version}",
        "$.modelTopology.backend": "tensor_flow.js",
    }


def expected_after_save(model_json: dict, tfjs_version: str) -> dict:
    """The golden model.json as TF.js should save it: the manifest dropped and, for a layers model,
    the rewrites applied and the graph-only fields left out."""
    out = copy.deepcopy({k: v for k, v in model_json.items() if k != "weightsManifest"})
    if model_json.get("format") == "graph-model":
        return out
    for key in GRAPH_ONLY_FIELDS:
        out.pop(key, None)
    for path, value in rewritten_on_save(tfjs_version).items():
        *parents, leaf = path.split(".")[1:]
        node = out
        for key in parents:
            node = node[key]
        node[leaf] = value
    return out
