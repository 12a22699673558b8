"""Eviction, per engine: a model saved to both media, the origin's storage cleared by the engine
(Clear-Site-Data), then listModels and load must say it is gone (harness.schemes.eviction). Rows
`eviction-mlp-<engine>`; `observed.eviction` says what was held before and after."""

import pytest

from harness.schemes.eviction import Eviction
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=[Eviction()], models=["mlp"], zoo_only=True)
async def test_eviction(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
