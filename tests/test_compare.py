"""Tests for harness.trip.compare: JSON diffs by path, weights bit for bit, predictions by shape and dtype,
then exactly (integers, booleans, strings) or with tolerance (floats); the records' expected/actual fields."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from harness import golden
from harness.trip.compare import BRIEF_CHARS, Difference, brief, diff_arrays, diff_json, diff_weights, jsonable, weight_layout

# --- diff_json ---


def test_diff_json_equal_documents_have_no_differences():
    doc = {"a": 1, "b": [1, "x", None, {"c": 2.5}], "d": {"e": True}}
    assert diff_json(doc, {"d": {"e": True}, "b": [1, "x", None, {"c": 2.5}], "a": 1}, "topology") == []


def test_diff_json_changed_value_names_its_path():
    expected = {"config": {"layers": [{"name": "d1", "units": 16}, {"name": "d2", "units": 4}]}}
    actual = {"config": {"layers": [{"name": "d1", "units": 16}, {"name": "d2", "units": 5}]}}
    (d,) = diff_json(expected, actual, "topology")
    assert d == Difference("topology", "$.config.layers[1].units", "expected 4, got 5", expected=4, actual=5)


def test_diff_json_missing_and_extra_keys():
    diffs = diff_json({"a": 1, "b": {"keep": 1, "gone": "x"}}, {"a": 1, "b": {"keep": 1, "new": [7]}}, "topology")
    assert [(d.path, d.message, d.expected, d.actual) for d in diffs] == [
        ("$.b.gone", "missing (expected 'x')", "x", None),
        ("$.b.new", "unexpected key (value [7])", None, [7]),
    ]
    assert all(d.what == "topology" for d in diffs)


def test_diff_json_key_order_is_insignificant():
    assert diff_json({"a": 1, "b": 2, "c": {"x": 1, "y": 2}}, {"c": {"y": 2, "x": 1}, "b": 2, "a": 1}, "t") == []


def test_diff_json_list_order_is_significant():
    diffs = diff_json({"l": [1, 2, 3]}, {"l": [1, 3, 2]}, "t")
    assert [(d.path, d.message) for d in diffs] == [("$.l[1]", "expected 2, got 3"), ("$.l[2]", "expected 3, got 2")]


def test_diff_json_list_item_path_in_nested_structure():
    (d,) = diff_json([{"a": [0, {"b": "x"}]}], [{"a": [0, {"b": "y"}]}], "t")
    assert d.path == "$[0].a[1].b"
    assert d.message == "expected 'x', got 'y'"


def test_diff_json_list_length_mismatch_is_reported_at_the_list():
    (d,) = diff_json({"l": [1, 2]}, {"l": [1, 2, 3]}, "t")
    assert d.path == "$.l"
    assert d.message == "expected 2 items, got 3: [1, 2, 3]"
    assert (d.expected, d.actual) == ([1, 2], [1, 2, 3])


def test_diff_json_custom_root_path():
    (d,) = diff_json({"k": 1}, {"k": 2}, "t", path="$.modelTopology")
    assert d.path == "$.modelTopology.k"


@pytest.mark.parametrize(
    "expected, actual",
    [(1, 1.0), (1.0, 1), (0, 0.0), (-0.0, 0), (float("nan"), float("nan")), (True, True), (None, None), ("s", "s")],
    ids=repr,
)
def test_diff_json_scalars_equal_as_in_js(expected, actual):
    """JS has one number type: 1 and 1.0 are the same JSON value."""
    assert diff_json({"v": expected}, {"v": actual}, "t") == []


@pytest.mark.parametrize(
    "expected, actual",
    [(True, 1), (1, True), (1.0, True), (False, 0), (0, False), (None, 0), (None, False), ("1", 1), (1, "1"),
     (True, False), ([], {}), ({}, None), (1, 2), (1.0, 1.5)],
    ids=repr,
)
def test_diff_json_scalars_that_differ(expected, actual):
    (d,) = diff_json({"v": expected}, {"v": actual}, "t")
    assert d.path == "$.v"
    assert d.message == f"expected {expected!r}, got {actual!r}"
    assert d.expected == expected and d.actual == actual
    assert type(d.expected) is type(expected) and type(d.actual) is type(actual)


def test_diff_json_long_values_are_shortened():
    (d,) = diff_json({"v": "a" * 500}, {}, "t")
    assert len(d.message) < 200 and d.message.endswith("...)")


# --- diff_weights on the real golden ---


@pytest.fixture(scope="module")
def mlp():
    return golden.load("mlp")


def _owner(specs, byte):
    """(name, byte offset of the weight, element size) of the weight holding `byte` of the data."""
    for spec, offset, size in weight_layout(specs):
        if offset <= byte < offset + size:
            return spec["name"], offset
    raise AssertionError(f"byte {byte} is outside every weight")


def test_golden_layout_covers_the_weight_data(mlp):
    layout = weight_layout(mlp.weight_specs)
    assert [(s["name"], off, size) for s, off, size in layout] == [
        ("dense_1/kernel", 0, 512),
        ("dense_1/bias", 512, 64),
        ("dense_2/kernel", 576, 256),
        ("dense_2/bias", 832, 16),
    ]
    assert len(mlp.weight_data) == 848


def test_identical_weight_data_has_no_differences(mlp):
    assert diff_weights(mlp.weight_specs, mlp.weight_data, bytes(mlp.weight_data)) == []


def test_every_flipped_bit_is_found_and_located(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    failures = []
    for byte in range(len(data)):
        name, offset = _owner(specs, byte)
        in_weight = byte - offset
        want = f"element {in_weight // 4}, byte {in_weight} of the weight (byte {byte} of the weight data)"
        for bit in range(8):
            flipped = bytearray(data)
            flipped[byte] ^= 1 << bit
            diffs = diff_weights(specs, data, bytes(flipped))
            if len(diffs) != 1 or diffs[0].path != name or want not in diffs[0].message or diffs[0].what != "weights":
                failures.append((byte, bit, [str(d) for d in diffs]))
    assert failures == [], f"{len(failures)} of {len(data) * 8} bit flips misreported, e.g. {failures[:3]}"


def test_flipped_bit_message_shows_both_values_and_count(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    byte = 576 + 4 * 3 + 3  # dense_2/kernel, element 3, most significant byte (sign bit below)
    flipped = bytearray(data)
    flipped[byte] ^= 0x80
    (d,) = diff_weights(specs, data, bytes(flipped))
    (before,) = struct.unpack_from("<f", data, 576 + 12)
    (after,) = struct.unpack_from("<f", flipped, 576 + 12)
    assert after == -before
    assert d.message.startswith("float32 [16, 4]: first difference at element 3, byte 15 of the weight")
    assert f"({before!r})" in d.message and f"({after!r})" in d.message
    assert d.message.endswith("; 1 of 64 elements differ")
    raw = lambda value: "0x" + struct.pack("<f", value)[::-1].hex()  # noqa: E731
    assert d.expected == f"{raw(before)} ({before!r})" and d.actual == f"{raw(after)} ({after!r})"


def test_several_differing_elements_are_counted_and_first_is_named(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    changed = bytearray(data)
    for element, byte in ((5, 1), (9, 0), (9, 3)):  # element 9 changed in two bytes: counted once
        changed[512 + 4 * element + byte] ^= 1
    (d,) = diff_weights(specs, data, bytes(changed))
    assert d.path == "dense_1/bias"
    assert "element 5, byte 21 of the weight (byte 533 of the weight data)" in d.message
    assert "2 of 16 elements differ" in d.message


def test_differences_in_two_weights_are_both_reported(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    changed = bytearray(data)
    changed[0] ^= 1
    changed[847] ^= 1
    diffs = diff_weights(specs, data, bytes(changed))
    assert [d.path for d in diffs] == ["dense_1/kernel", "dense_2/bias"]


def test_truncated_weight_data_is_reported_with_byte_counts(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    diffs = diff_weights(specs, data, data[:-1])
    assert [d.path for d in diffs] == ["$", "dense_2/bias"]
    assert diffs[0].message == "expected 848 bytes of weight data, got 847"
    assert diffs[1].message == "truncated: 15 of 16 bytes present at byte 832"
    assert [(d.expected, d.actual) for d in diffs] == [(848, 847), (16, 15)]


def test_extra_trailing_weight_bytes_are_reported(mlp):
    specs, data = mlp.weight_specs, mlp.weight_data
    diffs = diff_weights(specs, data, data + b"\x00\x00\x00\x00")
    assert diffs == [Difference("weights", "$", "expected 848 bytes of weight data, got 852", expected=848, actual=852)]


def test_empty_weight_data_reports_every_weight_truncated(mlp):
    diffs = diff_weights(mlp.weight_specs, mlp.weight_data, b"")
    assert [d.path for d in diffs] == ["$", "dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias"]
    assert "got 0" in diffs[0].message


def test_nan_payloads_are_compared_bitwise():
    specs = [{"name": "w", "shape": [2], "dtype": "float32"}]
    quiet = struct.pack("<fI", 1.0, 0x7FC00000)
    payload = struct.pack("<fI", 1.0, 0x7FC00001)
    assert np.isnan(np.frombuffer(quiet, "<f4")[1]) and np.isnan(np.frombuffer(payload, "<f4")[1])
    assert diff_weights(specs, quiet, quiet) == []
    (d,) = diff_weights(specs, quiet, payload)
    assert d.path == "w"
    assert "element 1, byte 4 of the weight (byte 4 of the weight data)" in d.message
    assert "0x7fc00000" in d.message and "0x7fc00001" in d.message


def test_negative_zero_differs_from_zero():
    specs = [{"name": "w", "shape": [1], "dtype": "float32"}]
    (d,) = diff_weights(specs, struct.pack("<f", 0.0), struct.pack("<f", -0.0), what="storage.weightData")
    assert d.what == "storage.weightData" and d.path == "w"
    assert "0x80000000" in d.message


def test_int32_weights_are_located_by_element():
    specs = [{"name": "a", "shape": [1], "dtype": "float32"}, {"name": "ids", "shape": [3], "dtype": "int32"}]
    exp = struct.pack("<f3i", 0.5, 1, 2, 3)
    act = struct.pack("<f3i", 0.5, 1, 2, -3)
    (d,) = diff_weights(specs, exp, act)
    assert d.path == "ids"
    assert "element 2, byte 8 of the weight (byte 12 of the weight data)" in d.message
    assert "expected 0x00000003 (3), got 0xfffffffd (-3)" in d.message
    assert (d.expected, d.actual) == ("0x00000003 (3)", "0xfffffffd (-3)")


# --- diff_arrays ---


def test_diff_arrays_within_tolerance():
    e = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    a = e + np.array([[1e-6, -1e-6], [0, 2e-6]], np.float32)
    assert diff_arrays(e, a, rtol=1e-5, atol=1e-6, what="predictions", path="output0") == []


def test_diff_arrays_outside_tolerance_names_worst_index_and_count():
    e = np.zeros((3, 4), np.float32)
    a = e.copy()
    a[0, 1] = 0.01
    a[2, 3] = 0.5  # the worst
    a[1, 0] = 1e-7  # within atol
    (d,) = diff_arrays(e, a, rtol=0.0, atol=1e-6, what="predictions", path="output0")
    assert d.what == "predictions"
    assert d.path == "output0[2, 3]"
    assert "2 of 12 values outside tolerance" in d.message
    assert d.message.startswith("expected 0.0, got 0.5")
    assert (d.expected, d.actual) == (0.0, 0.5) and type(d.expected) is float


def test_diff_arrays_relative_tolerance_decides_worst():
    e = np.array([1000.0, 1.0])
    a = np.array([1000.5, 1.1])  # |diff| 0.5 is within rtol 1e-3 of 1000; 0.1 is not within 1e-3 of 1
    (d,) = diff_arrays(e, a, rtol=1e-3, atol=0.0, what="p", path="y")
    assert d.path == "y[1]"
    assert "1 of 2 values outside tolerance" in d.message


def test_diff_arrays_nan_where_a_number_was_expected():
    e = np.array([1.0, 2.0, 3.0])
    a = np.array([1.0, np.nan, 3.5])
    (d,) = diff_arrays(e, a, rtol=0.0, atol=0.1, what="p", path="y")
    assert d.path == "y[1]"  # NaN is the worst difference of all
    assert "2 of 3 values outside tolerance" in d.message
    assert diff_arrays(np.array([np.nan]), np.array([np.nan]), rtol=0, atol=0, what="p", path="y") == []


def test_diff_arrays_shape_mismatch():
    (d,) = diff_arrays(np.zeros((5, 4)), np.zeros((4, 5)), rtol=1.0, atol=1.0, what="predictions", path="output0")
    assert d == Difference("predictions", "output0.shape", "expected shape [5, 4], got [4, 5]", expected=[5, 4],
                           actual=[4, 5])
    # the shape is checked before the dtype
    (d,) = diff_arrays(np.zeros(3, np.int32), np.zeros(2, np.float32), 1.0, 1.0, "predictions", "output0")
    assert d.path == "output0.shape"


def test_diff_arrays_reports_max_abs_and_rel_error():
    expected = np.array([1.0, 2.0, 4.0], np.float32)
    actual = np.array([1.0, 2.5, 4.1], np.float32)
    (d,) = diff_arrays(expected, actual, rtol=1e-5, atol=1e-6, what="predictions", path="output0")
    assert "max abs error 0.5" in d.message and "max rel error 0.25" in d.message, d.message


def test_diff_arrays_compares_strings_exactly():
    expected = np.array([b"hello", b"", "naïve".encode()], dtype=object)
    assert diff_arrays(expected, expected.copy(), 0, 0, "p", "o") == []
    (d,) = diff_arrays(expected, np.array([b"hello", b"x", "naïve".encode()], dtype=object), 0, 0, "p", "o")
    assert d.path == "o[1]"
    assert d.message == "expected '', got 'x'; 1 of 3 elements differ (compared exactly)"
    json.dumps(d.as_json(), allow_nan=False)  # bytes are not JSON: the record carries what JSON can



def test_diff_arrays_a_dtype_difference_is_a_difference_even_when_the_values_are_equal():
    ints, floats = np.array([[0, 1], [2, 3]], np.int32), np.array([[0, 1], [2, 3]], np.float32)
    (d,) = diff_arrays(ints, floats, rtol=1.0, atol=1.0, what="predictions", path="output0")
    assert d == Difference("predictions", "output0.dtype", "expected dtype int32, got float32", expected="int32",
                           actual="float32")
    (d,) = diff_arrays(floats, floats.astype(np.float64), 1.0, 1.0, "predictions", "output0")
    assert (d.path, d.expected, d.actual) == ("output0.dtype", "float32", "float64")
    (d,) = diff_arrays(np.array([True]), np.array([1], np.uint8), 1.0, 1.0, "p", "y")
    assert (d.path, d.expected, d.actual) == ("y.dtype", "bool", "uint8")
    assert diff_arrays(ints, ints.copy(), 0, 0, "p", "y") == []


def test_diff_arrays_compares_integers_exactly_whatever_the_tolerance():
    big = 2 ** 53  # float64 cannot tell it from big + 1
    (d,) = diff_arrays(np.array([1, big], np.int64), np.array([1, big + 1], np.int64), rtol=1.0, atol=10.0,
                       what="predictions", path="ids")
    assert d.path == "ids[1]"
    assert d.message.endswith("; 1 of 2 elements differ (compared exactly)")
    assert (d.expected, d.actual) == (big, big + 1) and type(d.expected) is int and type(d.actual) is int
    e = np.array([5, 6, 7, 8], np.int32)
    a = np.array([5, 7, 7, 9], np.int32)  # off by one: inside any float tolerance, still different
    (d,) = diff_arrays(e, a, rtol=0.5, atol=2.0, what="p", path="y")
    assert (d.path, d.expected, d.actual) == ("y[1]", 6, 7)
    assert d.message.endswith("; 2 of 4 elements differ (compared exactly)")
    json.dumps(d.as_json(), allow_nan=False)


def test_diff_arrays_compares_booleans_exactly():
    (d,) = diff_arrays(np.array([True, False, True]), np.array([True, True, True]), 1.0, 1.0, "p", "mask")
    assert (d.path, d.expected, d.actual) == ("mask[1]", False, True)
    assert type(d.expected) is bool
    assert d.message.endswith("; 1 of 3 elements differ (compared exactly)")


def test_diff_arrays_integer_message_shows_plain_numbers():
    (d,) = diff_arrays(np.array([5, 6], np.int32), np.array([5, 7], np.int32), 0, 0, "p", "y")
    assert d.message == "expected 6, got 7; 1 of 2 elements differ (compared exactly)"


def test_diff_arrays_names_an_integer_element_as_it_names_a_float_element():
    e = np.array([[1, 2], [3, 4]], np.int32)
    a = e.copy()
    a[1, 0] = 9
    (floats,) = diff_arrays(e.astype(np.float32), a.astype(np.float32), 0, 0, "p", "y")
    (ints,) = diff_arrays(e, a, 0, 0, "p", "y")
    assert floats.path == "y[1, 0]"
    assert ints.path == floats.path


def test_diff_arrays_nan_expected_is_recorded_as_json():
    (d,) = diff_arrays(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), 0, 0, "p", "y")
    assert d.path == "y[0]" and math.isnan(d.expected) and d.actual == 1.0
    assert d.as_json() == {"what": "p", "path": "y[0]", "expected": "NaN", "actual": 1.0, "message": d.message}
    json.dumps(d.as_json(), allow_nan=False)


# --- the record: as_json, jsonable, brief ---


def test_as_json_has_the_fields_conformance_json_rows_carry():
    d = Difference("loaded", "$.format", "expected 'layers-model', got None", expected="layers-model")
    assert d.as_json() == {"what": "loaded", "path": "$.format", "expected": "layers-model", "actual": None,
                           "message": "expected 'layers-model', got None"}
    assert str(d) == "loaded $.format: expected 'layers-model', got None"
    moved = d.where("moved.", message="other words")
    assert (moved.what, moved.path, moved.message, moved.expected) == ("moved.loaded", "$.format", "other words",
                                                                       "layers-model")
    assert d.where("x.").message == d.message


def test_jsonable_turns_what_json_has_not_into_what_it_has():
    assert jsonable(float("nan")) == "NaN"
    assert jsonable(float("inf")) == "Infinity" and jsonable(-float("inf")) == "-Infinity"
    assert jsonable(np.float32(0.5)) == 0.5 and type(jsonable(np.float32(0.5))) is float
    assert jsonable(np.int64(3)) == 3 and type(jsonable(np.int64(3))) is int
    assert jsonable(np.bool_(True)) is True
    assert jsonable(np.float32("nan")) == "NaN"
    assert jsonable((1, [2.0, float("-inf")], {3: None})) == [1, [2.0, "-Infinity"], {"3": None}]
    assert jsonable(b"abcd") == "<4 bytes>"
    assert jsonable(object) == repr(object)
    assert jsonable("s") == "s" and jsonable(None) is None


def test_brief_keeps_short_values_and_cuts_long_ones():
    assert brief([1, 2, {"a": "b"}]) == [1, 2, {"a": "b"}]
    long = list(range(200))
    cut = brief(long)
    assert isinstance(cut, str) and len(cut) == BRIEF_CHARS and cut.endswith("...")
    assert cut.startswith(json.dumps(long)[:BRIEF_CHARS - 3])
    assert brief(float("nan")) == "NaN"
    d = Difference("loaded", "$.weightsManifest", "m", expected=long, actual=None)
    assert d.as_json()["expected"] == cut and d.expected == long  # the record keeps the value, the JSON the brief


def test_prediction_error_is_relative_only_to_expected_values_that_are_not_zero():
    from harness.trip.roundtrip import prediction_error

    got = prediction_error(np.array([0.0, 2.0, np.inf], np.float32), np.array([19.0, 2.5, np.inf], np.float32))
    assert got == {"max_abs": 19.0, "max_rel": 0.25}
    assert prediction_error(np.zeros(3, np.float32), np.ones(3, np.float32)) == {"max_abs": 1.0, "max_rel": None}
    json.dumps(got, allow_nan=False)  # conformance.json is written with allow_nan=False


def test_expected_weights_follow_tf_js_order_only_when_compared_by_name_and_the_names_agree():
    from harness.trip.roundtrip import ExpectedSave

    specs = [{"name": "a", "shape": [1], "dtype": "float32"}, {"name": "b", "shape": [2], "dtype": "float32"}]
    data = np.array([1, 2, 3], "<f4").tobytes()
    want = ExpectedSave({}, specs, data, {}, by_name=True)
    got = list(reversed(specs))
    assert want.in_order_of(got) == (got, data[4:] + data[:4])  # b's 8 bytes, then a's 4
    assert want.in_order_of(specs[:1]) == (specs, data)  # another set of names: compared as they are
    assert ExpectedSave({}, specs, data, {}, by_name=False).in_order_of(got) == (specs, data)
