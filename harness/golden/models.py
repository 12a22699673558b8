"""The golden model zoo: one registered function per model.

Each function returns a ``ModelDef``: the Keras JSON topology exactly as TF.js
4.22.0's ``model.toJSON(null, false)`` writes it (except ``keras_version``),
weights in TF.js's order (layer order, kernel then bias) drawn from a seeded
``numpy.random.default_rng``, fixed inputs from the same generator, and the
comparison tolerance. Expected outputs are not stored here: they are computed by
``reference.predict`` from the topology and weights.

Only ``Generator.uniform`` is used for random values: it is a plain affine map
of ``Generator.random`` (53-bit doubles from PCG64), the numpy stream least
likely to change between numpy versions. ``python -m harness.golden --check``
catches it if it ever does.

Adding a model = one ``@register`` function, usually via ``SequentialBuilder`` (a chain)
or ``FunctionalBuilder`` (a ``Model`` graph), with layer configs from the ``*_config``
helpers (keys in TF.js's order). ``harness/golden/tfjs_check.js`` (run by
``tests/test_golden_tfjs.py``) checks in Node that TF.js loads a model, saves back the
same topology and weight bytes, and predicts within the tolerance.

Zoo: mlp, cnn, rnn (LSTM), embedding (int32 input), batchnorm, functional (two inputs,
two outputs, nested Sequential), sharded (10 MB, three 4 MiB shards), special-floats
(NaN payloads, +-Inf, -0, subnormals), edge (unicode model name, 200+ char layer names,
a zero-size weight, weight-less layers), no-weights, metadata (userDefinedMetadata,
trainingConfig, optimizer weights, signature; TF.js's model.json key order), quantized-uint8,
quantized-uint16, quantized-float16 (the mlp shape with every weight stored quantized as the
tensorflowjs converter writes it; ``ModelDef.quantization``), graph (a "graph-model": GraphDef
JSON, Const weights of dtype float32/int32/bool/string, a signature; ``ModelDef.format``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from .writer import DEFAULT_SHARD_SIZE, GENERATED_BY, Named, dtype_name


@dataclasses.dataclass(frozen=True, eq=False)
class ModelDef:
    """Everything needed to write one model's fixtures."""

    name: str
    seed: int
    topology: dict  # Keras JSON, the model.json "modelTopology"
    weights: list[Named]  # one weight group, in TF.js order (optimizer weights last, if any)
    inputs: list[Named]  # (input tensor name, value), in the model's input order
    output_names: list[str]  # in the model's output order
    tolerance: dict  # {"rtol", "atol", "why"}
    extra_json: dict = dataclasses.field(default_factory=dict)  # more top-level model.json fields
    key_order: str = "converter"  # writer.KEY_ORDERS key
    spec_extra: dict = dataclasses.field(default_factory=dict)  # weight name -> extra manifest keys
    shard_size: int = DEFAULT_SHARD_SIZE
    # weight name -> "uint8" | "uint16" | "float16": stored quantized (writer.quantize); TF.js
    # dequantizes on load, so examples.json also gets "after_load" (writer.write_examples)
    quantization: dict = dataclasses.field(default_factory=dict)
    format: str = "layers-model"  # or "graph-model": topology is a GraphDef, see reference.run_graph_def
    # how many of `weights`, in order, each weightsManifest group holds (() : one group of all), as the
    # converter's --split_weights_by_layer writes a group per layer; each group is sharded on its own
    group_sizes: tuple[int, ...] = ()

    def groups(self) -> list[list[Named]]:
        """The weights as manifest groups: `group_sizes` cut `weights` in order."""
        if not self.group_sizes:
            return [self.weights]
        if sum(self.group_sizes) != len(self.weights) or min(self.group_sizes) < 1:
            raise ValueError(f"{self.name}: group_sizes {self.group_sizes} do not cut {len(self.weights)} weights")
        out, start = [], 0
        for size in self.group_sizes:
            out.append(self.weights[start:start + size])
            start += size
        return out


# Float32 TF.js (cpu backend) vs float64 reference cast to float32, small dense nets.
TOLERANCE_SMALL_DENSE = {
    "rtol": 1e-5,
    "atol": 1e-6,
    "why": (
        "Expected outputs are the numpy forward pass computed in float64 from the stored "
        "float32 weights and inputs, then cast to float32. TF.js computes in float32 (dot "
        "products of at most 16 terms, then softmax), so it differs by a few float32 ulps "
        "(~1e-7 relative): TF.js 4.22.0 cpu backend on mlp measured max abs 6.0e-8, max rel "
        "1.6e-7. Elementwise |actual - expected| <= atol + rtol * |expected| leaves >=16x margin."
    ),
}


def _variance_scaling_default() -> dict:
    """TF.js's default Dense kernel_initializer (glorot normal), as it serialises it."""
    return {
        "class_name": "VarianceScaling",
        "config": {"scale": 1, "mode": "fan_avg", "distribution": "normal", "seed": None},
    }


def _init(class_name: str, **config) -> dict:
    return {"class_name": class_name, "config": config}


def uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> np.ndarray:
    """float32 values uniform in [-limit, limit)."""
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def uniform_range(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    """float32 values uniform in [low, high)."""
    return rng.uniform(low, high, size=shape).astype(np.float32)


def glorot_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


# --- layer configs, with keys in the order TF.js 4.22.0's getConfig() writes them ---
# (checked against `model.toJSON(null, false)` of the same layers built in TF.js; the
# first layer of a model also gets batch_input_shape/dtype, see `with_input`).


def dense_config(name: str, units: int, activation: str, use_bias: bool = True) -> dict:
    return {
        "units": units,
        "activation": activation,
        "use_bias": use_bias,
        "kernel_initializer": _variance_scaling_default(),
        "bias_initializer": _init("Zeros"),
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
        "name": name,
        "trainable": True,
    }


def conv2d_config(name: str, filters: int, kernel_size: int, padding: str, activation: str, strides: int = 1) -> dict:
    return {
        "filters": filters,
        "kernel_initializer": _variance_scaling_default(),
        "kernel_regularizer": None,
        "kernel_constraint": None,
        "kernel_size": [kernel_size, kernel_size],
        "strides": [strides, strides],
        "padding": padding,
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": activation,
        "use_bias": True,
        "bias_initializer": _init("Zeros"),
        "bias_regularizer": None,
        "activity_regularizer": None,
        "bias_constraint": None,
        "name": name,
        "trainable": True,
    }


def max_pooling2d_config(name: str, pool: int) -> dict:
    return {
        "pool_size": [pool, pool],
        "padding": "valid",
        "strides": [pool, pool],
        "data_format": "channels_last",
        "name": name,
        "trainable": True,
    }


def lstm_config(name: str, units: int, recurrent_activation: str) -> dict:
    """RNN layers write the base Layer keys (name, trainable, [input]) first."""
    return {
        "name": name,
        "trainable": True,
        "units": units,
        "activation": "tanh",
        "recurrent_activation": recurrent_activation,
        "use_bias": True,
        "kernel_initializer": _variance_scaling_default(),
        "recurrent_initializer": _init("Orthogonal", gain=1, seed=None),
        "bias_initializer": _init("Zeros"),
        "unit_forget_bias": None,
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0,
        "recurrent_dropout": 0,
        "implementation": None,
        "return_sequences": False,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
    }


def embedding_config(name: str, input_dim: int, output_dim: int, input_length: int) -> dict:
    return {
        "input_dim": input_dim,
        "output_dim": output_dim,
        "embeddings_initializer": _init("RandomUniform", minval=-0.05, maxval=0.05, seed=None),
        "embeddings_regularizer": None,
        "activity_regularizer": None,
        "embeddings_constraint": None,
        "mask_zero": None,
        "input_length": input_length,
        "name": name,
        "trainable": True,
    }


def batch_norm_config(name: str, epsilon: float = 0.001) -> dict:
    return {
        "axis": -1,
        "momentum": 0.99,
        "epsilon": epsilon,
        "center": True,
        "scale": True,
        "beta_initializer": _init("Zeros"),
        "gamma_initializer": _init("Ones"),
        "moving_mean_initializer": _init("Zeros"),
        "moving_variance_initializer": _init("Ones"),
        "beta_regularizer": None,
        "gamma_regularizer": None,
        "beta_constraint": None,
        "gamma_constraint": None,
        "name": name,
        "trainable": True,
    }


def dropout_config(name: str, rate: float) -> dict:
    return {"rate": rate, "noise_shape": None, "seed": None, "name": name, "trainable": True}


def simple_config(name: str, **fields) -> dict:
    """Flatten, GlobalAveragePooling1D, Reshape(target_shape=...), Activation(activation=...), Concatenate(axis=...)."""
    return {**fields, "name": name, "trainable": True}


def with_input(config: dict, batch_input_shape: list, dtype: str | None = "float32") -> dict:
    """Insert batch_input_shape (and dtype) right after "trainable", where TF.js's Layer.getConfig puts them.

    Embedding is built by TF.js without a dtype, so its config has none: pass dtype=None.
    """
    out = {}
    for key, value in config.items():
        out[key] = value
        if key == "trainable":
            out["batch_input_shape"] = list(batch_input_shape)
            if dtype is not None:
                out["dtype"] = dtype
    return out


# --- builders ---------------------------------------------------------------------


class SequentialBuilder:
    """Builds a TF.js Sequential topology and its seeded weights layer by layer."""

    def __init__(self, name: str, input_shape: list[int], rng: np.random.Generator, input_dtype: str | None = "float32"):
        self.name = name
        self.input_shape = list(input_shape)
        self.input_dtype = input_dtype
        self.rng = rng
        self.layers: list[dict] = []
        self.weights: list[Named] = []
        self.late_weights: list[Named] = []  # non-trainable: TF.js saves them after all trainable ones
        self.width = self.input_shape[-1]

    def add(self, class_name: str, config: dict, weights: list[Named] = (),
            late_weights: list[Named] = ()) -> "SequentialBuilder":
        """Append a layer; the first one carries batch_input_shape (and dtype), as in TF.js."""
        if not self.layers:
            config = with_input(config, [None, *self.input_shape], self.input_dtype)
        self.layers.append({"class_name": class_name, "config": config})
        self.weights.extend(weights)
        self.late_weights.extend(late_weights)
        return self

    def dense(self, name: str, units: int, activation: str, bias_limit: float = 0.1) -> "SequentialBuilder":
        """Dense layer; kernel Glorot-uniform, bias uniform(+-bias_limit) (non-zero on purpose)."""
        kernel = uniform(self.rng, (self.width, units), glorot_limit(self.width, units))
        bias = uniform(self.rng, (units,), bias_limit)
        self.add("Dense", dense_config(name, units, activation), [(f"{name}/kernel", kernel), (f"{name}/bias", bias)])
        self.width = units
        return self

    def topology(self) -> dict:
        return {
            "class_name": "Sequential",
            "config": {"name": self.name, "layers": self.layers},
            "keras_version": GENERATED_BY,
            "backend": "tensor_flow.js",
        }

    def all_weights(self) -> list[Named]:
        """In the order TF.js saves them: ``model.weights`` = trainable, then non-trainable."""
        return [*self.weights, *self.late_weights]

    def finish(self, seed: int, batch: int, tolerance: dict, x: np.ndarray | None = None, **kwargs) -> ModelDef:
        """Draw ``batch`` inputs (uniform in [-2, 2)) after the weights, unless ``x`` is given."""
        first, last = self.layers[0]["config"]["name"], self.layers[-1]["config"]["name"]
        if x is None:
            x = uniform(self.rng, (batch, *self.input_shape), 2.0)
        return ModelDef(
            name=self.name,
            seed=seed,
            topology=self.topology(),
            weights=self.all_weights(),
            inputs=[(f"{first}_input", x)],  # TF.js names a Sequential's input "<first layer>_input"
            output_names=[last],
            tolerance=tolerance,
            **kwargs,
        )


Ref = tuple[str, int, int]  # (layer name, node index, tensor index) as in inbound_nodes


class FunctionalBuilder:
    """Builds a TF.js functional ``Model`` config: layers with inbound_nodes, input/output layers."""

    def __init__(self, name: str):
        self.name = name
        self.layers: list[dict] = []
        self.weights: list[Named] = []
        self.input_layers: list[Ref] = []
        self.output_layers: list[Ref] = []

    def input(self, name: str, shape: list[int], dtype: str = "float32") -> Ref:
        config = {"batch_input_shape": [None, *shape], "dtype": dtype, "sparse": False, "name": name}
        self.layers.append({"name": name, "class_name": "InputLayer", "config": config, "inbound_nodes": []})
        self.input_layers.append((name, 0, 0))
        return (name, 0, 0)

    def apply(self, class_name: str, config: dict, inputs: list[Ref], weights: list[Named] = ()) -> Ref:
        """Call a layer once on ``inputs``; a nested model's first call is its node 1 (TF.js numbering)."""
        name = config["name"]
        node = [[n, ni, ti, {}] for n, ni, ti in inputs]
        self.layers.append({"name": name, "class_name": class_name, "config": config, "inbound_nodes": [node]})
        self.weights.extend(weights)
        return (name, 1 if class_name in ("Sequential", "Model") else 0, 0)

    def outputs(self, *refs: Ref) -> None:
        self.output_layers.extend(refs)

    def topology(self) -> dict:
        return {
            "class_name": "Model",
            "config": {
                "name": self.name,
                "layers": self.layers,
                "input_layers": [list(r) for r in self.input_layers],
                "output_layers": [list(r) for r in self.output_layers],
            },
            "keras_version": GENERATED_BY,
            "backend": "tensor_flow.js",
        }


ZOO: dict[str, Callable[[], ModelDef]] = {}


def register(fn: Callable[[], ModelDef]) -> Callable[[], ModelDef]:
    """Add a model function to the zoo under its name (underscores become dashes: ``special_floats``
    is "special-floats")."""
    ZOO[fn.__name__.replace("_", "-")] = fn
    return fn


# The core zoo: the default matrix of `make conformance` (every commit): one model per way a storage
# scheme can get a model wrong. mlp: the baseline (one float32 shard); sharded: three 4 MiB shards
# (shard order, fetches, concatenation; over localStorage's limit); graph: a graph-model (its own loader
# and save path; int32/bool/string weights); special-floats: NaN payloads, +-Inf, -0, subnormals
# (bit-exactness of each medium's encoding); metadata: the optional model.json fields a scheme must
# carry. The full zoo (`--zoo full`: `make test`, CI) adds the other architectures, whose topologies
# differ but whose artifacts travel the same way, the edge cases (edge: non-ASCII names, a zero-size
# weight; no-weights: an empty weight buffer) and the quantized models (TF.js dequantizes them when it
# loads the golden, so every scheme then carries plain float32, as for mlp).
CORE = ("mlp", "sharded", "graph", "special-floats", "metadata")


def build(name: str) -> ModelDef:
    """Build the named model (deterministic)."""
    try:
        fn = ZOO[name]
    except KeyError:
        raise KeyError(f"unknown golden model {name!r}; known: {', '.join(ZOO)}") from None
    model = fn()
    assert model.name == name, (model.name, name)
    return model


def _measured(what: str, max_abs: str, max_rel: str, note: str = "") -> dict:
    """rtol 1e-5 / atol 1e-6 with the errors TF.js 4.22.0 (cpu backend, Node) was measured to make."""
    return {
        "rtol": 1e-5,
        "atol": 1e-6,
        "why": (
            "Expected outputs are the numpy forward pass computed in float64 from the stored float32 "
            f"weights and inputs, then cast to float32; TF.js computes {what} in float32. TF.js 4.22.0 "
            f"cpu backend measured max abs {max_abs}, max rel {max_rel}{note}. Elementwise "
            "|actual - expected| <= atol + rtol * |expected| (NaN equals NaN) leaves >=10x margin."
        ),
    }


@register
def mlp() -> ModelDef:
    """Sequential "mlp": Dense(16, relu, input 8) -> Dense(4, softmax); 5 examples."""
    seed = 20240101
    net = SequentialBuilder("mlp", input_shape=[8], rng=np.random.default_rng(seed))
    net.dense("dense_1", 16, "relu")
    net.dense("dense_2", 4, "softmax")
    return net.finish(seed=seed, batch=5, tolerance=TOLERANCE_SMALL_DENSE)


@register
def cnn() -> ModelDef:
    """Conv2D(4, 3x3, same, relu) on 8x8x3 -> MaxPooling2D(2) -> Conv2D(6, 2x2, valid, relu)
    -> Flatten -> Dense(3, softmax); 3 examples."""
    seed = 20240102
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("cnn", input_shape=[8, 8, 3], rng=rng)
    k1 = uniform(rng, (3, 3, 3, 4), glorot_limit(27, 36))
    b1 = uniform(rng, (4,), 0.1)
    net.add("Conv2D", conv2d_config("conv_1", 4, 3, "same", "relu"), [("conv_1/kernel", k1), ("conv_1/bias", b1)])
    net.add("MaxPooling2D", max_pooling2d_config("pool_1", 2))
    k2 = uniform(rng, (2, 2, 4, 6), glorot_limit(16, 24))
    b2 = uniform(rng, (6,), 0.1)
    net.add("Conv2D", conv2d_config("conv_2", 6, 2, "valid", "relu"), [("conv_2/kernel", k2), ("conv_2/bias", b2)])
    net.add("Flatten", simple_config("flatten_1"))
    net.width = 3 * 3 * 6
    net.dense("dense_1", 3, "softmax")
    return net.finish(seed=seed, batch=3,
                      tolerance=_measured("two 3x3/2x2 convolutions, pooling and a softmax", "3.0e-8", "1.3e-7"))


@register
def rnn() -> ModelDef:
    """LSTM(5, recurrent_activation sigmoid) over 6 steps x 3 features -> Dense(2, linear); 4 examples."""
    seed = 20240103
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("rnn", input_shape=[6, 3], rng=rng)
    units = 5
    kernel = uniform(rng, (3, 4 * units), glorot_limit(3, 4 * units))
    recurrent = uniform(rng, (units, 4 * units), 0.5)
    bias = uniform(rng, (4 * units,), 0.2)
    net.add(
        "LSTM",
        lstm_config("lstm_1", units, "sigmoid"),
        [("lstm_1/kernel", kernel), ("lstm_1/recurrent_kernel", recurrent), ("lstm_1/bias", bias)],
    )
    net.width = units
    net.dense("dense_1", 2, "linear")
    return net.finish(seed=seed, batch=4,
                      tolerance=_measured("6 LSTM steps (sigmoid gates, tanh)", "1.5e-8", "7.0e-7 (on an output of 2e-2)"))


@register
def embedding() -> ModelDef:
    """Embedding(20 -> 4, input_length 7) -> GlobalAveragePooling1D -> Dense(3, softmax); int32 input, 5 examples."""
    seed = 20240104
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("embedding", input_shape=[7], rng=rng, input_dtype=None)
    table = uniform(rng, (20, 4), 1.0)
    net.add("Embedding", embedding_config("embedding_1", 20, 4, 7), [("embedding_1/embeddings", table)])
    net.add("GlobalAveragePooling1D", simple_config("gap_1"))
    net.width = 4
    net.dense("dense_1", 3, "softmax")
    x = rng.integers(0, 20, size=(5, 7)).astype(np.int32)
    x[0, :] = [0, 19, 0, 19, 1, 2, 3]  # both ends of the table
    return net.finish(seed=seed, batch=5, x=x,
                      tolerance=_measured("the mean of 7 embedding rows and a softmax", "3.0e-8", "9.3e-8"))


@register
def batchnorm() -> ModelDef:
    """Dense(6, input 4) -> BatchNormalization (inference) -> Dropout(0.5) -> Dense(3, softmax); 5 examples.

    TF.js saves ``model.weights``: every trainable weight first (bn gamma, beta in layer
    order), then the non-trainable moving_mean / moving_variance at the very end.
    """
    seed = 20240105
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("batchnorm", input_shape=[4], rng=rng)
    net.dense("dense_1", 6, "linear")
    gamma = uniform_range(rng, (6,), 0.5, 1.5)
    beta = uniform(rng, (6,), 0.5)
    mean = uniform(rng, (6,), 0.5)
    variance = uniform_range(rng, (6,), 0.25, 2.0)
    net.add(
        "BatchNormalization",
        batch_norm_config("batch_norm_1"),
        weights=[("batch_norm_1/gamma", gamma), ("batch_norm_1/beta", beta)],
        late_weights=[("batch_norm_1/moving_mean", mean), ("batch_norm_1/moving_variance", variance)],
    )
    net.add("Dropout", dropout_config("dropout_1", 0.5))
    net.dense("dense_2", 3, "softmax")
    return net.finish(seed=seed, batch=5, tolerance=_measured("(x - mean) / sqrt(var + eps) * gamma + beta", "3.0e-8", "1.4e-7"))


def _dense_weights(rng: np.random.Generator, name: str, fan_in: int, units: int) -> list[Named]:
    return [
        (f"{name}/kernel", uniform(rng, (fan_in, units), glorot_limit(fan_in, units))),
        (f"{name}/bias", uniform(rng, (units,), 0.1)),
    ]


@register
def functional() -> ModelDef:
    """Model(inputs [in_a [2], in_b [3]]): Concatenate -> nested Sequential "inner" (Dense(3, tanh))
    -> Dense head_1(2, softmax); Concatenate -> Dense head_2(1); outputs [head_1, head_2]; 4 examples."""
    seed = 20240106
    rng = np.random.default_rng(seed)
    m = FunctionalBuilder("functional")
    a = m.input("in_a", [2])
    b = m.input("in_b", [3])
    cat = m.apply("Concatenate", simple_config("concat_1", axis=-1), [a, b])
    inner_layers = [{"class_name": "Dense", "config": with_input(dense_config("inner_dense", 3, "tanh"), [None, 5])}]
    inner = m.apply(
        "Sequential", {"name": "inner", "layers": inner_layers}, [cat], _dense_weights(rng, "inner_dense", 5, 3)
    )
    head_1 = m.apply("Dense", dense_config("head_1", 2, "softmax"), [inner], _dense_weights(rng, "head_1", 3, 2))
    head_2 = m.apply("Dense", dense_config("head_2", 1, "linear"), [cat], _dense_weights(rng, "head_2", 5, 1))
    m.outputs(head_1, head_2)
    xa, xb = uniform(rng, (4, 2), 2.0), uniform(rng, (4, 3), 2.0)
    return ModelDef(
        name="functional",
        seed=seed,
        topology=m.topology(),
        weights=m.weights,
        inputs=[("in_a", xa), ("in_b", xb)],
        output_names=["head_1", "head_2"],
        tolerance=_measured("both heads", "6.0e-8", "1.1e-7"),
    )


@register
def split_weights() -> ModelDef:
    """Sequential "split-weights": Dense(24, relu, input 8) -> Dense(16, tanh) -> Dense(4, softmax), its
    weights in three manifest groups, one per layer, as tensorflowjs_converter --split_weights_by_layer
    writes them (and older published models have), each group sharded on its own at 512 bytes:
    group1-shard{1,2}of2.bin, group2-shard{1..4}of4.bin, group3-shard1of1.bin (a kernel spans the shards of
    its group); 3 examples. TF.js loads the groups' weights in manifest order and saves one group."""
    seed = 20240111
    net = SequentialBuilder("split-weights", input_shape=[8], rng=np.random.default_rng(seed))
    net.dense("dense_1", 24, "relu")
    net.dense("dense_2", 16, "tanh")
    net.dense("dense_3", 4, "softmax")
    return net.finish(seed=seed, batch=3, tolerance=TOLERANCE_SMALL_DENSE, group_sizes=(2, 2, 2), shard_size=512)


@register
def sharded() -> ModelDef:
    """Dense(1600, tanh, input 8) -> Dense(1600, tanh) -> Dense(4, linear): 10,329,616 bytes of
    float32 weights cut into three 4 MiB shards group1-shard{1,2,3}of3.bin (weights span shards); 2 examples."""
    seed = 20240107
    net = SequentialBuilder("sharded", input_shape=[8], rng=np.random.default_rng(seed))
    net.dense("dense_1", 1600, "tanh")
    net.dense("dense_2", 1600, "tanh")
    net.dense("dense_3", 4, "linear")
    return net.finish(seed=seed, batch=2,
                      tolerance=_measured("dot products of 1600 terms", "6.3e-8", "1.0e-4",
                                          " (on an output of -3.7e-4: atol covers it)"))


def f32_bits(*patterns: int) -> np.ndarray:
    """float32 values with exactly these bit patterns (no float conversion touches them)."""
    return np.array(patterns, np.uint32).view(np.float32)


# Special float32 bit patterns, by what they are.
QNAN = 0x7FC00000  # canonical quiet NaN
QNAN_PAYLOAD = 0x7FC00001  # quiet NaN, payload 1
NEG_QNAN_PAYLOAD = 0xFFC00123  # sign bit set, payload 0x123
SNAN = 0x7F800001  # signalling NaN (quiet bit clear)
POS_INF, NEG_INF = 0x7F800000, 0xFF800000
NEG_ZERO = 0x80000000
MIN_SUBNORMAL = 0x00000001  # 1.4e-45
NEG_MAX_SUBNORMAL = 0x807FFFFF  # -1.1754942e-38
MIN_NORMAL = 0x00800000  # 1.1754944e-38
MAX_F32, LOWEST_F32 = 0x7F7FFFFF, 0xFF7FFFFF  # +-3.4028235e38
ONE, QUARTER = 0x3F800000, 0x3E800000


@register
def special_floats() -> ModelDef:
    """Dense(4, linear, input 4) whose weights hold NaNs with four payloads (one signalling), +-Inf,
    -0, subnormals and +-max float32; inputs in [-1, 1) so no product overflows. Output column 0 is
    NaN, columns 1 and 3 are +-Inf, column 2 is finite (~1e38); 4 examples."""
    seed = 20240108
    rng = np.random.default_rng(seed)
    kernel = f32_bits(
        QNAN, POS_INF, MAX_F32, ONE,
        QNAN_PAYLOAD, NEG_ZERO, MIN_SUBNORMAL, NEG_INF,
        NEG_QNAN_PAYLOAD, NEG_MAX_SUBNORMAL, MIN_NORMAL, NEG_ZERO,
        SNAN, MIN_SUBNORMAL, QUARTER, LOWEST_F32,
    ).reshape(4, 4)  # fmt: skip
    bias = f32_bits(NEG_ZERO, NEG_MAX_SUBNORMAL, MIN_SUBNORMAL, QUARTER)
    net = SequentialBuilder("special-floats", input_shape=[4], rng=rng)
    net.add("Dense", dense_config("dense_1", 4, "linear"), [("dense_1/kernel", kernel), ("dense_1/bias", bias)])
    x = uniform(rng, (4, 4), 1.0)
    x[x == 0] = 0.5  # 0 * Inf would be NaN: keep every input non-zero
    return net.finish(seed=seed, batch=4, x=x,
                      tolerance=_measured("the same IEEE operations", "0", "0",
                                          "; NaN in column 0, the same +-Inf in columns 1 and 3"))


LONG_NAME = "dense_with_a_very_long_name_" + "abcdefghijklmnopqrstuvwxyz0123456789" * 6  # 244 chars
LONG_ACTIVATION_NAME = "activation_" + "0123456789._-/" * 15  # 221 chars, every character TF.js allows
UNICODE_MODEL_NAME = "edge_modèle_ñ_日本語_🙂"


@register
def edge() -> ModelDef:
    """Functional Model named in unicode (layer names cannot be: TF.js's tensor-name check
    ``^[A-Za-z0-9][-A-Za-z0-9._/]*$`` rejects them) with inputs x [4] and empty [0]:
    Dense(3, relu) with a 244-char name on x; Dense(2) on the zero-width input (its kernel is a
    zero-size [0, 2] tensor, so it outputs its bias); Concatenate -> Reshape [5, 1] -> Activation(tanh)
    with a 221-char name (weight-less layers); 3 examples."""
    seed = 20240109
    rng = np.random.default_rng(seed)
    m = FunctionalBuilder(UNICODE_MODEL_NAME)
    x = m.input("x", [4])
    empty = m.input("empty", [0])
    h = m.apply("Dense", dense_config(LONG_NAME, 3, "relu"), [x], _dense_weights(rng, LONG_NAME, 4, 3))
    z = m.apply(
        "Dense",
        dense_config("zero_width", 2, "linear"),
        [empty],
        [("zero_width/kernel", np.zeros((0, 2), np.float32)), ("zero_width/bias", uniform(rng, (2,), 1.0))],
    )
    cat = m.apply("Concatenate", simple_config("concat_1", axis=-1), [h, z])
    r = m.apply("Reshape", simple_config("reshape_1", target_shape=[5, 1]), [cat])
    out = m.apply("Activation", simple_config(LONG_ACTIVATION_NAME, activation="tanh"), [r])
    m.outputs(out)
    return ModelDef(
        name="edge",
        seed=seed,
        topology=m.topology(),
        weights=m.weights,
        inputs=[("x", uniform(rng, (3, 4), 2.0)), ("empty", np.zeros((3, 0), np.float32))],
        output_names=[LONG_ACTIVATION_NAME],
        tolerance=_measured("tanh of a 4-term dot product", "0", "0"),
    )


@register
def no_weights() -> ModelDef:
    """Sequential of weight-less layers only: Reshape([6] -> [2, 3]) -> Activation(tanh).
    weightsManifest is ``[{"paths": [], "weights": []}]``: one group, no shard files; 3 examples."""
    seed = 20240110
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("no-weights", input_shape=[6], rng=rng)
    net.add("Reshape", simple_config("reshape_1", target_shape=[2, 3]))
    net.add("Activation", simple_config("activation_1", activation="tanh"))
    return net.finish(seed=seed, batch=3, tolerance=_measured("tanh", "0", "0"))


METADATA = {
    "author": "tfjs-io-conformance",
    "unicode": "naïve café — 日本語 — Ελληνικά — 🙂 — \"quoted\" \\ tab\t",
    "nested": {
        "list": [1, 2.5, -0.001, 1e-7, True, False, None, "x"],
        "empty_object": {},
        "empty_list": [],
        "deep": {"a": {"b": {"c": [[1, [2]]]}}},
    },
}


@register
def metadata() -> ModelDef:
    """Dense(3, relu, input 4) -> Dense(2, softmax) written as TF.js writes a model.json after
    ``compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy']})``,
    one ``fit`` step and ``save(handler, {includeOptimizer: true})``: top-level keys in TF.js's order,
    ``userDefinedMetadata``, ``trainingConfig``, the Adam state (``iter`` int32 scalar, then ``<weight>/m``,
    then ``<weight>/v``, each ``"group": "optimizer"``) after the model weights, plus a graph-model-style
    ``signature`` (layers models do not carry one); 5 examples."""
    seed = 20240111
    rng = np.random.default_rng(seed)
    net = SequentialBuilder("metadata", input_shape=[4], rng=rng)
    net.dense("dense_1", 3, "relu")
    net.dense("dense_2", 2, "softmax")
    model_weights = net.all_weights()
    slots: list[Named] = [("iter", np.array(1, np.int32))]
    slots += [(f"{n}/m", uniform(rng, w.shape, 0.01)) for n, w in model_weights]
    slots += [(f"{n}/v", uniform_range(rng, w.shape, 0.0, 1e-4)) for n, w in model_weights]
    signature = {
        "inputs": {
            "dense_1_input": {
                "name": "dense_1_input:0",
                "dtype": "DT_FLOAT",
                "tensorShape": {"dim": [{"size": "-1"}, {"size": "4"}]},
            }
        },
        "outputs": {
            "dense_2": {"name": "Identity:0", "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}, {"size": "2"}]}}
        },
    }
    training_config = {
        "loss": "categorical_crossentropy",
        "metrics": ["accuracy"],
        "optimizer_config": {
            "class_name": "Adam",
            "config": {"learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
        },
    }
    model = net.finish(
        seed=seed,
        batch=5,
        tolerance=_measured("two small dense layers", "6.0e-8", "2.3e-7"),
        extra_json={"signature": signature, "userDefinedMetadata": METADATA, "trainingConfig": training_config},
        key_order="tfjs",
        spec_extra={name: {"group": "optimizer"} for name, _ in slots},
    )
    return dataclasses.replace(model, weights=[*model_weights, *slots])


# --- quantized weights ------------------------------------------------------------------


def _quantized_mlp(name: str, seed: int, dtype: str, tolerance: dict) -> ModelDef:
    """The mlp shape (Dense(16, relu, input 8) -> Dense(4, softmax)), every weight stored quantized
    to ``dtype`` as ``tensorflowjs_converter --quantize_{dtype}`` (no pattern: all weights) writes it.

    The four weights cover the converter's cases: both kernels span 0 (uint8/uint16: the range is
    nudged so 0 is exact), dense_1/bias is all positive (no nudge), dense_2/bias is one repeated
    value (min == max: stored as zeros, scale 1, min the value). dense_1/kernel's first row holds
    -0, a float16 subnormal (3e-6), the smallest float16 subnormal (2**-24) and a value below half
    of it (1e-9: float16 0, uint: rounds to the zero point); 5 examples."""
    rng = np.random.default_rng(seed)
    net = SequentialBuilder(name, input_shape=[8], rng=rng)
    net.dense("dense_1", 16, "relu")
    net.dense("dense_2", 4, "softmax")
    weights = dict(net.weights)
    weights["dense_1/kernel"][0, :4] = [-0.0, 3e-6, 2.0**-24, 1e-9]
    weights["dense_1/bias"] = uniform_range(rng, (16,), 0.01, 0.2)
    weights["dense_2/bias"] = np.full((4,), 0.05, np.float32)
    net.weights = list(weights.items())
    model = net.finish(seed=seed, batch=5, tolerance=tolerance)
    return dataclasses.replace(model, quantization={n: dtype for n, _ in model.weights})


def _quantized_tolerance(max_abs: str, max_rel: str) -> dict:
    return {
        "rtol": 1e-5,
        "atol": 1e-6,
        "why": (
            "Expected outputs are the numpy forward pass computed in float64 from the weights as TF.js "
            "holds them after loading (dequantized to float32 exactly as TF.js does: "
            "after-load.bin) and the float32 inputs, then cast to float32; TF.js computes in float32. "
            f"TF.js 4.22.0 cpu backend measured max abs {max_abs}, max rel {max_rel}. Elementwise "
            "|actual - expected| <= atol + rtol * |expected| leaves >=10x margin."
        ),
    }


@register
def quantized_uint8() -> ModelDef:
    return _quantized_mlp("quantized-uint8", 20240112, "uint8", _quantized_tolerance("6.0e-8", "1.2e-7"))


@register
def quantized_uint16() -> ModelDef:
    return _quantized_mlp("quantized-uint16", 20240113, "uint16", _quantized_tolerance("3.0e-8", "1.5e-7"))


@register
def quantized_float16() -> ModelDef:
    return _quantized_mlp("quantized-float16", 20240114, "float16", _quantized_tolerance("3.0e-8", "1.8e-7"))


quantized_uint8.__doc__ = quantized_uint16.__doc__ = quantized_float16.__doc__ = _quantized_mlp.__doc__


# --- graph model ------------------------------------------------------------------------

# DataType enum names as protobuf's MessageToDict writes them.
TF_DTYPES = {"float32": "DT_FLOAT", "int32": "DT_INT32", "bool": "DT_BOOL", "string": "DT_STRING"}


def _tensor_shape(shape) -> dict:
    """TensorShapeProto as MessageToDict writes it: int64 sizes as strings; a scalar is ``{}``."""
    return {"dim": [{"size": str(d)} for d in shape]} if len(shape) else {}


def placeholder_node(name: str, dtype: str, shape: list[int]) -> dict:
    return {
        "name": name,
        "op": "Placeholder",
        "attr": {"shape": {"shape": _tensor_shape(shape)}, "dtype": {"type": TF_DTYPES[dtype]}},
    }


def const_node(name: str, dtype: str, shape: tuple[int, ...]) -> dict:
    """A Const whose value the converter moved to the weights (tensor content cleared: dtype and shape remain)."""
    tf_dtype = TF_DTYPES[dtype]
    return {
        "name": name,
        "op": "Const",
        "attr": {"value": {"tensor": {"dtype": tf_dtype, "tensorShape": _tensor_shape(shape)}}, "dtype": {"type": tf_dtype}},
    }


def op_node(name: str, op: str, inputs: list[str], attr: dict) -> dict:
    """NodeDef fields in proto field order, as MessageToDict writes them: name, op, input, attr."""
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def _t(dtype: str) -> dict:
    return {"type": TF_DTYPES[dtype]}


def _tensor_info(name: str, dtype: str, shape: list[int]) -> dict:
    return {"name": name, "dtype": TF_DTYPES[dtype], "tensorShape": _tensor_shape(shape)}


GRAPH_LABELS = [b"hello", b"", "naïve café 日本語 🙂".encode("utf-8")]


@register
def graph() -> ModelDef:
    """A graph model ("format": "graph-model") as tensorflowjs_converter writes one for a frozen
    SavedModel: modelTopology is the GraphDef in protobuf JSON (MessageToDict), every Const's value
    moved to the weights (float32, int32 incl. a scalar, bool, string), a ``signature``.

    x [-1, 4] float32 -> MatMul(dense/kernel [4, 3]) -> BiasAdd(dense/bias) -> Relu -> Identity
    "output"; GatherV2(BiasAdd, gather/indices int32 [2, 0, 2, 1], gather/axis int32 scalar 1)
    "gathered"; Mul(BiasAdd, Cast(mask bool [3] -> float)) "masked"; Identity(labels/value string [3])
    "labels". Outputs in that order; 5 examples."""
    seed = 20240115
    rng = np.random.default_rng(seed)
    kernel = uniform(rng, (4, 3), glorot_limit(4, 3))
    bias = uniform(rng, (3,), 0.5)
    consts: list[Named] = [
        ("dense/kernel", kernel),
        ("dense/bias", bias),
        ("gather/indices", np.array([2, 0, 2, 1], np.int32)),
        ("gather/axis", np.array(1, np.int32)),
        ("mask", np.array([True, False, True])),
        ("labels/value", np.array(GRAPH_LABELS, dtype=object)),
    ]
    f32 = _t("float32")
    nodes = [placeholder_node("x", "float32", [-1, 4])]
    nodes += [const_node(n, dtype_name(a), a.shape) for n, a in consts]
    nodes += [
        op_node("dense/MatMul", "MatMul", ["x", "dense/kernel"],
                {"transpose_a": {"b": False}, "transpose_b": {"b": False}, "T": f32}),
        op_node("dense/BiasAdd", "BiasAdd", ["dense/MatMul", "dense/bias"],
                {"T": f32, "data_format": {"s": "TkhXQw=="}}),  # b"NHWC", base64
        op_node("dense/Relu", "Relu", ["dense/BiasAdd"], {"T": f32}),
        op_node("output", "Identity", ["dense/Relu"], {"T": f32}),
        op_node(
            "gathered",
            "GatherV2",
            ["dense/BiasAdd", "gather/indices", "gather/axis"],
            {"Tparams": f32, "Tindices": _t("int32"), "Taxis": _t("int32"), "batch_dims": {"i": "0"}},
        ),
        op_node("mask/Cast", "Cast", ["mask"], {"SrcT": _t("bool"), "DstT": f32, "Truncate": {"b": False}}),
        op_node("masked", "Mul", ["dense/BiasAdd", "mask/Cast"], {"T": f32}),
        op_node("labels", "Identity", ["labels/value"], {"T": _t("string")}),
    ]
    topology = {"node": nodes, "library": {}, "versions": {}}
    signature = {
        "inputs": {"x": _tensor_info("x:0", "float32", [-1, 4])},
        "outputs": {
            "output": _tensor_info("output:0", "float32", [-1, 3]),
            "gathered": _tensor_info("gathered:0", "float32", [-1, 4]),
            "masked": _tensor_info("masked:0", "float32", [-1, 3]),
            "labels": _tensor_info("labels:0", "string", [3]),
        },
    }
    return ModelDef(
        name="graph",
        seed=seed,
        topology=topology,
        weights=consts,
        inputs=[("x", uniform(rng, (5, 4), 2.0))],
        output_names=["output", "gathered", "masked", "labels"],
        tolerance=_measured("a 4-term dot product, a bias, relu, gather and a 0/1 mask", "1.2e-7", "1.2e-7",
                            "; the string output is compared exactly"),
        extra_json={"signature": signature},
        key_order="converter-graph",
        format="graph-model",
    )


# --- sized models: any number of weight bytes, made on demand (quota, capacity, large models) ---

SIZED_ROW_BYTES = 1024  # one kernel row: SIZED_UNITS float32 values
SIZED_UNITS = SIZED_ROW_BYTES // 4


def sized_name(weight_bytes: int) -> str:
    """"sized-256MiB", "sized-4000KiB", "sized-3072B": the model's name in rows and reports."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if weight_bytes % size == 0:
            return f"sized-{weight_bytes // size}{unit}"
    return f"sized-{weight_bytes}B"


def sized_bytes(name: str) -> int | None:
    """The weight bytes of a sized model's name ("sized-256MiB" -> 268435456), None for other names."""
    units = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10, "B": 1}
    if not name.startswith("sized-"):
        return None
    for unit, size in units.items():
        number = name[len("sized-"):].removesuffix(unit)
        if name.endswith(unit) and number.isdigit():
            return int(number) * size
    return None


def sized(weight_bytes: int) -> ModelDef:
    """Sequential "sized-<size>": one Dense(256, linear, no bias) over a one-hot input of
    weight_bytes / 1024 features, so its only weight (the kernel) is exactly `weight_bytes` bytes,
    cut into the usual 4 MiB shards. The two examples are one-hot rows (first and last feature):
    the expected outputs are kernel rows, bit for bit (0 * w adds only zeros), so any byte of the
    model that comes back wrong either shows in the weight comparison or in the predictions."""
    if weight_bytes <= 0 or weight_bytes % SIZED_ROW_BYTES:
        raise ValueError(f"a sized model has a positive multiple of {SIZED_ROW_BYTES} weight bytes, not {weight_bytes}")
    rows = weight_bytes // SIZED_ROW_BYTES
    name = sized_name(weight_bytes)
    seed = 20240200
    net = SequentialBuilder(name, input_shape=[rows], rng=np.random.default_rng(seed))
    kernel = net.rng.random((rows, SIZED_UNITS), dtype=np.float32) * 2 - 1  # float32 directly: 512 MiB models too
    net.add("Dense", dense_config("dense", SIZED_UNITS, "linear", use_bias=False), [("dense/kernel", kernel)])
    x = np.zeros((2, rows), np.float32)
    x[0, 0] = x[1, rows - 1] = 1.0
    exact = {"rtol": 0.0, "atol": 0.0, "why": "one-hot inputs: each output is a kernel row, copied exactly"}
    return net.finish(seed=seed, batch=2, tolerance=exact, x=x)
