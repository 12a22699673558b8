"""Large models: 512 MiB of weights through IndexedDB in every browser engine, with the time of
the save and the load and the browser's peak memory (observed.large in conformance.json).
Marked large: skipped unless --run-large (make test runs them)."""

import pytest

from harness.schemes.large import LargeIndexedDB
from harness.trip import roundtrip


@pytest.mark.large
@pytest.mark.conformance(schemes=[LargeIndexedDB()], models=["sized-512MiB"])
async def test_large(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
