"""The fields TF.js itself writes over when it saves a loaded model: listed once, here. Everything
else must come back exactly as the golden, and nothing may be added (the comparator checks whole
documents).

A layers model (`LayersModel.save`, tfjs-layers/src/engine/training.ts at tfjs-v4.22.0 L2138-L2165)
re-serialises itself: `keras_version` and `backend` name TF.js, `generatedBy` names tfjs-layers,
`convertedBy` is null, and only `modelTopology`, `format`, `generatedBy`, `convertedBy`,
`trainingConfig`, `userDefinedMetadata` and the weights are written: a model.json's `signature`,
`modelInitializer` and `initializerSignature` are GraphModel fields that tfjs-layers never reads or
writes (graph_model.ts L199-L215 is their only reader), so a layers model saves without them.

A layers model.json whose topology is Keras's whole `model.to_json()` (`{keras_version, backend, model_config}`, as
converters before 2.x wrote it) is read from its `model_config` (tfjs-layers/src/models.ts L295-L296) and saved
re-serialised like any other: `model_config`'s class_name and config beside the rewritten keras_version and backend.

A graph model saves the artifacts it loaded (`GraphModel.save`: `handlerOrURL.save(this.artifacts)`,
tfjs-converter/src/executor/graph_model.ts L280-L300), with one change made when it loaded them: the operation
mapper gives every node without `attr` an empty one, in place (`if (node.attr == null) node.attr = {}`,
tfjs-converter/src/operations/operation_mapper.ts L184-L186), graph nodes and function bodies alike.
"""

from __future__ import annotations

import copy

LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-layers/src/engine/training.ts#L2138-L2165"
MODEL_CONFIG_LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-layers/src/models.ts#L295-L296"
ATTR_LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-converter/src/operations/operation_mapper.ts#L184-L186"
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
        topology = out.get("modelTopology") or {}
        functions = (topology.get("library") or {}).get("function") or []
        for node in [*(topology.get("node") or []), *(n for f in functions for n in f.get("nodeDef") or [])]:
            node.setdefault("attr", {})
        return out
    topology = out.get("modelTopology")
    if isinstance(topology, dict) and topology.get("model_config") is not None:
        out["modelTopology"] = {**topology["model_config"], "keras_version": None, "backend": None}
    for key in GRAPH_ONLY_FIELDS:
        out.pop(key, None)
    for path, value in rewritten_on_save(tfjs_version).items():
        *parents, leaf = path.split(".")[1:]
        node = out
        for key in parents:
            node = node[key]
        node[leaf] = value
    return out
