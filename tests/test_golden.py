"""Tests for harness.golden: fixtures up to date, format read back independently,
multi-shard splitting, the numpy reference, and JS number formatting."""

from __future__ import annotations

import json
import math
import re
import struct

import numpy as np
import pytest

from harness import golden
from harness.golden import models, reference, writer


def test_fixtures_are_up_to_date():
    """Same function as `python -m harness.golden --check`: regenerate into a tmp dir, byte-compare."""
    assert golden.check() == []


def test_regeneration_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    files_a, files_b = golden.generate(a), golden.generate(b)
    assert [p.relative_to(a) for p in files_a] == [p.relative_to(b) for p in files_b]
    assert all(pa.read_bytes() == pb.read_bytes() for pa, pb in zip(files_a, files_b))


# --- an independent reader: json + struct only, no numpy, no harness.golden code ---

_FORMATS = {"float32": ("<f", 4), "int32": ("<i", 4), "bool": ("<?", 1)}
_QUANTIZED_FORMATS = {"uint8": ("<B", 1), "uint16": ("<H", 2), "float16": ("<e", 2)}  # "<e": IEEE half
_SHARD = re.compile(r"group(\d+)-shard(\d+)of(\d+)\.bin")


def _byte_length(w, data, offset):
    """Bytes one manifest weight takes at ``offset``: quantized by its storage dtype; strings are
    elements of (uint32 LE length, UTF-8 bytes)."""
    count = math.prod(w["shape"])
    if "quantization" in w:
        return count * _QUANTIZED_FORMATS[w["quantization"]["dtype"]][1]
    if w["dtype"] == "string":
        n = 0
        for _ in range(count):
            (length,) = struct.unpack_from("<I", data, offset + n)
            n += 4 + length
        return n
    return count * _FORMATS[w["dtype"]][1]


def _read_artifacts(model_dir):
    """Return (model_json, [(spec, offset, byte length)], all shard bytes) using json/struct only."""
    with open(model_dir / "model.json", encoding="utf-8") as f:
        model_json = json.load(f)
    entries, data = [], b""
    for g, group in enumerate(model_json["weightsManifest"], start=1):
        n = len(group["paths"])
        group_data = b""
        for i, path in enumerate(group["paths"], start=1):
            assert _SHARD.fullmatch(path).groups() == (str(g), str(i), str(n)), path
            with open(model_dir / path, "rb") as f:
                group_data += f.read()
        data += group_data
        offset = len(data) - len(group_data)
        for w in group["weights"]:
            size = _byte_length(w, data, offset)
            entries.append((w, offset, size))
            offset += size
        assert offset == len(data), "manifest sizes != shard bytes"
    return model_json, entries, data


def _decode(spec, data, offset):
    """Every element of one weight as Python values; quantized ones dequantized as TF.js does
    (q * scale + min in double precision, then rounded to float32; float16 widened)."""
    count = math.prod(spec["shape"])
    if "quantization" in spec:
        q = spec["quantization"]
        fmt, size = _QUANTIZED_FORMATS[q["dtype"]]
        raw = [struct.unpack_from(fmt, data, offset + k * size)[0] for k in range(count)]
        if q["dtype"] != "float16":
            raw = [v * q["scale"] + q["min"] for v in raw]
        return [struct.unpack("<f", struct.pack("<f", v))[0] for v in raw], raw
    if spec["dtype"] == "string":
        values, n = [], 0
        for _ in range(count):
            (length,) = struct.unpack_from("<I", data, offset + n)
            values.append(data[offset + n + 4 : offset + n + 4 + length])
            n += 4 + length
        return values, values
    fmt, size = _FORMATS[spec["dtype"]]
    values = [struct.unpack_from(fmt, data, offset + k * size)[0] for k in range(count)]
    return values, values


# The top-level key orders a model.json may have: the tensorflowjs converter's (layers, graph),
# and TF.js's own (tfjs-core io_utils getModelJSONForModelArtifacts); spelled out here, not imported.
_CONVERTER_ORDER = ["format", "generatedBy", "convertedBy", "modelTopology", "userDefinedMetadata", "weightsManifest"]
_CONVERTER_GRAPH_ORDER = [
    "format", "generatedBy", "convertedBy", "signature", "modelTopology",
    "userDefinedMetadata", "modelInitializer", "weightsManifest",
]  # fmt: skip
_TFJS_ORDER = [
    "modelTopology", "format", "generatedBy", "convertedBy", "weightsManifest",
    "signature", "userDefinedMetadata", "modelInitializer", "initializerSignature", "trainingConfig",
]  # fmt: skip


