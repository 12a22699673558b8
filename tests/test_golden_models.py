"""Tests for the golden zoo beyond mlp: each numpy reference layer against a hand-computed or
independently computed (explicit loops) example, and what each model's fixtures must hold."""

from __future__ import annotations

import json
import math
import re
import struct

import numpy as np
import pytest

from harness import golden
from harness.golden import models, reference, writer

RNG = np.random.default_rng(7)


# --- reference layers vs independent computations ---


def _conv2d_loops(x, kernel, bias, stride, pad):
    """Textbook cross-correlation with explicit loops (pad = (top, bottom, left, right))."""
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = kernel.shape
    xp = np.zeros((n, h + pad[0] + pad[1], w + pad[2] + pad[3], c_in))
    xp[:, pad[0] : pad[0] + h, pad[2] : pad[2] + w, :] = x
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    y = np.zeros((n, h_out, w_out, c_out))
    for b in range(n):
        for i in range(h_out):
            for j in range(w_out):
                for o in range(c_out):
                    acc = bias[o]
                    for di in range(kh):
                        for dj in range(kw):
                            for c in range(c_in):
                                acc += xp[b, i * stride + di, j * stride + dj, c] * kernel[di, dj, c, o]
                    y[b, i, j, o] = acc
    return y


@pytest.mark.parametrize(
    "shape, k, stride, padding, pad",
    [
        ((2, 5, 6, 3), 3, 1, "valid", (0, 0, 0, 0)),
        ((2, 5, 6, 3), 3, 1, "same", (1, 1, 1, 1)),
        ((1, 6, 6, 2), 2, 1, "same", (0, 1, 0, 1)),  # even kernel: TF puts the extra row/column after
        ((1, 7, 5, 2), 3, 2, "same", (1, 1, 1, 1)),
        ((1, 6, 6, 2), 3, 2, "same", (0, 1, 0, 1)),
        ((1, 7, 7, 1), 2, 3, "valid", (0, 0, 0, 0)),
    ],
)
def test_conv2d_matches_explicit_loops(shape, k, stride, padding, pad):
    x = RNG.standard_normal(shape)
    kernel = RNG.standard_normal((k, k, shape[3], 4))
    bias = RNG.standard_normal(4)
    got = reference.conv2d(x, kernel, bias, (stride, stride), padding)
    np.testing.assert_allclose(got, _conv2d_loops(x, kernel, bias, stride, pad), rtol=1e-12, atol=1e-12)


def test_conv2d_hand_computed():
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # [[1,2,3],[4,5,6],[7,8,9]]
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)  # x[i,j] - x[i+1,j+1]
    y = reference.conv2d(x, kernel, np.array([0.5]), (1, 1), "valid")
    np.testing.assert_array_equal(y[0, :, :, 0], [[-3.5, -3.5], [-3.5, -3.5]])


def test_max_pool2d():
    x = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, -1.0, 7.0, 4.0], [0.0, 0.0, -3.0, -2.0], [9.0, 1.0, -5.0, -4.0]])
    y = reference.max_pool2d(x.reshape(1, 4, 4, 1), (2, 2), (2, 2))
    np.testing.assert_array_equal(y[0, :, :, 0], [[5.0, 7.0], [9.0, -2.0]])
    # 'same' pads with -inf: a 3x3 input pooled 2x2/2 keeps the lone last row/column values
    y = reference.max_pool2d(np.array([[-1.0, -2.0, -3.0]] * 3).reshape(1, 3, 3, 1), (2, 2), (2, 2), "same")
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1.0, -3.0], [-1.0, -3.0]])


def test_flatten_is_row_major_hwc():
    x = np.arange(12.0).reshape(1, 2, 3, 2)
    np.testing.assert_array_equal(reference.LAYERS["Flatten"]({"name": "f"}, {}, x), [np.arange(12.0)])


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def test_lstm_one_unit_hand_computed():
    # units 1, one feature; kernel columns i, f, c, o
    kernel = np.array([[0.5, -0.25, 1.0, 2.0]])
    recurrent = np.array([[0.1, 0.2, -0.3, 0.4]])
    bias = np.array([0.0, 1.0, 0.5, -1.0])
    x = np.array([[[2.0], [-1.0]]])  # batch 1, two steps
    h, c = 0.0, 0.0
    for xt in (2.0, -1.0):
        zi, zf, zc, zo = (xt * kernel[0, g] + h * recurrent[0, g] + bias[g] for g in range(4))
        c = _sigmoid(zf) * c + _sigmoid(zi) * math.tanh(zc)
        h = _sigmoid(zo) * math.tanh(c)
    got = reference.lstm(x, kernel, recurrent, bias, "tanh", "sigmoid")
    np.testing.assert_allclose(got, [[h]], rtol=1e-14)
    seq = reference.lstm(x, kernel, recurrent, bias, "tanh", "sigmoid", return_sequences=True)
    assert seq.shape == (1, 2, 1) and seq[0, 1, 0] == got[0, 0]


