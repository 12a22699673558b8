"""Partitioning, per engine: a model saved in a cross-site frame, looked for top-level on its own site
(harness.schemes.partitioning). Rows `partitioning-mlp-<engine>-iframe-cross-site->top-level-cross-site`;
`observed.partitioning` says what each engine did."""

import pytest

from harness.schemes.partitioning import Partitioning
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=[Partitioning()], models=["mlp"], contexts=["iframe-cross-site->top-level-cross-site"],
                         zoo_only=True)
async def test_partitioning(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
