"""The run's state and its matrix: which engines and TF.js builds run, which models, and the
engine x scheme x model parametrisation of every conformance scenario.

`@pytest.mark.conformance(schemes=..., models=...)` makes one test per scheme x model x engine the
scheme can run on, id `<scheme>-<model>-<engine>` (then `-tfjs<V>` when several TF.js builds run,
`-<backend>` when several backends run, `-r<N>` with --repeat); `cross_version=True` makes the TF.js
dimension pairs `A->B`; `backends=[...]` gives the scenario backends of its own (names, or pairs `A->B`:
saved on A, loaded on B), whatever --tfjs-backend says; `contexts=[...]` the same for the context
(harness.contexts; "run": the run's --context), whose id part `-<context>` appears unless it is only
window, and which makes no row on a host without it, nor an "A->B" row of a scheme that does not cross
contexts (Scheme.crosses_contexts: one save, one load); with `sample="latin"` the core zoo (the default
matrix) runs one of the marker's models per scheme x backend x engine, taken in turn (a Latin square:
model i+j for scheme i and backend j), so that every scheme meets every backend on every engine, and
every model every backend (on one engine or another); `--zoo full` and --model run them all;
`zoo_only=True` keeps the marker's models even with --model (rows whose subject is TF.js's API);
`hostings=[...]` the hosting profiles the model is served with (harness.schemes.hosting), id part
`-hosting-<profile>` (a row without one is hosting "plain"); with `sample="models"` the core zoo runs, of
each window row's scheme x engine (x its other dimensions), ceil(models / engines hosting the scheme) of its
models, taken in turn across the engines (every scheme meets every model on one engine or another).
Other tests taking `engine_name` run once per browser engine, or per engine of the hosts named by
`@pytest.mark.hosts(...)`, on the run's first backend.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from harness import backends, contexts, expectations, tfjs
from harness.config import load_matrix, with_endpoints
from harness.engines import ENGINES
from harness.report import shard
from harness.trip import timeouts


@dataclasses.dataclass
class RunState:
    """What the whole run shares: the engine matrix, the engines and TF.js builds chosen, the pool."""

    matrix: dict
    engines: list[str]
    results_dir: Path
    builds: list = dataclasses.field(default_factory=list)  # the TF.js builds this run tests (harness.tfjs)
    backends: list = dataclasses.field(default_factory=lambda: ["cpu"])  # --tfjs-backend names (harness.backends)
    contexts: list = dataclasses.field(default_factory=lambda: ["window"])  # --context names (harness.contexts)
    contexts_given: bool = False  # --context was given (else the round trips sample every context)
    partners: list = dataclasses.field(default_factory=list)  # cross-version rows' other builds, when one is tested
    findings: list = dataclasses.field(default_factory=list)  # --expectations (harness.expectations.Finding)
    pool: object = None  # harness.engines.pool.EnginePool, once a test needs an engine
    started: float = dataclasses.field(default_factory=time.monotonic)  # the session's wall clock
    _user_models: dict | None = None
    _found: dict | None = None

    def found(self) -> dict:
        """The build each engine of the run would start as (harness.engines.discovery), found once."""
        if self._found is None:
            from harness.engines.discovery import discover, playwright_executables

            self._found = discover({e: self.matrix[e] for e in self.engines}, playwright_executables())
        return self._found

    def can_open(self, engine: str, context: str) -> bool:
        """Whether the engine's build (as found, else its first) opens every part of `context` ("A->B")."""
        from harness.engines.discovery import Found

        entry = self.found().get(engine)
        build = entry.build if isinstance(entry, Found) else next(iter(ENGINES[engine].builds.values()))
        return not any(build.lacks_context(part) for part in context.split("->"))

    def pairs(self) -> list[tuple]:
        """Cross-version (A, B) pairs, both orders: among the builds tested, or the one tested and its partner."""
        builds = self.builds if len(self.builds) > 1 else self.builds + self.partners
        return [(a, b) for a in builds for b in builds if a is not b]

    @property
    def tfjs(self) -> list[dict]:
        return [b.as_row() for b in self.builds]


STATE = pytest.StashKey[RunState]()