def test_lstm_matches_per_gate_matrices():
    """Independent formulation: four separate weight matrices per gate, per-sample loop."""
    units, feat, steps = 3, 2, 4
    kernel = RNG.standard_normal((feat, 4 * units))
    recurrent = RNG.standard_normal((units, 4 * units))
    bias = RNG.standard_normal(4 * units)
    x = RNG.standard_normal((2, steps, feat))
    W = {g: kernel[:, k * units : (k + 1) * units] for k, g in enumerate("ifco")}
    U = {g: recurrent[:, k * units : (k + 1) * units] for k, g in enumerate("ifco")}
    B = {g: bias[k * units : (k + 1) * units] for k, g in enumerate("ifco")}
    for act, rec in (("tanh", "sigmoid"), ("tanh", "hardSigmoid")):
        rec_fn = reference.ACTIVATIONS[rec]
        expected = []
        for b in range(2):
            h, c = np.zeros(units), np.zeros(units)
            for t in range(steps):
                gate = {g: x[b, t] @ W[g] + h @ U[g] + B[g] for g in "ifco"}
                c = rec_fn(gate["f"]) * c + rec_fn(gate["i"]) * np.tanh(gate["c"])
                h = rec_fn(gate["o"]) * np.tanh(c)
            expected.append(h)
        np.testing.assert_allclose(reference.lstm(x, kernel, recurrent, bias, act, rec), expected, rtol=1e-12)


