"""One training step, computed by numpy: what `model.fit(x, y, {epochs: 1, batchSize: len(x), shuffle: false})`
must do to a loaded Sequential stack of Dense layers compiled with categorical cross-entropy, for each of
TF.js's serialisable optimizers, and the optimizer state TF.js saves beside the weights.

The slot layout (names, order) is the one TF.js's optimizers' getWeights() gives and models_test's
'Saving+loading model with optimizer' tests assert: `iter` (int32 scalar) first, then per-variable slots
in variable order, one kind after another (`<w>/rms` of every weight, then `<w>/momentum` of every weight).
The updates are the published algorithms TF.js's API docs name (tf.train.sgd, momentum, rmsprop, adadelta,
adagrad, adam), written out below in float64 from the float32 values in the files; Adadelta's is the one
upstream's own test asserts, which is not the paper's (see step()).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import reference

EPSILON = 1e-7  # the cpu backend's epsilon(): Adagrad's, and the loss clip's (tfjs-layers backend/common.ts)


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One optimizer as a model.json's trainingConfig names it (`class_name`, `config` as TF.js's getConfig()
    writes it) and the slot kinds its getWeights() gives, in order."""

    case: str  # the row's label for it
    class_name: str
    config: dict
    slots: tuple[str, ...]


OPTIMIZERS: tuple[Optimizer, ...] = (
    Optimizer("sgd", "SGD", {"learningRate": 0.1}, ()),
    Optimizer("momentum", "Momentum", {"learningRate": 0.05, "momentum": 0.91, "useNesterov": False}, ("momentum",)),
    Optimizer("momentum-nesterov", "Momentum", {"learningRate": 0.05, "momentum": 0.9, "useNesterov": True},
              ("momentum",)),
    Optimizer("rmsprop", "RMSProp", {"learningRate": 0.01, "decay": 0.95, "momentum": 0.5, "epsilon": 1e-7,
                                     "centered": False}, ("rms", "momentum")),
    Optimizer("adadelta", "Adadelta", {"learningRate": 1.0, "rho": 0.95, "epsilon": 1e-6}, ("accum_grad", "accum_var")),
    Optimizer("adagrad", "Adagrad", {"learningRate": 0.05, "initialAccumulatorValue": 0.15}, ("accumulator",)),
    Optimizer("adam", "Adam", {"learningRate": 0.02, "beta1": 0.95, "beta2": 0.98, "epsilon": 1e-7}, ("m", "v")),
)
BY_CASE = {o.case: o for o in OPTIMIZERS}


def initial_state(optimizer: Optimizer, weights: dict[str, np.ndarray], rng: np.random.Generator,
                  iterations: int) -> dict[str, np.ndarray]:
    """A state as after `iterations` earlier steps (values drawn from rng, in each slot's own range:
    accumulators of squares non-negative), float32, keyed `<weight>/<slot>`."""
    out = {}
    for kind in optimizer.slots:
        for name, w in weights.items():
            if kind in ("rms", "accum_grad", "accum_var", "v"):
                value = rng.uniform(1e-6, 1e-3, w.shape)
            elif kind == "accumulator":
                value = optimizer.config["initialAccumulatorValue"] + rng.uniform(0.0, 0.05 * iterations, w.shape)
            else:  # momentum, m
                value = rng.uniform(-0.01, 0.01, w.shape)
            out[f"{name}/{kind}"] = value.astype(np.float32)
    return out


def slot_names(optimizer: Optimizer, weight_names: list[str]) -> list[str]:
    return ["iter"] + [f"{name}/{kind}" for kind in optimizer.slots for name in weight_names]


@dataclasses.dataclass(frozen=True)
class Step:
    loss: float
    acc: float
    weights: dict[str, np.ndarray]  # float64, after the step
    state: dict[str, np.ndarray]  # float64, after the step (the slots the step made, for a fresh optimizer)
    iterations: int


