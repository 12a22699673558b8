"""The harness must fail a round trip whose weights changed by one bit, and say where.

The page flips one bit of one weight after loading the golden and before saving it (a self-test
switch of the `save` step); every check downstream of the save must name that weight and offset.
"""

import pytest

from harness.report import document
from harness.schemes import SCHEMES
from harness.trip import roundtrip
from harness.trip.compare import weight_layout

WEIGHT, BYTE, BIT = "dense_2/kernel", 5, 0


@pytest.mark.parametrize("scheme_name", ["localstorage", "indexeddb"])
async def test_one_flipped_bit_fails_with_its_offset(scheme_name, engine_name, make_trip):
    trip = make_trip("mlp", flip_bit={"weight": WEIGHT, "byte": BYTE, "bit": BIT})
    offset = next(off for spec, off, _ in weight_layout(trip.golden.weight_specs) if spec["name"] == WEIGHT)
    differences = await roundtrip.run(SCHEMES[scheme_name], trip)
    summary = document.render([d.as_json() for d in differences], f"{scheme_name} / mlp / {engine_name}")
    by_what = {d.what: d for d in differences if d.path == WEIGHT}
    # Both what the storage holds and what was loaded back must show the flipped bit, nothing else.
    assert set(by_what) == {"storage.weightData", "loaded.weightData"}, summary
    for d in by_what.values():
        assert f"element 1, byte {BYTE} of the weight (byte {offset + BYTE} of the weight data)" in d.message, d
        assert "1 of 64 elements differ" in d.message, d
    assert all(d.path == WEIGHT for d in differences if "weightData" in d.what), summary
