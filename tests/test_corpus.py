"""The bring-your-own corpus (tests/corpus/corpus.toml): converter-made models that public npm packages
ship, each given to a pytest subprocess with --model as a team would give its own, through the core
schemes: both storage media in every browser, the model server and file:// in Node.

Every row must have an honest outcome: passed, xfailed by a finding that applies by what it documents
(a trait of the model's files, its format), or capacity (the medium is too small for it, by the numbers
computed from its files), never failed, never a harness error. And the harness must have run each
model as its user runs it: a detection graph with dynamic ops through executeAsync, the six-input
matting model on the inputs its user gives, the rows of a model over a medium's limit judged capacity
with the numbers they were judged by.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess

import pytest

from harness.golden import byo
from harness.paths import REPO

CORPUS = REPO / "tests" / "corpus"
# The core schemes: browser storage in each browser, the model server and file:// in Node. (The model server
# in the browsers too is `make corpus-all`'s: each corpus row predicts its model on cpu two or three times,
# and the three browsers' http rows cost 5 of this file's 23 minutes under `make test`'s load.)
SCHEMES = {"browser": "localstorage-byo or indexeddb-byo", "node": "http-byo or file-node-byo"}


def _fetch_module():
    spec = importlib.util.spec_from_file_location("corpus_fetch", CORPUS / "fetch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FETCH = _fetch_module()


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    models = FETCH.load()["model"]
    missing = [str(FETCH.model_path(m)) for m in models if not FETCH.model_path(m).is_file()]
    if missing:
        message = f"the corpus is not fetched ({len(missing)} models missing): make setup, or python tests/corpus/fetch.py"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # a CI run must not go green without it
        pytest.skip(message)
    return models


def _run(tmp_path, models: list[dict], *args: str, scenario: str = "test_roundtrip.py") -> tuple[list[dict], str]:
    results = tmp_path / "results"
    argv = [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", str(REPO / "scenarios" / scenario),
            "-q", "-p", "no:cacheprovider", "--results-dir", str(results), *args]
    for m in models:
        argv += ["--model", str(FETCH.model_path(m))]
        if m.get("inputs"):
            argv += ["--model-inputs", f"{FETCH.model_path(m)}={CORPUS / m['inputs']}"]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=1500)
    return json.loads((results / "conformance.json").read_text())["results"], proc.stdout[-3000:]


# One engine per test, so that pytest-xdist spreads the corpus over its workers.
@pytest.mark.parametrize("engine", ["chromium", "firefox", "webkit", "node"])
def test_every_corpus_model_has_an_honest_outcome_on_every_core_row(corpus, tmp_path, engine):
    rows, out = _run(tmp_path, corpus, "-k", SCHEMES["node" if engine == "node" else "browser"], "--engine", engine)
    by = {(r["scheme"], r["model"]): r for r in rows}
    names = {byo.model_name(FETCH.model_path(m)) for m in corpus}
    assert {r["model"] for r in rows} == names, out
    assert {r["engine"] for r in rows} == {engine}, out
    bad = [(r["test"], r["outcome"], r["detail"][:600]) for r in rows if r["outcome"] not in ("passed", "xfailed", "capacity")]
    assert not bad, out
    assert all(r["findings"] for r in rows if r["outcome"] in ("xfailed", "capacity"))
    assert all("fit" in r.get("observed", {}) for r in rows)  # the numbers its capacity verdicts came from
    scheme = "http" if engine == "node" else "indexeddb"

    # a detection graph with NonMaxSuppression / Where / loops ran through executeAsync, and was judged in full
    handtrack = by[(scheme, "byo-handtrack")]
    assert handtrack["outcome"] == "passed", handtrack["detail"]
    assert handtrack["observed"]["execute"]["with"] == "executeAsync"
    assert "NonMaxSuppressionV5" in handtrack["observed"]["execute"]["ops"]
    assert "predictions" not in handtrack["observed"]  # predictions checked
    # the cpu backend hands two float32 outputs back as an Int32Array: posted as the numbers a user reads
    assert "Int32Array" in handtrack["observed"]["data_arrays"]["reference.output5"]
    # six inputs, five of unknown rank: predicted on the inputs its user gave
    rvm = by[(scheme, "byo-rvm")]
    assert rvm["outcome"] == "passed" and "predictions" not in rvm["observed"], rvm["detail"]
    assert len(rvm["observed"]["reference"]["inputs"]) == 6
    # a Keras-made layers topology loses the keys tfjs-layers does not model (a finding, by the model's trait)
    assert by[(scheme, "byo-x2")]["findings"] == ["layers-save-drops-keras-config"]
    if engine == "node":
        return
    # over localStorage's limit: a capacity outcome, with the numbers; a model that fits is judged
    for model in ("byo-centernet", "byo-posenet", "byo-rvm"):
        row = by[("localstorage", model)]
        assert row["outcome"] == "capacity" and row["findings"] == ["localstorage-capacity"], row["detail"]
        assert row["observed"]["fit"]["localstorage_chars"] > row["observed"]["fit"]["localstorage_limit_chars"]
        assert row["detail"].startswith("capacity: the model does not fit (localStorage: "), row["detail"]
    fits = [r for r in rows if r["scheme"] == "localstorage" and "localstorage" not in r["observed"]["fit"]["exceeds"]]
    assert fits and all(r["outcome"] != "capacity" for r in fits)


def test_a_model_whose_input_has_unknown_rank_is_checked_bit_for_bit_and_says_why_not_its_predictions(corpus, tmp_path):
    rvm = next(m for m in corpus if m["file"].endswith("rvm.json"))
    rows, out = _run(tmp_path, [{**rvm, "inputs": None}], "-k", "indexeddb-byo", "--engine", "chromium")
    (row,) = rows
    assert row["outcome"] == "passed", out
    assert row["observed"]["predictions"].startswith("not checked: input ") and "unknown rank" in row["observed"]["predictions"]
    assert "--model-inputs" in row["observed"]["predictions"]


def test_a_user_model_crossing_backends_is_compared_with_itself_on_the_backend_it_is_loaded_on(corpus, tmp_path):
    # CenterNet's predictions on wasm and on cpu differ by up to 0.0172 (values near 128): the backends' own
    # float32 arithmetic. Saved on wasm and loaded on cpu, the model is compared with its predictions on cpu.
    centernet = next(m for m in corpus if m["file"].endswith("centernet.json"))
    rows, out = _run(tmp_path, [centernet], "-k", "http-byo and wasm- and cpu", "--engine", "node", scenario="test_backends.py")
    (row,) = rows
    assert row["backend"] == "wasm->cpu" and row["observed"]["loaded_on"] == "cpu", out
    assert row["outcome"] == "passed", row["detail"]
    assert row["observed"]["reference"]["backend"] == "cpu"
    assert all(e == {"max_abs": 0.0, "max_rel": 0.0} for e in row["observed"]["prediction_error"].values())
    # how far the two backends' references are apart stays in the row, beside the verdict
    assert row["observed"]["reference"]["backends_differ"]["output0"]["max_abs"] > 1e-3


def test_make_corpus_all_gives_pytest_every_corpus_model_and_its_inputs():
    corpus = FETCH.load()
    args = FETCH.pytest_args(corpus)
    models = [args[i + 1] for i, a in enumerate(args) if a == "--model"]
    assert models == [str(FETCH.model_path(m).relative_to(REPO)) for m in corpus["model"]]
    inputs = [args[i + 1] for i, a in enumerate(args) if a == "--model-inputs"]
    assert inputs == [f"{FETCH.model_path(m).relative_to(REPO)}={(CORPUS / m['inputs']).relative_to(REPO)}"
                      for m in corpus["model"] if m.get("inputs")] and inputs
