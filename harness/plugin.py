"""The pytest plugin: options, the engine parametrisation, fixtures, and the conformance report.

Fixture ladder (session-scoped first):
    tfjs_build -> harness_server                 one server, one TF.js build
    _engine_pool -> engine (per engine_name)     one browser per engine per session
    harness_page                                 the harness page with fresh, isolated storage, per test
Every test that uses `engine_name` runs once per selected engine; its id ends with the engine.
Tests parametrised with `scheme` and `model` are conformance rows: they go to conformance.json.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import pytest
import pytest_asyncio

from harness import expectations, quota, tfjs
from harness.report import artifacts
from harness.report import baseline
from harness.report import html as html_report
from harness.report import text as report
from harness.report import shard
from harness.report import markdown as summary
from harness.config import load_matrix, with_endpoints
from harness.paths import DEFAULT_CONFIG
from harness.engines import ENGINES
from harness.engines import remote
from harness.engines.base import Driver, EngineError, Page
from harness.engines.pool import EnginePool
from harness.server import HarnessServer

BACKENDS = ("cpu", "webgl", "wasm")
PAGE_TIMEOUT_S = 60.0


@dataclasses.dataclass
class _State:
    matrix: dict
    engines: list[str]
    results_dir: Path
    building: dict = dataclasses.field(default_factory=dict)  # nodeid -> row, while its phases run
    rows: dict = dataclasses.field(default_factory=dict)  # nodeid -> finished row (from this process or workers)
    capacity: list = dataclasses.field(default_factory=list)  # capacity probe rows (harness.measure.capacity)
    baseline: dict | None = None  # --baseline's document
    baseline_diff: object = None  # harness.report.baseline.BaselineDiff, once the run is over
    notes: list = dataclasses.field(default_factory=list)  # lines for the terminal summary
    worker_engines: list = dataclasses.field(default_factory=list)  # engine records sent by xdist workers
    pool: EnginePool | None = None
    builds: list = dataclasses.field(default_factory=list)  # the TF.js builds this run tests (harness.tfjs)
    partners: list = dataclasses.field(default_factory=list)  # cross-version rows' other builds, when one is tested
    started: float = dataclasses.field(default_factory=time.monotonic)  # the session's wall clock (report.timing)

    def pairs(self) -> list[tuple]:
        """Cross-version (A, B) pairs, both orders: among the builds tested, or the one tested and its partner."""
        builds = self.builds if len(self.builds) > 1 else self.builds + self.partners
        return [(a, b) for a in builds for b in builds if a is not b]

    @property
    def tfjs(self) -> list[dict]:
        return [b.as_row() for b in self.builds]


_STATE = pytest.StashKey[_State]()
_TRIP = pytest.StashKey[object]()  # the test's roundtrip.Trip, for the facts it observed
_FINDINGS = pytest.StashKey[list]()  # the expectations entries of a row
_QUOTA = pytest.StashKey[dict]()  # how the test's page was limited (harness.quota.limit_page)
_FAILED = pytest.StashKey[bool]()  # the row failed: keep the page's trace


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tfjs-io-conformance", "TF.js io conformance")
    group.addoption(
        "--engine", action="append", default=[], choices=list(ENGINES), metavar="NAME",
        help=f"engine to run (repeatable; default: every engine in the matrix): {', '.join(ENGINES)}",
    )
    group.addoption("--headed", action="store_true", help="show browser windows (needs a display)")
    group.addoption(
        "--tfjs-backend", default="cpu", choices=BACKENDS,
        help="TF.js backend in the page (default cpu: bit-exact weights, deterministic predictions)",
    )
    group.addoption("--tfjs-version", action="append", default=[], metavar="V",
                    help="TF.js version from npm to run (repeatable; installed side by side as package.json aliases "
                         "tfjs-<V>; default: the newest stable one)")
    group.addoption("--tfjs-bundle", action="append", default=[], metavar="PATH",
                    help="a local TF.js UMD bundle (tf.js / tf.min.js as built from the TF.js repo) to run instead "
                         "of npm's, in every engine and in Node (repeatable)")
    group.addoption("--engine-config", default=str(DEFAULT_CONFIG), help="the engine matrix file (playwright.config)")
    group.addoption("--results-dir", default="test-results", help="where conformance.json goes")
    group.addoption("--zoo", default="core", choices=["core", "full"],
                    help="the golden models of the round-trip rows: core (default; one model per way a scheme "
                         "can get a model wrong) or full (every model; make test)")
    group.addoption("--model", action="append", default=[], metavar="PATH",
                    help="a model.json of your own (repeatable): run every scheme over it instead of the golden zoo")
    group.addoption("--expectations", default=str(expectations.DEFAULT),
                    help="known findings, run as strict xfails (scenarios/expectations.toml)")
    group.addoption("--baseline", default=None, metavar="OLD.json",
                    help="compare this run with a stored conformance.json: list regressions, fixes, new rows; "
                         "exit non-zero on any regression")
    group.addoption("--update-expectations", action="store_true",
                    help="rewrite --expectations to this run's outcomes: record unexpected failures, drop entries "
                         "whose rows now pass")
    group.addoption("--repeat", type=int, default=1, metavar="N",
                    help="run every conformance row N times; rows whose outcome differs between repeats are "
                         "reported as flaky (matrix, conformance.json \"flaky\")")
    group.addoption("--run-large", action="store_true",
                    help="also run tests marked large (256-512 MiB models; make test does)")
    group.addoption("--connect", action="append", default=[], metavar="ENGINE=WS_URL", type=_endpoint_option,
                    help="run ENGINE in a Playwright server (playwright run-server, a Docker image, a cloud service) "
                         "through browser_type.connect; its launch_options come from the engine's entry in "
                         "--engine-config (repeatable)")
    group.addoption("--webdriver", action="append", default=[], metavar="ENGINE=URL", type=_endpoint_option,
                    help="run ENGINE through a remote W3C WebDriver endpoint (safaridriver, Selenium Grid, "
                         "WebKitWebDriver --port); its capabilities come from the engine's entry (repeatable)")
    group.addoption("--server-bind", default="127.0.0.1", metavar="ADDR",
                    help="the address the harness server listens on (default loopback; 0.0.0.0 for browsers on "
                         "other machines)")
    group.addoption("--server-host", default=None, metavar="NAME",
                    help="the host name or address browsers reach the harness server by (default: the bound "
                         "address, or this machine's name when bound to 0.0.0.0)")
    group.addoption("--shard", default=None, metavar="K/N", type=_shard_option,
                    help="run only the K-th of N deterministic slices of the tests (by a hash of each test id), "
                         "so that N CI jobs cover the run once; join their conformance.json with "
                         "`python -m harness merge`")
    group.addoption("--quota", default=None, metavar="SIZE", type=_size_option,
                    help="limit every browser page's storage to SIZE (e.g. 2MB, 512KiB): IndexedDB by the engine's "
                         "quota emulation, localStorage by filling it; overrides @pytest.mark.quota")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(schemes, models): a conformance scenario over scheme x model x engine")
    config.addinivalue_line("markers", "hosts(*hosts): engine hosts a test taking engine_name runs on (default: browser)")
    config.addinivalue_line("markers", "large: hundreds of MiB per engine; skipped unless --run-large")
    config.addinivalue_line("markers", "quota(size): open this test's pages with their storage limited to size (--quota wins)")
    try:
        matrix = with_endpoints(load_matrix(Path(config.getoption("engine_config"))),
                                dict(config.getoption("connect")), dict(config.getoption("webdriver")))
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    chosen = config.getoption("engine") or list(matrix)
    unknown = [e for e in chosen if e not in matrix]
    if unknown:
        raise pytest.UsageError(f"--engine {unknown}: not in the matrix {config.getoption('engine_config')}")
    builds = _select_builds(config)
    config.stash[_STATE] = _State(matrix, list(dict.fromkeys(chosen)), Path(config.getoption("results_dir")),
                                  builds=builds, partners=_partners(builds))
    if config.getoption("baseline"):
        try:
            config.stash[_STATE].baseline = baseline.load(Path(config.getoption("baseline")))
        except baseline.BaselineError as e:
            raise pytest.UsageError(f"--baseline: {e}") from None
    tfjs.register(builds + config.stash[_STATE].partners)
    _CONFIG.append(config)
    user_models(config)  # a bad --model path is a usage error before anything starts


def _select_builds(config: pytest.Config) -> list:
    """--tfjs-version and --tfjs-bundle, in that order; neither: the newest stable npm version."""
    try:
        available = tfjs.available()
    except FileNotFoundError:
        return []  # nothing installed: the fixtures say how to install it when a test needs TF.js
    versions, bundles = config.getoption("tfjs_version"), config.getoption("tfjs_bundle")
    unknown = [v for v in versions if v not in available]
    if unknown:
        raise pytest.UsageError(f"--tfjs-version {', '.join(unknown)}: not installed; installed: {', '.join(available)} "
                                f"(add an alias \"tfjs-V\": \"npm:@tensorflow/tfjs@V\" to package.json, then npm install)")
    builds = [available[v] for v in dict.fromkeys(versions)]
    for path in bundles:
        try:
            builds.append(tfjs.bundle(path))
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
    return builds or [tfjs.newest_stable(available)]


def _partners(builds: list) -> list:
    """With one build under test, cross-version rows pair it with the last stable release on npm (a
    candidate or bundle against the last release), or, when it is that release, the oldest installed."""
    if len(builds) != 1:
        return []
    try:
        available = tfjs.available()
    except FileNotFoundError:
        return []
    newest = tfjs.newest_stable(available)
    if builds[0].version != newest.version:
        return [newest]
    older = [b for b in available.values() if not b.prerelease and b.version != newest.version]
    return older[:1]


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _CONFIG:
        _CONFIG.remove(config)


def _engines_for(config: pytest.Config, hosts) -> list[str]:
    return [e for e in config.stash[_STATE].engines if ENGINES[e].host in hosts]


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`@pytest.mark.conformance(schemes, models)`: one test per scheme x model x engine the scheme can run
    on, id `<scheme>-<model>-<engine>`. Other tests taking `engine_name` run once per browser engine
    (or per engine of the hosts named by `@pytest.mark.hosts(...)`)."""
    if "engine_name" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("conformance")
    if marker is not None:
        schemes, models = marker.kwargs["schemes"], models_to_run(metafunc.config, marker.kwargs["models"])
        user = set(user_models(metafunc.config))
        combos = [
            (scheme, model, engine)
            for engine in metafunc.config.stash[_STATE].engines
            for scheme in schemes
            if ENGINES[engine].host in scheme.hosts
            for model in models
            if model in user or getattr(scheme, "models", None) is None or model in scheme.models
        ]
        state = metafunc.config.stash[_STATE]
        builds = [b.version for b in state.builds]
        if marker.kwargs.get("cross_version"):  # one row per ordered pair of builds: tfjs "A->B"
            combos4 = [(s, m, e, f"{a.version}->{b.version}") for s, m, e in combos for a, b in state.pairs()]
            metafunc.parametrize(("scheme", "model", "engine_name", "tfjs_version"), combos4,
                                 ids=[f"{s}-{m}-{e}-tfjs{v}" for s, m, e, v in combos4])
        elif len(builds) > 1:  # the TF.js version is a dimension of its own, last in the id
            combos4 = [(s, m, e, v) for s, m, e in combos for v in builds]
            metafunc.parametrize(("scheme", "model", "engine_name", "tfjs_version"), combos4,
                                 ids=[f"{s}-{m}-{e}-tfjs{v}" for s, m, e, v in combos4])
        else:
            metafunc.parametrize(("scheme", "model", "engine_name"), combos, ids=[f"{s}-{m}-{e}" for s, m, e in combos])
        repeat = metafunc.config.getoption("repeat")
        if repeat > 1:
            metafunc.parametrize("repeat_index", range(repeat), ids=[f"r{i}" for i in range(repeat)])
        return
    hosts = metafunc.definition.get_closest_marker("hosts")
    metafunc.parametrize("engine_name", _engines_for(metafunc.config, hosts.args if hosts else ("browser",)))


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tfjs_backend(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("tfjs_backend")


@pytest.fixture(scope="session")
def tfjs_builds(pytestconfig: pytest.Config) -> list:
    """Every TF.js build of this run (--tfjs-version, --tfjs-bundle; default the newest stable)."""
    state = pytestconfig.stash[_STATE]
    if not state.builds:
        tfjs.installed()  # raises, saying how to install TF.js
    return state.builds + state.partners


@pytest.fixture
def repeat_index() -> int:
    """Which of --repeat N runs of a conformance row this is (0 without --repeat)."""
    return 0


@pytest.fixture
def tfjs_version() -> str | None:
    """The row's TF.js build id when the run has several ("4.0.0", or "A->B" for cross-version rows);
    parametrised by pytest_generate_tests, None otherwise."""
    return None


@pytest.fixture
def tfjs_build(tfjs_version: str | None, tfjs_builds: list) -> tfjs.TfjsBuild:
    """This test's TF.js build: A of "A->B", the row's build, or the run's only one."""
    return tfjs.lookup(tfjs_version.split("->")[0]) if tfjs_version else tfjs_builds[0]


@pytest.fixture
def tfjs_load_build(tfjs_version: str | None):
    """Cross-version rows ("A->B"): the build B that loads what A saved; None otherwise."""
    return tfjs.lookup(tfjs_version.split("->")[1]) if tfjs_version and "->" in tfjs_version else None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness_server(tfjs_builds: list, pytestconfig: pytest.Config):
    server = await HarnessServer(tfjs_builds).start(pytestconfig.getoption("server_bind"),
                                                    public_host=pytestconfig.getoption("server_host"))
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _engine_pool(pytestconfig: pytest.Config):
    state = pytestconfig.stash[_STATE]
    selected = {name: state.matrix[name] for name in state.engines}
    state.pool = await EnginePool(selected, headed=pytestconfig.getoption("headed")).discover()
    yield state.pool
    await state.pool.stop_all()


@pytest_asyncio.fixture(loop_scope="session")
async def engine(engine_name: str, _engine_pool: EnginePool) -> Driver:
    """The running browser of this test's engine; a missing engine skips the test with the reason."""
    missing = _engine_pool.missing(engine_name)
    if missing:
        install = f" Install: apt-get install -y {' '.join(missing.apt_packages)}" if missing.apt_packages else ""
        pytest.skip(f"{engine_name} not found ({missing.reason}).{install}")
    return await _engine_pool.get(engine_name)


def _endpoint_option(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep or not name or not url:
        raise pytest.UsageError(f"{text!r}: expected ENGINE=URL, e.g. chromium=ws://127.0.0.1:3000/")
    return name, url


def _shard_option(text: str) -> tuple[int, int]:
    try:
        return shard.parse(text)
    except ValueError as e:
        raise pytest.UsageError(f"--shard: {e}") from None


def _size_option(text: str) -> int:
    try:
        return quota.parse_size(text)
    except ValueError as e:
        raise pytest.UsageError(f"--quota: {e}") from None


@pytest.fixture
def storage_quota(request: pytest.FixtureRequest) -> int | None:
    """The storage quota (bytes) this test's pages get: --quota, else the test's quota(SIZE) marker."""
    option = request.config.getoption("quota")
    if option is not None:
        return option
    marker = request.node.get_closest_marker("quota")
    if marker is None:
        return None
    try:
        return quota.parse_size(marker.args[0])
    except (IndexError, ValueError) as e:
        raise pytest.UsageError(f"{request.node.nodeid}: @pytest.mark.quota(SIZE): {e}") from None


@pytest_asyncio.fixture(loop_scope="session")
async def harness_page(request: pytest.FixtureRequest, engine: Driver, _engine_pool: EnginePool,
                       harness_server: HarnessServer, tfjs_build: tfjs.TfjsBuild, tfjs_backend: str,
                       storage_quota: int | None) -> Page:
    """The harness page on this test's engine, with fresh storage (limited to `storage_quota`, if
    any), closed after the test."""
    url = harness_server.page_url(tfjs_build.version, tfjs_backend)
    try:
        page = await engine.open(url, timeout=PAGE_TIMEOUT_S, quota=storage_quota)
        if storage_quota is not None and engine.spec.host == "browser":
            request.node.stash[_QUOTA] = await quota.limit_page(page, storage_quota, PAGE_TIMEOUT_S)
    except EngineError:
        if not engine.alive:
            await _engine_pool.restart(engine.spec.name)
        raise
    yield page
    if request.node.stash.get(_FAILED, False) and _row_params(request.node) is not None:
        out = artifacts.test_dir(request.config.stash[_STATE].results_dir, request.node.nodeid)
        out.mkdir(parents=True, exist_ok=True)
        await page.save_trace(str(out / "trace.zip"))
    await page.close()
    if not engine.alive:  # the browser died during the test: relaunch for the next one
        await _engine_pool.restart(engine.spec.name)


@pytest_asyncio.fixture(loop_scope="session")
async def make_trip(request: pytest.FixtureRequest, engine: Driver, harness_page: Page, harness_server: HarnessServer, _engine_pool: EnginePool,
                    tfjs_build: tfjs.TfjsBuild, tfjs_backend: str, tmp_path: Path, storage_quota: int | None,
                    tfjs_load_build, repeat_index: int):
    """`make_trip(model_name)`: a round trip of that golden on this test's page (see harness.trip.roundtrip)."""
    from harness import golden
    from harness.trip.roundtrip import Trip
    from harness.schemes import Unsupported

    others: list[Page] = []
    url = harness_server.page_url(tfjs_build.version, tfjs_backend)

    async def open_page(engine_name: str) -> Page:
        if _engine_pool.missing(engine_name) or engine_name not in _engine_pool.found:
            raise Unsupported(f"this row needs the {engine_name} engine, which is not in this run")
        page = await (await _engine_pool.get(engine_name)).open(url, timeout=PAGE_TIMEOUT_S)
        others.append(page)
        return page

    async def open_sibling(version: str) -> Page:
        page = await engine.open_sibling(harness_page, harness_server.page_url(version, tfjs_backend), timeout=PAGE_TIMEOUT_S)
        others.append(page)
        return page

    def make(model: str, **options) -> Trip:
        trip = Trip(harness_page, engine, harness_server, _golden(request.config, model), tfjs_build.semver, tmp_path,
                    page_url=url, open_page=open_page, quota=storage_quota, load_with=tfjs_load_build,
                    open_sibling=open_sibling, **options)
        request.node.stash[_TRIP] = trip
        return trip

    yield make
    for page in others:
        await page.close()


def user_models(config: pytest.Config) -> dict:
    """--model PATH: the user's models by name (byo-<folder>), as goldens to be completed on the page."""
    from harness.golden import byo

    models = {}
    for path in config.getoption("model"):
        try:
            g = byo.load_user_model(path)
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
        if g.name in models:
            raise pytest.UsageError(f"--model {path}: two models named {g.name}; give them different folders")
        models[g.name] = g
    return models


def _golden(config: pytest.Config, name: str):
    from harness import golden
    from harness.golden.models import sized_bytes

    if sized_bytes(name):  # "sized-256MiB": made by numpy on first use (harness.golden.sized)
        return golden.sized(sized_bytes(name))
    return user_models(config).get(name) or golden.load(name)


def _model_format(config: pytest.Config, name: str) -> str:
    """model.json's "format" of a zoo or --model model, without reading its weights."""
    from harness import golden

    from harness.golden.models import sized_bytes

    if sized_bytes(name):
        return "layers-model"
    user = user_models(config).get(name)
    path = user.dir / user.examples["model_file"] if user else golden.FIXTURES / name / "model.json"
    return json.loads(path.read_text("utf-8")).get("format", "layers-model")


def models_to_run(config: pytest.Config, default: list[str] | str) -> list[str]:
    """The user's models when --model is given, else `default`: a marker's list, or "zoo" (the golden
    zoo chosen by --zoo)."""
    from harness import golden

    if user_models(config):
        return list(user_models(config))
    zoo = golden.ZOOS[config.getoption("zoo")]
    if default == "zoo":
        return list(zoo)
    # a scenario's own list: its zoo models outside the chosen zoo are left out (sized models stay)
    return [m for m in default if m not in golden.MODELS or m in zoo]


# -- conformance rows ---------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard, --run-large, and known findings as strict xfails: evidence kept while they fail, a red
    run once they pass. (Under xdist every worker starts the engines its tests need, once.)"""
    if config.getoption("shard"):
        k, n = config.getoption("shard")
        kept, dropped = shard.split(items, k, n)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    run_large = config.getoption("run_large")
    for item in items:
        if not run_large and item.get_closest_marker("large"):
            item.add_marker(pytest.mark.skip(reason="large: run with --run-large (make test does)"))
    findings = expectations.load(Path(config.getoption("expectations")))
    if not findings:
        return
    builds = config.stash[_STATE].builds
    for item in items:
        params = _row_params(item)
        if params is None:
            continue
        model = str(params["model"])
        versions = str(params.get("tfjs_version") or builds[0].version).split("->")
        semver = "->".join(tfjs.lookup(v).semver for v in versions)  # "A->B" for cross-version rows
        found = expectations.match(findings, str(params["scheme"]), params["engine_name"], model, semver,
                                   _model_format(config, model))
        if found:
            item.stash[_FINDINGS] = found
            reason = " | ".join(f.describe() for f in found)
            strict = not all(f.intermittent for f in found)
            item.add_marker(pytest.mark.xfail(reason=reason, strict=strict, raises=expectations.KnownFinding))


@pytest.fixture
def known_findings(request: pytest.FixtureRequest) -> list:
    """The expectations entries for this row: pass them to `harness.expectations.judge`."""
    return request.node.stash.get(_FINDINGS, [])


def _row_params(item: pytest.Item) -> dict | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if not {"engine_name", "scheme", "model"} <= params.keys():
        return None
    if not isinstance(params["model"], str):  # pytest's placeholder for an empty parametrisation (no engine can host it)
        return None
    return params


def _outcome(rep: pytest.TestReport, call: pytest.CallInfo) -> str:
    """This phase's outcome in the report's terms."""
    if rep.passed:
        return "passed"
    if rep.skipped:
        return "xfailed" if hasattr(rep, "wasxfail") else "skipped"
    if rep.when != "call":
        return "error"
    if call.excinfo is None:  # a strict xfail that passed: the expectation is stale
        return "failed"
    # An assertion (a difference, or TF.js throwing) is a finding; anything else is the harness or engine.
    return "failed" if call.excinfo.errisinstance(AssertionError) else "error"


def _detail(rep: pytest.TestReport, call: pytest.CallInfo, outcome: str) -> str:
    evidence = f"{call.excinfo.typename}: {call.excinfo.value}" if call.excinfo is not None else ""
    if outcome == "xfailed":
        return f"{rep.wasxfail}\n{evidence}"[:4000]
    if outcome == "skipped" and isinstance(rep.longrepr, tuple):
        return rep.longrepr[2].removeprefix("Skipped: ")
    return (evidence or str(rep.longrepr))[:4000]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    params = _row_params(item)
    if params is None:
        return rep
    state = item.config.stash[_STATE]
    row = state.building.setdefault(item.nodeid, {
        "engine": params["engine_name"],
        "tfjs": params.get("tfjs_version") or (state.builds[0].version if state.builds else None),
        "backend": item.config.getoption("tfjs_backend"),
        "scheme": str(params["scheme"]),
        "model": str(params["model"]),
        "outcome": "passed",
        "duration_s": 0.0,
        "detail": "",
        "test": item.nodeid,
        "host": remote.host(state.matrix.get(params["engine_name"])),
        **({"repeat": params["repeat_index"]} if "repeat_index" in params else {}),
    })
    row["test_s"] = round(row.get("test_s", 0.0) + rep.duration, 3)  # setup + call + teardown: page open and close too
    if rep.when == "call":
        row["duration_s"] = round(rep.duration, 3)
        trip = item.stash.get(_TRIP, None)
        if trip is not None:
            row["page_s"] = round(trip.page_s, 3)
        if trip is not None and trip.observed:
            row["observed"] = trip.observed
        if _QUOTA in item.stash:
            row["quota"] = item.stash[_QUOTA]
    outcome = _outcome(rep, call)
    if row["outcome"] == "passed" and outcome != "passed":  # the first phase that did not pass decides
        row["outcome"], row["detail"] = outcome, _detail(rep, call, outcome)
        if outcome in ("failed", "error"):
            item.stash[_FAILED] = True
            _write_artifacts(item, row)
    if rep.when == "teardown":  # finished: travel with the report (to the xdist controller, if any)
        trip = item.stash.get(_TRIP, None)
        if trip is not None:
            trip.state.pop("parts", None)  # the posted artifacts: written above if the row failed
        rep.user_properties.append(("conformance_row", state.building.pop(item.nodeid)))
    return rep


def _write_artifacts(item: pytest.Item, row: dict) -> None:
    """A failed row's evidence under test-results/<test id>/: diff.txt (the detail), row.json, every
    artifact the pages posted (what came back: loaded.json, loaded.weights.bin, storage.json...) and
    files/ (what the scheme wrote or captured: downloads, file:// saves). trace.zip: see harness_page."""
    out = artifacts.test_dir(item.config.stash[_STATE].results_dir, item.nodeid)
    out.mkdir(parents=True, exist_ok=True)
    (out / "diff.txt").write_text(row["detail"] + "\n")
    (out / "row.json").write_text(json.dumps(row, indent=2, default=str) + "\n")
    trip = item.stash.get(_TRIP, None)
    if trip is None:
        return
    for name, data in (trip.state.get("parts") or {}).items():
        (out / name).write_bytes(data)
    if trip.tmp.is_dir() and any(trip.tmp.iterdir()):  # files the scheme handled: downloads, file:// saves, choices
        shutil.copytree(trip.tmp, out / "files", dirs_exist_ok=True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == "conformance_row":
            _state_of(report).rows[report.nodeid] = value
        elif key == "capacity_row" and report.when == "call":
            _state_of(report).capacity.append(value)


_CONFIG: list[pytest.Config] = []  # the running config (pytest_runtest_logreport gets no config)


def _state_of(report) -> _State:
    return _CONFIG[-1].stash[_STATE]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist: a worker finished; keep the engines it ran."""
    out = getattr(node, "workeroutput", {}).get("conformance")
    if out:
        state = node.config.stash[_STATE]
        state.worker_engines.extend(out["engines"])  # the TF.js builds: the controller chose the same ones


def _engine_records(state: _State) -> list[dict]:
    """One record per engine that has rows: the one with a version when several processes ran it."""
    seen = (state.pool.infos() if state.pool else []) + state.worker_engines
    out = []
    for name in dict.fromkeys(r["engine"] for r in state.rows.values()):
        records = [e for e in seen if e["engine"] == name]
        out.append(next((e for e in records if e.get("version")), records[0] if records else
                        {"engine": name, "version": None, "driver": None, "build": None}))
    return out


def _in_order(state: _State, rows: list[dict]) -> list[dict]:
    """Rows in one order whatever the workers' schedule: scenario file, then scheme, model and engine in
    their declared orders (harness.schemes.SCHEMES, the zoo, the run's engines), then build and repeat."""
    from harness import golden
    from harness.schemes import SCHEMES

    def position(seq, x) -> int:
        return seq.index(x) if x in seq else len(seq)

    schemes, models = list(SCHEMES), list(golden.MODELS)
    return sorted(rows, key=lambda r: (r["test"].split("::")[0], position(schemes, r["scheme"]), r["scheme"],
                                       position(models, r["model"]), r["model"], position(state.engines, r["engine"]),
                                       r["engine"], str(r.get("tfjs")), r.get("repeat", 0)))


def _document(config: pytest.Config) -> dict:
    state = config.stash[_STATE]
    doc = report.document(_engine_records(state), state.tfjs, _in_order(state, list(state.rows.values())))
    doc["timing"] = report.timing(doc["results"], time.monotonic() - state.started)
    doc["zoo"] = "user" if user_models(config) else config.getoption("zoo")  # which models the round trips ran
    if config.getoption("shard"):
        doc["shard"] = shard.label(*config.getoption("shard"))
        doc["selection"] = {"engines": state.engines}  # which run this is a shard of (harness.report.merge)
    return doc


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the report
        session.config.workeroutput["conformance"] = {"engines": state.pool.infos() if state.pool else [],
                                                      "tfjs": state.tfjs}
        return
    if state.rows:
        doc = _document(session.config)
        report.write(state.results_dir / "conformance.json", doc)
        html_report.write(doc, state.results_dir)
        state.notes.append(f"written: {state.results_dir / 'report.html'}")
        if state.baseline is not None:
            state.baseline_diff = baseline.diff(state.baseline, doc)
            if baseline.regressed(state.baseline_diff) and session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if summary.write_step_summary(summary.markdown(doc, state.baseline_diff)):
            state.notes.append("written: $GITHUB_STEP_SUMMARY")
        if session.config.getoption("update_expectations"):
            state.notes.append(_update_expectations(session.config, state))
    if state.capacity:
        from harness.measure import capacity

        capacity.write(state.results_dir, state.capacity)


def _update_expectations(config: pytest.Config, state: _State) -> str:
    import datetime

    from harness.expectations import update as expectations_update

    path = Path(config.getoption("expectations"))
    try:
        result = expectations_update.update(path, list(state.rows.values()), expectations.load(path),
                                            today=datetime.date.today().isoformat(),
                                            format_of=lambda m: _model_format(config, m))
        return result.format()
    except expectations_update.UpdateError as e:
        return f"expectations not updated: {e}"


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.capacity:
        from harness.measure import capacity

        terminalreporter.section("storage capacity (largest model that round-trips)")
        terminalreporter.write_line(capacity.table(state.capacity))
        terminalreporter.write_line(f"written: {state.results_dir / 'capacity.json'}, {state.results_dir / 'capacity.md'}")
    if state is None or not state.rows:
        return
    doc = _document(config)
    terminalreporter.section("conformance matrix (scheme x engine)")
    terminalreporter.write_line(report.matrix(doc))
    terminalreporter.section("where the time went")
    terminalreporter.write_line(report.timing_table(doc["timing"]))
    terminalreporter.write_line(f"written: {state.results_dir / 'conformance.json'}")
    for note in state.notes:
        terminalreporter.write_line(note)
    if state.baseline_diff is not None:
        terminalreporter.section(f"baseline: {config.getoption('baseline')}")
        terminalreporter.write_line(baseline.format(state.baseline_diff))
