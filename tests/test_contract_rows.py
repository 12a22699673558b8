"""The contract rows' judgement (harness.schemes.contract), without an engine: a message other than
upstream's, a call that resolves or hangs, a failed set-up, and storage left changed are each a
difference; every assertion names an upstream test that the coverage map credits to its row.
(The rows themselves run in scenarios/test_contract.py; make mutants breaks TF.js under them.)"""

from __future__ import annotations

import asyncio
import tomllib

import pytest

from harness.paths import UPSTREAM_COVERAGE
from harness.schemes import contract, promises
from harness.schemes.contract import Asserted, Call, ContractScheme

SAME = Asserted(((contract.MM, "x"),), equals="Old path and new path are the same: 'a/1'")
SCHEME = Asserted(((contract.MM, "y"),), contains=("localstorage", "indexeddb"),
                  matches=("The url string provided does not contain a scheme",))


def test_an_exact_message_must_be_exact():
    assert SAME.fails("Old path and new path are the same: 'a/1'") is None
    assert "exactly" in SAME.fails("Old path and new path are the same: 'a/2'")
    assert SAME.fails("Error: Old path and new path are the same: 'a/1'") is not None


def test_contains_and_matches_are_each_required():
    ok = "The url string provided does not contain a scheme. Supported schemes are: localstorage,indexeddb"
    assert SCHEME.fails(ok) is None
    assert "'indexeddb'" in SCHEME.fails("The url string provided does not contain a scheme. Supported: localstorage")
    assert "/The url string" in SCHEME.fails("no scheme: localstorage, indexeddb")


def test_the_row_path_goes_into_the_call_and_the_asserted_message():
    call = Call("load", "load", args=("localstorage://{p}/x",),
                expect=Asserted(((contract.LS, "t"),), equals="In local storage, the topology of model '{p}/x' is missing."))
    made = call.with_path("mlp-contract")
    assert made.args == ("localstorage://mlp-contract/x",)
    assert made.expect.equals == "In local storage, the topology of model 'mlp-contract/x' is missing."
    assert made.shown() == 'tf.loadLayersModel("localstorage://mlp-contract/x")'
    assert Call("h", "io", "http", (None,)).shown() == "tf.io.http(null)"


CALL = Call("copy-identical", "io", "copyModel", ("a/1", "a/1"), SAME)


@pytest.mark.parametrize("outcome, what", [
    ({"outcome": "resolved", "value": None}, "accepted"),
    ({"outcome": "hang", "error": {"name": "DeadlineExceeded", "message": "never settled"}}, "hang"),
    ({"outcome": "rejected", "error": {"name": "Error", "message": "Copying failed because no load handler"}}, "message"),
])
def test_a_call_that_does_not_reject_with_upstreams_message_is_a_difference(outcome, what):
    (diff,) = ContractScheme._judge(CALL, outcome)
    assert diff.what == what and diff.path == "copy-identical"
    assert "model_management_test.ts 'x'" in diff.message or what == "hang"


def test_upstreams_message_passes_and_a_failed_setup_does_not():
    ok = {"outcome": "rejected", "error": {"name": "Error", "message": "Old path and new path are the same: 'a/1'"}}
    assert ContractScheme._judge(CALL, ok) == []
    setup = Call("save", "save", args=("localstorage://p/FooModel",))
    assert ContractScheme._judge(setup, {"outcome": "resolved", "value": {}}) == []
    (diff,) = ContractScheme._judge(setup, ok)
    assert diff.what == "setup"


def test_storage_changed_by_a_refused_call_is_a_difference(monkeypatch):
    keeps = ("localstorage://p/FooModel",)
    held = [f"localStorage tensorflowjs_models/p/FooModel/{k}" for k in ("info", "model_topology")]

    async def state(keys, listed):
        return {"keys": keys, "listModels": listed}

    monkeypatch.setattr(contract, "storage_state", lambda trip: state(held, list(keeps)))
    assert asyncio.run(ContractScheme._kept(None, CALL, keeps)) == []
    monkeypatch.setattr(contract, "storage_state", lambda trip: state([], []))  # the source was removed
    (diff,) = asyncio.run(ContractScheme._kept(None, CALL, keeps))
    assert diff.what == "listModels" and diff.actual == []
    stray = held + ["indexeddb models_store destination"]
    monkeypatch.setattr(contract, "storage_state", lambda trip: state(stray, list(keeps)))
    (diff,) = asyncio.run(ContractScheme._kept(None, CALL, keeps))
    assert diff.what == "storage" and diff.actual == ["indexeddb models_store destination"]


def test_every_assertion_is_an_upstream_test_the_coverage_map_credits_to_its_row():
    behaviours = tomllib.loads(UPSTREAM_COVERAGE.read_text("utf-8"))["behaviour"]
    credited = {(b["file"].rsplit("/", 1)[-1], b["test"], r["scheme"])
                for b in behaviours if b["coverage"] == "real" for r in b.get("rows", [])}
    for c in contract.CONTRACTS:
        for call in c.calls:
            if call.expect is None:
                continue
            for path, test in call.expect.tests:
                key = (path.rsplit("/", 1)[-1], test, f"contract-{c.name}")
                assert key in credited, key


def test_every_promise_row_names_upstream_tests_the_coverage_map_credits_to_it():
    behaviours = tomllib.loads(UPSTREAM_COVERAGE.read_text("utf-8"))["behaviour"]
    credited = {(b["file"], b["test"], r["scheme"]) for b in behaviours if b["coverage"] == "real" for r in b.get("rows", [])}
    for scheme in promises.PROMISES:
        assert scheme.UPSTREAM, scheme.name
        for path, test in scheme.UPSTREAM:
            assert (path, test, scheme.name) in credited, (path, test, scheme.name)
