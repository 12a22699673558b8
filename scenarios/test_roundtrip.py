"""Every scheme x model x engine: the golden saved through the scheme and loaded back, bit for bit.

Scenarios are data: add a scheme to harness.schemes.SCHEMES or a model to the golden zoo and it
runs here on every engine that can host it. Test ids read `<scheme>-<model>-<engine>`, e.g.
`indexeddb-mlp-webkit`; run one scheme with `-k downloads-`.
"""

import pytest

from harness import golden, roundtrip
from harness.schemes import SCHEMES

MODELS = list(golden.MODELS)


@pytest.mark.conformance(schemes=list(SCHEMES.values()), models=MODELS)
async def test_roundtrip(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
