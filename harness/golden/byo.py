"""Bring your own model: a user's model.json (and its shards) as the golden.

Without a Python reference, the golden is what TF.js itself makes of the user's files before any
round trip, in the same engine: the artifacts it holds after loading them (captured with
`tf.io.withSaveHandler`) and its predictions on deterministic inputs derived from the model's input
shapes and dtypes. `harness.trip.roundtrip.Trip.prepare` fills those in on the page.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from harness.golden import Golden

BATCH = 2  # for unknown (None / -1) batch dimensions
TOLERANCE = {
    "rtol": 1e-6,
    "atol": 1e-7,
    "why": "Expected outputs are TF.js's own predictions in the same engine and backend, on the user's files, "
           "before the round trip; a faithful round trip reproduces them (cpu backend: bit for bit).",
}


def load_user_model(path: str | Path) -> Golden:
    """A Golden for the user's model.json: its files now, the rest derived on the page (`derive`)."""
    model_path = Path(path).resolve()
    if model_path.is_dir():
        model_path = model_path / "model.json"
    try:
        model_json = json.loads(model_path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"--model {path}: cannot read a model.json there: {e}") from e
    if "modelTopology" not in model_json:
        raise ValueError(f"--model {path}: {model_path} has no modelTopology; is it a TF.js model.json?")
    missing = [p for g in model_json.get("weightsManifest", []) for p in g["paths"] if not (model_path.parent / p).exists()]
    if missing:
        raise ValueError(f"--model {path}: weight files listed in the manifest are missing: {missing}")
    name = "byo-" + (model_path.parent.name if model_path.name == "model.json" else model_path.stem)
    return Golden(
        name=name, dir=model_path.parent, model_json=model_json, weight_specs=[], weight_data=b"",
        inputs=[], outputs=[], tolerance=TOLERANCE, after_load_specs=[], after_load_data=b"",
        examples={"derive": True, "model_file": model_path.name, "inputs": [], "outputs": []},
    )


def derive_inputs(name: str, specs: list[dict]) -> list[np.ndarray]:
    """Deterministic inputs for the model's inputs, seeded by the model name: floats in [-1, 1),
    integers in [0, 2) (safe as indices for any Embedding), booleans alternating."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        shape = [BATCH if (d is None or d < 0) else d for d in spec["shape"]]
        size = math.prod(shape)
        if spec["dtype"] == "float32":
            out.append(rng.uniform(-1, 1, size).astype("<f4").reshape(shape))
        elif spec["dtype"] == "int32":
            out.append(rng.integers(0, 2, size).astype("<i4").reshape(shape))
        elif spec["dtype"] == "bool":
            out.append((np.arange(size) % 2).astype("|u1").reshape(shape))
        else:
            raise ValueError(f"{name}: cannot derive inputs of dtype {spec['dtype']} (input {spec.get('name')})")
    return out
