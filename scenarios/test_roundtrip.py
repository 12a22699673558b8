"""Every scheme x model x engine: the golden saved through the scheme and loaded back, bit for bit.

Scenarios are data: add a scheme to harness.schemes.SCHEMES or a model to the golden zoo and it
runs here on every engine that can host it. The models are the zoo the run chose: `--zoo core`
(default) or `--zoo full` (harness.golden.ZOOS), or the user's own (`--model`). The core zoo (the
default matrix) samples them: each scheme on each engine takes its share of the models in turn, so that
every scheme meets every model on one engine or another (harness.pytest.matrix, sample="models");
`--zoo full` (make test) runs every scheme x model x engine. Test ids read `<scheme>-<model>-<engine>`, e.g.
`indexeddb-mlp-webkit`; run one scheme with `-k downloads-`.
"""

import pytest

from harness.schemes import SCHEMES
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=list(SCHEMES.values()), models="zoo", contexts="run", sample="models")
async def test_roundtrip(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
