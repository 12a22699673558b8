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
from pathlib import Path

import pytest
import pytest_asyncio

from harness import expectations, quota, report, tfjs
from harness.config import DEFAULT_CONFIG, load_matrix
from harness.engines import ENGINES
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
    capacity: list = dataclasses.field(default_factory=list)  # capacity probe rows (harness.capacity)
    worker_engines: list = dataclasses.field(default_factory=list)  # engine records sent by xdist workers
    pool: EnginePool | None = None
    tfjs: list[dict] = dataclasses.field(default_factory=list)


_STATE = pytest.StashKey[_State]()
_TRIP = pytest.StashKey[object]()  # the test's roundtrip.Trip, for the facts it observed
_FINDINGS = pytest.StashKey[list]()  # the expectations entries of a row
_QUOTA = pytest.StashKey[dict]()  # how the test's page was limited (harness.quota.limit_page)


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
    group.addoption("--engine-config", default=str(DEFAULT_CONFIG), help="the engine matrix file (playwright.config)")
    group.addoption("--results-dir", default="test-results", help="where conformance.json goes")
    group.addoption("--model", action="append", default=[], metavar="PATH",
                    help="a model.json of your own (repeatable): run every scheme over it instead of the golden zoo")
    group.addoption("--expectations", default=str(expectations.DEFAULT),
                    help="known findings, run as strict xfails (scenarios/expectations.toml)")
    group.addoption("--run-large", action="store_true",
                    help="also run tests marked large (256-512 MiB models; make test does)")
    group.addoption("--quota", default=None, metavar="SIZE", type=_size_option,
                    help="limit every browser page's storage to SIZE (e.g. 2MB, 512KiB): IndexedDB by the engine's "
                         "quota emulation, localStorage by filling it; overrides @pytest.mark.quota")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(schemes, models): a conformance scenario over scheme x model x engine")
    config.addinivalue_line("markers", "hosts(*hosts): engine hosts a test taking engine_name runs on (default: browser)")
    config.addinivalue_line("markers", "large: hundreds of MiB per engine; skipped unless --run-large")
    config.addinivalue_line("markers", "quota(size): open this test's pages with their storage limited to size (--quota wins)")
    matrix = load_matrix(Path(config.getoption("engine_config")))
    chosen = config.getoption("engine") or list(matrix)
    unknown = [e for e in chosen if e not in matrix]
    if unknown:
        raise pytest.UsageError(f"--engine {unknown}: not in the matrix {config.getoption('engine_config')}")
    config.stash[_STATE] = _State(matrix, list(dict.fromkeys(chosen)), Path(config.getoption("results_dir")))
    _CONFIG.append(config)
    user_models(config)  # a bad --model path is a usage error before anything starts


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
        combos = [
            (scheme, model, engine)
            for engine in metafunc.config.stash[_STATE].engines
            for scheme in schemes
            if ENGINES[engine].host in scheme.hosts
            for model in models
        ]
        ids = [f"{s}-{m}-{e}" for s, m, e in combos]
        metafunc.parametrize(("scheme", "model", "engine_name"), combos, ids=ids)
        return
    hosts = metafunc.definition.get_closest_marker("hosts")
    metafunc.parametrize("engine_name", _engines_for(metafunc.config, hosts.args if hosts else ("browser",)))


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tfjs_backend(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("tfjs_backend")


@pytest.fixture(scope="session")
def tfjs_build(pytestconfig: pytest.Config) -> tfjs.TfjsBuild:
    build = tfjs.installed()
    pytestconfig.stash[_STATE].tfjs = [build.as_row()]
    return build


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness_server(tfjs_build: tfjs.TfjsBuild):
    server = await HarnessServer([tfjs_build]).start()
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
    await page.close()
    if not engine.alive:  # the browser died during the test: relaunch for the next one
        await _engine_pool.restart(engine.spec.name)


@pytest_asyncio.fixture(loop_scope="session")
async def make_trip(request: pytest.FixtureRequest, engine: Driver, harness_page: Page, harness_server: HarnessServer, _engine_pool: EnginePool,
                    tfjs_build: tfjs.TfjsBuild, tfjs_backend: str, tmp_path: Path, storage_quota: int | None):
    """`make_trip(model_name)`: a round trip of that golden on this test's page (see harness.roundtrip)."""
    from harness import golden
    from harness.roundtrip import Trip
    from harness.schemes import Unsupported

    others: list[Page] = []
    url = harness_server.page_url(tfjs_build.version, tfjs_backend)

    async def open_page(engine_name: str) -> Page:
        if _engine_pool.missing(engine_name) or engine_name not in _engine_pool.found:
            raise Unsupported(f"this row needs the {engine_name} engine, which is not in this run")
        page = await (await _engine_pool.get(engine_name)).open(url, timeout=PAGE_TIMEOUT_S)
        others.append(page)
        return page

    def make(model: str, **options) -> Trip:
        trip = Trip(harness_page, engine, harness_server, _golden(request.config, model), tfjs_build.version, tmp_path,
                    page_url=url, open_page=open_page, quota=storage_quota, **options)
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


def models_to_run(config: pytest.Config, default: list[str]) -> list[str]:
    """The user's models when --model is given, else `default` (the golden zoo)."""
    return list(user_models(config)) or default


# -- conformance rows ---------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (`-n N --dist loadgroup`) every test of one engine goes to one worker, which keeps
    that engine's browser for the session. Known findings become strict xfails: evidence kept while
    they fail, a red run once they pass."""
    run_large = config.getoption("run_large")
    for item in items:
        engine = getattr(getattr(item, "callspec", None), "params", {}).get("engine_name")
        if engine is not None:
            item.add_marker(pytest.mark.xdist_group(engine))
        if not run_large and item.get_closest_marker("large"):
            item.add_marker(pytest.mark.skip(reason="large: run with --run-large (make test does)"))
    findings = expectations.load(Path(config.getoption("expectations")))
    if not findings:
        return
    version = tfjs.installed().version
    for item in items:
        params = _row_params(item)
        if params is None:
            continue
        model = str(params["model"])
        found = expectations.match(findings, str(params["scheme"]), params["engine_name"], model, version,
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
        "tfjs": state.tfjs[0]["version"] if state.tfjs else None,
        "backend": item.config.getoption("tfjs_backend"),
        "scheme": str(params["scheme"]),
        "model": str(params["model"]),
        "outcome": "passed",
        "duration_s": 0.0,
        "detail": "",
        "test": item.nodeid,
    })
    if rep.when == "call":
        row["duration_s"] = round(rep.duration, 3)
        trip = item.stash.get(_TRIP, None)
        if trip is not None and trip.observed:
            row["observed"] = trip.observed
        if _QUOTA in item.stash:
            row["quota"] = item.stash[_QUOTA]
    outcome = _outcome(rep, call)
    if row["outcome"] == "passed" and outcome != "passed":  # the first phase that did not pass decides
        row["outcome"], row["detail"] = outcome, _detail(rep, call, outcome)
    if rep.when == "teardown":  # finished: travel with the report (to the xdist controller, if any)
        rep.user_properties.append(("conformance_row", state.building.pop(item.nodeid)))
    return rep


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
    """xdist: a worker finished; keep the engines it ran and the TF.js it served."""
    out = getattr(node, "workeroutput", {}).get("conformance")
    if out:
        state = node.config.stash[_STATE]
        state.worker_engines.extend(out["engines"])
        state.tfjs = state.tfjs or out["tfjs"]


def _engine_records(state: _State) -> list[dict]:
    """One record per engine that has rows: the one with a version when several processes ran it."""
    seen = (state.pool.infos() if state.pool else []) + state.worker_engines
    out = []
    for name in dict.fromkeys(r["engine"] for r in state.rows.values()):
        records = [e for e in seen if e["engine"] == name]
        out.append(next((e for e in records if e.get("version")), records[0] if records else
                        {"engine": name, "version": None, "driver": None, "build": None}))
    return out


def _document(config: pytest.Config) -> dict:
    state = config.stash[_STATE]
    return report.document(_engine_records(state), state.tfjs, list(state.rows.values()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the report
        session.config.workeroutput["conformance"] = {"engines": state.pool.infos() if state.pool else [],
                                                      "tfjs": state.tfjs}
        return
    if state.rows:
        report.write(state.results_dir / "conformance.json", _document(session.config))
    if state.capacity:
        from harness import capacity

        capacity.write(state.results_dir, state.capacity)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.capacity:
        from harness import capacity

        terminalreporter.section("storage capacity (largest model that round-trips)")
        terminalreporter.write_line(capacity.table(state.capacity))
        terminalreporter.write_line(f"written: {state.results_dir / 'capacity.json'}, {state.results_dir / 'capacity.md'}")
    if state is None or not state.rows:
        return
    terminalreporter.section("conformance matrix (scheme x engine)")
    terminalreporter.write_line(report.matrix(_document(config)))
    terminalreporter.write_line(f"written: {state.results_dir / 'conformance.json'}")
