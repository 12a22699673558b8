"""Every scheme x model x engine: the golden saved through the scheme and loaded back, bit for bit.

Scenarios are data: add a scheme to harness.schemes.SCHEMES or a model to the golden zoo and it
runs here on every engine. Test ids read `<scheme>-<model>-<engine>`, e.g. `indexeddb-mlp-webkit`.
"""

import pytest

from harness import golden, roundtrip
from harness.schemes import SCHEMES

MODELS = ["mlp"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("scheme", SCHEMES.values(), ids=str)
async def test_roundtrip(scheme, model, engine_name, harness_page, harness_server, tfjs_build):
    result = await roundtrip.run(harness_page, harness_server, scheme, golden.load(model), tfjs_version=tfjs_build.version)
    assert not result.differences, result.summary()