def _same_bits(a, b) -> bool:
    """Equal, or both NaN with the same bit pattern (struct keeps float32 NaN payloads)."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)
    return a == b and (a != 0 or math.copysign(1, a) == math.copysign(1, b))


def _f32_values(arr) -> list:
    """A numpy weight's elements as Python values, through struct (float32 bits kept)."""
    flat = arr.reshape(-1)
    if arr.dtype == object:
        return [v if isinstance(v, bytes) else v.encode("utf-8") for v in flat]
    fmt = {"float32": "<f", "int32": "<i", "bool": "<?"}[str(arr.dtype)]
    return [struct.unpack(fmt, flat[k : k + 1].astype(fmt).tobytes())[0] for k in range(flat.size)]


@pytest.mark.parametrize("name", golden.MODELS)
def test_independent_reader(name):
    model_json, entries, data = _read_artifacts(golden.FIXTURES / name)
    keys = list(model_json)
    orders = (_CONVERTER_ORDER, _CONVERTER_GRAPH_ORDER, _TFJS_ORDER)
    assert keys in [[k for k in order if k in keys] for order in orders], keys
    assert model_json["format"] in ("layers-model", "graph-model")
    model = models.build(name)
    assert [e[0]["name"] for e in entries] == [n for n, _ in model.weights]
    for (spec, offset, _), (wname, arr) in zip(entries, model.weights):
        assert spec["shape"] == list(arr.shape)
        assert spec["dtype"] == ("string" if arr.dtype == object else str(arr.dtype))
        values, raw = _decode(spec, data, offset)
        original = _f32_values(arr)
        if "quantization" not in spec:
            assert all(_same_bits(v, o) for v, o in zip(values, original, strict=True)), wname
            continue
        q = spec["quantization"]
        assert spec["dtype"] == "float32" and q["original_dtype"] == "float32"
        if q["dtype"] == "float16":
            assert list(q) == ["dtype", "original_dtype"]
            for v, o in zip(values, original, strict=True):  # nearest half: within half an ulp (2**-11 relative)
                assert v == o or abs(v - o) <= max(abs(o) * 2.0**-11, 2.0**-25), (wname, v, o)
        else:
            assert list(q) == ["dtype", "min", "scale", "original_dtype"]
            lo, hi = min(original), max(original)
            if lo == hi:
                assert q["scale"] == 1 and q["min"] == lo and set(raw) == {lo}
                continue
            levels = {"uint8": 255, "uint16": 65535}[q["dtype"]]
            assert q["scale"] == (hi - lo) / levels
            if lo <= 0 <= hi:  # nudged: some stored integer means exactly 0
                assert round(-q["min"] / q["scale"]) * q["scale"] + q["min"] == 0
            else:
                assert q["min"] == lo
            for v, o in zip(raw, original, strict=True):  # round to nearest level (+ float slack)
                assert abs(v - o) <= q["scale"] * 0.5001, (wname, v, o)


@pytest.mark.parametrize("name", [n for n in golden.MODELS if golden.load(n).quantized])
def test_independent_reader_after_load(name):
    """examples.json "after_load": the manifest without "quantization", float32 values that are the
    independent dequantization of the stored ones, bit for bit."""
    model_json, entries, data = _read_artifacts(golden.FIXTURES / name)
    d = golden.FIXTURES / name
    with open(d / "examples.json", encoding="utf-8") as f:
        after = json.load(f)["after_load"]
    assert after["weights"] == [{k: v for k, v in spec.items() if k != "quantization"} for spec, _, _ in entries]
    with open(d / after["path"], "rb") as f:
        loaded = f.read()
    offset = 0
    for spec, start, _ in entries:
        values, _ = _decode(spec, data, start)
        n = math.prod(spec["shape"])
        stored = list(struct.unpack_from(f"<{n}f", loaded, offset))
        assert all(_same_bits(a, b) for a, b in zip(stored, values, strict=True)), spec["name"]
        offset += 4 * n
    assert offset == len(loaded)


@pytest.mark.parametrize("name", golden.MODELS)
def test_shards_are_cut_at_4_mib(name):
    """Every shard but a group's last is exactly 4 MiB (or the model's own shard size); the last is
    non-empty and no bigger; no stray files."""
    d = golden.FIXTURES / name
    model_json = json.loads((d / "model.json").read_text("utf-8"))
    size = models.build(name).shard_size
    listed = set()
    for group in model_json["weightsManifest"]:
        sizes = [(d / p).stat().st_size for p in group["paths"]]
        listed.update(group["paths"])
        assert all(s == size for s in sizes[:-1]), sizes
        assert all(0 < s <= size for s in sizes[-1:]), sizes
    on_disk = {p.name for p in d.iterdir() if _SHARD.fullmatch(p.name)}
    assert on_disk == listed