def state(config: pytest.Config) -> RunState:
    return config.stash[STATE]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(schemes, models, zoo_only=False): a conformance scenario over "
                                       "scheme x model x engine (zoo_only: its models even with --model)")
    config.addinivalue_line("markers", "hosts(*hosts): engine hosts a test taking engine_name runs on (default: browser)")
    config.addinivalue_line("markers", "large: hundreds of MiB per engine; skipped unless --run-large")
    config.addinivalue_line("markers", "quota(size): open this test's pages with their storage limited to size (--quota wins)")
    timeouts.set_multiplier(config.getoption("timeout_multiplier"))
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
    try:
        findings = expectations.load(Path(config.getoption("expectations")))
    except expectations.FindingsError as e:
        raise pytest.UsageError(f"--expectations: {e}") from None
    config.stash[STATE] = RunState(matrix, list(dict.fromkeys(chosen)), Path(config.getoption("results_dir")),
                                   builds=builds, partners=_partners(builds), findings=findings,
                                   backends=list(dict.fromkeys(config.getoption("tfjs_backend"))) or [backends.DEFAULT],
                                   contexts=list(dict.fromkeys(config.getoption("context"))) or [contexts.DEFAULT],
                                   contexts_given=bool(config.getoption("context")))
    tfjs.register(builds + config.stash[STATE].partners)
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


# -- models --------------------------------------------------------------------------------------


def user_models(config: pytest.Config) -> dict:
    """--model PATH: the user's models by name (byo-<folder>), read once."""
    from harness.golden import byo

    run = config.stash.get(STATE, None)
    if run is not None and run._user_models is not None:
        return run._user_models
    models = {}
    paths = config.getoption("model")
    given = _model_inputs(config.getoption("model_inputs"), paths)
    for path in paths:
        inputs = given.pop(path, None) or given.pop(byo.model_name(path), None)
        try:
            g = byo.load_user_model(path, inputs)
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
        if g.name in models:
            raise pytest.UsageError(f"--model {path}: two models named {g.name}; give them different folders")
        models[g.name] = g
    if given:
        raise pytest.UsageError(f"--model-inputs names no --model: {sorted(given)}")
    if run is not None:
        run._user_models = models
    return models


def _model_inputs(values: list[str], paths: list[str]) -> dict[str, str]:
    """--model-inputs [MODEL=]FILE -> {MODEL: FILE}; a bare FILE belongs to the only --model."""
    out = {}
    for value in values:
        model, sep, file = value.rpartition("=")
        if not sep:
            if len(paths) != 1:
                raise pytest.UsageError(f"--model-inputs {value}: with {len(paths)} --model, say which: MODEL=FILE "
                                        f"(MODEL: its path as given, or its name byo-<folder>)")
            model = paths[0]
        out[model] = file
    return out


def golden_of(config: pytest.Config, name: str):
    from harness import golden
    from harness.golden.models import sized_bytes

    if sized_bytes(name):  # "sized-256MiB": made by numpy on first use (harness.golden.sized)
        return golden.sized(sized_bytes(name))
    return user_models(config).get(name) or golden.load(name)


def model_format(config: pytest.Config, name: str) -> str:
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


# -- parametrisation -------------------------------------------------------------------------------


