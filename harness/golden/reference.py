"""Numpy reference forward pass for the Keras layers the golden zoo uses.

``predict`` interprets a ``modelTopology`` (the Keras JSON written into
model.json) with the weights by name, in float64, so expected outputs come from
the same data the fixtures hold rather than from the builder that made them.

Models: ``Sequential`` (a chain) and functional ``Model`` (a graph of
``inbound_nodes``); either may also appear as a layer inside a ``Model``.
Layers: see ``LAYERS``; activations: see ``ACTIVATIONS``. Only inference is
modelled (Dropout is the identity, BatchNormalization uses the moving
statistics), channels_last only. A layer function is
``fn(config, weights, x) -> y`` where ``x`` is one array, or a list of arrays
for a layer with several inputs (``Concatenate``); weights are looked up as
``"<layer name>/<weight>"`` as TF.js names them. To support a new layer, add a
function to ``LAYERS``; a new activation, to ``ACTIVATIONS``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

Weights = Mapping[str, np.ndarray]


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (as TF.js's ``softmax`` activation), max-shifted."""
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, written to avoid overflow warnings for large |x|."""
    x = np.asarray(x, np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """TF.js ``hardSigmoid``: clip(0.2 * x + 0.5, 0, 1) (tfjs-layers backend/tfjs_backend.ts)."""
    return np.clip(0.2 * np.asarray(x, np.float64) + 0.5, 0.0, 1.0)


# Keys are the names TF.js serialises (``serializeActivation``: the class name).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "softmax": softmax,
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "hardSigmoid": hard_sigmoid,
}


def activation(name: str | None, x: np.ndarray) -> np.ndarray:
    fn = ACTIVATIONS.get(name or "linear")
    if fn is None:
        raise NotImplementedError(f"reference: activation {name!r}")
    return fn(x)


def _f64(a: Any) -> np.ndarray:
    return np.asarray(a, np.float64)


# --- the maths, one function per layer kind (plain arrays in, float64 out) --------


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, activation_name: str) -> np.ndarray:
    """``activation(x @ kernel + bias)`` in float64 (kernel [in, units], applied on the last axis)."""
    y = _f64(x) @ _f64(kernel)
    if bias is not None:
        y = y + _f64(bias)
    return activation(activation_name, y)


def _same_padding(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'same' padding for one spatial axis: (before, after), extra on the after side."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    strides: tuple[int, int] = (1, 1),
    padding: str = "valid",
) -> np.ndarray:
    """2-D cross-correlation, NHWC input, kernel [kh, kw, in, out] (Keras layout), no activation.

    Vectorised over batch and output positions: one matmul per kernel tap.
    """
    x, kernel = _f64(x), _f64(kernel)
    kh, kw, _, c_out = kernel.shape
    sh, sw = strides
    if padding == "same":
        (pt, pb), (pl, pr) = _same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    elif padding != "valid":
        raise NotImplementedError(f"reference: conv padding {padding!r}")
    h_out = (x.shape[1] - kh) // sh + 1
    w_out = (x.shape[2] - kw) // sw + 1
    y = np.zeros((x.shape[0], h_out, w_out, c_out))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + sh * (h_out - 1) + 1 : sh, j : j + sw * (w_out - 1) + 1 : sw, :]
            y += patch @ kernel[i, j]
    if bias is not None:
        y = y + _f64(bias)
    return y


def max_pool2d(x: np.ndarray, pool: tuple[int, int], strides: tuple[int, int], padding: str = "valid") -> np.ndarray:
    """Max pooling over NHWC windows; 'same' pads with -inf (padding never wins)."""
    x = _f64(x)
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        (pt, pb), (pl, pr) = _same_padding(x.shape[1], ph, sh), _same_padding(x.shape[2], pw, sw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    elif padding != "valid":
        raise NotImplementedError(f"reference: pool padding {padding!r}")
    h_out = (x.shape[1] - ph) // sh + 1
    w_out = (x.shape[2] - pw) // sw + 1
    y = np.full((x.shape[0], h_out, w_out, x.shape[3]), -np.inf)
    for i in range(ph):
        for j in range(pw):
            y = np.maximum(y, x[:, i : i + sh * (h_out - 1) + 1 : sh, j : j + sw * (w_out - 1) + 1 : sw, :])
    return y


def lstm(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray | None,
    activation_name: str = "tanh",
    recurrent_activation: str = "sigmoid",
    return_sequences: bool = False,
) -> np.ndarray:
    """Keras/TF.js LSTM over x [batch, time, features] from zero state.

    Kernel columns are the gates in Keras order i, f, c, o (``units`` each):
    z = x_t K + h R + b;  i, f, o = rec_act(z_i, z_f, z_o);  c = f*c + i*act(z_c);  h = o*act(c).
    """
    x, kernel, recurrent_kernel = _f64(x), _f64(kernel), _f64(recurrent_kernel)
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    hs = []
    for t in range(x.shape[1]):
        z = x[:, t, :] @ kernel + h @ recurrent_kernel
        if bias is not None:
            z = z + _f64(bias)
        zi, zf, zc, zo = (z[:, k * units : (k + 1) * units] for k in range(4))
        i = activation(recurrent_activation, zi)
        f = activation(recurrent_activation, zf)
        o = activation(recurrent_activation, zo)
        c = f * c + i * activation(activation_name, zc)
        h = o * activation(activation_name, c)
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h


def embedding(x: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Row lookup; indices arrive as numbers (TF.js casts the input to int32)."""
    return _f64(embeddings)[np.asarray(x).astype(np.int64)]


