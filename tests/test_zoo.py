"""--zoo: which golden models the rows run over (harness.golden.ZOOS): the core zoo by default, every
model with --zoo full; a scenario's own model list keeps only the chosen zoo's models (sized models stay)."""

from __future__ import annotations

import re
import shutil

import pytest

from harness import golden
from harness.paths import REPO

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""
SCENARIOS = ("test_roundtrip.py", "test_cross_version.py", "test_large.py")


def collected_models(pytester: pytest.Pytester, *args: str) -> dict[str, set[str]]:
    """scenario file -> the models of its collected rows (engine: node, nothing is launched)."""
    pytester.makeini(INI)
    for name in SCENARIOS:
        shutil.copy(REPO / "scenarios" / name, pytester.path / name)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q", "--engine", "node",
                                        "--engine", "chromium", *args, *SCENARIOS, timeout=120)
    assert run.ret == pytest.ExitCode.OK, run.stdout.str() + run.stderr.str()
    models: dict[str, set[str]] = {name: set() for name in SCENARIOS}
    known = sorted(list(golden.MODELS) + ["sized-512MiB"], key=len, reverse=True)  # "quantized-uint8" before "mlp"
    for line in run.stdout.lines:
        m = re.match(r"(test_\w+\.py)::\w+\[[\w-]+?-(" + "|".join(map(re.escape, known)) + r")-", line)
        if m:
            models[m.group(1)].add(m.group(2))
    return models


def test_the_core_zoo_is_the_default(pytester: pytest.Pytester):
    models = collected_models(pytester)
    assert models["test_roundtrip.py"] == set(golden.CORE)
    assert models["test_cross_version.py"] == {"mlp"}  # its own list is mlp + cnn; cnn is not in the core zoo
    assert models["test_large.py"] == {"sized-512MiB"}  # made-to-size models are no zoo's


def test_zoo_full_runs_every_model(pytester: pytest.Pytester):
    models = collected_models(pytester, "--zoo", "full")
    assert models["test_roundtrip.py"] == set(golden.MODELS)
    assert models["test_cross_version.py"] == {"mlp", "cnn"}


def test_the_core_zoo_is_a_proper_part_of_the_full_one():
    assert set(golden.CORE) < set(golden.MODELS) and golden.CORE[0] == "mlp"
