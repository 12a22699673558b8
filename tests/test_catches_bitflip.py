"""The harness must fail a round trip whose weights changed by one bit, and say where.

The page flips one bit of one weight after loading the golden and before saving it (a self-test
switch of the `roundtrip` step); every check downstream of the save must name that weight and offset.
"""

import pytest

from harness import golden, roundtrip
from harness.compare import weight_layout
from harness.schemes import SCHEMES

WEIGHT, BYTE, BIT = "dense_2/kernel", 5, 0


@pytest.mark.parametrize("scheme_name", list(SCHEMES))
async def test_one_flipped_bit_fails_with_its_offset(scheme_name, engine_name, harness_page, harness_server, tfjs_build):
    model = golden.load("mlp")
    offset = next(off for spec, off, _ in weight_layout(model.weight_specs) if spec["name"] == WEIGHT)
    result = await roundtrip.run(
        harness_page, harness_server, SCHEMES[scheme_name], model,
        tfjs_version=tfjs_build.version, flip_bit={"weight": WEIGHT, "byte": BYTE, "bit": BIT},
    )
    by_what = {d.what: d for d in result.differences if d.path == WEIGHT}
    # Both what the storage holds and what was loaded back must show the flipped bit, nothing else.
    assert set(by_what) == {"storage.weightData", "loaded.weightData"}, result.summary()
    for d in by_what.values():
        assert f"element 1, byte {BYTE} of the weight (byte {offset + BYTE} of the weight data)" in d.message, d
        assert "1 of 64 elements differ" in d.message, d
    assert all(d.path == WEIGHT for d in result.differences if "weightData" in d.what), result.summary()
