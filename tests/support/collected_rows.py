"""A pytest plugin (`-p tests.support.collected_rows`) that writes the conformance rows a run collects, as
data (harness.pytest.matrix.row_params: scheme, model, engine, backend), to the JSON file named by
$COLLECTED_ROWS: the upstream coverage map's rows are checked against it (tests/test_upstream_coverage.py)."""

from __future__ import annotations

import json
import os

from harness.pytest.matrix import row_params


def pytest_collection_finish(session) -> None:
    path = os.environ.get("COLLECTED_ROWS")
    if not path:
        return
    rows = []
    for item in session.items:
        params = row_params(item)
        if params is None:
            continue
        scheme = params["scheme"]
        rows.append({"scheme": getattr(scheme, "name", str(scheme)), "model": params["model"],
                     "engine": params["engine_name"], "backend": params.get("backend"), "test": item.nodeid})
    with open(path, "w") as f:
        json.dump(rows, f, indent=1)
