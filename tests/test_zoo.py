"""--zoo: which golden models the rows run over (harness.golden.ZOOS): the core zoo by default, every
model with --zoo full; a scenario's own model list keeps only the chosen zoo's models (sized models stay)."""

from __future__ import annotations

import json
import shutil

import pytest

from harness import golden
from harness.paths import REPO

SCENARIOS = ("test_roundtrip.py", "test_cross_version.py", "test_large.py")


COLLECTED = """
import json


def pytest_collection_finish(session):
    models = {}
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if isinstance(params.get("model"), str):
            models.setdefault(item.path.name, set()).add(params["model"])
    with open("collected.json", "w") as f:
        json.dump({name: sorted(found) for name, found in models.items()}, f)
"""


def collected_models(harness_ini: pytest.Pytester, *args: str) -> dict[str, set[str]]:
    """scenario file -> the models of its collected rows (engine: node, nothing is launched), as a
    conftest in a fresh pytest process records them from the items' parameters (not from pytest's text)."""
    for name in SCENARIOS:
        shutil.copy(REPO / "scenarios" / name, harness_ini.path / name)
    harness_ini.makeconftest(COLLECTED)
    run = harness_ini.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q", "--engine", "node",
                                           "--engine", "chromium", *args, *SCENARIOS, timeout=120)
    assert run.ret == pytest.ExitCode.OK, run.stdout.str() + run.stderr.str()
    found = json.loads((harness_ini.path / "collected.json").read_text())
    return {name: set(found.get(name, [])) for name in SCENARIOS}


def test_the_core_zoo_is_the_default(harness_ini: pytest.Pytester):
    models = collected_models(harness_ini)
    assert models["test_roundtrip.py"] == set(golden.CORE)
    assert models["test_cross_version.py"] == {"mlp"}  # its own list is mlp + cnn; cnn is not in the core zoo
    assert models["test_large.py"] == {"sized-512MiB"}  # made-to-size models are no zoo's


def test_zoo_full_runs_every_model(harness_ini: pytest.Pytester):
    models = collected_models(harness_ini, "--zoo", "full")
    assert models["test_roundtrip.py"] == set(golden.MODELS)
    assert models["test_cross_version.py"] == {"mlp", "cnn"}


def test_the_core_zoo_is_a_proper_part_of_the_full_one():
    assert set(golden.CORE) < set(golden.MODELS) and golden.CORE[0] == "mlp"
