"""harness.golden.traits: what a model's files are, read by Python, and the findings that apply by it."""

from __future__ import annotations

import numpy as np
import pytest

from harness import expectations
from harness.golden import traits


def _graph(*nodes, functions=()) -> dict:
    return {"format": "graph-model", "modelTopology": {"node": list(nodes), "library": {"function": [
        {"nodeDef": list(body)} for body in functions]}}, "weightsManifest": []}


def _cast(source: str, target: str) -> dict:
    return {"name": "c", "op": "Cast", "attr": {"SrcT": {"type": source}, "DstT": {"type": target}}}


def test_a_graph_that_casts_float_to_bool_has_the_trait_in_its_body_or_its_functions():
    assert traits.of(_graph(_cast("DT_FLOAT", "DT_BOOL"))) == ("cast-float-to-bool",)
    assert traits.of(_graph(functions=[[_cast("DT_FLOAT", "DT_BOOL")]])) == ("cast-float-to-bool",)
    assert traits.of(_graph(_cast("DT_BOOL", "DT_FLOAT"), _cast("DT_FLOAT", "DT_INT32"))) == ()
    assert traits.of(_graph({"name": "x", "op": "Identity", "attr": {"DstT": {"type": "DT_BOOL"}}})) == ()


def _node(name, op, *inputs) -> dict:
    return {"name": name, "op": op, "input": list(inputs)}


def test_a_graph_whose_space_to_batch_paddings_are_computed_when_it_runs_has_the_trait():
    consts = [_node("block", "Const"), _node("pads", "Const"), _node("x", "Placeholder")]
    computed = [*consts, _node("p", "Pack", "a", "b"), _node("s2b", "SpaceToBatchND", "x", "block", "p:0")]
    assert traits.of(_graph(*computed)) == ("runtime-space-to-batch",)
    assert traits.of(_graph(*consts, _node("b2s", "BatchToSpaceND", "x", "block", "p"), _node("p", "Pack"))) == (
        "runtime-space-to-batch",)
    # constant paddings (a dilated convolution on a fixed size), and a control input, are not
    assert traits.of(_graph(*consts, _node("s2b", "SpaceToBatchND", "x", "block", "pads", "^x"))) == ()
    assert traits.of(_graph(*consts, _node("s2b", "SpaceToBatchND", "x", "block:0", "pads:0"))) == ()


def _spec(name, quantization=None, shape=(2,)):
    spec = {"name": name, "shape": list(shape), "dtype": "float32"}
    if quantization:
        spec["quantization"] = quantization
    return spec


def _model(specs) -> dict:
    return {"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": [{"paths": ["w.bin"], "weights": specs}]}


@pytest.mark.parametrize(("values", "inexact"), [
    ([0.5, -1.0], False),  # float16 values
    ([0.1, 1.0], True),  # 0.1 is not
    ([1e-7, 0.0], True),  # under float16's smallest subnormal: flushed
    ([65504.0, -0.0], False),
    ([70000.0, 1.0], True),  # over float16's range
])
def test_float16_inexact_is_a_float32_weight_that_rounding_to_float16_changes_bit_for_bit(values, inexact):
    specs = [_spec("w")]
    data = np.array(values, "<f4").tobytes()
    assert ("float16-inexact" in traits.of(_model(specs), specs, data)) is inexact
    assert "float16-inexact" not in traits.of(_model(specs))  # no weights given: nothing said about them


def test_quantized_weights_are_judged_as_tf_js_holds_them_dequantized():
    f16 = [_spec("w", {"dtype": "float16"})]
    data = np.array([0.1, 3.0], "<f2").tobytes()  # float16 values: exact whatever they are
    assert traits.of(_model(f16), f16, data) == ("float16-quantized",)
    u8 = [_spec("w", {"dtype": "uint8", "scale": 0.1, "min": -1.0})]
    assert traits.of(_model(u8), u8, bytes([3, 200])) == ("float16-inexact",)  # -0.7 and 19.0 - 1: not float16
    mixed = [f16[0], _spec("v")]
    assert "float16-quantized" not in traits.of(_model(mixed), mixed, data + np.array([0.5, 1], "<f4").tobytes())


def test_except_traits_keeps_a_finding_off_the_models_that_have_them():
    when = expectations.When(scheme=("negative-wrong-dtype",), except_traits=("float16-quantized",))
    row = expectations.Row(scheme="negative-wrong-dtype", engine="node", model="m", tfjs="4.22.0", format="graph-model")
    assert when.holds(row)
    assert not when.holds(expectations.Row(**{**row.__dict__, "traits": ("float16-quantized",)}))


def test_the_checked_in_findings_that_apply_by_these_traits():
    found = expectations.by_id(expectations.load())
    assert found["webgl-f16-save-rounds-weights"].where.traits == ("float16-inexact",)
    assert found["chromium-webgpu-sync-read-loses-device"].where.traits == ("runtime-space-to-batch",)
    assert found["graph-load-ignores-manifest-dtype"].where.except_traits == ("float16-quantized",)
