"""The fixture ladder (session-scoped first), in the spirit of pytest-playwright's:

    tfjs_builds -> harness_server                 one server, serving every TF.js build of the run
    _engine_pool -> engine (per engine_name)      one browser per engine per session (per xdist worker)
    harness_page                                  the harness page with fresh, isolated storage, per test
    make_trip                                     `make_trip(model)`: one round trip on that page
    known_findings                                the expectations entries that apply to this row

For a team's own tests (examples/, README "Your own tests"):

    tfjs_page                                     harness_page, to run a harness step or the team's own JS
    user_model                                    the --model the run was given (a Golden; skips without one)

Every test that uses `engine_name` runs once per selected engine; its id ends with the engine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_asyncio

from harness import backends, contexts, expectations, quota, tfjs
from harness.engines.base import Driver, EngineError, Page
from harness.engines.pool import EnginePool
from harness.golden import fit, traits
from harness.pytest import options
from harness.pytest.artifacts import ArtifactsRecorder
from harness.pytest.matrix import golden_of, model_format, row_params, state
from harness.report import document
from harness.server import HarnessServer
from harness.trip import timeouts

ARTIFACTS = pytest.StashKey[ArtifactsRecorder]()
FINDINGS = pytest.StashKey[list]()  # the findings that apply to a row (harness.expectations.Finding)
QUOTA = pytest.StashKey[dict]()  # how the test's page was limited (harness.quota.limit_page)
BUILD = pytest.StashKey[str]()  # the engine build the row ran on: playwright | system | remote


@pytest.fixture
def tfjs_backend(pytestconfig: pytest.Config) -> str:
    """The row's backend (harness.backends): "webgl", or "A->B" for a cross-backend row (saved on A,
    loaded on B); parametrised by harness.pytest.matrix when the run has several, else the run's one."""
    return state(pytestconfig).backends[0]


@pytest.fixture
def tfjs_context(pytestconfig: pytest.Config) -> str:
    """The row's context (harness.contexts): "dedicated-worker", or "A->B" (saved in A, loaded in B on the
    same storage); parametrised by harness.pytest.matrix for a scenario that takes contexts, else window."""
    return contexts.DEFAULT


@pytest.fixture(scope="session")
def tfjs_builds(pytestconfig: pytest.Config) -> list:
    """Every TF.js build of this run (--tfjs-version, --tfjs-bundle; default the newest stable)."""
    run = state(pytestconfig)
    if not run.builds:
        tfjs.installed()  # raises, saying how to install TF.js
    return run.builds + run.partners


@pytest.fixture
def repeat_index() -> int:
    """Which of --repeat N runs of a conformance row this is (0 without --repeat)."""
    return 0


@pytest.fixture
def tfjs_version() -> str | None:
    """The row's TF.js build id when the run has several ("4.0.0", or "A->B" for cross-version rows);
    parametrised by harness.pytest.matrix, None otherwise."""
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
    run = state(pytestconfig)
    selected = {name: run.matrix[name] for name in run.engines}
    run.pool = await EnginePool(selected, headed=pytestconfig.getoption("headed"),
                                  tracing=pytestconfig.getoption("tracing") == "retain-on-failure").discover(
        await asyncio.to_thread(run.found))  # the matrix's discovery, if it made one (Playwright's sync API: off the loop)
    yield run.pool
    await run.pool.stop_all()


class EngineMissing(EngineError):
    """A configured local engine is not installed and the run must not go green without it (CI)."""


@pytest_asyncio.fixture(loop_scope="session")
async def engine(request: pytest.FixtureRequest, engine_name: str, _engine_pool: EnginePool) -> Driver:
    """The running browser of this test's engine. A missing engine skips the test with the install
    command, or fails it (--missing-engines fail, the default when CI=true)."""
    missing = _engine_pool.missing(engine_name)
    if missing:
        install = f" Install: apt-get install -y {' '.join(missing.apt_packages)}" if missing.apt_packages else ""
        message = f"{engine_name} not found ({missing.reason}).{install}"
        if options.missing_engines(request.config) == "fail":
            raise EngineMissing(f"{message} A missing engine fails the run here (--missing-engines fail, or CI=true).")
        pytest.skip(message)
    driver = await _engine_pool.get(engine_name)
    request.node.stash[BUILD] = driver.build.kind
    return driver


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


