"""What a model's files are, read by Python before anything runs: the traits a known finding documents.

A finding applies to rows by what it is about (expectations `traits = [...]`), never by a zoo model's
name, so that a user's model with the same trait gets the same explained outcome:

- "embedding-input-length": a layers model whose first layer is an Embedding built with input_length and
  no dtype (finding layers-embedding-gains-dtype: tfjs-layers sets dtype on the first save after a load).
- "keras-config-keys": a layers model whose topology carries Keras config keys that tfjs-layers does not
  model, so its re-serialisation on save leaves them out (finding layers-save-drops-keras-config):
  InputLayer `ragged`, Conv `groups`, an initializer's `shared_object_id`, or a `dtype` on a layer that
  has no batch_input_shape (tfjs-layers sets a layer's dtype only with an input shape,
  engine/topology.ts L488-L514).
- "cast-float-to-bool": a graph model with a Cast node from DT_FLOAT to DT_BOOL (tfjs-backend-wasm 4.22.0
  casts such values as integers, 0.04 -> false: measured, no row shows it, since a user's model is
  compared with itself on one backend; README, "What the corpus run found").
- "runtime-space-to-batch": a graph model with a SpaceToBatchND or BatchToSpaceND whose paddings or crops are
  computed when it runs (from a node other than a Const: a dilated convolution on an input of unknown
  size). TF.js's converter reads them with dataSync() (getParamValue), a synchronous readback that the
  webgpu backend does through a WebGPU canvas (finding chromium-webgpu-sync-read-loses-device).
- "float16-quantized": every float32 weight of the manifest is float16-quantized (finding
  graph-load-ignores-manifest-dtype does not apply: TF.js refuses such a weight declared int32 or
  float64 at load, "is quantized with float16 which only supports weights of type float32").
- "float16-inexact": a float32 weight, as TF.js holds it (dequantized: harness.golden.decode), that
  rounding to float16 changes, bit for bit (finding webgl-f16-save-rounds-weights: a float16-quantized
  model's weights are float16 values already, and a backend with float16 textures keeps them).
"""

from __future__ import annotations

import numpy as np

KERAS_ONLY_KEYS = ("ragged", "groups", "shared_object_id")


def of(model_json: dict, specs: list | None = None, data: bytes = b"") -> tuple[str, ...]:
    """The traits of a model.json (sorted); `specs` and `data`: its weights as its files give them (the
    weightsManifest's specs in order, the shards concatenated), for the traits of its values."""
    out = set()
    if specs and _float16_inexact(specs, data):
        out.add("float16-inexact")
    floats = [s for g in model_json.get("weightsManifest") or [] for s in g.get("weights") or [] if s.get("dtype") == "float32"]
    if floats and all((s.get("quantization") or {}).get("dtype") == "float16" for s in floats):
        out.add("float16-quantized")
    if model_json.get("format", "layers-model") != "layers-model":
        nodes = _graph_nodes(model_json.get("modelTopology"))
        if any(_casts(node, "DT_FLOAT", "DT_BOOL") for node in nodes):
            out.add("cast-float-to-bool")
        if _runtime_space_to_batch(nodes):
            out.add("runtime-space-to-batch")
        return tuple(sorted(out))
    layers = _layers(model_json.get("modelTopology"))
    first = layers[0] if layers else {}
    config = first.get("config") or {}
    if first.get("class_name") == "Embedding" and config.get("input_length") is not None and "dtype" not in config:
        out.add("embedding-input-length")
    for layer in layers:
        config = layer.get("config") or {}
        shaped = "batch_input_shape" in config or "batchInputShape" in config
        if _has_key(config, KERAS_ONLY_KEYS) or ("dtype" in config and not shaped):
            out.add("keras-config-keys")
    return tuple(sorted(out))


def _float16_inexact(specs: list, data: bytes) -> bool:
    from harness.golden import decode

    for spec, raw in decode.held(specs, data):
        if spec["dtype"] != "float32" or len(raw) % 4:
            continue
        bits = np.frombuffer(raw, "<u4")
        with np.errstate(over="ignore"):  # values over 65504 become inf: changed
            if np.any(bits.view("<f4").astype(np.float16).astype("<f4").view("<u4") != bits):
                return True
    return False


def _graph_nodes(topology) -> list[dict]:
    """A graph topology's nodes, its functions' (control flow bodies) too."""
    if not isinstance(topology, dict):
        return []
    nodes = list(topology.get("node") or [])
    for function in (topology.get("library") or {}).get("function") or []:
        nodes += function.get("nodeDef") or []
    return [n for n in nodes if isinstance(n, dict)]


def _casts(node: dict, source: str, target: str) -> bool:
    attr = node.get("attr") or {}
    return (node.get("op") == "Cast" and (attr.get("SrcT") or {}).get("type") == source
            and (attr.get("DstT") or {}).get("type") == target)


def _runtime_space_to_batch(nodes: list[dict]) -> bool:
    """A SpaceToBatchND / BatchToSpaceND whose second or third input (paddings, crops; block_shape) is not a
    Const node's output. An input is `node`, `node:0`, or in a function body `node:output:0`."""
    ops = {n.get("name"): n.get("op") for n in nodes}
    for node in nodes:
        if node.get("op") in ("SpaceToBatchND", "BatchToSpaceND"):
            params = [i for i in (node.get("input") or [])[1:] if not i.startswith("^")]
            if any(ops.get(i.split(":")[0]) != "Const" for i in params):
                return True
    return False


def _layers(topology) -> list[dict]:
    """The layers of a layers-model topology (`model_config`-wrapped as Keras writes it, or not; a
    Sequential's config a list or {layers: [...]})."""
    if not isinstance(topology, dict):
        return []
    topology = topology.get("model_config") or topology
    config = topology.get("config")
    layers = config.get("layers") if isinstance(config, dict) else config
    return [layer for layer in layers or [] if isinstance(layer, dict)]


def _has_key(value, keys) -> bool:
    if isinstance(value, dict):
        return any(k in value for k in keys) or any(_has_key(v, keys) for v in value.values())
    if isinstance(value, list):
        return any(_has_key(v, keys) for v in value)
    return False
