"""The comparator: says precisely how what came back differs from the golden.

Every check returns a list of `Difference` records; an empty list means equal. JSON is compared by
path over the whole document (a missing or an unexpected key is a difference), weights bit for bit
(naming the weight, its dtype, the first differing element and byte offset, and both values),
predictions by dtype and shape first, then exactly (integers, booleans, strings) or with a
written-down tolerance (floats).

A `Difference` is data from here to the report: `what` (which artifact), `path` (where inside it),
`expected` and `actual` (short JSON values), `message` (words a reader can act on). Findings match
them by field (harness.expectations), the report renders them; nothing parses them back from text.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Iterable

import numpy as np

# Bytes per element of each weight dtype TF.js writes (tfjs-core/src/io/types.ts DTYPE_VALUE_SIZE_MAP).
DTYPE_SIZE = {"float32": 4, "int32": 4, "bool": 1, "float16": 2, "uint8": 1, "uint16": 2, "complex64": 8}
# (strings have no fixed size: see weight_layout)
NUMPY_DTYPE = {"float32": "<f4", "int32": "<i4", "bool": "|u1", "float16": "<f2", "uint8": "|u1", "uint16": "<u2"}
BRIEF_CHARS = 200  # expected / actual values longer than this (as JSON) are kept as a shortened string


@dataclasses.dataclass(frozen=True)
class Difference:
    what: str  # which artifact: "loaded", "storage", "save-result", "predictions", "tfjs-error", ...
    path: str  # where inside it: a JSON path, a weight name, a step's phase, ...
    message: str  # expected vs actual, in words a reader can act on
    expected: Any = None  # a short JSON value (see brief), None when the message says it all
    actual: Any = None

    def __str__(self) -> str:
        return f"{self.what} {self.path}: {self.message}"

    def as_json(self) -> dict:
        return {"what": self.what, "path": self.path, "expected": brief(self.expected), "actual": brief(self.actual),
                "message": self.message}

    def where(self, prefix: str = "", message: str | None = None) -> "Difference":
        """The same difference with `prefix` before its `what` (and another message, if given)."""
        return dataclasses.replace(self, what=f"{prefix}{self.what}", message=self.message if message is None else message)


def jsonable(value: Any) -> Any:
    """`value` as plain JSON: non-finite floats as the strings "NaN", "Infinity", "-Infinity" (JSON has
    none), numpy scalars as Python numbers, tuples as lists, anything else unknown as its repr."""
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity")
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)


def brief(value: Any) -> Any:
    """A JSON value short enough for a report: as it is if its JSON has at most BRIEF_CHARS characters,
    else its JSON cut to that length (a string ending in "...")."""
    value = jsonable(value)
    text = json.dumps(value, ensure_ascii=False)
    return value if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS - 3] + "..."


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def diff_json(expected: Any, actual: Any, what: str, path: str = "$") -> list[Difference]:
    """Structural difference, by JSON path. Key order is not significant; list order is."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in expected.keys() | actual.keys():
            sub = f"{path}.{key}"
            if key not in actual:
                out.append(Difference(what, sub, f"missing (expected {_show(expected[key])})", expected=expected[key]))
            elif key not in expected:
                out.append(Difference(what, sub, f"unexpected key (value {_show(actual[key])})", actual=actual[key]))
            else:
                out.extend(diff_json(expected[key], actual[key], what, sub))
        return sorted(out, key=lambda d: d.path)
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [Difference(what, path, f"expected {len(expected)} items, got {len(actual)}: {_show(actual)}",
                               expected=expected, actual=actual)]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in diff_json(e, a, what, f"{path}[{i}]")]
    if _same_scalar(expected, actual):
        return []
    return [Difference(what, path, f"expected {_show(expected)}, got {_show(actual)}", expected=expected, actual=actual)]


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def weight_layout(specs: Iterable[dict], data: bytes = b"") -> list[tuple[dict, int, int]]:
    """(spec, byte offset, byte length) of each weight in the concatenated weight data.

    A quantized weight takes its storage dtype's size; a string weight (each element a uint32
    little-endian byte length, then the UTF-8 bytes) is measured in `data`.
    """
    out, offset = [], 0
    for spec in specs:
        count = math.prod(spec["shape"])
        if spec["dtype"] == "string":
            end = offset
            for _ in range(count):
                end += 4 + int.from_bytes(data[end:end + 4], "little")
            size = end - offset
        else:
            dtype = (spec.get("quantization") or {}).get("dtype", spec["dtype"])
            size = DTYPE_SIZE[dtype] * count
        out.append((spec, offset, size))
        offset += size
    return out


