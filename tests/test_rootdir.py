"""A user's model path is an option value, never a path to test: `pytest --model ../elsewhere/model.json`
(no path argument, as pytest-playwright users type their options) keeps the checkout's rootdir and its
pyproject.toml (harness.pytest.options.pytest_load_initial_conftests)."""

import shutil
import subprocess
import sys

from harness.paths import FIXTURES, REPO


def test_a_model_path_outside_the_checkout_does_not_move_the_rootdir(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "mlp", elsewhere)
    out = subprocess.run([sys.executable, "-m", "pytest", "--model", str(elsewhere / "model.json"), "--co",
                          "-k", "roundtrip and indexeddb", "-p", "no:cacheprovider", "--results-dir", str(tmp_path / "r")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert f"rootdir: {REPO}\n" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
    assert "configfile: pyproject.toml" in out.stdout
    assert "test_roundtrip[indexeddb-byo-elsewhere-" in out.stdout
