"""Whether a model fits a storage medium at all, computed from its files before anything runs.

localStorage: TF.js writes five keys per model (tfjs-core/src/io/local_storage.ts): the info and
metadata records, the topology and weight specs as JSON, and the weights as base64. Every engine here
holds about LOCALSTORAGE_CHARS characters per origin (keys and values, measured in Chromium, Firefox and
WebKitGTK: ../shared/ENGINES.md and the capacity probe, `make capacity`). A model whose footprint is over
that cannot be saved to localstorage:// in any engine: a capacity limit, not a bug. A model that fits once may not
fit two or three times, as model-management holds it (localstorage-x2, -x3).

float16: a model with a finite float32 weight, input or expected output above the top of the range the
guide gives 16-bit floats, [0.000000059605, 65504] (docs/guide/platform_environment.md, "Precision"),
cannot be computed on a device with only float16 textures (the webgl-f16 backend): its activations
overflow, as the guide says they do. (Values under the bottom of the range flush to zero, which
changes the saved bytes, a finding of its own, but not predictions beyond float16's tolerance: the
10 MB sharded model has weights under 6e-8 and predicts within it.)
"""

from __future__ import annotations

import json
import math

import numpy as np

LOCALSTORAGE_CHARS = 5_241_856  # measured per origin in all three engines (keys + values)
_KEY_CHARS = 200  # five keys "tensorflowjs_models/<path>/<suffix>" and the info/metadata records, generously


def localstorage_chars(model_json: dict, weight_specs: list, weight_bytes: int) -> int:
    """Characters TF.js's localStorage handler writes for the model (a lower bound: topology, specs,
    base64 weights, and a fixed allowance for keys and the small records)."""
    return len(_json(model_json.get("modelTopology"))) + len(_json(weight_specs)) + 4 * math.ceil(weight_bytes / 3) + _KEY_CHARS


def _json(value) -> str:
    """As JSON.stringify writes it (no spaces, characters as they are)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# Chromium refuses one IndexedDB value over this ("The serialized keys and/or value are too large (size=...,
# max=133169152 bytes)", measured: the capacity probe); TF.js's IndexedDB handler stores a model as one value.
CHROMIUM_IDB_VALUE_BYTES = 133_169_152


def indexeddb_value_bytes(model_json: dict, weight_specs: list, weight_bytes: int) -> int:
    """The size of the one value TF.js puts in models_store (a lower bound: weights, topology and specs)."""
    return weight_bytes + len(_json(model_json.get("modelTopology")).encode()) + len(_json(weight_specs).encode())


def numbers(golden) -> dict:
    """What the fit verdicts are computed from, for a row's `observed.fit`."""
    args = (golden.model_json, golden.after_load_specs, len(golden.after_load_data))
    return {"localstorage_chars": localstorage_chars(*args), "localstorage_limit_chars": LOCALSTORAGE_CHARS,
            "indexeddb_value_bytes": indexeddb_value_bytes(*args),
            "chromium_indexeddb_value_limit_bytes": CHROMIUM_IDB_VALUE_BYTES, "exceeds": list(exceeds(golden))}


FLOAT16_MAX = 65504.0


def outside_float16(arrays) -> bool:
    """Whether any finite value of these float arrays is above float16's largest, 65504."""
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind != "f" or not a.size:
            continue
        finite = a[np.isfinite(a)]
        if finite.size and np.abs(finite.astype(np.float64)).max() > FLOAT16_MAX:
            return True
    return False


def float_weights(specs: list, data: bytes) -> list:
    """The float32 weights of after-load specs and data (what TF.js holds), as numpy arrays; a weight still
    quantized in them (a user's model, as its files are) is left out: its float16 range is its dequantized one's."""
    from harness.trip.compare import weight_layout

    return [np.frombuffer(data[o:o + n], "<f4") for spec, o, n in weight_layout(specs, data)
            if spec["dtype"] == "float32" and "quantization" not in spec and n % 4 == 0 and o + n <= len(data)]


def exceeds(golden) -> tuple[str, ...]:
    """The media `golden` (harness.golden.Golden) does not fit in, in any engine: "localstorage" (one
    copy), "localstorage-x2" / "localstorage-x3" (two or three copies at once, as model-management holds),
    "indexeddb-value" (Chromium's largest value), "float16" (the range of a device with only float16 textures)."""
    out = []
    args = (golden.model_json, golden.after_load_specs, len(golden.after_load_data))
    chars = localstorage_chars(*args)
    for copies, medium in ((1, "localstorage"), (2, "localstorage-x2"), (3, "localstorage-x3")):
        if copies * chars > LOCALSTORAGE_CHARS:
            out.append(medium)
    if indexeddb_value_bytes(*args) > CHROMIUM_IDB_VALUE_BYTES:
        out.append("indexeddb-value")
    if outside_float16([*float_weights(golden.after_load_specs, golden.after_load_data), *golden.inputs, *golden.outputs]):
        out.append("float16")
    return tuple(out)


def describe(numbers: dict) -> str:
    """What `numbers` (as `numbers()` gives them) say the model does not fit, with the figures:
    "localStorage: 13,812,345 characters, over 5,241,856" (a model over one copy's limit is over two's and
    three's too: only the first is said)."""
    chars, limit = numbers["localstorage_chars"], numbers["localstorage_limit_chars"]
    said = {
        "localstorage": f"localStorage: {chars:,} characters, over {limit:,}",
        "localstorage-x2": f"localStorage, two copies at once: {2 * chars:,} characters, over {limit:,}",
        "localstorage-x3": f"localStorage, three copies at once: {3 * chars:,} characters, over {limit:,}",
        "indexeddb-value": f"one IndexedDB value: {numbers['indexeddb_value_bytes']:,} bytes, over Chromium's "
                           f"{numbers['chromium_indexeddb_value_limit_bytes']:,}",
        "float16": f"float16 textures: a value over {FLOAT16_MAX:g}",
    }
    copies = ("localstorage", "localstorage-x2", "localstorage-x3")
    fewest = next((m for m in copies if m in numbers["exceeds"]), None)
    over = [m for m in numbers["exceeds"] if m not in copies or m == fewest]
    return "; ".join(said[m] for m in over) or "fits every medium"
