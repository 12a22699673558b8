"""The report lists rows in one order whatever order the xdist workers finished them in."""

from __future__ import annotations

import random
import types

from harness.pytest import matrix, session


def _config(engines=("chromium", "firefox", "webkit", "node")):
    """What session._in_order reads of the pytest config: the run state's engines."""
    return types.SimpleNamespace(stash={matrix.STATE: types.SimpleNamespace(engines=list(engines))})


def _row(test_file: str, scheme: str, model: str, engine: str, **extra) -> dict:
    return {"test": f"scenarios/{test_file}::t[{scheme}-{model}-{engine}]", "scheme": scheme, "model": model,
            "engine": engine, "tfjs": "4.22.0", **extra}


def _shuffled_orders(want):
    orders = []
    for seed in range(5):
        arrived = want[:]
        random.Random(seed).shuffle(arrived)
        orders.append(arrived)
    assert any(o != want for o in orders)  # the sort is given rows out of order
    return orders


def test_rows_come_out_in_declared_order_whatever_order_they_arrived_in():
    want = [
        _row("test_negative.py", "negative-cors", "mlp", "chromium"),
        _row("test_negative.py", "negative-cors", "mlp", "webkit"),
        _row("test_roundtrip.py", "localstorage", "mlp", "chromium"),  # SCHEMES order: localstorage first
        _row("test_roundtrip.py", "localstorage", "mlp", "firefox"),
        _row("test_roundtrip.py", "localstorage", "sharded", "chromium"),  # zoo order: mlp before sharded
        _row("test_roundtrip.py", "indexeddb", "mlp", "node"),
        _row("test_roundtrip.py", "save-result", "mlp", "chromium"),
    ]
    for arrived in _shuffled_orders(want):
        assert session._in_order(_config(), arrived) == want


def test_engines_follow_the_runs_order_then_tfjs_and_repeat():
    want = [
        _row("test_roundtrip.py", "indexeddb", "mlp", "node", tfjs="4.21.0->4.22.0"),
        _row("test_roundtrip.py", "indexeddb", "mlp", "node", tfjs="4.22.0", repeat=0),
        _row("test_roundtrip.py", "indexeddb", "mlp", "node", tfjs="4.22.0", repeat=1),
        _row("test_roundtrip.py", "indexeddb", "mlp", "chromium"),
        _row("test_roundtrip.py", "indexeddb", "mlp", "zzz-unknown"),  # not one of the run's engines: last
    ]
    for arrived in _shuffled_orders(want):
        assert session._in_order(_config(("node", "chromium")), arrived) == want
