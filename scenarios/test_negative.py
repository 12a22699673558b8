"""Bad artifacts: TF.js must refuse them with a clear error and keep nothing of them.

Rows `negative-<case>-<model>-<engine>` (steps and the table of cases in harness.schemes.negative):
model `mlp`, and `sharded` for the cases where shards matter (a missing shard, a shard answering 500;
the missing weight file runs on both: a site's 404 page is longer than the mlp's weights, shorter than a shard).
A case where TF.js accepts the bad artifacts fails with the evidence (what it loaded), and is listed
in scenarios/expectations.toml.

    pytest scenarios/test_negative.py -k 'negative-cors-'
"""

import pytest

from harness.schemes.negative import NEGATIVE_MLP, NEGATIVE_SHARDED
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=NEGATIVE_MLP, models=["mlp"])
async def test_negative(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)


@pytest.mark.conformance(schemes=NEGATIVE_SHARDED, models=["sharded"])
async def test_negative_sharded(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