def test_activations_hand_computed():
    np.testing.assert_allclose(reference.hard_sigmoid(np.array([-3.0, -2.5, 0.0, 1.0, 2.5, 9.0])), [0, 0, 0.5, 0.7, 1, 1])
    np.testing.assert_allclose(reference.sigmoid(np.array([0.0, 800.0, -800.0])), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(reference.ACTIVATIONS["tanh"](np.array([0.0, math.atanh(0.5)])), [0.0, 0.5])


def test_embedding_and_global_average_pooling():
    table = np.array([[0.0, 1.0], [10.0, 20.0], [-4.0, 4.0]])
    y = reference.LAYERS["Embedding"]({"name": "e"}, {"e/embeddings": table}, np.array([[1, 2, 1], [0, 0, 2]], np.int32))
    np.testing.assert_array_equal(y, [[[10, 20], [-4, 4], [10, 20]], [[0, 1], [0, 1], [-4, 4]]])
    pooled = reference.LAYERS["GlobalAveragePooling1D"]({"name": "g"}, {}, y)
    np.testing.assert_allclose(pooled, [[16 / 3, 44 / 3], [-4 / 3, 2.0]])
    # float indices (what a float32 input holds) are cast like TF.js's cast to int32
    np.testing.assert_array_equal(reference.embedding(np.array([[2.0]]), table), [[[-4.0, 4.0]]])


def test_batch_norm_hand_computed():
    w = {
        "bn/gamma": np.array([2.0, 1.0]),
        "bn/beta": np.array([0.5, -1.0]),
        "bn/moving_mean": np.array([1.0, 0.0]),
        "bn/moving_variance": np.array([3.999, 0.249]),
    }
    config = models.batch_norm_config("bn", epsilon=0.001)  # sqrt(var + eps) = 2, 0.5
    y = reference.LAYERS["BatchNormalization"](config, w, np.array([[5.0, 1.0]]))
    np.testing.assert_allclose(y, [[(5 - 1) / 2 * 2 + 0.5, 1 / 0.5 - 1.0]])  # [4.5, 1]
    y = reference.LAYERS["BatchNormalization"]({**config, "scale": False, "center": False}, w, np.array([[5.0, 1.0]]))
    np.testing.assert_allclose(y, [[2.0, 2.0]])


def test_weightless_layers():
    x = np.arange(6.0).reshape(1, 6)
    np.testing.assert_array_equal(reference.LAYERS["Dropout"](models.dropout_config("d", 0.9), {}, x), x)
    r = reference.LAYERS["Reshape"]({"name": "r", "target_shape": [2, 3]}, {}, x)
    np.testing.assert_array_equal(r, [[[0, 1, 2], [3, 4, 5]]])
    np.testing.assert_array_equal(reference.LAYERS["Reshape"]({"name": "r", "target_shape": [-1, 2]}, {}, x).shape, (1, 3, 2))
    np.testing.assert_allclose(reference.LAYERS["Activation"]({"name": "a", "activation": "tanh"}, {}, x), np.tanh(x))
    cat = reference.LAYERS["Concatenate"]({"name": "c", "axis": -1}, {}, [np.ones((2, 1)), np.zeros((2, 2))])
    np.testing.assert_array_equal(cat, [[1, 0, 0], [1, 0, 0]])
    with pytest.raises(NotImplementedError, match="activation 'gelu'"):
        reference.activation("gelu", x)


def test_functional_graph_matches_manual_composition():
    """The functional fixture's topology, evaluated by run_graph, equals the same maths written out."""
    model = models.build("functional")
    w = dict(model.weights)
    xa, xb = (x for _, x in model.inputs)
    cat = np.concatenate([xa, xb], axis=-1).astype(np.float64)
    inner = reference.dense(cat, w["inner_dense/kernel"], w["inner_dense/bias"], "tanh")
    head_1 = reference.dense(inner, w["head_1/kernel"], w["head_1/bias"], "softmax")
    head_2 = reference.dense(cat, w["head_2/kernel"], w["head_2/bias"], "linear")
    got = reference.predict(model.topology, w, [xa, xb])
    assert len(got) == 2
    np.testing.assert_array_equal(got[0], head_1)
    np.testing.assert_array_equal(got[1], head_2)
    # the nested Sequential is referenced as node 1 (its node 0 is its own graph), as TF.js writes it
    layers = {layer["name"]: layer for layer in model.topology["config"]["layers"]}
    assert layers["head_1"]["inbound_nodes"] == [[["inner", 1, 0, {}]]]
    # layer order in the config does not matter to the evaluator; a dangling reference is an error
    shuffled = json.loads(json.dumps(model.topology))
    shuffled["config"]["layers"].reverse()
    np.testing.assert_array_equal(reference.predict(shuffled, w, [xa, xb])[1], head_2)
    broken = json.loads(json.dumps(model.topology))
    broken["config"]["layers"][-1]["inbound_nodes"] = [[["nowhere", 0, 0, {}]]]
    with pytest.raises(ValueError, match="unresolvable"):
        reference.predict(broken, w, [xa, xb])


def test_nested_functional_model_as_layer():
    inner = models.FunctionalBuilder("inner")
    i = inner.input("i", [2])
    inner.outputs(inner.apply("Activation", models.simple_config("neg", activation="relu"), [i]))
    outer = models.FunctionalBuilder("outer")
    x = outer.input("x", [2])
    y = outer.apply("Model", inner.topology()["config"], [x])
    assert y == ("inner", 1, 0)
    outer.outputs(y)
    (out,) = reference.predict(outer.topology(), {}, [np.array([[-1.0, 2.0]])])
    np.testing.assert_array_equal(out, [[0.0, 2.0]])


# --- per-model fixture properties ---


def _model_json(name):
    return json.loads((golden.FIXTURES / name / "model.json").read_text("utf-8"))


def _layer_names(config):
    for layer in config["layers"]:
        yield layer["config"]["name"]
        if layer["class_name"] in ("Sequential", "Model"):
            yield from _layer_names(layer["config"])


# TF.js 4.22.0 tfjs-layers common.ts isValidTensorName: every layer name becomes a tensor name.
_TFJS_TENSOR_NAME = re.compile(r"[A-Za-z0-9][-A-Za-z0-9._/]*")


LAYERS_MODELS = [n for n in golden.MODELS if models.build(n).format == "layers-model"]


@pytest.mark.parametrize("name", LAYERS_MODELS)
def test_layer_names_are_valid_tfjs_tensor_names(name):
    config = _model_json(name)["modelTopology"]["config"]
    for layer_name in _layer_names(config):
        assert _TFJS_TENSOR_NAME.fullmatch(layer_name), layer_name


def test_graph_node_names_are_valid_tensor_names():
    for node in _model_json("graph")["modelTopology"]["node"]:
        assert _TFJS_TENSOR_NAME.fullmatch(node["name"]), node["name"]


def test_cnn_weights_are_keras_layout():
    specs = {s["name"]: s["shape"] for s in golden.load("cnn").weight_specs}
    assert specs["conv_1/kernel"] == [3, 3, 3, 4] and specs["conv_2/kernel"] == [2, 2, 4, 6]
    assert specs["dense_1/kernel"] == [54, 3]
    layers = _model_json("cnn")["modelTopology"]["config"]["layers"]
    assert [(layer["config"].get("padding")) for layer in layers[:3]] == ["same", "valid", "valid"]


def test_rnn_uses_explicit_sigmoid_gates():
    (lstm,) = [layer for layer in _model_json("rnn")["modelTopology"]["config"]["layers"] if layer["class_name"] == "LSTM"]
    assert lstm["config"]["recurrent_activation"] == "sigmoid" and lstm["config"]["activation"] == "tanh"
    specs = {s["name"]: s["shape"] for s in golden.load("rnn").weight_specs}
    assert specs == {
        "lstm_1/kernel": [3, 20],
        "lstm_1/recurrent_kernel": [5, 20],
        "lstm_1/bias": [20],
        "dense_1/kernel": [5, 2],
        "dense_1/bias": [2],
    }


def test_embedding_input_is_little_endian_int32():
    g = golden.load("embedding")
    (spec,) = g.examples["inputs"]
    assert spec["dtype"] == "int32" and spec["shape"] == [5, 7]
    raw = (g.dir / spec["path"]).read_bytes()
    assert len(raw) == 5 * 7 * 4
    assert list(struct.unpack("<7i", raw[:28])) == [0, 19, 0, 19, 1, 2, 3]
    assert g.inputs[0].min() >= 0 and g.inputs[0].max() < 20


def test_batchnorm_weight_order_is_tfjs_save_order():
    names = [s["name"] for s in golden.load("batchnorm").weight_specs]
    assert names == [
        "dense_1/kernel", "dense_1/bias", "batch_norm_1/gamma", "batch_norm_1/beta",
        "dense_2/kernel", "dense_2/bias", "batch_norm_1/moving_mean", "batch_norm_1/moving_variance",
    ]  # fmt: skip


def test_functional_examples_follow_model_io_order():
    g = golden.load("functional")
    config = g.model_json["modelTopology"]["config"]
    assert g.model_json["modelTopology"]["class_name"] == "Model"
    assert [e["name"] for e in g.examples["inputs"]] == [n for n, _, _ in config["input_layers"]] == ["in_a", "in_b"]
    assert [e["name"] for e in g.examples["outputs"]] == [n for n, _, _ in config["output_layers"]]
    assert [o.shape for o in g.outputs] == [(4, 2), (4, 1)]
    layers = {layer["name"]: layer for layer in config["layers"]}
    assert layers["inner"]["class_name"] == "Sequential" and layers["concat_1"]["class_name"] == "Concatenate"


def test_sharded_is_three_4_mib_shards():
    d = golden.FIXTURES / "sharded"
    (group,) = _model_json("sharded")["weightsManifest"]
    assert group["paths"] == ["group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"]
    sizes = [(d / p).stat().st_size for p in group["paths"]]
    assert sizes[:2] == [4194304, 4194304] and sum(sizes) == 10329616 >= 10_000_000
    # dense_2/kernel starts in shard 1 and ends in shard 3
    start = (8 * 1600 + 1600) * 4
    assert start < 4194304 and start + 1600 * 1600 * 4 > 2 * 4194304
    inputs = golden.load("sharded").inputs
    assert sum(x.nbytes for x in inputs) <= 1024


def test_special_float_bit_patterns_are_exact():
    d = golden.FIXTURES / "special-floats"
    raw = (d / "group1-shard1of1.bin").read_bytes()
    words = list(struct.unpack("<20I", raw))
    assert words == [
        0x7FC00000, 0x7F800000, 0x7F7FFFFF, 0x3F800000,
        0x7FC00001, 0x80000000, 0x00000001, 0xFF800000,
        0xFFC00123, 0x807FFFFF, 0x00800000, 0x80000000,
        0x7F800001, 0x00000001, 0x3E800000, 0xFF7FFFFF,
        0x80000000, 0x807FFFFF, 0x00000001, 0x3E800000,
    ]  # fmt: skip
    # load() keeps them too (no float conversion on the way)
    assert golden.load("special-floats").weight_data == raw


def test_special_float_outputs():
    g = golden.load("special-floats")
    (y,) = g.outputs
    x = g.inputs[0]
    assert np.isnan(y[:, 0]).all()  # every NaN payload propagates
    assert np.isinf(y[:, 1]).all() and (np.sign(y[:, 1]) == np.sign(x[:, 0])).all()  # +Inf * x0
    assert np.isfinite(y[:, 2]).all() and (np.abs(y[:, 2]) > 1e37).all()  # max * x0 dominates, no overflow
    assert (y[:, 3] == np.where(x[:, 1] > 0, -np.inf, np.inf)).all()  # -Inf * x1
    assert (x != 0).all() and (np.abs(x) < 1).all()
    assert np.isclose(y, y, equal_nan=True).all()  # the comparator's rule accepts NaN == NaN and Inf == Inf


def test_edge_names_and_zero_size_tensor():
    mj = _model_json("edge")
    config = mj["modelTopology"]["config"]
    assert config["name"] == models.UNICODE_MODEL_NAME and not config["name"].isascii()
    names = list(_layer_names(config))
    assert max(len(n) for n in names) >= 200 and sum(len(n) >= 200 for n in names) == 2
    g = golden.load("edge")
    specs = {s["name"]: s["shape"] for s in g.weight_specs}
    assert specs["zero_width/kernel"] == [0, 2]
    assert specs[f"{models.LONG_NAME}/kernel"] == [4, 3]
    weightless = [layer for layer in config["layers"] if layer["class_name"] in ("Concatenate", "Reshape", "Activation")]
    assert len(weightless) == 3 and not any(s.startswith(layer["name"] + "/") for layer in weightless for s in specs)
    assert (g.dir / "input1.bin").read_bytes() == b"" and g.inputs[1].shape == (3, 0)
    # model.json carries the unicode name as UTF-8, unescaped (as JSON.stringify writes it)
    assert models.UNICODE_MODEL_NAME.encode("utf-8") in (g.dir / "model.json").read_bytes()


def test_no_weights_manifest_is_one_empty_group():
    mj = _model_json("no-weights")
    assert mj["weightsManifest"] == [{"paths": [], "weights": []}]
    assert not list((golden.FIXTURES / "no-weights").glob("*shard*"))
    g = golden.load("no-weights")
    assert g.weight_data == b"" and g.weight_specs == []
    assert {layer["class_name"] for layer in mj["modelTopology"]["config"]["layers"]} == {"Reshape", "Activation"}


def test_metadata_model_json_as_tfjs_writes_it():
    mj = _model_json("metadata")
    assert list(mj) == [
        "modelTopology", "format", "generatedBy", "convertedBy", "weightsManifest",
        "signature", "userDefinedMetadata", "trainingConfig",
    ]  # fmt: skip
    assert mj["userDefinedMetadata"] == models.METADATA
    assert mj["userDefinedMetadata"]["unicode"].startswith("naïve café — 日本語")
    assert mj["trainingConfig"]["optimizer_config"] == {
        "class_name": "Adam",
        "config": {"learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
    }
    specs = mj["weightsManifest"][0]["weights"]
    model_names = ["dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias"]
    assert [s["name"] for s in specs] == (model_names + ["iter"] + [f"{n}/m" for n in model_names]
                                          + [f"{n}/v" for n in model_names])
    assert all("group" not in s for s in specs[:4]) and all(s["group"] == "optimizer" for s in specs[4:])
    assert list(specs[4]) == ["name", "shape", "dtype", "group"]
    assert specs[4] == {"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"}
    g = golden.load("metadata")
    assert struct.unpack_from("<i", g.weight_data, 4 * (12 + 3 + 6 + 2)) == (1,)  # iter = 1 after one fit step
    raw = (g.dir / "model.json").read_text("utf-8")
    assert "\\u" not in raw and "日本語" in raw and '\\"quoted\\"' in raw and "\\t" in raw


# --- writer: key orders and manifest extras ---


def test_model_json_dict_orders_and_refusals():
    extra = {"trainingConfig": {}, "userDefinedMetadata": {"a": 1}}
    tfjs = writer.model_json_dict({}, [], extra, "tfjs")
    assert list(tfjs) == ["modelTopology", "format", "generatedBy", "convertedBy", "weightsManifest", "userDefinedMetadata",
                          "trainingConfig"]
    conv = writer.model_json_dict({}, [], {"userDefinedMetadata": {}}, "converter")
    assert list(conv) == ["format", "generatedBy", "convertedBy", "modelTopology", "userDefinedMetadata", "weightsManifest"]
    with pytest.raises(ValueError, match="trainingConfig"):
        writer.model_json_dict({}, [], extra, "converter")
    with pytest.raises(ValueError, match="spec_extra"):
        writer.write_weights(None, [[("w", np.zeros(1, np.float32))]], spec_extra={"nope": {"group": "x"}})


def test_write_weights_zero_bytes_and_spec_extra(tmp_path):
    manifest, files = writer.write_weights(tmp_path, [[("z", np.zeros((0, 3), np.float32))]])
    assert manifest == [{"paths": [], "weights": [{"name": "z", "shape": [0, 3], "dtype": "float32"}]}] and files == []
    manifest, _ = writer.write_weights(tmp_path, [[("n", np.array(7, np.int32))]], spec_extra={"n": {"group": "optimizer"}})
    assert manifest[0]["weights"] == [{"name": "n", "shape": [], "dtype": "int32", "group": "optimizer"}]
    assert (tmp_path / "group1-shard1of1.bin").read_bytes() == struct.pack("<i", 7)


# --- quantization (tensorflowjs quantization.py rules, TF.js io_utils decodeWeight) ---


def test_quantize_uint8_nudges_zero_hand_computed():
    # [-1, 0, 3]: scale 4/255; zero point round(1 / (4/255)) = round(63.75) = 64; min = -64 * 4/255;
    # -1 -> round(0.25) = 0, 0 -> 64 exactly, 3 -> clipped to max = (255 - 64) * 4/255 -> 255
    q, entry = writer.quantize(np.array([-1.0, 0.0, 3.0], np.float32), "uint8")
    assert q.dtype == np.uint8 and q.tolist() == [0, 64, 255]
    assert entry == {"dtype": "uint8", "min": -64 * (4 / 255), "scale": 4 / 255, "original_dtype": "float32"}
    assert list(entry) == ["dtype", "min", "scale", "original_dtype"]  # tensorflowjs write_weights order
    assert writer.dequantize(q, entry)[1] == 0.0


def test_quantize_matches_converter_test_scales():
    """tensorflowjs quantization_test.py: np.arange(lo, hi + 1) quantizes with scale (hi - lo) / (2**bits - 1)."""
    for lo, hi in [(-3, -1), (-3, 0), (-3, 3), (0, 3), (1, 3)]:
        d = np.arange(lo, hi + 1, dtype=np.float32)
        for dtype, levels in (("uint8", 255), ("uint16", 65535)):
            q, entry = writer.quantize(d, dtype)
            assert entry["scale"] == (hi - lo) / levels
            np.testing.assert_allclose(writer.dequantize(q, entry), d, atol=entry["scale"])
            if lo <= 0 <= hi:
                assert 0.0 in writer.dequantize(q, entry).tolist()  # zero exactly representable
            else:
                assert entry["min"] == lo  # not nudged


def test_quantize_all_equal_and_float16():
    q, entry = writer.quantize(np.full(5, 0.25, np.float32), "uint16")
    assert q.dtype == np.uint16 and not q.any() and entry["scale"] == 1.0 and entry["min"] == 0.25
    q, entry = writer.quantize(np.array([1.0, -0.0, 3e-6, 1e-9, 70000.0], np.float32), "float16")
    assert entry == {"dtype": "float16", "original_dtype": "float32"}
    assert q.dtype == np.float16 and q.view(np.uint16).tolist() == [0x3C00, 0x8000, 0x0032, 0x0000, 0x7C00]
    with pytest.raises(ValueError, match="float32"):
        writer.quantize(np.ones(2, np.int32), "uint8")
    with pytest.raises(ValueError, match="unknown quantization"):
        writer.quantize(np.ones(2, np.float32), "int8")


def test_dequantize_rounds_once_like_javascript():
    """TF.js: Float32Array[i] = q * scale + min with JavaScript (double) numbers: one rounding to
    float32 at the end. Doing the arithmetic in float32 gives different bits for about half the
    values of a real weight (measured: 61 of 128 elements of quantized-uint8 dense_1/kernel)."""
    entry = {"dtype": "uint16", "min": -0.48845079997006585, "scale": 0.003876593650556078}
    q = np.arange(65536, dtype=np.uint16)
    got = writer.dequantize(q, entry)
    exact = [np.float32(int(v) * entry["scale"] + entry["min"]) for v in q[:2000]]
    assert got[:2000].tobytes() == np.array(exact, np.float32).tobytes()
    in_float32 = q.astype(np.float32) * np.float32(entry["scale"]) + np.float32(entry["min"])
    assert (in_float32 != got).sum() > 1000


def test_float16_dequantize_is_exact_widening():
    bits = np.arange(65536, dtype=np.uint16)
    got = writer.dequantize(bits.view(np.float16), {"dtype": "float16"})
    assert got.dtype == np.float32
    finite = np.isfinite(got)
    assert (got[finite] == bits.view(np.float16)[finite].astype(np.float64)).all()
    assert np.isnan(got).sum() == 2 * 1023 and np.isinf(got).sum() == 2


@pytest.mark.parametrize("name, dtype", [("quantized-uint8", "uint8"), ("quantized-uint16", "uint16"),
                                         ("quantized-float16", "float16")])
def test_quantized_fixtures(name, dtype):
    g = golden.load(name)
    assert g.format == "layers-model" and g.quantized
    assert all(s["dtype"] == "float32" and s["quantization"]["dtype"] == dtype for s in g.weight_specs)
    width = {"uint8": 1, "uint16": 2, "float16": 2}[dtype]
    assert len(g.weight_data) == width * (8 * 16 + 16 + 16 * 4 + 4)
    assert len(g.after_load_data) == 4 * (8 * 16 + 16 + 16 * 4 + 4) and (g.dir / "after-load.bin").exists()
    assert all("quantization" not in s for s in g.after_load_specs)
    specs = {s["name"]: s["quantization"] for s in g.weight_specs}
    loaded = dict(writer.dequantized_weights(models.build(name).weights, {s["name"]: dtype for s in g.weight_specs}))
    if dtype != "float16":
        assert specs["dense_2/bias"] == {"dtype": dtype, "min": float(np.float32(0.05)), "scale": 1, "original_dtype": "float32"}
        assert specs["dense_1/bias"]["min"] > 0  # all positive: not nudged
        assert 0.0 in loaded["dense_1/kernel"].ravel().tolist()  # nudged: zero exact
    else:
        row = loaded["dense_1/kernel"][0, :4]
        assert row.view(np.uint32).tolist()[0] == 0x80000000  # -0 kept
        assert row[1] == np.float16(3e-6) and row[2] == 2.0**-24 and row[3] == 0.0  # subnormals, underflow


def test_quantized_outputs_use_dequantized_weights():
    g = golden.load("quantized-uint8")
    model = models.build("quantized-uint8")
    loaded = dict(writer.dequantized_weights(model.weights, model.quantization))
    (y,) = reference.predict(model.topology, loaded, [g.inputs[0]])
    assert y.astype(np.float32).tobytes() == g.outputs[0].tobytes()
    (y_orig,) = reference.predict(model.topology, dict(model.weights), [g.inputs[0]])
    assert not np.array_equal(y_orig.astype(np.float32), g.outputs[0])  # quantization changed something


# --- strings, bools ---


def test_string_codec():
    arr = np.array([b"hello", b"", "naïve 🙂"], dtype=object)
    data = writer.encode_tensor(arr)
    assert data == b"\x05\x00\x00\x00hello" + b"\x00" * 4 + struct.pack("<I", 11) + "naïve 🙂".encode("utf-8")
    assert writer.dtype_name(arr) == "string"
    back = writer.decode_tensor(data, "string", [3])
    assert back.dtype == object and back.tolist() == [b"hello", b"", "naïve 🙂".encode("utf-8")]
    assert writer.decode_tensor(writer.encode_tensor(arr.reshape(3, 1)), "string", [3, 1]).shape == (3, 1)
    with pytest.raises(ValueError, match="bytes"):
        writer.decode_tensor(data + b"x", "string", [3])
    assert writer.encode_tensor(np.array([True, False, True])) == b"\x01\x00\x01"


# --- graph model ---


def test_reference_graph_hand_computed():
    nodes = [
        models.placeholder_node("x", "float32", [-1, 2]),
        models.const_node("w", "float32", (2, 2)),
        models.const_node("b", "float32", (2,)),
        models.const_node("i", "int32", (3,)),
        models.const_node("axis", "int32", ()),
        models.const_node("m", "bool", (2,)),
        models.op_node("mm", "MatMul", ["x", "w"], {}),
        models.op_node("ba", "BiasAdd", ["mm", "b"], {}),
        models.op_node("r", "Relu", ["ba"], {}),
        models.op_node("g", "GatherV2", ["ba", "i", "axis"], {}),
        models.op_node("c", "Cast", ["m"], {"DstT": {"type": "DT_FLOAT"}}),
        models.op_node("k", "Mul", ["ba", "c", "^r"], {}),
    ]
    weights = {
        "w": np.array([[1.0, -1.0], [0.5, 2.0]]),
        "b": np.array([0.5, -10.0]),
        "i": np.array([1, 0, 1], np.int32),
        "axis": np.array(1, np.int32),
        "m": np.array([False, True]),
    }
    # [1, 2] @ w + b = [2.5, -7]
    r, g, k = reference.run_graph_def({"node": nodes}, weights, {"x": np.array([[1.0, 2.0]])}, ["r", "g", "k"])
    np.testing.assert_array_equal(r, [[2.5, 0.0]])
    np.testing.assert_array_equal(g, [[-7.0, 2.5, -7.0]])
    np.testing.assert_array_equal(k, [[0.0, -7.0]])
    with pytest.raises(NotImplementedError, match="Softmax"):
        reference.run_graph_def({"node": [*nodes, models.op_node("s", "Softmax", ["r"], {})]}, weights,
                                {"x": np.zeros((1, 2))}, ["s"])


def test_graph_model_json_as_the_converter_writes_it():
    mj = _model_json("graph")
    assert list(mj) == ["format", "generatedBy", "convertedBy", "signature", "modelTopology", "weightsManifest"]
    assert mj["format"] == "graph-model"
    topology = mj["modelTopology"]
    assert list(topology) == ["node", "library", "versions"]
    nodes = {n["name"]: n for n in topology["node"]}
    for node in topology["node"]:
        assert list(node) == (["name", "op", "attr"] if node["op"] in ("Placeholder", "Const")
                              else ["name", "op", "input", "attr"])
    specs = mj["weightsManifest"][0]["weights"]
    consts = [n["name"] for n in topology["node"] if n["op"] == "Const"]
    assert [s["name"] for s in specs] == consts  # a weight per Const, in node order
    assert {s["dtype"] for s in specs} == {"float32", "int32", "bool", "string"}
    dt = {"float32": "DT_FLOAT", "int32": "DT_INT32", "bool": "DT_BOOL", "string": "DT_STRING"}
    for s in specs:
        tensor = nodes[s["name"]]["attr"]["value"]["tensor"]
        assert tensor["dtype"] == dt[s["dtype"]] == nodes[s["name"]]["attr"]["dtype"]["type"]
        assert [int(d["size"]) for d in tensor["tensorShape"].get("dim", [])] == s["shape"]
    assert specs[3] == {"name": "gather/axis", "shape": [], "dtype": "int32"}  # a scalar: tensorShape {}
    assert nodes["dense/BiasAdd"]["attr"]["data_format"] == {"s": "TkhXQw=="}  # bytes are base64 in proto JSON


def test_graph_examples_and_string_weight():
    g = golden.load("graph")
    assert [e["name"] for e in g.examples["inputs"]] == ["x"]
    assert [e["name"] for e in g.examples["outputs"]] == ["output", "gathered", "masked", "labels"]
    assert list(g.model_json["signature"]["outputs"]) == ["output", "gathered", "masked", "labels"]
    assert [e["dtype"] for e in g.examples["outputs"]] == ["float32", "float32", "float32", "string"]
    assert g.outputs[3].tolist() == models.GRAPH_LABELS
    out, gathered, masked, _ = g.outputs
    assert (out >= 0).all() and (gathered[:, 0] == gathered[:, 2]).all()
    np.testing.assert_array_equal(out, np.maximum(gathered[:, [1, 3, 0]], 0))  # gathered = biasadd[:, [2, 0, 2, 1]]
    assert (masked[:, 1] == 0).all() and (masked[:, [0, 2]] == gathered[:, [1, 0]]).all()
    tail = b"".join(struct.pack("<I", len(s)) + s for s in models.GRAPH_LABELS)
    assert g.weight_data.endswith(b"\x01\x00\x01" + tail)  # bool mask, then the string weight
    assert "after_load" not in g.examples and g.after_load_data == g.weight_data
