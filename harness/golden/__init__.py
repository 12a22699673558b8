"""Golden TF.js layers-model fixtures written by numpy, and the API to read them.

    from harness.golden import MODELS, load
    g = load("mlp")          # Golden: model_json, weight_specs, weight_data, inputs, outputs, tolerance

``fixtures/<name>/`` holds ``model.json`` + ``group*-shard*of*.bin`` (the TF.js /
tensorflowjs layout, see ``writer``) and ``examples.json`` + ``input{i}.bin`` /
``output{i}.bin`` (fixed inputs, expected outputs, tolerance). Regenerate with
``python -m harness.golden``; ``--check`` verifies fixtures/ is up to date.
``MODELS`` lists the zoo (``models.ZOO``) in registration order, mlp first.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np

from . import models, reference, writer

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"  # <repo>/fixtures
MODELS: tuple[str, ...] = tuple(models.ZOO)

__all__ = ["FIXTURES", "MODELS", "Golden", "load", "write_golden", "generate", "check"]


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: numpy fields make == meaningless
class Golden:
    """One model's fixtures, as read back from disk."""

    name: str
    dir: Path
    model_json: dict
    weight_specs: list[dict]  # {"name","shape","dtype"}, all manifest groups, in order
    weight_data: bytes  # all shards concatenated in manifest order
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    tolerance: dict
    examples: dict  # examples.json as written: input/output specs with their file names


def load(name: str, root: Path = FIXTURES) -> Golden:
    """Read ``root/<name>/`` (model.json, shards, examples)."""
    d = Path(root) / name
    model_json = json.loads((d / writer.MODEL_JSON).read_text("utf-8"))
    specs, shards = [], []
    for group in model_json["weightsManifest"]:
        specs.extend(dict(w) for w in group["weights"])
        shards.extend((d / p).read_bytes() for p in group["paths"])
    examples = json.loads((d / writer.EXAMPLES_JSON).read_text("utf-8"))

    def tensors(kind: str) -> list[np.ndarray]:
        return [writer.decode_tensor((d / e["path"]).read_bytes(), e["dtype"], e["shape"]) for e in examples[kind]]

    return Golden(
        name=name,
        dir=d,
        model_json=model_json,
        weight_specs=specs,
        weight_data=b"".join(shards),
        inputs=tensors("inputs"),
        outputs=tensors("outputs"),
        tolerance=examples["tolerance"],
        examples=examples,
    )


def write_golden(model: models.ModelDef, out_dir: Path) -> list[Path]:
    """Write one model's artifacts and examples into ``out_dir``; return the files.

    Other files already in ``out_dir`` are stale output of an older definition and
    are deleted (the directory belongs to the generator).
    """
    files = writer.write_model(
        out_dir,
        model.topology,
        [model.weights],
        model.shard_size,
        extra=model.extra_json,
        key_order=model.key_order,
        spec_extra=model.spec_extra,
    )
    expected = reference.predict(model.topology, dict(model.weights), [x for _, x in model.inputs])
    outputs = [(n, y.astype(np.float32)) for n, y in zip(model.output_names, expected, strict=True)]
    files += writer.write_examples(out_dir, model.inputs, outputs, model.tolerance)
    for stale in sorted(set(out_dir.iterdir()) - set(files)):
        stale.unlink()
    return files


def generate(root: Path = FIXTURES, names: tuple[str, ...] = MODELS) -> list[Path]:
    """(Re)write ``root/<name>/`` for every model; return every file written."""
    return [f for name in names for f in write_golden(models.build(name), Path(root) / name)]


def _files(root: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    return {
        f"{name}/{p.name}": p.read_bytes()
        for name in names
        if (root / name).is_dir()
        for p in sorted((root / name).iterdir())
        if p.is_file()
    }


def check(root: Path = FIXTURES, names: tuple[str, ...] = MODELS) -> list[str]:
    """Regenerate into a temp dir; return ``"<model>/<file>: <why>"`` for each mismatch."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), names)
        fresh = _files(Path(tmp), names)
    stored = _files(Path(root), names)
    problems = []
    for rel in sorted(fresh.keys() | stored.keys()):
        if rel not in stored:
            problems.append(f"{rel}: missing from {root}")
        elif rel not in fresh:
            problems.append(f"{rel}: not generated any more (stale)")
        elif fresh[rel] != stored[rel]:
            problems.append(f"{rel}: differs")
    return problems
