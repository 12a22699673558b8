"""Serialise TF.js layers-model artifacts (model.json + weight shards) with numpy.

Format only: nothing here knows about particular models. The layout is the one
TF.js and the official Python ``tensorflowjs`` converter write:

* ``model.json``: ``{"format", "generatedBy", "convertedBy", "modelTopology",
  "weightsManifest"}`` in that order (the ``tensorflowjs`` converter's order,
  ``KEY_ORDERS["converter"]``), or in the order TF.js itself writes a model.json
  (``KEY_ORDERS["tfjs"]``, tfjs-core io_utils ``getModelJSONForModelArtifacts``:
  topology first, then the optional ``signature``, ``userDefinedMetadata``,
  ``modelInitializer``, ``initializerSignature``, ``trainingConfig``);
* ``weightsManifest``: one entry per weight group, ``{"paths": [...],
  "weights": [{"name", "shape", "dtype"[, "group"]}, ...]}`` (TF.js marks
  optimizer weights ``"group": "optimizer"``);
* each group's weights are concatenated (C order, little-endian) and the buffer
  is cut every ``shard_size`` bytes into ``group{g}-shard{i}of{n}.bin``; a weight
  may span two shards (as in ``tensorflowjs.write_weights``).

JSON is written the way JavaScript's ``JSON.stringify(value, null, 2)`` writes it
(numbers included: ``1`` not ``1.0``, ``1e-7`` not ``1e-07``), plus a trailing
newline, so files are deterministic and byte-comparable from either language.

Tensor dtypes (``DTYPES``): float32, int32, bool (1 byte per element, 0/1) and
string (numpy object arrays of ``bytes``/``str``; each element stored as its
uint32 little-endian byte length then its UTF-8 bytes, as tensorflowjs
``write_weights._serialize_string_array`` and TF.js ``io_utils`` do).

Quantized weights (``quantize`` / ``dequantize``): a float32 weight may be
stored as uint8/uint16 (affine) or float16 (``QUANTIZATION_DTYPES``); its
manifest entry keeps ``"dtype": "float32"`` and gains ``"quantization"``, exactly
as tensorflowjs ``write_weights._get_weights_manifest_for_group`` writes it.

This module also writes the harness's ``examples.json`` (fixed inputs and
expected outputs as raw little-endian tensors), reusing the same tensor codec.
"""

from __future__ import annotations

import decimal
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

GENERATED_BY = "tfjs-io-conformance harness.golden v1"
DEFAULT_SHARD_SIZE = 4 * 1024 * 1024  # tensorflowjs.write_weights default (4 MiB)
MODEL_JSON = "model.json"
EXAMPLES_JSON = "examples.json"
JSON_INDENT = 2

# Manifest / tensor dtype name -> numpy dtype of its bytes on disk (always little-endian).
# "string" is not a fixed-width array: see encode_tensor / decode_tensor. TF.js also reads
# "complex64"; add it here when a model needs it.
DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("|b1"),  # one byte per element, 0 or 1 (TF.js: Uint8Array)
    "string": np.dtype("O"),  # numpy object array of bytes (or str, written as UTF-8)
}

# Storage dtypes of quantized float32 weights (the manifest entry's "quantization.dtype"):
# tensorflowjs quantization.py QUANTIZATION_OPTION_TO_DTYPES; TF.js io_utils decodeWeight.
QUANTIZATION_DTYPES: dict[str, np.dtype] = {
    "uint8": np.dtype("<u1"),
    "uint16": np.dtype("<u2"),
    "float16": np.dtype("<f2"),
}

STRING_LENGTH_BYTES = 4  # uint32 little-endian byte length before each string element

Named = tuple[str, np.ndarray]  # (weight or tensor name, value)


# --- JavaScript-compatible JSON -------------------------------------------------

_MAX_SAFE_INTEGER = 2**53