def _engines_for(config: pytest.Config, hosts) -> list[str]:
    return [e for e in state(config).engines if ENGINES[e].host in hosts]


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("conformance")
    if marker is None:
        hosts = metafunc.definition.get_closest_marker("hosts")
        metafunc.parametrize("engine_name", _engines_for(metafunc.config, hosts.args if hosts else ("browser",)))
        return
    run = state(metafunc.config)
    schemes, models = marker.kwargs["schemes"], models_to_run(metafunc.config, marker.kwargs["models"])
    if marker.kwargs.get("zoo_only"):  # rows whose subject is TF.js's API, not a model: its zoo models, --model or not
        models = list(marker.kwargs["models"])
    user = set(user_models(metafunc.config))
    combos = [
        (scheme, model, engine)
        for engine in run.engines
        for scheme in schemes
        if ENGINES[engine].host in scheme.hosts
        for model in models
        if model in user or getattr(scheme, "models", None) is None or model in scheme.models
    ]
    # Further dimensions, each last in the id when it varies: the TF.js build ("A->B" for cross-version
    # rows), then the backend ("A->B": saved on A, loaded on B).
    names, ids = ["scheme", "model", "engine_name"], [f"{s}-{m}-{e}" for s, m, e in combos]
    combos = [list(c) for c in combos]
    builds = [b.version for b in run.builds]
    if marker.kwargs.get("cross_version"):
        versions = [f"{a.version}->{b.version}" for a, b in run.pairs()]
    else:
        versions = builds if len(builds) > 1 else []
    if versions or marker.kwargs.get("cross_version"):  # no pair: no cross-version row
        names.append("tfjs_version")
        combos, ids = _times(combos, ids, versions, "tfjs")
    backends_ = marker.kwargs.get("backends") or run.backends  # a scenario's own backends, else the run's
    if len(backends_) > 1 or marker.kwargs.get("backends"):
        names.append("tfjs_backend")
        combos, ids = _times(combos, ids, backends_, "")
        if marker.kwargs.get("sample") == "latin" and metafunc.config.getoption("zoo") == "core" and not user:
            kept = [i for i, c in enumerate(combos) if _latin(c, schemes, models, backends_)]
            combos, ids = [combos[i] for i in kept], [ids[i] for i in kept]
    # The context: a scenario's own (contexts=[...]), or for contexts="run" the run's --context, and without
    # one window plus every other context sampled (contexts.SAMPLED: one model per scheme x context x
    # engine, in turn). A context its engine's host lacks (a worker-thread in a browser) makes no row, nor
    # does an "A->B" context for a scheme that does not cross contexts.
    contexts_, sampled = marker.kwargs.get("contexts"), False
    if contexts_ == "run":
        if run.contexts_given:
            contexts_, sampled = run.contexts, False
        elif user:  # a user's own models: window, unless --context asks (a team checks its model where it runs it)
            contexts_ = [contexts.DEFAULT]
        else:
            contexts_, sampled = [contexts.DEFAULT, *contexts.SAMPLED], True
    if contexts_ and (len(contexts_) > 1 or contexts_ != [contexts.DEFAULT]):
        names.append("tfjs_context")
        kept = [(c, i) for c, i in zip(*_times(combos, ids, contexts_, ""))
                if contexts.runs_on(c[-1], ENGINES[c[2]].host)
                and ("->" not in c[-1] or contexts.crossable(c[0], c[-1]))
                and (c[-1] == contexts.DEFAULT or getattr(c[0], "in_contexts", True))]
        if sampled or marker.kwargs.get("sample") == "latin" and metafunc.config.getoption("zoo") == "core" and not user:
            kept = _sample_contexts(kept, schemes, contexts_, run, every_engine=metafunc.config.getoption("zoo") != "core")
        # A window row keeps the id it always had (`indexeddb-mlp-chromium`): the context shows when it is another.
        combos = [c for c, _ in kept]
        ids = [i.removesuffix(f"-{contexts.DEFAULT}") if c[-1] == contexts.DEFAULT else i for c, i in kept]
    # The hosting profile (harness.schemes.hosting): a scenario's own list, id part `-hosting-<profile>`.
    if marker.kwargs.get("hostings"):
        names.append("hosting")
        combos, ids = _times(combos, ids, list(marker.kwargs["hostings"]), "hosting-")
    if marker.kwargs.get("sample") == "models" and metafunc.config.getoption("zoo") == "core" and not user:
        kept = _sample_models(combos, names, schemes, run.engines, list(marker.kwargs.get("hostings") or ()))
        combos, ids = [c for c, k in zip(combos, kept) if k], [i for i, k in zip(ids, kept) if k]
    metafunc.parametrize(names, [tuple(c) for c in combos], ids=ids)
    repeat = metafunc.config.getoption("repeat")
    if repeat > 1:
        metafunc.parametrize("repeat_index", range(repeat), ids=[f"r{i}" for i in range(repeat)])


def _latin(combo: list, schemes: list, models: list[str], backends_: list[str]) -> bool:
    """Whether a (scheme, model, engine, ..., backend) row is its scheme x backend's model in the Latin square."""
    scheme, model, backend = combo[0], combo[1], combo[-1]
    return models.index(model) == (schemes.index(scheme) + backends_.index(backend)) % len(models)


def _sample_contexts(kept: list, schemes: list, contexts_: list[str], run: RunState, every_engine: bool = False) -> list:
    """Every row in window; in any other context one row per scheme x context (x the other dimensions but the
    engine and model): its engine taken in turn among the run's engines whose build opens the context
    (RunState.can_open), and that engine's model in turn among the scheme's, so that every scheme meets every
    context on one engine or another, every engine every context (a sixth of the schemes each, for three
    browsers) and every model every context; an "A->B" context (on a few schemes) keeps one row per engine,
    and so does every context with `every_engine` (`--zoo full`: one model per scheme x engine x context)."""
    groups: dict[tuple, list] = {}
    for row in kept:
        c = row[0]
        if c[-1] != contexts.DEFAULT:  # an "A->B" context is on few schemes: each engine keeps its own
            groups.setdefault((str(c[0]), *map(str, c[3:]), *([c[2]] if every_engine or "->" in c[-1] else [])),
                              []).append(row)
    chosen = set()
    for rows in groups.values():
        context = rows[0][0][-1]
        turn = schemes.index(rows[0][0][0]) + contexts_.index(context)
        engines = list(dict.fromkeys(r[0][2] for r in rows))
        able = [e for e in engines if run.can_open(e, context)] or engines  # none can: each skips, saying why
        engine = able[turn % len(able)]
        mine = [r for r in rows if r[0][2] == engine]
        chosen.add(id(mine[turn % len(mine)]))
    return [row for row in kept if row[0][-1] == contexts.DEFAULT or id(row) in chosen]