def diff_weights(specs: list[dict], expected: bytes, actual: bytes, what: str = "weights") -> list[Difference]:
    """Bit-for-bit comparison, weight by weight, naming the first differing element of each."""
    out = []
    if len(expected) != len(actual):
        out.append(Difference(what, "$", f"expected {len(expected)} bytes of weight data, got {len(actual)}",
                              expected=len(expected), actual=len(actual)))
    exp, act = np.frombuffer(expected, np.uint8), np.frombuffer(actual, np.uint8)
    for spec, offset, size in weight_layout(specs, expected):
        e, a = exp[offset : offset + size], act[offset : offset + size]
        if len(a) < size:
            out.append(Difference(what, spec["name"], f"truncated: {len(a)} of {size} bytes present at byte {offset}",
                                  expected=size, actual=len(a)))
            continue
        bad = np.flatnonzero(e != a)
        if not len(bad):
            continue
        item = DTYPE_SIZE.get((spec.get("quantization") or {}).get("dtype", spec["dtype"]), 1)  # strings: bytes
        first = int(bad[0])
        element = first // item
        lo = element * item
        n_bad = len(np.unique(bad // item))
        want, got = _element(e[lo:lo + item], spec), _element(a[lo:lo + item], spec)
        out.append(
            Difference(
                what,
                spec["name"],
                f"{spec['dtype']} {list(spec['shape'])}: first difference at element {element}, byte {first} of the "
                f"weight (byte {offset + first} of the weight data): expected {want}, got {got}; {n_bad} of "
                f"{size // item} elements differ",
                expected=want, actual=got,
            )
        )
    return out


def _element(raw: np.ndarray, spec: dict) -> str:
    hexed = "0x" + raw.tobytes()[::-1].hex()  # little-endian bytes shown as one number
    dtype = NUMPY_DTYPE.get(spec["dtype"])
    if dtype is None:
        return hexed
    value = np.frombuffer(raw.tobytes(), dtype)[0]
    return f"{hexed} ({value.item()!r})"  # .item(): a plain Python number, not numpy 2's "np.int32(3)"


def diff_arrays(expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float, what: str, path: str) -> list[Difference]:
    """Shape and dtype must be equal; then strings, integers and booleans must be equal element for
    element, and floats close within |a - e| <= atol + rtol * |e| (numpy.allclose, NaN equal to NaN),
    reporting the worst element."""
    if expected.shape != actual.shape:
        return [Difference(what, f"{path}.shape", f"expected shape {list(expected.shape)}, got {list(actual.shape)}",
                           expected=list(expected.shape), actual=list(actual.shape))]
    if expected.dtype != actual.dtype:
        return [Difference(what, f"{path}.dtype", f"expected dtype {expected.dtype.name}, got {actual.dtype.name}",
                           expected=expected.dtype.name, actual=actual.dtype.name)]
    if expected.dtype == object or expected.dtype.kind in "iub":  # strings, integers, booleans: exact
        bad = np.array([x != y for x, y in zip(expected.ravel(), actual.ravel())], dtype=bool).reshape(expected.shape)
        if not bad.any():
            return []
        first = np.unravel_index(int(np.argmax(bad.ravel())), expected.shape)
        want, got = _plain(expected[first]), _plain(actual[first])
        return [Difference(what, f"{path}{list(map(int, first))}", f"expected {want!r}, got {got!r}; {int(bad.sum())} of "
                           f"{expected.size} elements differ (compared exactly)", expected=jsonable(want), actual=jsonable(got))]
    e, a = expected.astype(np.float64), actual.astype(np.float64)
    ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return []
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, counted as the worst below
        excess = np.where(ok, 0.0, np.abs(a - e) - (atol + rtol * np.abs(e)))
    excess = np.where(np.isnan(excess), np.inf, excess)
    worst = np.unravel_index(int(np.argmax(excess)), e.shape)
    return [
        Difference(
            what,
            f"{path}{list(map(int, worst))}",
            f"expected {float(e[worst])!r}, got {float(a[worst])!r} (|diff| {abs(a[worst] - e[worst]):.3g} > atol {atol:g} + "
            f"rtol {rtol:g} * |expected|); {int((~ok).sum())} of {ok.size} values outside tolerance; "
            f"{_max_errors(e, a)}",
            expected=float(e[worst]), actual=float(a[worst]),
        )
    ]


def _plain(value):
    """A numpy scalar as a plain Python value (numpy 2 shows np.int32(3) otherwise); bytes as text."""
    value = value.item() if isinstance(value, np.generic) else value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def max_errors(e: np.ndarray, a: np.ndarray) -> tuple[float, float | None] | None:
    """Max absolute and relative error of float64 arrays over their finite pairs, None when there are
    none; the relative one over the pairs whose expected value is not 0 (None when every one is 0: an
    error relative to 0 is no number, and dividing overflowed to inf, which JSON has not)."""
    finite = np.isfinite(e) & np.isfinite(a)
    if not finite.any():
        return None
    abs_err = np.abs(a[finite] - e[finite])
    nonzero = e[finite] != 0
    rel = abs_err[nonzero] / np.abs(e[finite][nonzero])
    return float(abs_err.max()), float(rel.max()) if rel.size else None


def _max_errors(e: np.ndarray, a: np.ndarray) -> str:
    """max_errors as the end of a Difference's message (NaN/Inf placement is checked above)."""
    errors = max_errors(e, a)
    if errors is None:
        return "no finite values to measure"
    worst, rel = errors
    return f"max abs error {worst:.3g}" + (f", max rel error {rel:.3g}" if rel is not None else "")
