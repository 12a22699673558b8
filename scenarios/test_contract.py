"""The refusals TF.js's own io tests assert, as a user's code meets them (harness.schemes.contract):
model management's failure paths, corrupted localStorage, empty storage paths, tf.io.http's and
browserFiles' argument checks. Each call must reject with upstream's message, and leave the storage as it was.

    pytest scenarios/test_contract.py -k 'contract-model-management'
"""

import pytest

from harness.schemes.contract import CONTRACT
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=CONTRACT, models=["mlp"], zoo_only=True)
async def test_contract(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