def _sample_models(combos: list[list], names: list[str], schemes: list, engines: list[str], hostings: list[str]) -> list[bool]:
    """Which rows the core zoo keeps of a `sample="models"` scenario: of each window row's scheme x engine (x
    its other dimensions), ceil(models / engines that host the scheme) of the scheme's models, taken in turn
    across those engines, so that every engine meets every scheme and every scheme every model, on one
    engine or another (a Node-only scheme keeps them all). Rows in another context are sampled already."""
    at = {name: i for i, name in enumerate(names)}
    groups: dict[tuple, list[int]] = {}
    for n, c in enumerate(combos):
        if "tfjs_context" in at and c[at["tfjs_context"]] != contexts.DEFAULT:
            continue
        groups.setdefault(tuple(str(x) for i, x in enumerate(c) if i != at["model"]), []).append(n)
    keep = [True] * len(combos)
    for rows in groups.values():
        first = combos[rows[0]]
        scheme, engine = first[0], first[at["engine_name"]]
        hosts = [e for e in engines if ENGINES[e].host in scheme.hosts]
        per_engine = -(-len(rows) // len(hosts))
        offset = schemes.index(scheme) + (hostings.index(first[at["hosting"]]) if "hosting" in at else 0)
        chosen = {(offset + hosts.index(engine) * per_engine + t) % len(rows) for t in range(per_engine)}
        for j, n in enumerate(rows):
            keep[n] = j in chosen
    return keep


def _times(combos: list[list], ids: list[str], values: list[str], label: str) -> tuple[list, list]:
    """Every combination with every value of one more dimension (its id gains `-<label><value>`). A row
    on a backend its engine's build lacks (Node: webgl) is made, and skips with the build's reason."""
    return [[*c, v] for c in combos for v in values], [f"{i}-{label}{v}" for i in ids for v in values]


def row_params(item: pytest.Item) -> dict | None:
    """The parameters of a conformance row (scheme, model, engine_name, ...), None for any other test."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if not {"engine_name", "scheme", "model"} <= params.keys():
        return None
    if not isinstance(params["model"], str):  # pytest's placeholder for an empty parametrisation (no engine can host it)
        return None
    return params


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard, the order tests run in, and --run-large. (Known findings apply at run time, once the engine's
    build is known: harness.pytest.fixtures.known_findings.)"""
    if config.getoption("shard"):
        k, n = config.getoption("shard")
        kept, dropped = shard.split(items, k, n)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    items.sort(key=_run_order(state(config).engines))
    if not config.getoption("run_large"):
        for item in items:
            if item.get_closest_marker("large"):
                item.add_marker(pytest.mark.skip(reason="large: run with --run-large (make test does)"))


def _run_order(engines: list[str]):
    """The order tests run in (the report keeps its own: harness.report.document): by engine, then by the
    browser a row's page needs beside the engine's own (a private, on-disk-profile or headed one: Firefox's
    launch costs 2.6 CPU-seconds), then context and backend, else as collected. pytest-xdist's worksteal
    deals each worker a contiguous run of tests and steals from the end of one, so a worker keeps an engine
    and its browsers warm, and fewer workers launch each of them (README, "Stability and where the time goes")."""
    def key(item: pytest.Item) -> tuple:
        params = getattr(getattr(item, "callspec", None), "params", {})
        engine = params.get("engine_name")
        if not isinstance(engine, str) or engine not in engines:
            return (len(engines),)
        context = str(params.get("tfjs_context") or contexts.DEFAULT)
        mode = contexts.split(context)[0].mode
        backend = str(params.get("tfjs_backend") or "")
        quota = item.get_closest_marker("quota") is not None
        return engines.index(engine), mode != "ephemeral", mode, "webgl" in backend, quota, context, backend
    return key
