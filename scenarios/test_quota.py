"""Storage quota: a save that does not fit must be refused, cleanly, and lose nothing.

Rows `quota-localstorage-<model>-<engine>` and `quota-indexeddb-<model>-<engine>` (see
harness.schemes.quota for the steps). The pages get a 4 MB quota; `--quota SIZE` replays them at
another size, e.g. a user's "my model won't save at 2 MB":

    pytest scenarios/test_quota.py --quota 2MB
"""

import pytest

from harness.schemes.quota import QuotaIndexedDB, QuotaLocalStorage
from harness.trip import roundtrip

QUOTA_SCHEMES = [QuotaLocalStorage(), QuotaIndexedDB()]


@pytest.mark.quota("4MB")
@pytest.mark.conformance(schemes=QUOTA_SCHEMES, models=["mlp"])
async def test_quota(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
