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

# Manifest dtype name -> numpy dtype of its bytes on disk (always little-endian).
# TF.js also reads "bool" (1 byte/elem), "complex64", "string" (uint32 length-
# prefixed UTF-8) and quantized entries ("quantization": {...}); add them here,
# and to encode_tensor/decode_tensor if their bytes are not a plain array, when
# a model needs them.
DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
}

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
    """The manifest dtype of ``arr``; no silent float64->float32 style conversion."""
    for name, dt in DTYPES.items():
        if arr.dtype.newbyteorder("=") == dt.newbyteorder("="):  # either byte order in memory
            return name
    raise ValueError(f"unsupported dtype {arr.dtype} (supported: {', '.join(DTYPES)})")


def encode_tensor(arr: np.ndarray) -> bytes:
    """The raw bytes TF.js expects: C order, little-endian."""
    return np.ascontiguousarray(arr, dtype=DTYPES[dtype_name(arr)]).tobytes()


def decode_tensor(data: bytes, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """Inverse of ``encode_tensor``: a fresh native-endian array."""
    dt = DTYPES[dtype]
    return np.frombuffer(data, dtype=dt).reshape(tuple(shape)).astype(dt.newbyteorder("="))


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
) -> tuple[list[dict], list[Path]]:
    """Write every group's shards into ``out_dir``; return (weightsManifest, files).

    ``spec_extra`` maps a weight name to extra manifest keys for it. A group with
    no bytes (no weights, or only zero-size ones) has ``"paths": []``.
    """
    spec_extra = spec_extra or {}
    unknown = sorted(set(spec_extra) - {name for group in groups for name, _ in group})
    if unknown:
        raise ValueError(f"spec_extra names unknown weights: {unknown}")
    names = [name for group in groups for name, _ in group]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate weight names: {duplicates}")
    manifest, written = [], []
    for g, group in enumerate(groups):
        shards = split_shards(b"".join(encode_tensor(a) for _, a in group), shard_size)
        paths = shard_names(g, len(shards))
        for filename, chunk in zip(paths, shards):
            (out_dir / filename).write_bytes(chunk)
            written.append(out_dir / filename)
        manifest.append({"paths": paths, "weights": [tensor_spec(n, a, spec_extra.get(n)) for n, a in group]})
    return manifest, written


# Top-level model.json keys, in the order each writer emits them (absent ones skipped).
KEY_ORDERS: dict[str, tuple[str, ...]] = {
    # tensorflowjs converters/keras_h5_conversion.py write_artifacts
    "converter": ("format", "generatedBy", "convertedBy", "modelTopology", "userDefinedMetadata", "weightsManifest"),
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


def model_json_dict(topology: dict, manifest: list[dict], extra: Mapping[str, Any] | None = None, key_order: str = "converter") -> dict:
    """The model.json object: the five standard keys plus ``extra`` top-level fields, in ``key_order``."""
    fields = {
        "format": "layers-model",
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
) -> list[Path]:
    """Write ``model.json`` and the weight shards of a layers model; return the files.

    ``extra``: further top-level model.json fields (``userDefinedMetadata``,
    ``trainingConfig``, ``signature``, ...); ``key_order``: a ``KEY_ORDERS`` key;
    ``spec_extra``: per-weight extra manifest keys (see ``write_weights``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest, written = write_weights(out_dir, groups, shard_size, spec_extra)
    model_json = model_json_dict(topology, manifest, extra, key_order)
    return [write_json(out_dir / MODEL_JSON, model_json), *written]


# --- examples (harness-specific) ------------------------------------------------


def write_examples(
    out_dir: Path, inputs: Iterable[Named], outputs: Iterable[Named], tolerance: dict
) -> list[Path]:
    """Write ``examples.json`` and ``input{i}.bin`` / ``output{i}.bin`` beside it."""
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
    return [write_json(out_dir / EXAMPLES_JSON, doc), *written]
