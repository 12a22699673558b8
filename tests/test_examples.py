"""examples/: a team's own test file, run as the team runs it, from outside this repository's tree: its
project (examples/pyproject.toml's settings, the test in tests/, the app's model in model/) in a
temporary directory, pytest started there, the harness's fixtures from the installed plugin."""

import shutil
import subprocess
import sys

from harness.paths import FIXTURES, REPO


def test_the_example_runs_from_a_project_of_its_own(tmp_path):
    project = tmp_path / "my-app"
    (project / "tests").mkdir(parents=True)
    (project / "model").mkdir()
    shutil.copy(REPO / "examples" / "test_app_model.py", project / "tests")
    shutil.copy(REPO / "examples" / "pyproject.toml", project)
    for name in ("model.json", "group1-shard1of1.bin"):
        shutil.copy(FIXTURES / "mlp" / name, project / "model")
    out = subprocess.run([sys.executable, "-m", "pytest", "tests/test_app_model.py", "--model", "model/model.json",
                          "--engine", "chromium", "--engine", "firefox", "-p", "no:cacheprovider", "-q", "-rA"],
                         cwd=project, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    passed = [line for line in out.stdout.splitlines() if line.startswith("PASSED")]
    assert len(passed) == 4, out.stdout[-3000:]  # two tests x two engines


def test_the_example_fails_when_the_model_does_not_come_back(tmp_path):
    """The same test on a model whose Keras config TF.js drops on save (a known finding of the harness):
    the team's strict test must fail, naming what differs."""
    project = tmp_path / "my-app"
    (project / "tests").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "test_app_model.py", project / "tests")
    shutil.copy(REPO / "examples" / "pyproject.toml", project)
    shutil.copytree(REPO / "tests" / "corpus" / "models" / "@upscalerjs+default-model" / "models", project / "model")
    out = subprocess.run([sys.executable, "-m", "pytest", "tests/test_app_model.py", "--model", "model/model.json",
                          "--engine", "chromium", "-p", "no:cacheprovider", "-q", "-k", "indexeddb"],
                         cwd=project, capture_output=True, text=True, timeout=600)
    assert out.returncode == 1, out.stdout[-3000:]
    assert "loaded.modelTopology $.config.layers" in out.stdout