@pytest.fixture
def _artifacts(request: pytest.FixtureRequest) -> ArtifactsRecorder:
    """This test's evidence recorder (harness.pytest.artifacts)."""
    recorder = ArtifactsRecorder(state(request.config).results_dir, request.node.nodeid)
    request.node.stash[ARTIFACTS] = recorder
    return recorder


def row_backends(tfjs_backend: str) -> tuple[backends.Backend, backends.Backend | None]:
    """The backend a row saves on, and the one it loads on when that is another ("A->B")."""
    save, _, load = tfjs_backend.partition("->")
    return backends.get(save), backends.get(load) if load else None


@pytest_asyncio.fixture(loop_scope="session")
async def harness_page(request: pytest.FixtureRequest, engine: Driver, _engine_pool: EnginePool,
                       harness_server: HarnessServer, tfjs_build: tfjs.TfjsBuild, tfjs_backend: str,
                       tfjs_context: str, storage_quota: int | None, _artifacts: ArtifactsRecorder,
                       tfjs_load_build) -> Page:
    """The harness page on this test's engine and backend, with fresh storage (limited to
    `storage_quota`, if any), closed after the test (its trace kept when the row did not pass). A
    backend the engine's build lacks skips the test with the build's measured reason; the first page on
    each backend says what the backend really is (the engine record's `backends`)."""
    save_backend, load_backend = row_backends(tfjs_backend)
    for backend in filter(None, (save_backend, load_backend)):
        reason = engine.build.lacks(backend.base)
        if reason:
            pytest.skip(f"{engine.spec.name} ({engine.build.kind} build) cannot run the {backend.name} backend: {reason}")
        for build in filter(None, (tfjs_build, tfjs_load_build)):
            reason = build.lacks(backend.base, engine.spec.host)
            if reason:
                pytest.skip(f"TF.js {build.version} cannot run the {backend.name} backend: {reason}")
    bases = tuple(b.base for b in filter(None, (save_backend, load_backend)))
    for context in filter(None, contexts.split(tfjs_context)):
        reason = engine.build.lacks_context(context.name, bases)
        if reason:
            pytest.skip(f"{engine.spec.name} ({engine.build.kind} build) cannot open a {context.name}: {reason}")
        if context.name in ("iframe-cross-site", "top-level-cross-site") and not harness_server.cross_site_url:
            pytest.skip(f"no second site to frame: {harness_server.no_cross_site}")
    save_context = contexts.split(tfjs_context)[0]
    url = harness_server.page_url(tfjs_build.version, save_backend.name, save_context.name)
    try:
        page = await engine.open(url, timeout=timeouts.scaled(timeouts.PAGE_OPEN_S), quota=storage_quota,
                                 backends=(load_backend.name,) if load_backend else ())
        if storage_quota is not None and engine.spec.host == "browser":
            request.node.stash[QUOTA] = await quota.limit_page(page, storage_quota, timeouts.scaled(timeouts.PAGE_OPEN_S))
        await describe_backend(_engine_pool, engine, page, save_backend, save_context.name)
        await check_context(engine, page, save_context)
    except EngineError:
        if not engine.alive:
            await _engine_pool.restart(engine.spec.name)
        raise
    yield page
    await _artifacts.page_closing(page)
    await page.close()
    if not engine.alive:  # the browser died during the test: relaunch for the next one
        await _engine_pool.restart(engine.spec.name)


