"""Bring your own model: a user's model.json (and its shards) as the golden.

The expectation is Python's own reading of the user's files, never what TF.js made of them: the
model.json as written, the manifest's weight specs, the shards' bytes, and what a loaded model holds
(harness.golden.decode: dequantized float32 for quantized weights, bit for bit otherwise). A layers model
then saves those held weights (compared by name: TF.js orders them its own way), a graph model the
files as they are (GraphModel.save), and a graph model's executor tensors must equal the decoding.

Only what Python cannot compute comes from the page (harness.trip.roundtrip.Trip.prepare): the model's
input shapes (its signature), and the predictions of the model freshly loaded from the user's files on
deterministic inputs derived from them, which the round-tripped model must reproduce.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from harness.golden import Golden, decode

BATCH = 2  # for unknown (None / -1) batch dimensions
TOLERANCE = {
    "rtol": 1e-6,
    "atol": 1e-7,
    "why": "Expected outputs are the predictions of the model freshly loaded from the user's files, in the same "
           "engine and backend, before the round trip (no Python reference runs a user's model); a faithful round "
           "trip reproduces them (cpu backend: bit for bit). Weights and topology are compared with Python's reading "
           "of the files, not with TF.js.",
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
    specs = [dict(w) for group in model_json.get("weightsManifest", []) for w in group["weights"]]
    data = b"".join((model_path.parent / p).read_bytes() for g in model_json.get("weightsManifest", []) for p in g["paths"])
    try:
        held_specs, held_data = decode.held_data(specs, data)
    except (decode.ManifestError, KeyError, ValueError) as e:
        raise ValueError(f"--model {path}: its weights manifest and weight files do not agree: {e}") from e
    graph = model_json.get("format") == "graph-model"
    return Golden(
        name=name, dir=model_path.parent, model_json=model_json, weight_specs=specs, weight_data=data,
        inputs=[], outputs=[], tolerance=TOLERANCE,
        # what the loaded model saves: a graph model its files as they are, a layers model its held weights
        after_load_specs=specs if graph else held_specs, after_load_data=data if graph else held_data,
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
