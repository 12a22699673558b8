"""Storage capacity per engine: the largest model that round-trips through localStorage and
IndexedDB, by bisection over model sizes (harness.measure.capacity). Prints a table at the end and writes
test-results/capacity.json and capacity.md. `--quota SIZE` probes every medium under that quota.

Capacity is the medium's: the probe runs on the cpu backend whatever --tfjs-backend says (on float16
textures every try would come back rounded, which test_backends.py shows once).

Only a refused save means "does not fit": a try whose save resolved and then lost the model, gave it
back corrupted, or never settled is a finding (scheme `capacity-<medium>` in expectations.toml), judged
like any row's differences.

    pytest scenarios/test_capacity.py                # localStorage, IndexedDB under a 16 MB quota
    pytest scenarios/test_capacity.py --run-large    # and IndexedDB up to 512 MiB with the engine's own quota
    pytest scenarios/test_capacity.py --context persistent-window   # on an on-disk profile, as a user's browser

The window's storage mode is `--context` (repeatable; harness.contexts.WINDOWS): `window` (the default, a
Playwright context: ephemeral, incognito-like), `persistent-window` (each try a browser on a new on-disk
profile) or `private-window`. An engine that cannot open that window skips with its measured reason.
"""

import pytest

from harness import backends, contexts, expectations, quota
from harness.measure import capacity
from harness.pytest.matrix import state
from harness.trip import roundtrip

CASES = [
    pytest.param("localstorage", None, id="localstorage"),
    pytest.param("indexeddb", "16MB", id="indexeddb-16MB"),
    pytest.param("indexeddb", None, id="indexeddb", marks=pytest.mark.large),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "window" not in metafunc.fixturenames:
        return
    given = metafunc.config.getoption("context") or [contexts.DEFAULT]
    windows = [c for c in given if c in contexts.WINDOWS]
    if not windows:  # `pytest scenarios --context dedicated-worker`: capacity is a window's
        metafunc.parametrize("window", [pytest.param(None, marks=pytest.mark.skip(
            reason=f"capacity is probed in a top-level window ({', '.join(contexts.WINDOWS)}); --context gave "
                   f"{', '.join(given)}"))], ids=["no-window"], indirect=True)
    elif windows != [contexts.DEFAULT]:  # only then do the ids name it (`localstorage-chromium` stays as it was)
        metafunc.parametrize("window", windows, indirect=True)


@pytest.fixture
def window(request) -> str:
    """The top-level window's storage mode the probe runs in (harness.contexts.WINDOWS)."""
    return getattr(request, "param", contexts.DEFAULT)


@pytest.mark.parametrize(("medium", "size"), CASES)
async def test_capacity(request, medium, size, window, engine_name, engine, harness_server, tfjs_build):
    lacks = engine.build.lacks_context(window)
    if lacks:
        pytest.skip(f"{engine_name} cannot open a {window}: {lacks}")
    quota_bytes = request.config.getoption("quota") or (quota.parse_size(size) if size else None)
    if medium == "indexeddb" and quota_bytes is not None and not engine.build.quota:
        pytest.skip(f"no IndexedDB quota emulation on {engine_name}: {engine.build.no_quota}")
    hi = capacity.upper_bound(medium, quota_bytes)
    # localStorage tries are quick: 1/1024 of the range (6 KiB); IndexedDB under a quota 1/256; up to 512 MiB
    # 1/64 (8 MiB), where every failed try may cost a deadline
    steps = 1024 if medium == "localstorage" else 256 if quota_bytes else 64
    resolution = max(capacity.SIZED_ROW_BYTES, hi // steps // capacity.SIZED_ROW_BYTES * capacity.SIZED_ROW_BYTES)
    probe = capacity.Probe(engine, harness_server, harness_server.page_url(tfjs_build.version, backends.DEFAULT, window),
                           tfjs_build.semver, medium, quota_bytes)
    # Without a quota, double from 64 MiB: a refused IndexedDB save may hang until its deadline (TF.js)
    found = await capacity.bisect(probe.fits, hi, resolution,
                                  start=None if quota_bytes or medium == "localstorage" else 64 * 2**20)
    result = capacity.row(engine_name, medium, quota_bytes, found, probe, resolution, hi, window)
    scheme = f"capacity-{medium}" + (f"-{size}" if size and not request.config.getoption("quota") else "")
    row = expectations.Row(scheme=scheme, engine=engine_name, model="sized", tfjs=tfjs_build.semver,
                           build=engine.build.kind, backend=backends.DEFAULT, context=window)
    verdict = expectations.judge(expectations.match(state(request.config).findings, row), probe.findings())
    result.update(verdict=verdict.outcome, differences=verdict.records())
    request.node.user_properties.append(("capacity_row", result))
    assert found["max_weight_bytes"] > 0, f"not even {capacity.SIZED_ROW_BYTES} weight bytes round-trip: {probe.tries}"
    if quota_bytes is not None:  # a quota the engine enforces: the next size must be refused
        assert found["failing_weight_bytes"] is not None, f"{hi} weight bytes fit under a {quota_bytes}-byte quota: {probe.tries}"
    roundtrip.enforce(verdict, f"{scheme} / {engine_name}")
