"""The context axis as data: harness.contexts (names, pairs, what a context lacks), what an engine build
denies there, the refusal check's wording test, and how the matrix parametrises the round trips per context."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness import contexts, golden
from harness.config import load_matrix
from harness.paths import REPO
from harness.schemes import SCHEMES
from harness.schemes.refusal import clear

# -- harness.contexts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["window", "dedicated-worker", "iframe-cross-site", "worker-thread",
                                  "dedicated-worker->window", "iframe-cross-site->top-level-cross-site"])
def test_row_contexts_accepted(name):
    save, load = contexts.split(name)
    assert save.name == name.split("->")[0] and (load is None) == ("->" not in name)


@pytest.mark.parametrize("bad", ["tab", "window->window", "window->worker-thread", "a->b->c", ""])
def test_bad_row_contexts_refused_naming_the_known_ones(bad):
    with pytest.raises(ValueError):
        contexts.split(bad)


def test_workers_lack_localstorage_and_a_document_and_windows_lack_nothing():
    for name in contexts.WORKERS:
        assert set(contexts.get(name).lacks) == {"localStorage", "document"}
    for name in ("window", "iframe-same-origin", "iframe-cross-site", "top-level-cross-site"):
        assert not contexts.get(name).lacks


def test_a_denial_measured_in_a_third_party_joins_what_the_context_lacks():
    framed = contexts.get("iframe-cross-site")
    assert framed.third_party and not contexts.get("iframe-same-origin").third_party
    measured = {"indexedDB": "UnknownError: The user denied permission to access the database."}
    denied = contexts.denied(framed, measured)
    assert denied.lacks_any(("indexedDB", "localStorage")) == {"indexedDB": denied.lacks["indexedDB"]}
    assert "The user denied permission" in denied.lacks["indexedDB"] and framed.what in denied.lacks["indexedDB"]
    assert contexts.denied(framed, {}) is framed


def test_a_private_window_opens_only_where_the_build_says_how():
    from harness.engines import ENGINES
    from harness.engines.base import Build

    firefox = ENGINES["firefox"].builds["system"]
    assert firefox.private_prefs == {"browser.privatebrowsing.autostart": True} and not firefox.lacks_context("private-window")
    assert "off the record" in ENGINES["chromium"].builds["system"].lacks_context("private-window")
    assert "ephemeral" in ENGINES["webkit"].builds["system"].lacks_context("private-window")
    # a build that does not say (a remote WebDriver endpoint): skipped, never run in a normal window as private
    assert Build(kind="remote", driver="webdriver", browser_type="webkit").lacks_context("private-window")
    assert not Build(kind="remote", driver="webdriver", browser_type="webkit").lacks_context("dedicated-worker")


def test_a_persistent_window_opens_where_the_build_keeps_a_profile():
    from harness.config import EngineEntry
    from harness.engines import ENGINES
    from harness.engines.remote import remote_build

    assert not ENGINES["chromium"].builds["system"].lacks_context("persistent-window")
    assert not ENGINES["firefox"].builds["system"].lacks_context("persistent-window")
    webkit = ENGINES["webkit"].builds["system"]
    assert webkit.lacks_context("persistent-window") == webkit.no_persistent_profile != ""
    for where in ({"connect": "ws://127.0.0.1:1/"}, {"webdriver": "http://127.0.0.1:1/"}):  # a remote engine's builds
        remote = remote_build(ENGINES["chromium"], EngineEntry("chromium", ("remote",), **where))
        assert remote.lacks_context("persistent-window") == remote.no_persistent_profile != ""
    assert contexts.get("persistent-window").mode == "persistent" and not contexts.get("persistent-window").private
    assert contexts.get("window").mode == "ephemeral"


# -- what a refusal must say --------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [
    {"name": "Error", "message": "The current environment does not support local storage."},
    {"name": "Error", "message": "Browser downloads are not supported in this environment since `document` is not present"},
    {"name": "SecurityError",
     "message": "Failed to read the 'localStorage' property from 'Window': Access is denied for this document."},
    {"name": "UnknownError", "message": "The user denied permission to access the database."},
])
def test_a_refusal_that_says_why_is_clear(error):
    assert clear(error)


@pytest.mark.parametrize("error", [
    {"name": "ReferenceError", "message": "window is not defined"},  # tensorflow/tfjs#2643
    {"name": "TypeError", "message": "Cannot read properties of undefined (reading 'setItem')"},
    {"name": "DeadlineExceeded", "message": "save() neither resolved nor rejected within 10 s"},
    {"name": "Error", "message": "something went wrong"},
])
def test_a_bare_error_or_a_hang_is_not_clear(error):
    assert not clear(error)


def test_schemes_declare_what_their_medium_needs():
    assert SCHEMES["localstorage"].needs == ("localStorage",)
    assert SCHEMES["indexeddb"].needs == ("indexedDB",)
    assert SCHEMES["downloads"].needs == ("document",) and SCHEMES["browser-to-node"].needs == ("document",)
    assert SCHEMES["http"].needs == () and SCHEMES["browser-files"].needs == ()
    crossing = {name for name, s in SCHEMES.items() if s.crosses_contexts}
    assert crossing == {"localstorage", "indexeddb", "http"}


# -- the matrix ----------------------------------------------------------------------------------------------


def _collected(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "scenarios/test_roundtrip.py", "--collect-only", "-q",
                          "-p", "no:cacheprovider", *args], capture_output=True, text=True, cwd=REPO, timeout=120).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "::test_roundtrip[" in line]


def _context_of(row_id: str) -> str:
    for name in sorted((c for c in contexts.SAMPLED), key=len, reverse=True):
        if row_id.endswith(f"-{name}"):
            return name
    return "window"


ENGINE_NAMES = ("chromium", "firefox", "webkit", "node")


def _engine_of(row_id: str) -> str:
    bare = row_id.removesuffix(f"-{_context_of(row_id)}")
    return next(e for e in ("chromium", "firefox", "webkit", "node") if bare.endswith(f"-{e}"))


def _context_schemes(name: str) -> list:
    return [s for s in SCHEMES.values()
            if "browser" in s.hosts and s.in_contexts and ("->" not in name or contexts.crossable(s, name))]


def test_the_default_matrix_covers_every_scheme_x_context_once_and_every_context_on_every_engine():
    """The core zoo's covering design (harness.pytest.matrix): a scheme x context once, on an engine whose build
    opens it, taken in turn; every engine meets every context it can open; an "A->B" context on every engine."""
    from harness.pytest.matrix import RunState

    ids = _collected()
    window = [i for i in ids if _context_of(i) == "window"]
    assert "localstorage-mlp-chromium" in window and "file-node-mlp-node" in window  # window rows keep their ids
    run = RunState(load_matrix(REPO / "playwright.config"), ["chromium", "firefox", "webkit", "node"], REPO)
    browsers = ("chromium", "firefox", "webkit")
    for name in (c for c in contexts.SAMPLED if c != "worker-thread"):
        rows = [i for i in ids if _engine_of(i) in browsers and _context_of(i) == name]
        able = [e for e in browsers if run.can_open(e, name)] or list(browsers)
        for scheme in _context_schemes(name):
            mine = [i for i in rows if i.startswith(f"{scheme}-") and not any(
                i.startswith(f"{other}-") for other in SCHEMES if other != scheme.name and other.startswith(f"{scheme}-"))]
            want = len(browsers) if "->" in name else 1
            assert len(mine) == want, (name, scheme.name, mine)
            assert {_engine_of(i) for i in mine} <= set(able) or "->" in name
        assert {_engine_of(i) for i in rows} == set(able if "->" not in name else browsers), (name, rows)
    on_node = [i for i in ids if _engine_of(i) == "node"]
    assert on_node and {_context_of(i) for i in on_node} == {"window", "worker-thread"}
    assert not [i for i in ids if "restart-persistence" in i and _context_of(i) != "window"]
    assert [i for i in ids if i.endswith("-node-worker-thread")]


def test_the_default_matrix_meets_every_model_with_every_scheme_on_one_engine_or_another():
    ids = [i for i in _collected() if _context_of(i) == "window"]
    for scheme in SCHEMES.values():
        models = [m for m in golden.ZOOS["core"] if getattr(scheme, "models", None) is None or m in scheme.models]
        rows = [i for i in ids if any(i == f"{scheme}-{m}-{e}" for m in models for e in ENGINE_NAMES)]
        assert {m for m in models if any(i.startswith(f"{scheme}-{m}-") for i in rows)} == set(models), scheme.name
        engines = {e for e in ("chromium", "firefox", "webkit") if "browser" in scheme.hosts} | ({"node"} & set(scheme.hosts))
        assert {_engine_of(i) for i in rows} == engines, scheme.name
        assert len(rows) < len(models) * len(engines) or len(engines) == 1 or len(models) <= 2, scheme.name  # sampled


def test_the_full_zoo_runs_one_model_per_scheme_x_context_x_engine():
    ids = _collected("--zoo", "full")
    for engine in ("chromium", "firefox", "webkit"):
        for name in (c for c in contexts.SAMPLED if c != "worker-thread"):
            rows = [i for i in ids if _engine_of(i) == engine and _context_of(i) == name]
            assert len(rows) == len(_context_schemes(name)), (engine, name, rows)
    window = [i for i in ids if _context_of(i) == "window"]
    assert {f"indexeddb-{m}-chromium" for m in golden.ZOOS["full"]} <= set(window)


def test_a_context_given_runs_the_whole_zoo_there_and_nothing_else():
    ids = _collected("--context", "dedicated-worker", "--engine", "firefox")
    assert ids and all(i.endswith("-firefox-dedicated-worker") for i in ids)
    assert {"indexeddb-mlp-firefox-dedicated-worker", "indexeddb-sharded-firefox-dedicated-worker",
            "indexeddb-graph-firefox-dedicated-worker"} <= set(ids)


def test_a_pair_of_contexts_makes_rows_only_for_the_schemes_that_cross():
    """Storage and http cross; localStorage only between two contexts that both have it."""
    ids = _collected("--context", "dedicated-worker->window", "--engine", "chromium")
    assert ids and {i.split("-mlp-")[0] for i in ids if "-mlp-" in i} == {"indexeddb", "http"}
    ids = _collected("--context", "iframe-same-origin->window", "--engine", "chromium")
    assert {i.split("-mlp-")[0] for i in ids if "-mlp-" in i} == {"localstorage", "indexeddb", "http"}


def test_a_model_cannot_be_too_big_for_a_medium_its_context_lacks():
    over = ("localstorage", "localstorage-x2", "indexeddb-value", "float16")
    assert contexts.reachable(over, "window") == over
    assert contexts.reachable(over, "dedicated-worker") == ("indexeddb-value", "float16")
    assert contexts.reachable(over, "iframe-cross-site") == over  # a denial is measured as the row runs
    assert contexts.reachable(over, "window->dedicated-worker") == ("indexeddb-value", "float16")


# -- a backend that does not start in a context ----------------------------------------------------------

SERVE_JS = r"""
global.self = global;
require(process.argv[1]);
const ran = [];
const run = async (name) => { ran.push(name); return {status: 'ok', result: name}; };
const failing = Promise.reject(new Error('TF.js backend wasm is not available here'));
failing.catch(() => {});
const {port1, port2} = new MessageChannel();
self.harnessBackend = {name: 'wasm'};
self.harnessHost.serve(port1, failing, run);
const replies = {};
let id = 0;
const ask = (name) => new Promise((resolve) => {
  const mine = id++;
  port2.on('message', (m) => { if (m.id === mine) resolve(m.reply); });
  port2.postMessage({id: mine, name, args: {}});
});
(async () => {
  for (const name of ['__ready', 'info', 'backendInfo', 'storageKeys', 'save', 'load']) replies[name] = await ask(name);
  console.log(JSON.stringify({replies, ran}));
  process.exit(0);
})();
"""


def test_a_backend_that_did_not_start_fails_every_tfjs_step_and_no_other():
    proc = subprocess.run(["node", "-e", SERVE_JS, str(REPO / "harness" / "js" / "host.js")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    replies = out["replies"]
    assert replies["__ready"]["status"] == "ok" and "not available here" in replies["__ready"]["result"]["backendFailed"]
    assert replies["info"]["result"]["backendFailed"] and replies["backendInfo"]["result"]["failed"]
    for step in ("save", "load"):  # never run on a backend TF.js fell back to
        assert replies[step]["status"] == "error" and replies[step]["error"]["phase"] == "backend", replies[step]
        assert "the wasm backend did not start" in replies[step]["error"]["message"]
    assert out["ran"] == ["storageKeys"]  # the storage steps never touch TF.js


# -- a context whose backend never settles (harness/js/contexts.js relay) ---------------------------------

RELAY_JS = r"""
global.self = global;
require(process.argv[1]);
// The context's end of the port: `mode` says which requests it ever answers.
const mode = process.argv[2];
const {port1, port2} = new MessageChannel();
let pings = 0;
port2.on('message', ({id, name}) => {
  if (name === '__alive' && (mode === 'pending' || (mode === 'blocks' && pings++ === 0))) {
    port2.postMessage({id, reply: {status: 'ok', result: {scope: 'dedicated-worker'}}});
  }
  if (name === 'save') port2.postMessage({id, reply: {status: 'ok', result: 'saved'}});
});
let stopped = 0;
const hello = mode === 'silent-after-hello' ? Promise.resolve({status: 'ok', result: {scope: 'dedicated-worker'}}) : null;
const r = self.harnessContexts.relay(port1, 'dedicated worker', {stop: () => stopped++, hello, readyS: 0.3, aliveS: 0.2});
(async () => {
  let ready;
  try { ready = {ok: await r.ready}; } catch (e) { ready = {error: e.message}; }
  const info = await Promise.race([r.run('info', {}), new Promise((res) => setTimeout(res, 500, 'no reply'))]);
  const save = await Promise.race([r.run('save', {}), new Promise((res) => setTimeout(res, 500, 'no reply'))]);
  console.log(JSON.stringify({ready, info, save, stopped}));
  process.exit(0);
})();
"""


def _relay(mode: str) -> dict:
    proc = subprocess.run(["node", "-e", RELAY_JS, str(REPO / "harness" / "js" / "contexts.js"), mode],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("mode", ["blocks", "silent-after-hello"])
def test_a_worker_that_said_what_it_is_and_then_blocks_is_up_without_a_backend_and_stopped(mode):
    out = _relay(mode)
    failed = out["ready"]["ok"]["backendFailed"]
    assert out["ready"]["ok"]["scope"] == "dedicated-worker" and "stopped answering" in failed and "blocked" in failed
    assert out["stopped"] == 1
    assert out["info"] == {"status": "ok", "result": {"scope": "dedicated-worker", "backendFailed": failed}}
    assert out["save"]["status"] == "error" and out["save"]["error"]["phase"] == "backend"  # at once, not a hang


def test_a_worker_whose_backend_never_settles_but_still_answers_is_told_apart():
    out = _relay("pending")
    assert "had not started" in out["ready"]["ok"]["backendFailed"] and out["stopped"] == 1


def test_a_worker_that_never_said_anything_is_not_up():
    out = _relay("silent")
    assert "gave no answer" in out["ready"]["error"] and out["stopped"] == 0
