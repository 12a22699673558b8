"""The report lists rows in one order whatever order the xdist workers finished them in."""

from __future__ import annotations

import random

from harness import plugin


class _State:
    engines = ["chromium", "firefox", "webkit", "node"]


def _row(test_file: str, scheme: str, model: str, engine: str) -> dict:
    return {"test": f"scenarios/{test_file}::t[{scheme}-{model}-{engine}]", "scheme": scheme, "model": model,
            "engine": engine, "tfjs": "4.22.0"}


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
    for seed in range(5):
        arrived = want[:]
        random.Random(seed).shuffle(arrived)
        assert plugin._in_order(_State, arrived) == want
