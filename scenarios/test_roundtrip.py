"""Every scheme x model x engine: the golden saved through the scheme and loaded back, bit for bit.

Scenarios are data: add a scheme to harness.schemes.SCHEMES or a model to the golden zoo and it
runs here on every engine that can host it. Test ids read `<scheme>-<model>-<engine>`, e.g.
`indexeddb-mlp-webkit`; run one scheme with `-k downloads-`.
"""

import pytest

from harness import expectations, golden, roundtrip
from harness.schemes import SCHEMES, Unsupported

MODELS = list(golden.MODELS)


@pytest.mark.conformance(schemes=list(SCHEMES.values()), models=MODELS)
async def test_roundtrip(scheme, model, engine_name, make_trip, known_findings):
    try:
        differences = await roundtrip.run(scheme, make_trip(model))
    except Unsupported as e:
        pytest.skip(str(e))
    summary = roundtrip.summary(differences, f"in {scheme} round trip of {model} on {engine_name}")
    expectations.judge(known_findings, differences, summary)
