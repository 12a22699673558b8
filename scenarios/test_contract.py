"""TF.js's own io tests as a user's code meets them.

contract-* (harness.schemes.contract): the refusals, model management's failure paths, corrupted
localStorage, empty storage paths, tf.io.http's and browserFiles' argument checks. Each call must reject
with upstream's message, and leave the storage as it was.

promise-* (harness.schemes.promises): what upstream asserts of the exported API beyond a model's round
trip, judged against what Python computes from the files it wrote: weights decoded and encoded, handlers'
artifacts, downloads, legacy fromMemory, load routers, Node's binary models, tensor counts, metadata checks,
trainableOnly / non-strict / HDF5-style layers loads, training resumed per optimizer, graph metadata.
Every scheme runs on the zoo's mlp, but promise-graph-metadata on its graph model.

    pytest scenarios/test_contract.py -k 'contract-model-management or promise-decode-weights'
"""

import pytest

from harness.schemes.contract import CONTRACT
from harness.schemes.promises import PROMISES
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=CONTRACT + PROMISES, models=["mlp", "graph"], zoo_only=True)
async def test_contract(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
