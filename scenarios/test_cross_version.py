"""Cross-version: saved with one TF.js build, loaded with another, for every scheme that keeps a
model (harness.schemes.cross_version). Rows `cross-version-<scheme>-<model>-<engine>-tfjs<A>-><B>`.

The pairs are every ordered pair of the builds under test (`--tfjs-version`, `--tfjs-bundle`); with
one build, it and its partner: the last stable release on npm (so a candidate bundle is checked
against the last release), or, when the build is that release, the oldest version installed.
"""

import pytest

from harness.schemes.cross_version import CROSS_VERSION
from harness.trip import roundtrip


@pytest.mark.conformance(schemes=CROSS_VERSION, models=["mlp", "cnn"], cross_version=True)
async def test_cross_version(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