def batch_norm(
    x: np.ndarray,
    gamma: np.ndarray | None,
    beta: np.ndarray | None,
    moving_mean: np.ndarray,
    moving_variance: np.ndarray,
    epsilon: float,
) -> np.ndarray:
    """Inference batch normalisation on the last axis: (x - mean) / sqrt(var + eps) * gamma + beta."""
    y = (_f64(x) - _f64(moving_mean)) / np.sqrt(_f64(moving_variance) + epsilon)
    if gamma is not None:
        y = y * _f64(gamma)
    if beta is not None:
        y = y + _f64(beta)
    return y


# --- topology-driven wrappers: (config, weights, x) -> y ------------------------


def _w(weights: Weights, config: dict, name: str) -> np.ndarray:
    return weights[f"{config['name']}/{name}"]


def _check_channels_last(config: dict) -> None:
    if config.get("data_format", "channels_last") != "channels_last":
        raise NotImplementedError(f"reference: data_format {config['data_format']!r}")


def _dense_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    bias = _w(weights, config, "bias") if config.get("use_bias", True) else None
    return dense(x, _w(weights, config, "kernel"), bias, config.get("activation") or "linear")


def _conv2d_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    _check_channels_last(config)
    if list(config.get("dilation_rate", [1, 1])) != [1, 1]:
        raise NotImplementedError("reference: dilated conv")
    bias = _w(weights, config, "bias") if config.get("use_bias", True) else None
    y = conv2d(x, _w(weights, config, "kernel"), bias, tuple(config["strides"]), config["padding"])
    return activation(config.get("activation"), y)


def _max_pool2d_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    _check_channels_last(config)
    pool = tuple(config["pool_size"])
    strides = tuple(config.get("strides") or pool)
    return max_pool2d(x, pool, strides, config.get("padding", "valid"))


def _flatten_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return _f64(x).reshape(x.shape[0], -1)


def _lstm_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    for flag in ("go_backwards", "stateful", "return_state"):
        if config.get(flag):
            raise NotImplementedError(f"reference: LSTM {flag}")
    bias = _w(weights, config, "bias") if config.get("use_bias", True) else None
    return lstm(
        x,
        _w(weights, config, "kernel"),
        _w(weights, config, "recurrent_kernel"),
        bias,
        config.get("activation") or "tanh",
        config.get("recurrent_activation") or "hardSigmoid",  # TF.js's default when absent
        bool(config.get("return_sequences")),
    )


def _embedding_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return embedding(x, _w(weights, config, "embeddings"))


def _global_average_pooling1d_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return _f64(x).mean(axis=1)


