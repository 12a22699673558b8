"""The fields TF.js itself writes over when it saves a layers model: listed once, here.

`LayersModel.save()` re-serialises the model (tfjs-layers/src/engine/training.ts and
container.ts `toJSON`): `keras_version` and `backend` name TF.js, `generatedBy` names
tfjs-layers, `convertedBy` is null. Everything else must come back exactly as the golden.
"""

from __future__ import annotations

import copy


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
    the rewrites applied. A graph model saves the artifacts it loaded, unchanged (GraphModel.save)."""
    out = copy.deepcopy({k: v for k, v in model_json.items() if k != "weightsManifest"})
    if model_json.get("format") == "graph-model":
        return out
    for path, value in rewritten_on_save(tfjs_version).items():
        *parents, leaf = path.split(".")[1:]
        node = out
        for key in parents:
            node = node[key]
        node[leaf] = value
    return out
