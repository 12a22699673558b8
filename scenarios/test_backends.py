"""Backends: the golden predicted on a backend (so its weights were uploaded to it), saved, loaded and
predicted again there; and saved on one backend, loaded on another. Rows
`<scheme>-<model>-<engine>-<backend>`, e.g. `indexeddb-special-floats-firefox-webgl-f16`,
`http-graph-chromium-webgl->cpu`.

Every run has these rows, whatever --tfjs-backend says (it puts every other scenario on its backends):
the models that show what a readback keeps (mlp: ordinary float32 weights; special-floats: NaN payloads,
+-Inf, -0, subnormals, +-max; graph: a graph model, which saves what it loaded but executes with its
tensors) through a binary medium (indexeddb), the network (http) and Node's disk (file-node), on each
backend of harness.backends but cpu, and across backends: webgl -> cpu (the app falling back to cpu)
and wasm -> webgl. A backend an engine's build lacks skips with its measured reason (Node: webgl).

The default matrix (the core zoo) runs one model per scheme x backend x engine, in turn (sample="latin":
every scheme meets every backend on every engine, every model every backend on one engine or another;
64 rows, not 192); `--zoo full` (make test) runs all three.
"""

import pytest

from harness.schemes import SCHEMES
from harness.trip import roundtrip

BACKENDS = ["webgl", "webgl-f16", "webgl-nopack", "wasm", "webgpu", "webgl->cpu", "wasm->webgl", "wasm->cpu"]


@pytest.mark.conformance(schemes=[SCHEMES["indexeddb"], SCHEMES["http"], SCHEMES["file-node"]],
                         models=["mlp", "special-floats", "graph"], backends=BACKENDS, sample="latin")
async def test_backends(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