def _batch_norm_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    if config.get("axis", -1) not in (-1, np.ndim(x) - 1):
        raise NotImplementedError(f"reference: BatchNormalization axis {config['axis']!r}")
    return batch_norm(
        x,
        _w(weights, config, "gamma") if config.get("scale", True) else None,
        _w(weights, config, "beta") if config.get("center", True) else None,
        _w(weights, config, "moving_mean"),
        _w(weights, config, "moving_variance"),
        float(config.get("epsilon", 1e-3)),
    )


def _identity_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return _f64(x)


def _reshape_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return _f64(x).reshape(x.shape[0], *config["target_shape"])


def _activation_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    return activation(config["activation"], _f64(x))


def _concatenate_layer(config: dict, weights: Weights, xs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([_f64(x) for x in xs], axis=config.get("axis", -1))


def _sequential_layer(config: dict, weights: Weights, x: np.ndarray) -> np.ndarray:
    for layer in config["layers"]:
        x = _layer_fn(layer["class_name"])(layer["config"], weights, x)
    return x


def _model_layer(config: dict, weights: Weights, x: np.ndarray | list[np.ndarray]) -> np.ndarray | list[np.ndarray]:
    outputs = run_graph(config, weights, x if isinstance(x, list) else [x])
    return outputs[0] if len(outputs) == 1 else outputs


LAYERS: dict[str, Callable[[dict, Weights, Any], Any]] = {
    "Dense": _dense_layer,
    "Conv2D": _conv2d_layer,
    "MaxPooling2D": _max_pool2d_layer,
    "Flatten": _flatten_layer,
    "LSTM": _lstm_layer,
    "Embedding": _embedding_layer,
    "GlobalAveragePooling1D": _global_average_pooling1d_layer,
    "BatchNormalization": _batch_norm_layer,
    "Dropout": _identity_layer,  # inference
    "Reshape": _reshape_layer,
    "Activation": _activation_layer,
    "Concatenate": _concatenate_layer,
    "Sequential": _sequential_layer,  # a nested model used as a layer
    "Model": _model_layer,
}

# Layers that are themselves models own one node (their own graph) before any call:
# TF.js numbers the nodes of such a layer in a model config from 1
# (tfjs-layers engine/container.ts buildNodeConversionMap).
_CONTAINERS = {"Sequential", "Model"}


def _layer_fn(class_name: str) -> Callable[[dict, Weights, Any], Any]:
    fn = LAYERS.get(class_name)
    if fn is None:
        raise NotImplementedError(f"reference: layer class {class_name!r}")
    return fn


def run_graph(config: dict, weights: Weights, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """A functional model's config (``layers`` with ``inbound_nodes``, ``input_layers``,
    ``output_layers``) evaluated on ``inputs`` given in ``input_layers`` order."""
    if len(inputs) != len(config["input_layers"]):
        raise ValueError(f"model {config.get('name')!r} takes {len(config['input_layers'])} inputs, got {len(inputs)}")
    tensors: dict[tuple[str, int, int], np.ndarray] = {}  # (layer, node index, tensor index) -> value
    for (layer_name, node, index), x in zip(config["input_layers"], inputs):
        tensors[(layer_name, node, index)] = x
    pending = [layer for layer in config["layers"] if layer["class_name"] != "InputLayer"]
    while pending:  # the config lists layers in topological order; the loop also tolerates any other order
        progressed, waiting = False, []
        for layer in pending:
            base = 1 if layer["class_name"] in _CONTAINERS else 0
            nodes = [(base + k, node) for k, node in enumerate(layer["inbound_nodes"])]
            if not all((n, ni, ti) in tensors for _, node in nodes for n, ni, ti, *_ in node):
                waiting.append(layer)
                continue
            for node_index, node in nodes:
                xs = [tensors[(n, ni, ti)] for n, ni, ti, *_ in node]
                y = _layer_fn(layer["class_name"])(layer["config"], weights, xs[0] if len(xs) == 1 else xs)
                for ti, yi in enumerate(y if isinstance(y, list) else [y]):
                    tensors[(layer["name"], node_index, ti)] = yi
            progressed = True
        if not progressed:
            raise ValueError(f"reference: unresolvable inbound nodes for {[layer['name'] for layer in waiting]}")
        pending = waiting
    return [_f64(tensors[(n, ni, ti)]) for n, ni, ti in config["output_layers"]]


def predict(topology: dict, weights: Weights, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run ``topology`` (Keras JSON) on ``inputs``; returns float64 outputs, in the model's output order.

    IEEE arithmetic on NaN/Inf/subnormal weights is intended (the special-floats model), so
    numpy's invalid/overflow/underflow warnings are silenced (a signalling NaN already warns
    "invalid value" when widened to float64).
    """
    config = topology.get("model_config", topology)  # Keras h5-style wrapper, as TF.js accepts
    kind = config["class_name"]
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        if kind == "Sequential":
            (x,) = inputs
            return [_f64(_sequential_layer(config["config"], weights, x))]
        if kind == "Model":
            return run_graph(config["config"], weights, list(inputs))
    raise NotImplementedError(f"reference: model class {kind!r}")


# --- graph models: a GraphDef (protobuf JSON, as model.json's modelTopology) ----------

# DataType enum names -> numpy dtypes, for Placeholder / Cast.
TF_DTYPES: dict[str, Any] = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_, "DT_STRING": object}


def _gather_v2(params: np.ndarray, indices: np.ndarray, axis: np.ndarray, attr: dict) -> np.ndarray:
    if int(attr.get("batch_dims", {}).get("i", "0")) != 0:
        raise NotImplementedError("reference: GatherV2 batch_dims")
    return np.take(params, np.asarray(indices).astype(np.int64), axis=int(axis))


def _cast(x: np.ndarray, attr: dict) -> np.ndarray:
    dst = TF_DTYPES[attr["DstT"]["type"]]
    return np.asarray(x).astype(np.float64 if dst is np.float32 else dst)


def _bias_add(x: np.ndarray, b: np.ndarray, attr: dict) -> np.ndarray:
    fmt = attr.get("data_format", {}).get("s", "TkhXQw==")  # base64 b"NHWC"
    if fmt != "TkhXQw==":
        raise NotImplementedError(f"reference: BiasAdd data_format {fmt!r}")
    return _f64(x) + _f64(b)


def _matmul(a: np.ndarray, b: np.ndarray, attr: dict) -> np.ndarray:
    a, b = _f64(a), _f64(b)
    if attr.get("transpose_a", {}).get("b"):
        a = a.T
    if attr.get("transpose_b", {}).get("b"):
        b = b.T
    return a @ b


# op -> fn(*input values, attr) -> value. Float maths in float64; ints, bools and strings as they are.
GRAPH_OPS: dict[str, Callable[..., np.ndarray]] = {
    "Identity": lambda x, attr: x,
    "MatMul": _matmul,
    "BiasAdd": _bias_add,
    "Relu": lambda x, attr: np.maximum(_f64(x), 0.0),
    "Mul": lambda a, b, attr: _f64(a) * _f64(b),
    "GatherV2": _gather_v2,
    "Cast": _cast,
}


def run_graph_def(graph_def: dict, weights: Weights, feeds: Mapping[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
    """Evaluate the named output nodes of a GraphDef: Placeholders from ``feeds`` (by node name),
    Consts from ``weights`` (by node name: the converter names each Const's weight after its
    node), the other ops from ``GRAPH_OPS``. Inputs ``"name:0"`` / ``"name"`` are output 0 of a
    node; ``"^name"`` (control inputs) are ignored. Float results are float64."""
    nodes = {node["name"]: node for node in graph_def["node"]}
    values: dict[str, np.ndarray] = {}

    def value(name: str) -> np.ndarray:
        if name in values:
            return values[name]
        node = nodes[name]
        op = node["op"]
        if op == "Placeholder":
            x = np.asarray(feeds[name])
        elif op == "Const":
            x = np.asarray(weights[name])
        else:
            fn = GRAPH_OPS.get(op)
            if fn is None:
                raise NotImplementedError(f"reference: graph op {op!r}")
            inputs = []
            for ref in node.get("input", []):
                if ref.startswith("^"):
                    continue
                base, _, index = ref.partition(":")
                if index not in ("", "0"):
                    raise NotImplementedError(f"reference: output {ref!r} (only output 0)")
                inputs.append(value(base))
            x = fn(*inputs, node.get("attr", {}))
        values[name] = x
        return x

    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        return [value(name) for name in outputs]
