"""`tfjs-conformance` (harness.cli): bad input is one clear line and exit 2, never a traceback; the exit
status of a check follows its rows. (The whole check, from a wheel in a fresh venv: tests/test_action.py.)"""

import json
import subprocess
import sys

import pytest

from harness import cli
from harness.paths import FIXTURES


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def broken_models(tmp_path):
    (tmp_path / "not-json").mkdir()
    (tmp_path / "not-json" / "model.json").write_text("<!doctype html><p>a web page</p>")
    (tmp_path / "no-topology").mkdir()
    (tmp_path / "no-topology" / "model.json").write_text(json.dumps({"format": "layers-model"}))
    (tmp_path / "no-shard").mkdir()
    (tmp_path / "no-shard" / "model.json").write_bytes((FIXTURES / "sharded" / "model.json").read_bytes())
    return {"missing": (str(tmp_path / "nowhere" / "model.json"), "cannot read a model.json there"),
            "not-json": (str(tmp_path / "not-json" / "model.json"), "cannot read a model.json there"),
            "no-topology": (str(tmp_path / "no-topology" / "model.json"), "no modelTopology"),
            "no-shard": (str(tmp_path / "no-shard" / "model.json"), "weight files listed in the manifest are missing")}


@pytest.mark.parametrize("case", ["missing", "not-json", "no-topology", "no-shard"])
def test_a_bad_model_is_one_line_and_exit_2(tmp_path, case):
    path, said = broken_models(tmp_path)[case]
    done = run("check", path, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("tfjs-conformance: ") and said in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "tfjs-conformance-results").exists()  # nothing ran


@pytest.mark.parametrize("flag, value, said", [("--scheme", "floppy", "no such scheme"),
                                               ("--context", "bathroom", "no such context"),
                                               ("--backend", "abacus", "--backend abacus")])
def test_an_unknown_scheme_context_or_backend_is_one_line_and_exit_2(tmp_path, flag, value, said):
    done = run("check", str(FIXTURES / "mlp" / "model.json"), flag, value, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_the_exit_status_follows_the_rows():
    doc = lambda *outcomes: {"results": [{"outcome": o} for o in outcomes]}  # noqa: E731
    assert cli.exit_status(doc("passed", "xfailed", "capacity", "skipped"), 0) == 0
    assert cli.exit_status(doc("passed", "failed"), 1) == 1
    assert cli.exit_status(doc("passed", "error"), 1) == 1
    assert cli.exit_status(doc("xpassed"), 1) == 1
    assert cli.exit_status(doc("passed"), 3) == 1  # pytest broke (internal error, usage)


def test_a_projects_own_tfjs_is_found_and_the_report_says_so(tmp_path):
    """Started in a project with its own node_modules/@tensorflow/tfjs, check uses that TF.js, and
    conformance.json's record of the build says `installed: project`."""
    from harness import tfjs

    project = tmp_path / "my-app"
    project.mkdir()
    (project / "node_modules").mkdir()  # its own TF.js: the packages linked in, as a workspace's hoisted ones are
    for package in tfjs.node_modules_dir().iterdir():
        (project / "node_modules" / package.name).symlink_to(package, target_is_directory=package.is_dir())
    done = run("check", str(FIXTURES / "mlp" / "model.json"), "--engine", "node", "--scheme", "http", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TF.js 4.22.0: npm:@tensorflow/tfjs@4.22.0 (project: " in done.stdout
    doc = json.loads((project / "tfjs-conformance-results" / "conformance.json").read_text())
    assert [b.get("installed") for b in doc["tfjs"]] == ["project"]
    assert [(r["engine"], r["scheme"], r["outcome"]) for r in doc["results"]] == [("node", "http", "passed")]


def test_run_from_the_checkout_its_tfjs_is_the_checkouts():
    from harness import tfjs
    from harness.paths import CHECKOUT, REPO

    if not CHECKOUT:
        pytest.skip("an installed wheel: no checkout")
    assert tfjs.node_modules_found()[0] in ("checkout", "env") and tfjs.installed().installed in ("checkout", "env")
    assert str(REPO) in str(tfjs.node_modules_dir()) or tfjs.node_modules_found()[0] == "env"
