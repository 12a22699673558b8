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
"""

from __future__ import annotations

KERAS_ONLY_KEYS = ("ragged", "groups", "shared_object_id")


def of(model_json: dict) -> tuple[str, ...]:
    """The traits of a model.json (sorted)."""
    if model_json.get("format", "layers-model") != "layers-model":
        return ()
    layers = _layers(model_json.get("modelTopology"))
    out = set()
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