class TfjsPage:
    """The harness page of a test (TF.js loaded on the row's backend, fresh storage), for a team's own tests:
    `await tfjs_page.evaluate("return tf.version.tfjs")` runs the body of an async function of (tf, args) in
    the page (a worker, Node: where the row's context runs its steps) and returns its JSON value; a
    rejection raises TfjsError with the page's error. `await tfjs_page.step(name, **args)` runs a harness
    step (harness/js/steps.js)."""

    def __init__(self, page: Page, engine: str, timeout: float):
        self.page, self.engine, self.timeout = page, engine, timeout

    async def step(self, name: str, **args) -> dict:
        from harness.trip.roundtrip import TfjsError

        reply = await self.page.run_step(name, args, self.timeout)
        if reply.get("status") != "ok":
            err = reply.get("error") or {}
            raise TfjsError(f"{self.engine}: step {name!r} failed: {err.get('name')}: {err.get('message')}", err)
        return reply["result"]

    async def evaluate(self, source: str, **args):
        return (await self.step("userScript", source=source, args=args))["value"]


@pytest.fixture
def tfjs_page(harness_page: Page, engine: Driver) -> TfjsPage:
    """The test's harness page, to run the team's own JavaScript or a harness step in it (TfjsPage)."""
    return TfjsPage(harness_page, engine.spec.name, timeouts.scaled(timeouts.STEP_S))


@pytest.fixture
def user_model(pytestconfig: pytest.Config):
    """The model the run was given with --model (harness.golden.Golden: its files, read by Python; its
    `name` is what `make_trip` takes); the test skips when there is none, or says which to use when several."""
    from harness.pytest.matrix import user_models

    models = user_models(pytestconfig)
    if not models:
        pytest.skip("no --model given: pass your model.json with --model PATH")
    if len(models) > 1:
        raise pytest.UsageError(f"user_model: {len(models)} --model given ({', '.join(models)}); this test takes one")
    return next(iter(models.values()))


async def check_context(engine: Driver, page: Page, context: contexts.Context) -> None:
    """The page's steps run where the row says: their global scope says what it is (a browser's window,
    frame or worker; Node's main thread or a worker thread)."""
    if engine.spec.host == "node":
        want = "worker-thread" if context.name == "worker-thread" else "main"
    else:
        want = context.scope_name
    reply = await page.run_step("info", {}, timeouts.scaled(timeouts.PAGE_OPEN_S))
    scope = (reply.get("result") or {}).get("scope")
    if reply.get("status") != "ok" or scope != want:
        raise EngineError(f"{engine.spec.name}: the steps of a {context.name} page run in {scope!r}, not in a "
                          f"{want}: {reply.get('error')}")
    # A backend that did not start in the context (harness/js/host.js serve): the row reports it, as TF.js's.
    page.backend_failed = (reply.get("result") or {}).get("backendFailed")


async def describe_backend(pool: EnginePool, engine: Driver, page: Page, backend: backends.Backend,
                           context: str = contexts.DEFAULT) -> None:
    """Ask the page what its backend really is (harness/js/backends.js describe), once per engine, backend
    and context in this process: the WebGL version and renderer, wasm SIMD and threads. Keyed by the
    backend's name in a window, else "<backend> in <context>": a context decides what a backend gets (a
    shared worker is not cross-origin isolated, so Firefox's wasm runs without threads there)."""
    described = pool.backends.setdefault(engine.spec.name, {})
    key = backend.name if context == contexts.DEFAULT else f"{backend.name} in {context}"
    if key in described:
        return
    reply = await page.run_step("backendInfo", {}, timeouts.scaled(timeouts.PAGE_OPEN_S))
    if reply.get("status") != "ok":
        error = reply.get("error") or {}
        raise EngineError(f"{engine.spec.name}: could not describe the {backend.name} backend: "
                          f"{error.get('name')}: {error.get('message')}")
    if "failed" not in reply["result"]:  # it did not start in this row's context: the row says so, as TF.js's error
        described[key] = reply["result"]


