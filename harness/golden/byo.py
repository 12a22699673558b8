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

from harness.golden import Golden, decode, graph
from harness.trip.compare import NUMPY_DTYPE

BATCH = 2  # for unknown (None / -1) batch dimensions
INPUT_DTYPES = ("float32", "int32", "bool")  # what a model input can be fed as here
TOLERANCE = {
    "rtol": 1e-6,
    "atol": 1e-7,
    "why": "Expected outputs are the predictions of the model freshly loaded from the user's files, in the same "
           "engine and backend, before the round trip (no Python reference runs a user's model); a faithful round "
           "trip reproduces them (cpu backend: bit for bit). Weights and topology are compared with Python's reading "
           "of the files, not with TF.js.",
}


def model_name(path: str | Path) -> str:
    """byo-<folder> for a model.json, else byo-<file stem> (blazeface.json: byo-blazeface)."""
    model_path = Path(path).resolve()
    if model_path.is_dir():
        model_path = model_path / "model.json"
    return "byo-" + (model_path.parent.name if model_path.name == "model.json" else model_path.stem)


def load_user_model(path: str | Path, inputs: str | Path | None = None) -> Golden:
    """A Golden for the user's model.json: its files now, the rest derived on the page (`derive`);
    `inputs`: a --model-inputs file for it (read_inputs)."""
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
    name = model_name(path)
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
        given_inputs=read_inputs(inputs) if inputs else {},
    )


def read_inputs(path: str | Path) -> dict[str, np.ndarray]:
    """--model-inputs FILE: a model's inputs by input name, from .npz (np.savez(**{"x:0": array})) or JSON
    ({"x:0": nested list or number, or {"dtype": ..., "shape": [...], "data": [...] or [one value to fill]}})."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"--model-inputs {path}: cannot read inputs there: {e}") from e
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"--model-inputs {path}: expected a JSON object of input name -> values")
    out = {}
    for name, value in raw.items():
        try:
            if isinstance(value, dict):  # data: every value, or one to fill the shape with
                data = np.asarray(value["data"], dtype=value.get("dtype", "float32"))
                out[name] = (np.full(value["shape"], data.item(), data.dtype) if data.size == 1
                             else data.reshape(value["shape"]))
            else:
                out[name] = np.asarray(value)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"--model-inputs {path}: input {name!r}: {e}") from e
    return out


def input_specs(golden: Golden, described: list[dict]) -> tuple[list[dict], str]:
    """The model's inputs as TF.js names them (`described`: the page's model.inputs), each with the
    shape Python can give it: the input's given array (--model-inputs), else its declared shape, else
    the graph's placeholder or signature declaration. Returns the specs and "" or why predictions
    cannot be checked (an input of unknown rank that nobody gave)."""
    declared = {**graph.signature_inputs(golden.model_json), **graph.placeholders(golden.model_json)}
    specs = []
    for d in described:
        name = d.get("name")
        given = _given(golden.given_inputs, name)
        shape = d.get("shape")
        if given is not None:
            shape = list(given.shape)
        elif shape is None:
            shape = (declared.get(name) or declared.get(str(name).split(":")[0]) or {}).get("shape")
        if shape is None:
            return [], (f"input {name} has unknown rank (neither TF.js nor the graph's signature and placeholder "
                        f"give its shape): give it with --model-inputs")
        specs.append({"name": name, "dtype": d.get("dtype") or "float32", "shape": shape})
    return specs, ""


def make_inputs(golden: Golden, specs: list[dict]) -> list[np.ndarray]:
    """The arrays for `specs`: the user's given ones (as the spec's dtype), the others derived
    deterministically, seeded by the model name: floats in [-1, 1), integers in [0, 2) (safe as
    indices for any Embedding), booleans alternating."""
    seed = int.from_bytes(hashlib.sha256(golden.name.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        given = _given(golden.given_inputs, spec["name"])
        dtype = NUMPY_DTYPE.get(spec["dtype"]) if spec["dtype"] in INPUT_DTYPES else None
        if dtype is None:
            raise ValueError(f"{golden.name}: cannot make inputs of dtype {spec['dtype']} (input {spec['name']})")
        if given is not None:
            out.append(np.ascontiguousarray(given.astype(dtype)))
            continue
        shape = [BATCH if (d is None or d < 0) else d for d in spec["shape"]]
        size = math.prod(shape)
        if spec["dtype"] == "float32":
            out.append(rng.uniform(-1, 1, size).astype(dtype).reshape(shape))
        elif spec["dtype"] == "int32":
            out.append(rng.integers(0, 2, size).astype(dtype).reshape(shape))
        else:
            out.append((np.arange(size) % 2).astype(dtype).reshape(shape))
    return out


def all_given(golden: Golden, specs: list[dict]) -> bool:
    return all(_given(golden.given_inputs, s["name"]) is not None for s in specs)


def _given(given: dict[str, np.ndarray], name) -> np.ndarray | None:
    """A given input by TF.js's name ("x:0") or the node's ("x")."""
    if name in given:
        return given[name]
    base = str(name).split(":")[0]
    return next((v for k, v in given.items() if k.split(":")[0] == base), None)