def js_number(x: int | float) -> str:
    """Format a number exactly as JavaScript's ``String(x)`` / ``JSON.stringify``.

    Uses the shortest round-tripping digits (Python's ``repr`` picks the same
    ones as ECMAScript Number::toString) and ECMAScript's layout rules: plain
    notation for 1e-7 < |x| < 1e21, otherwise ``d.ddde±n``. ``-0`` prints ``0``.
    NaN/Infinity and integers beyond 2**53 are refused: JSON cannot carry them
    faithfully and a golden file must not depend on that.
    """
    if isinstance(x, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(x, (int, np.integer)):
        if abs(int(x)) > _MAX_SAFE_INTEGER:
            raise ValueError(f"integer {x} is not exactly representable in JavaScript")
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{x} has no JSON representation")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    _, digit_tuple, exp = decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exp + k  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def dumps(value: Any, indent: int | None = JSON_INDENT) -> str:
    """``JSON.stringify(value, null, indent)`` for dict/list/str/number/bool/None (indent None: compact)."""

    def enc(v: Any, depth: int) -> str:
        if v is None:
            return "null"
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, (int, float, np.integer, np.floating)):
            return js_number(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if indent is None:
            pad = inner = nl = ""
            colon = ":"
        else:
            pad, inner, nl, colon = " " * (indent * depth), " " * (indent * (depth + 1)), "\n", ": "
        if isinstance(v, dict):
            if not v:
                return "{}"
            items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}{colon}{enc(x, depth + 1)}" for k, x in v.items()]
            return "{" + nl + ("," + nl).join(items) + nl + pad + "}"
        if isinstance(v, (list, tuple)):
            if not v:
                return "[]"
            return "[" + nl + ("," + nl).join(inner + enc(x, depth + 1) for x in v) + nl + pad + "]"
        raise TypeError(f"cannot serialise {type(v).__name__} to JSON")

    return enc(value, 0)


def js_json_bytes(value: Any) -> bytes:
    """UTF-8 bytes of ``JSON.stringify(value)``: what TF.js counts in ``modelArtifactsInfo``."""
    return dumps(value, indent=None).encode("utf-8")


def write_json(path: Path, value: Any) -> Path:
    """Write ``dumps(value)`` plus a trailing newline (UTF-8, LF)."""
    path.write_bytes((dumps(value) + "\n").encode("utf-8"))
    return path


# --- tensors --------------------------------------------------------------------


def dtype_name(arr: np.ndarray) -> str:
    """The manifest dtype of ``arr``; no silent float64->float32 style conversion.

    An object array is "string" if every element is ``bytes`` or ``str``."""
    if arr.dtype == object:
        if all(isinstance(v, (bytes, str)) for v in arr.reshape(-1)):
            return "string"
        raise ValueError("object arrays must hold only bytes or str (string tensors)")
    for name, dt in DTYPES.items():
        if name != "string" and arr.dtype.newbyteorder("=") == dt.newbyteorder("="):  # either byte order
            return name
    raise ValueError(f"unsupported dtype {arr.dtype} (supported: {', '.join(DTYPES)})")


def _utf8(v: bytes | str) -> bytes:
    return v if isinstance(v, bytes) else v.encode("utf-8")


def encode_strings(arr: np.ndarray) -> bytes:
    """A string tensor's bytes: for each element (C order) its uint32 LE byte length, then the bytes."""
    out = []
    for v in arr.reshape(-1):
        b = _utf8(v)
        out.append(len(b).to_bytes(STRING_LENGTH_BYTES, "little") + b)
    return b"".join(out)


def decode_strings(data: bytes, shape: Sequence[int]) -> np.ndarray:
    """Inverse of ``encode_strings``: an object array of ``bytes``; all of ``data`` must be used."""
    values, offset = [], 0
    for _ in range(math.prod(shape)):
        n = int.from_bytes(data[offset : offset + STRING_LENGTH_BYTES], "little")
        offset += STRING_LENGTH_BYTES
        values.append(bytes(data[offset : offset + n]))
        offset += n
    if offset != len(data):
        raise ValueError(f"string tensor uses {offset} of {len(data)} bytes")
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(tuple(shape))