@pytest.mark.parametrize("name", golden.MODELS)
def test_load_matches_model_definition(name):
    g = golden.load(name)
    model = models.build(name)
    assert g.format == model.format
    specs, stored = [], []
    for n, a in model.weights:
        spec = writer.tensor_spec(n, a, model.spec_extra.get(n))
        if n in model.quantization:
            q, spec["quantization"] = writer.quantize(a, model.quantization[n])
            stored.append(q.astype(q.dtype.newbyteorder("<")).tobytes())
        else:
            stored.append(writer.encode_tensor(a))
        specs.append(spec)
    assert g.weight_specs == specs
    assert g.weight_data == b"".join(stored)
    loaded = writer.dequantized_weights(model.weights, model.quantization)
    assert g.after_load_specs == [writer.tensor_spec(n, a, model.spec_extra.get(n)) for n, a in loaded]
    assert g.after_load_data == b"".join(writer.encode_tensor(a) for _, a in loaded)
    assert ("after_load" in g.examples) == bool(model.quantization) == g.quantized
    assert g.model_json["modelTopology"] == model.topology
    assert [e["name"] for e in g.examples["inputs"]] == [n for n, _ in model.inputs]
    assert [e["name"] for e in g.examples["outputs"]] == model.output_names
    for stored_x, (_, x) in zip(g.inputs, model.inputs, strict=True):
        assert stored_x.dtype == x.dtype and stored_x.tobytes() == x.tobytes()
    assert len(g.outputs) == len(model.output_names)
    assert all(y.dtype in (np.float32, object) for y in g.outputs)
    assert set(g.tolerance) == {"rtol", "atol", "why"}
    assert all(g.examples["tolerance"][k] > 0 for k in ("rtol", "atol"))


def test_mlp_outputs_are_softmax_rows():
    g = golden.load("mlp")
    assert g.inputs[0].shape == (5, 8) and g.outputs[0].shape == (5, 4)
    np.testing.assert_allclose(g.outputs[0].sum(axis=1), 1.0, rtol=1e-6)


def test_split_weights_has_a_manifest_group_per_layer_each_sharded_on_its_own():
    d = golden.FIXTURES / "split-weights"
    manifest = json.loads((d / "model.json").read_text("utf-8"))["weightsManifest"]
    assert [[w["name"] for w in g["weights"]] for g in manifest] == [
        [f"dense_{i}/kernel", f"dense_{i}/bias"] for i in (1, 2, 3)]
    assert [g["paths"] for g in manifest] == [writer.shard_names(0, 2), writer.shard_names(1, 4), writer.shard_names(2, 1)]
    g = golden.load("split-weights")  # the golden's specs and bytes: every group's, in manifest order
    assert [s["name"] for s in g.weight_specs] == [w["name"] for grp in manifest for w in grp["weights"]]
    assert g.weight_data == b"".join((d / p).read_bytes() for grp in manifest for p in grp["paths"])


def test_models_listed_in_order():
    assert golden.MODELS[0] == "mlp"
    assert set(golden.MODELS) == {
        "mlp", "cnn", "rnn", "embedding", "batchnorm", "functional", "split-weights", "sharded",
        "special-floats", "edge", "no-weights", "metadata",
        "quantized-uint8", "quantized-uint16", "quantized-float16", "graph",
    }  # fmt: skip
    assert golden.MODELS[-4:] == ("quantized-uint8", "quantized-uint16", "quantized-float16", "graph")


# --- multi-shard split ---


def test_multi_shard_split(tmp_path):
    group1 = [("a", np.arange(300, dtype=np.float32) / 7), ("b", np.arange(-200, 200, dtype=np.int32))]  # 1200 + 1600
    group2 = [("c", np.ones((2, 3), np.float32))]
    manifest, files = writer.write_weights(tmp_path, [group1, group2], shard_size=1000)

    assert manifest[0]["paths"] == ["group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"]
    assert manifest[1]["paths"] == ["group2-shard1of1.bin"]
    assert manifest[0]["weights"] == [
        {"name": "a", "shape": [300], "dtype": "float32"},
        {"name": "b", "shape": [400], "dtype": "int32"},
    ]
    assert [p.name for p in files] == manifest[0]["paths"] + manifest[1]["paths"]
    sizes = [(tmp_path / p).stat().st_size for p in manifest[0]["paths"]]
    assert sizes == [1000, 1000, 800]  # a weight spans shards 1-2, another 2-3
    joined = b"".join((tmp_path / p).read_bytes() for p in manifest[0]["paths"])
    assert joined == group1[0][1].astype("<f4").tobytes() + group1[1][1].astype("<i4").tobytes()
    assert writer.DEFAULT_SHARD_SIZE == 4194304


