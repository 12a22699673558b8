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

Adding a model = one ``@register`` function, usually via ``SequentialBuilder``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from .writer import GENERATED_BY, Named


@dataclasses.dataclass(frozen=True, eq=False)
class ModelDef:
    """Everything needed to write one model's fixtures."""

    name: str
    seed: int
    topology: dict  # Keras JSON, the model.json "modelTopology"
    weights: list[Named]  # one weight group, in TF.js order
    inputs: list[Named]  # (input tensor name, value)
    output_names: list[str]
    tolerance: dict  # {"rtol", "atol", "why"}


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


def uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> np.ndarray:
    """float32 values uniform in [-limit, limit)."""
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


class SequentialBuilder:
    """Builds a TF.js Sequential topology and its seeded weights layer by layer."""

    def __init__(self, name: str, input_shape: list[int], rng: np.random.Generator):
        self.name = name
        self.input_shape = list(input_shape)
        self.rng = rng
        self.layers: list[dict] = []
        self.weights: list[Named] = []
        self.width = self.input_shape[-1]

    def _add(self, class_name: str, config: dict) -> None:
        """Append a layer; the first one carries batch_input_shape and dtype, as in TF.js."""
        if not self.layers:
            config = {**config, "batch_input_shape": [None, *self.input_shape], "dtype": "float32"}
        self.layers.append({"class_name": class_name, "config": config})

    def dense(self, name: str, units: int, activation: str, bias_limit: float = 0.1) -> "SequentialBuilder":
        """Dense layer; kernel Glorot-uniform, bias uniform(+-bias_limit) (non-zero on purpose)."""
        self._add(
            "Dense",
            {
                "units": units,
                "activation": activation,
                "use_bias": True,
                "kernel_initializer": _variance_scaling_default(),
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
                "name": name,
                "trainable": True,
            },
        )
        limit = math.sqrt(6.0 / (self.width + units))
        self.weights.append((f"{name}/kernel", uniform(self.rng, (self.width, units), limit)))
        self.weights.append((f"{name}/bias", uniform(self.rng, (units,), bias_limit)))
        self.width = units
        return self

    def topology(self) -> dict:
        return {
            "class_name": "Sequential",
            "config": {"name": self.name, "layers": self.layers},
            "keras_version": GENERATED_BY,
            "backend": "tensor_flow.js",
        }

    def finish(self, seed: int, batch: int, tolerance: dict) -> ModelDef:
        """Draw ``batch`` inputs (uniform in [-2, 2)) after the weights and return the model."""
        first, last = self.layers[0]["config"]["name"], self.layers[-1]["config"]["name"]
        x = uniform(self.rng, (batch, *self.input_shape), 2.0)
        return ModelDef(
            name=self.name,
            seed=seed,
            topology=self.topology(),
            weights=self.weights,
            inputs=[(f"{first}_input", x)],  # TF.js names a Sequential's input "<first layer>_input"
            output_names=[last],
            tolerance=tolerance,
        )


ZOO: dict[str, Callable[[], ModelDef]] = {}


def register(fn: Callable[[], ModelDef]) -> Callable[[], ModelDef]:
    """Add a model function to the zoo under its function name."""
    ZOO[fn.__name__] = fn
    return fn


def build(name: str) -> ModelDef:
    """Build the named model (deterministic)."""
    try:
        fn = ZOO[name]
    except KeyError:
        raise KeyError(f"unknown golden model {name!r}; known: {', '.join(ZOO)}") from None
    model = fn()
    assert model.name == name, (model.name, name)
    return model


@register
def mlp() -> ModelDef:
    """Sequential "mlp": Dense(16, relu, input 8) -> Dense(4, softmax); 5 examples."""
    seed = 20240101
    net = SequentialBuilder("mlp", input_shape=[8], rng=np.random.default_rng(seed))
    net.dense("dense_1", 16, "relu")
    net.dense("dense_2", 4, "softmax")
    return net.finish(seed=seed, batch=5, tolerance=TOLERANCE_SMALL_DENSE)
