"""Whether a model fits a storage medium at all, computed from its files before anything runs.

localStorage: TF.js writes five keys per model (tfjs-core/src/io/local_storage.ts): the info and
metadata records, the topology and weight specs as JSON, and the weights as base64. Every engine here
holds about LOCALSTORAGE_CHARS characters per origin (keys and values, measured in Chromium, Firefox and
WebKitGTK: ../shared/ENGINES.md and the capacity probe, `make capacity`). A model whose footprint is over
that cannot be saved to localstorage:// in any engine: a capacity limit, not a bug.
"""

from __future__ import annotations

import json
import math

LOCALSTORAGE_CHARS = 5_241_856  # measured per origin in all three engines (keys + values)
_KEY_CHARS = 200  # five keys "tensorflowjs_models/<path>/<suffix>" and the info/metadata records, generously


def localstorage_chars(model_json: dict, weight_specs: list, weight_bytes: int) -> int:
    """Characters TF.js's localStorage handler writes for the model (a lower bound: topology, specs,
    base64 weights, and a fixed allowance for keys and the small records)."""
    topology = json.dumps(model_json.get("modelTopology"), separators=(",", ":"), ensure_ascii=False)
    specs = json.dumps(weight_specs, separators=(",", ":"), ensure_ascii=False)
    return len(topology) + len(specs) + 4 * math.ceil(weight_bytes / 3) + _KEY_CHARS


def exceeds(golden) -> tuple[str, ...]:
    """The media `golden` (harness.golden.Golden) does not fit in, in any engine."""
    chars = localstorage_chars(golden.model_json, golden.after_load_specs, len(golden.after_load_data))
    return ("localstorage",) if chars > LOCALSTORAGE_CHARS else ()