def test_load_concatenates_shards_in_manifest_order(tmp_path):
    model = models.build("mlp")
    writer.write_model(tmp_path / "mlp", model.topology, [model.weights[:2], model.weights[2:]], shard_size=100)
    writer.write_examples(tmp_path / "mlp", model.inputs, [], {"rtol": 0, "atol": 0, "why": "test"})
    g = golden.load("mlp", root=tmp_path)
    assert [s["name"] for s in g.weight_specs] == [n for n, _ in model.weights]
    assert g.weight_data == golden.load("mlp").weight_data
    assert g.model_json["weightsManifest"][1]["paths"][0] == "group2-shard1of3.bin"  # 16*4*4 + 4*4 = 272 bytes


def test_write_weights_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="duplicate"):
        writer.write_weights(tmp_path, [[("w", np.zeros(1, np.float32))], [("w", np.zeros(1, np.float32))]])
    with pytest.raises(ValueError, match="unsupported dtype"):
        writer.write_weights(tmp_path, [[("w", np.zeros(1, np.float64))]])
    with pytest.raises(ValueError, match="shard_size"):
        writer.write_weights(tmp_path, [[("w", np.zeros(1, np.float32))]], shard_size=0)


# --- numpy reference ---


def test_reference_dense_hand_computed():
    x = np.array([[1.0, 2.0]])
    kernel = np.array([[1.0, -1.0], [0.5, 2.0]])
    bias = np.array([0.5, -10.0])
    # x @ kernel + bias = [1 + 1 + 0.5, -1 + 4 - 10] = [2.5, -7]
    np.testing.assert_allclose(reference.dense(x, kernel, bias, "linear"), [[2.5, -7.0]])
    np.testing.assert_allclose(reference.dense(x, kernel, bias, "relu"), [[2.5, 0.0]])
    # softmax([0, ln 3]) = [1/4, 3/4]
    k2 = np.array([[0.0, math.log(3.0)]])
    np.testing.assert_allclose(reference.dense(np.array([[1.0]]), k2, None, "softmax"), [[0.25, 0.75]])
    # max-shift keeps huge logits finite
    np.testing.assert_allclose(reference.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_reference_predict_walks_sequential_topology():
    net = models.SequentialBuilder("t", [2], np.random.default_rng(0))
    net.dense("d1", 2, "relu").dense("d2", 2, "softmax")
    w = dict(net.weights)
    w.update({"d1/kernel": np.array([[1.0, -1.0], [0.5, 2.0]]), "d1/bias": np.array([0.5, -10.0])})
    w.update({"d2/kernel": np.array([[0.0, math.log(3.0) / 2.5], [7.0, 7.0]]), "d2/bias": np.zeros(2)})
    # d1 -> relu([2.5, -7]) = [2.5, 0]; d2 -> [0, ln 3] -> softmax [0.25, 0.75]
    (y,) = reference.predict(net.topology(), w, [np.array([[1.0, 2.0]])])
    np.testing.assert_allclose(y, [[0.25, 0.75]])


# --- JS number formatting and JSON ---


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1"),
        (1, "1"),
        (0.5, "0.5"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (0.000001234, "0.000001234"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (-0.0, "0"),
        (-2.5, "-2.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (2**53, "9007199254740992"),
        (np.float32(0.5), "0.5"),
    ],
)
def test_js_number(value, text):
    assert writer.js_number(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, 2**53 + 1])
def test_js_number_refuses_unrepresentable(value):
    with pytest.raises(ValueError):
        writer.js_number(value)


def test_dumps_matches_json_stringify_layout():
    value = {"a": [1.0, {}, [], None, True], "b": {"c": "é\n"}}
    expected = '{\n  "a": [\n    1,\n    {},\n    [],\n    null,\n    true\n  ],\n  "b": {\n    "c": "é\\n"\n  }\n}'
    assert writer.dumps(value) == expected
    assert json.loads(writer.dumps(value)) == value