@pytest_asyncio.fixture(loop_scope="session")
async def make_trip(request: pytest.FixtureRequest, engine: Driver, harness_page: Page, harness_server: HarnessServer,
                    _engine_pool: EnginePool, tfjs_build: tfjs.TfjsBuild, tfjs_backend: str, tfjs_context: str,
                    tmp_path: Path,
                    storage_quota: int | None, tfjs_load_build, repeat_index: int, _artifacts: ArtifactsRecorder):
    """`make_trip(model_name)`: a round trip of that golden on this test's page (harness.trip.roundtrip)."""
    from harness.schemes import Unsupported
    from harness.trip.roundtrip import Trip

    others: list[Page] = []
    save_backend, load_backend = row_backends(tfjs_backend)
    save_context, load_context = contexts.split(tfjs_context)
    url = harness_server.page_url(tfjs_build.version, save_backend.name, save_context.name)

    async def open_page(engine_name: str) -> Page:
        if _engine_pool.missing(engine_name) or engine_name not in _engine_pool.found:
            raise Unsupported(f"this row needs the {engine_name} engine, which is not in this run")
        other = await _engine_pool.get(engine_name)
        # The row's backend where that engine has it, else cpu (a webgl page's model crossing into Node).
        backend = save_backend if not other.build.lacks(save_backend.base) else backends.get(backends.DEFAULT)
        page = await other.open(harness_server.page_url(tfjs_build.version, backend.name),
                                timeout=timeouts.scaled(timeouts.PAGE_OPEN_S))
        others.append(page)
        if backend is not save_backend:
            _artifacts.trip.observed.setdefault("backends", {})[engine_name] = backend.name
        return page

    async def open_sibling(version: str | None, backend: str | None, context: str | None = None) -> Page:
        """A page on the same storage with another TF.js build, backend or context (None: the row's own)."""
        backend = backend or save_backend.name
        url = harness_server.page_url(version or tfjs_build.version, backend, context or save_context.name)
        page = await engine.open_sibling(harness_page, url, timeout=timeouts.scaled(timeouts.PAGE_OPEN_S))
        others.append(page)
        if backend != save_backend.name or context:
            await describe_backend(_engine_pool, engine, page, backends.get(backend), context or save_context.name)
        return page

    def make(model: str, **kwargs) -> Trip:
        trip = Trip(harness_page, engine, harness_server, golden_of(request.config, model), tfjs_build.semver, tmp_path,
                    page_url=url, open_page=open_page, quota=storage_quota, load_with=tfjs_load_build,
                    open_sibling=open_sibling, backend=save_backend, load_backend=load_backend,
                    context=save_context, load_context=load_context, **kwargs)
        _artifacts.trip = trip
        return trip

    yield make
    for page in others:
        await _artifacts.page_closing(page)
        await page.close()


@pytest.fixture
def known_findings(request: pytest.FixtureRequest, engine: Driver, tfjs_backend: str, tfjs_context: str) -> list:
    """The expectations entries that apply to this row (its scheme, engine and build, model and format,
    TF.js version, backend, context, and the media its model cannot fit): pass them to
    `harness.trip.roundtrip.conform`."""
    params = row_params(request.node)
    if params is None:
        return []
    run = state(request.config)
    model = str(params["model"])
    versions = str(params.get("tfjs_version") or run.builds[0].version).split("->")
    golden = golden_of(request.config, model)
    row = expectations.Row(
        scheme=str(params["scheme"]), engine=params["engine_name"], model=model,
        tfjs="->".join(tfjs.lookup(v).semver for v in versions), format=model_format(request.config, model),
        build=engine.build.kind, backend=tfjs_backend, context=tfjs_context,
        hosting=params.get("hosting") or document.DEFAULT_HOSTING,
        exceeds=contexts.reachable(fit.exceeds(golden), tfjs_context),
        traits=traits.of(golden.model_json, golden.after_load_specs, golden.after_load_data))
    found = expectations.match(run.findings, row)
    request.node.stash[FINDINGS] = found
    return found
