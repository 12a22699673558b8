"""Golden TF.js layers-model fixtures written by numpy, and the API to read them.

    from harness.golden import MODELS, load
    g = load("mlp")          # Golden: model_json, weight_specs, weight_data, inputs, outputs, tolerance

``fixtures/<name>/`` holds ``model.json`` + ``group*-shard*of*.bin`` (the TF.js /
tensorflowjs layout, see ``writer``) and ``examples.json`` + ``input{i}.bin`` /
``output{i}.bin`` (fixed inputs, expected outputs, tolerance). Regenerate with
``python -m harness.golden``; ``--check`` verifies fixtures/ is up to date.
``MODELS`` lists the zoo (``models.ZOO``) in registration order, mlp first; ``CORE`` the core zoo
(the default matrix: one model per thing a scheme can get wrong, ``models.CORE``).

Two kinds need more than "load, save, compare with the files":

* quantized layers models (``quantized-*``): the manifest stores uint8/uint16/float16 values
  with a ``"quantization"`` entry; TF.js dequantizes on load, so it holds and saves plain
  float32 weights without that entry. ``Golden.after_load_specs`` / ``after_load_data`` (from
  examples.json ``"after_load"``) are what a loaded model must hold / save; for every other
  model they equal ``weight_specs`` / ``weight_data``.
* the graph model (``format == "graph-model"``, ``graph``): load it with
  ``tf.loadGraphModel``, run ``model.execute({<input name>: x}, [<output names>])`` with the
  names in examples.json; outputs may be string tensors (dtype "string", length-prefixed
  UTF-8 like the weights). ``GraphModel.save`` hands back the loaded artifacts unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np

from harness.paths import FIXTURES  # <repo>/fixtures

from . import models, reference, writer

MODELS: tuple[str, ...] = tuple(models.ZOO)
CORE: tuple[str, ...] = models.CORE  # the default matrix's models (see models.CORE)
ZOOS = {"core": CORE, "full": MODELS}

__all__ = ["FIXTURES", "MODELS", "CORE", "ZOOS", "Golden", "load", "sized", "write_golden", "generate", "check"]


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
    after_load_specs: list[dict]  # what TF.js holds/saves after loading (quantized: dequantized float32)
    after_load_data: bytes
    # a user's model: the inputs they gave (--model-inputs), by input name
    given_inputs: dict = dataclasses.field(default_factory=dict)

    @property
    def format(self) -> str:
        """model.json "format": "layers-model" or "graph-model" (a converter older than the field: layers)."""
        return self.model_json.get("format", "layers-model")

    @property
    def quantized(self) -> bool:
        return any("quantization" in spec for spec in self.weight_specs)

    def files(self) -> dict[str, bytes]:
        """The model's files as on disk, by the name the model server gives them: model.json (as the
        user wrote it: examples' model_file) and every file its manifest lists, in manifest order."""
        raw = (self.dir / self.examples.get("model_file", "model.json")).read_bytes()
        files = {"model.json": raw}
        for group in json.loads(raw).get("weightsManifest") or []:
            files.update({path: (self.dir / path).read_bytes() for path in group["paths"]})
        return files


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

    weight_data = b"".join(shards)
    after_load = examples.get("after_load")
    if after_load is None:
        after_load_specs, after_load_data = [dict(s) for s in specs], weight_data
    else:
        after_load_specs = [dict(s) for s in after_load["weights"]]
        after_load_data = (d / after_load["path"]).read_bytes()

    return Golden(
        name=name,
        dir=d,
        model_json=model_json,
        weight_specs=specs,
        weight_data=weight_data,
        inputs=tensors("inputs"),
        outputs=tensors("outputs"),
        tolerance=examples["tolerance"],
        examples=examples,
        after_load_specs=after_load_specs,
        after_load_data=after_load_data,
    )


GENERATED = FIXTURES / "generated"  # sized models, written on first use (not in git), served under /fixtures


def sized(weight_bytes: int, root: Path = GENERATED) -> Golden:
    """The sized model of `weight_bytes` (``models.sized``), written under ``root/<name>`` on first
    use. Several processes may ask at once (xdist workers): each writes into a directory of its own
    and renames it into place; the first rename wins."""
    name = models.sized_name(weight_bytes)
    final = Path(root) / name
    if not (final / writer.EXAMPLES_JSON).exists():
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}-") as tmp:
            write_golden(models.sized(weight_bytes), Path(tmp) / name)
            try:
                (Path(tmp) / name).rename(final)
            except OSError:
                if not (final / writer.EXAMPLES_JSON).exists():
                    raise
    return load(name, root)


def write_golden(model: models.ModelDef, out_dir: Path) -> list[Path]:
    """Write one model's artifacts and examples into ``out_dir``; return the files.

    Other files already in ``out_dir`` are stale output of an older definition and
    are deleted (the directory belongs to the generator).
    """
    files = writer.write_model(
        out_dir,
        model.topology,
        model.groups(),
        model.shard_size,
        extra=model.extra_json,
        key_order=model.key_order,
        spec_extra=model.spec_extra,
        quantization=model.quantization,
        format=model.format,
    )
    loaded = writer.dequantized_weights(model.weights, model.quantization)  # as TF.js holds them
    xs = [x for _, x in model.inputs]
    if model.format == "graph-model":
        feeds = dict(model.inputs)
        expected = reference.run_graph_def(model.topology, dict(loaded), feeds, model.output_names)
    else:
        expected = reference.predict(model.topology, dict(loaded), xs)
    outputs = [(n, _output_array(y)) for n, y in zip(model.output_names, expected, strict=True)]
    after_load = None
    if model.quantization:
        after_load = [(writer.tensor_spec(n, a, model.spec_extra.get(n)), a) for n, a in loaded]
    files += writer.write_examples(out_dir, model.inputs, outputs, model.tolerance, after_load)
    for stale in sorted(set(out_dir.iterdir()) - set(files)):
        stale.unlink()
    return files


def _output_array(y: np.ndarray) -> np.ndarray:
    """Expected outputs: float maths (float64) as float32; int32 / bool / string tensors as they are."""
    y = np.asarray(y)
    return y.astype(np.float32) if y.dtype.kind == "f" else y


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