def encode_tensor(arr: np.ndarray) -> bytes:
    """The raw bytes TF.js expects: C order, little-endian (strings: length-prefixed UTF-8)."""
    name = dtype_name(arr)
    if name == "string":
        return encode_strings(arr)
    return np.ascontiguousarray(arr, dtype=DTYPES[name]).tobytes()


def decode_tensor(data: bytes, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """Inverse of ``encode_tensor`` (also reads quantized storage dtypes): a fresh native-endian array."""
    if dtype == "string":
        return decode_strings(data, shape)
    dt = DTYPES.get(dtype) or QUANTIZATION_DTYPES[dtype]
    return np.frombuffer(data, dtype=dt).reshape(tuple(shape)).astype(dt.newbyteorder("="))


# --- quantization (tensorflowjs quantization.py / write_weights.py; TF.js io_utils) --


def quantize(arr: np.ndarray, dtype: str) -> tuple[np.ndarray, dict]:
    """Quantize a float32 weight as the tensorflowjs converter does; return (stored array, manifest
    ``"quantization"`` entry, key order as ``write_weights`` writes it).

    uint8/uint16 (``quantization.quantize_weights``): min/max of the data in float64; if they are
    equal every value is stored as 0 with ``scale`` 1 and ``min`` the value. Otherwise
    ``scale = (max - min) / (2**bits - 1)`` and, when ``min <= 0 <= max``, the range is nudged
    (``_get_affine_quantization_range``, as TF-Lite) so 0 is exactly representable:
    ``min = -round(-min / scale) * scale``, ``max = (2**bits - 1) * scale + min``. Stored value
    ``round((clip(x, min, max) - min) / scale)`` (round half to even). That expression is
    evaluated in float32, as numpy 1.x (the converter's) evaluates a float32 array with float64
    scalars; it only decides which way a value exactly at a rounding boundary goes.
    float16: ``x.astype(float16)`` (round to nearest even; overflow to +-Inf).
    Entry: ``{"dtype", "min", "scale", "original_dtype"}`` / ``{"dtype", "original_dtype"}``.
    """
    arr = np.asarray(arr)
    if arr.dtype != np.float32:
        raise ValueError(f"only float32 weights are quantized (tensorflowjs rule), got {arr.dtype}")
    if dtype == "float16":
        with np.errstate(over="ignore"):  # |x| > 65504 becomes +-Inf, as in the converter
            return arr.astype(np.float16), {"dtype": "float16", "original_dtype": "float32"}
    if dtype not in ("uint8", "uint16"):
        raise ValueError(f"unknown quantization dtype {dtype!r}; known: {', '.join(QUANTIZATION_DTYPES)}")
    qdt = QUANTIZATION_DTYPES[dtype]
    if arr.size == 0:
        raise ValueError("cannot quantize an empty weight (min/max undefined)")
    lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        q, scale = np.zeros(arr.shape, qdt), 1.0
    else:
        quant_max = int(np.iinfo(qdt).max)
        scale = (hi - lo) / quant_max
        if lo <= 0 <= hi:
            lo = -float(np.round((0 - lo) / scale)) * scale
            hi = quant_max * scale + lo
        lo += 0.0  # -0.0 (zero point 0) -> 0.0: JSON has no -0, and TF.js would read 0 anyway
        f32 = np.float32
        q = np.round((np.clip(arr, f32(lo), f32(hi)) - f32(lo)) / f32(scale)).astype(qdt)
    return q, {"dtype": dtype, "min": lo, "scale": scale, "original_dtype": "float32"}


def dequantize(stored: np.ndarray, quantization: Mapping[str, Any]) -> np.ndarray:
    """What TF.js 4.22 ``io_utils.decodeWeight`` makes of a quantized float32 weight: uint8/uint16
    ``q * scale + min`` in float64 (JavaScript numbers) rounded once to float32 (Float32Array);
    float16 widened exactly to float32."""
    qdtype = quantization["dtype"]
    if qdtype == "float16":
        return np.asarray(stored, np.float16).astype(np.float32)
    if qdtype in ("uint8", "uint16"):
        values = np.asarray(stored).astype(np.float64) * float(quantization["scale"]) + float(quantization["min"])
        return values.astype(np.float32)
    raise ValueError(f"unknown quantization dtype {qdtype!r}")


def dequantized_weights(weights: Sequence[Named], quantization: Mapping[str, str] | None) -> list[Named]:
    """``weights`` with every quantized one (``quantization``: name -> dtype) replaced by what TF.js holds
    after loading it (quantize, then dequantize)."""
    quantization = quantization or {}
    return [(n, dequantize(*quantize(a, quantization[n])) if n in quantization else a) for n, a in weights]


def tensor_spec(name: str, arr: np.ndarray, extra: Mapping[str, Any] | None = None) -> dict:
    """``{"name", "shape", "dtype"}`` in the key order tensorflowjs writes, then ``extra``
    (e.g. ``{"group": "optimizer"}``, the key TF.js's ``encodeWeights`` appends)."""
    return {"name": name, "shape": [int(d) for d in arr.shape], "dtype": dtype_name(arr), **(extra or {})}


# --- weights --------------------------------------------------------------------


def shard_names(group_index: int, count: int) -> list[str]:
    """tensorflowjs names: ``group{g}-shard{i}of{n}.bin``, g and i from 1."""
    return [f"group{group_index + 1}-shard{i + 1}of{count}.bin" for i in range(count)]


def split_shards(data: bytes, shard_size: int) -> list[bytes]:
    """Cut ``data`` every ``shard_size`` bytes (last shard may be shorter)."""
    if not isinstance(shard_size, int) or shard_size <= 0:
        raise ValueError(f"shard_size must be a positive int, got {shard_size!r}")
    return [data[i : i + shard_size] for i in range(0, len(data), shard_size)]


def write_weights(
    out_dir: Path,
    groups: Sequence[Sequence[Named]],
    shard_size: int = DEFAULT_SHARD_SIZE,
    spec_extra: Mapping[str, Mapping[str, Any]] | None = None,
    quantization: Mapping[str, str] | None = None,
) -> tuple[list[dict], list[Path]]:
    """Write every group's shards into ``out_dir``; return (weightsManifest, files).

    ``spec_extra`` maps a weight name to extra manifest keys for it; ``quantization`` maps a
    float32 weight's name to "uint8" / "uint16" / "float16" (tensorflowjs's
    ``quantization_dtype_map``, resolved per weight): its bytes are the quantized values and its
    entry ends with ``"quantization"`` (see ``quantize``). A group with no bytes (no weights, or
    only zero-size ones) has ``"paths": []``.
    """
    spec_extra = spec_extra or {}
    quantization = quantization or {}
    known = {name for group in groups for name, _ in group}
    unknown = sorted((set(spec_extra) | set(quantization)) - known)
    if unknown:
        raise ValueError(f"spec_extra/quantization name unknown weights: {unknown}")
    names = [name for group in groups for name, _ in group]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate weight names: {duplicates}")
    manifest, written = [], []
    for g, group in enumerate(groups):
        chunks, specs = [], []
        for name, arr in group:
            spec = tensor_spec(name, arr, spec_extra.get(name))
            if name in quantization:
                stored, spec["quantization"] = quantize(arr, quantization[name])
                chunks.append(np.ascontiguousarray(stored, QUANTIZATION_DTYPES[quantization[name]]).tobytes())
            else:
                chunks.append(encode_tensor(arr))
            specs.append(spec)
        shards = split_shards(b"".join(chunks), shard_size)
        paths = shard_names(g, len(shards))
        for filename, chunk in zip(paths, shards):
            (out_dir / filename).write_bytes(chunk)
            written.append(out_dir / filename)
        manifest.append({"paths": paths, "weights": specs})
    return manifest, written


# Top-level model.json keys, in the order each writer emits them (absent ones skipped).
KEY_ORDERS: dict[str, tuple[str, ...]] = {
    # tensorflowjs converters/keras_h5_conversion.py write_artifacts
    "converter": ("format", "generatedBy", "convertedBy", "modelTopology", "userDefinedMetadata", "weightsManifest"),
    # tensorflowjs converters/tf_saved_model_conversion_v2.py write_artifacts (graph models)
    "converter-graph": (
        "format",
        "generatedBy",
        "convertedBy",
        "signature",
        "modelTopology",
        "userDefinedMetadata",
        "modelInitializer",
        "weightsManifest",
    ),
    # tfjs-core src/io/io_utils.ts getModelJSONForModelArtifacts (http / downloads save handlers)
    "tfjs": (
        "modelTopology",
        "format",
        "generatedBy",
        "convertedBy",
        "weightsManifest",
        "signature",
        "userDefinedMetadata",
        "modelInitializer",
        "initializerSignature",
        "trainingConfig",
    ),
}


def model_json_dict(
    topology: dict,
    manifest: list[dict],
    extra: Mapping[str, Any] | None = None,
    key_order: str = "converter",
    format: str = "layers-model",
) -> dict:
    """The model.json object: the five standard keys plus ``extra`` top-level fields, in ``key_order``."""
    fields = {
        "format": format,
        "generatedBy": GENERATED_BY,
        "convertedBy": GENERATED_BY,
        "modelTopology": topology,
        "weightsManifest": manifest,
        **(extra or {}),
    }
    order = KEY_ORDERS[key_order]
    unknown = sorted(set(fields) - set(order))
    if unknown:
        raise ValueError(f"model.json fields {unknown} have no place in the {key_order!r} key order")
    return {k: fields[k] for k in order if k in fields}


def write_model(
    out_dir: Path,
    topology: dict,
    groups: Sequence[Sequence[Named]],
    shard_size: int = DEFAULT_SHARD_SIZE,
    *,
    extra: Mapping[str, Any] | None = None,
    key_order: str = "converter",
    spec_extra: Mapping[str, Mapping[str, Any]] | None = None,
    quantization: Mapping[str, str] | None = None,
    format: str = "layers-model",
) -> list[Path]:
    """Write ``model.json`` and the weight shards of a model; return the files.

    ``extra``: further top-level model.json fields (``userDefinedMetadata``,
    ``trainingConfig``, ``signature``, ...); ``key_order``: a ``KEY_ORDERS`` key;
    ``spec_extra``, ``quantization``: per-weight extra manifest keys and quantization
    (see ``write_weights``); ``format``: "layers-model" or "graph-model".
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest, written = write_weights(out_dir, groups, shard_size, spec_extra, quantization)
    model_json = model_json_dict(topology, manifest, extra, key_order, format)
    return [write_json(out_dir / MODEL_JSON, model_json), *written]


# --- examples (harness-specific) ------------------------------------------------


AFTER_LOAD_BIN = "after-load.bin"


def write_examples(
    out_dir: Path,
    inputs: Iterable[Named],
    outputs: Iterable[Named],
    tolerance: dict,
    after_load: Sequence[tuple[dict, np.ndarray]] | None = None,
) -> list[Path]:
    """Write ``examples.json`` and ``input{i}.bin`` / ``output{i}.bin`` beside it.

    ``after_load``: (weight spec, value) pairs, in manifest order, that TF.js must hold (and save)
    after loading the model, when that differs from the manifest (quantized weights): written as
    ``"after_load": {"weights": [specs], "path": "after-load.bin"}`` after ``tolerance``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written, doc = [], {}
    for kind, tensors in (("input", inputs), ("output", outputs)):
        entries = doc[kind + "s"] = []
        for i, (name, arr) in enumerate(tensors):
            path = out_dir / f"{kind}{i}.bin"
            path.write_bytes(encode_tensor(arr))
            written.append(path)
            entries.append({"name": name, "dtype": dtype_name(arr), "shape": list(arr.shape), "path": path.name})
    doc["tolerance"] = tolerance
    if after_load is not None:
        path = out_dir / AFTER_LOAD_BIN
        path.write_bytes(b"".join(encode_tensor(a) for _, a in after_load))
        written.append(path)
        doc["after_load"] = {"weights": [dict(spec) for spec, _ in after_load], "path": path.name}
    return [write_json(out_dir / EXAMPLES_JSON, doc), *written]
