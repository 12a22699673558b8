"""Numpy reference forward pass for the Keras layers the golden zoo uses.

``predict`` interprets a ``modelTopology`` (the Keras JSON written into
model.json) with the weights by name, in float64, so expected outputs come from
the same data the fixtures hold rather than from the builder that made them.
Supported: ``Sequential`` of ``Dense`` with activation linear/relu/softmax. To
support a new layer, add a function to ``LAYERS``; a new activation, to
``ACTIVATIONS``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (as TF.js's ``softmax`` activation), max-shifted."""
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "softmax": softmax,
}


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, activation: str) -> np.ndarray:
    """``activation(x @ kernel + bias)`` in float64."""
    y = np.asarray(x, np.float64) @ np.asarray(kernel, np.float64)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return ACTIVATIONS[activation](y)


def _dense_layer(config: dict, weights: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    name = config["name"]
    bias = weights[f"{name}/bias"] if config.get("use_bias", True) else None
    return dense(x, weights[f"{name}/kernel"], bias, config.get("activation") or "linear")


LAYERS: dict[str, Callable[[dict, Mapping[str, np.ndarray], np.ndarray], np.ndarray]] = {
    "Dense": _dense_layer,
}


def predict(topology: dict, weights: Mapping[str, np.ndarray], inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run ``topology`` (Keras JSON) on ``inputs``; returns float64 outputs."""
    if topology["class_name"] != "Sequential":
        raise NotImplementedError(f"reference: model class {topology['class_name']!r}")
    (x,) = inputs
    for layer in topology["config"]["layers"]:
        fn = LAYERS.get(layer["class_name"])
        if fn is None:
            raise NotImplementedError(f"reference: layer class {layer['class_name']!r}")
        x = fn(layer["config"], weights, x)
    return [x]