def dense_stack_gradients(layers: list[dict], weights: dict[str, np.ndarray], x: np.ndarray,
                          y: np.ndarray) -> tuple[float, float, dict[str, np.ndarray]]:
    """Loss (categorical cross-entropy, TF.js's: outputs renormalised, clipped to [eps, 1 - eps], mean over
    the batch), categorical accuracy and each weight's gradient, for Dense layers with linear or relu
    activations and a softmax last; float64."""
    h, cache = np.asarray(x, np.float64), []
    for i, layer in enumerate(layers):
        config = layer["config"]
        if layer["class_name"] != "Dense":
            raise NotImplementedError(f"train: layer {layer['class_name']}")
        act = config["activation"]
        if act not in (("softmax",) if i == len(layers) - 1 else ("linear", "relu")):
            raise NotImplementedError(f"train: activation {act} in layer {i}")
        name = config["name"]
        z = h @ weights[f"{name}/kernel"].astype(np.float64) + weights[f"{name}/bias"].astype(np.float64)
        cache.append((name, h, z, act))
        h = reference.activation(act, z)
    p = h / h.sum(axis=-1, keepdims=True)
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    if not np.array_equal(clipped, p):
        raise ValueError("train: an output is outside [eps, 1 - eps], where the clip's gradient is zero; choose other weights")
    n = x.shape[0]
    loss = float(np.mean(-np.sum(y * np.log(p), axis=-1)))
    acc = float(np.mean(np.argmax(y, -1) == np.argmax(p, -1)))
    grads: dict[str, np.ndarray] = {}
    dz = (p - y) / n  # softmax + cross-entropy, with sum(y) = 1 per example
    for name, h_in, z, act in reversed(cache):
        if act == "relu":
            if np.min(np.abs(z)) < 1e-4:
                raise ValueError("train: a relu input is within 1e-4 of 0, where float32 may take the other side")
            dz = dz * (z > 0)
        grads[f"{name}/kernel"] = h_in.T @ dz
        grads[f"{name}/bias"] = dz.sum(axis=0)
        dz = dz @ weights[f"{name}/kernel"].astype(np.float64).T  # the gradient of the layer's input
    return loss, acc, grads


def step(optimizer: Optimizer, layers: list[dict], weights: dict[str, np.ndarray], state: dict[str, np.ndarray],
         iterations: int, x: np.ndarray, y: np.ndarray) -> Step:
    """One fit() step of `optimizer` from `weights` and `state` (the slots as loaded; empty for a fresh
    optimizer, whose slots start at zero, or at initialAccumulatorValue for Adagrad) after `iterations`."""
    loss, acc, grads = dense_stack_gradients(layers, weights, x, y)
    c = optimizer.config
    lr = c["learningRate"]
    new_w, new_s = {}, {}
    for name, w in weights.items():
        g, w = grads[name], w.astype(np.float64)

        def slot(kind, start=0.0, name=name, w=w):
            key = f"{name}/{kind}"
            return state[key].astype(np.float64) if key in state else np.full(w.shape, start)

        if optimizer.class_name == "SGD":
            w = w - lr * g
        elif optimizer.class_name == "Momentum":
            a = c["momentum"] * slot("momentum") + g
            w = w - lr * (g + c["momentum"] * a if c["useNesterov"] else a)
            new_s[f"{name}/momentum"] = a
        elif optimizer.class_name == "RMSProp":
            ms = c["decay"] * slot("rms") + (1 - c["decay"]) * g * g
            mom = c["momentum"] * slot("momentum") + lr * g / np.sqrt(ms + c["epsilon"])
            w = w - mom
            new_s[f"{name}/rms"], new_s[f"{name}/momentum"] = ms, mom
        elif optimizer.class_name == "Adadelta":
            rho, eps = c["rho"], c["epsilon"]
            # upstream's, on purpose (adadelta_optimizer_test 'basic': "updates = -grad * sqrt(accumulatedUpdate +
            # epsilon) / sqrt(accumulatedGrad + epsilon)" with accumulatedGrad the one before this step); Zeiler's
            # Algorithm 1 and TF's ApplyAdadelta divide by the new one (the hazard adadelta-divides-by-previous-accumulator)
            ag = rho * slot("accum_grad") + (1 - rho) * g * g
            update = np.sqrt(slot("accum_var") + eps) / np.sqrt(slot("accum_grad") + eps) * g
            av = rho * slot("accum_var") + (1 - rho) * update * update
            w = w - lr * update
            new_s[f"{name}/accum_grad"], new_s[f"{name}/accum_var"] = ag, av
        elif optimizer.class_name == "Adagrad":
            acc_g = slot("accumulator", c["initialAccumulatorValue"]) + g * g
            w = w - lr * g / np.sqrt(acc_g + EPSILON)
            new_s[f"{name}/accumulator"] = acc_g
        elif optimizer.class_name == "Adam":
            b1, b2, t = c["beta1"], c["beta2"], iterations + 1
            m = b1 * slot("m") + (1 - b1) * g
            v = b2 * slot("v") + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + c["epsilon"])
            new_s[f"{name}/m"], new_s[f"{name}/v"] = m, v
        else:
            raise NotImplementedError(optimizer.class_name)
        new_w[name] = w
    return Step(loss, acc, new_w, new_s, iterations + 1)
