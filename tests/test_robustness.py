"""The harness never fails for its own reasons, and fails loudly and clearly when an engine does.

1. The server binds loopback only: tests/test_server.py::test_binds_loopback_only (not repeated here).
2. Uploads are capped (HarnessServer(max_upload=...)): 413 and nothing stored, for the /results/
   artifact POST (tests/test_server.py::test_body_over_max_upload_is_413; chunked bodies here) and the
   multipart /uploads/ POST of the http(s) schemes (here).
3. Multipart file names with path components and malformed multipart bodies get 400 (never a 500),
   nothing is stored, nothing is written to disk, and the server keeps serving.
4. A browser killed in the middle of a step: that row is an `error` naming the engine, the engine is
   relaunched, the session's other rows run and pass (end to end, one pytest subprocess).
5. A step that never answers times out, and every engine failure raised by Trip.step names the engine,
   the model and the step, keeping its type (so the plugin reports `error`, not a TF.js finding).
6. After that session, no browser, WebKitWebDriver or Xvfb process it started is left running.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import aiohttp
import psutil
import pytest
import pytest_asyncio

from harness import golden, tfjs
from harness.engines import ENGINES
from harness.engines import pool as pool_module
from harness.engines.base import EngineError, EngineInfo, Page, StepTimeout
from harness.engines.discovery import Found
from harness.engines.pool import EnginePool
from harness.server import HarnessServer
from harness.trip import roundtrip, timeouts

LIMIT = 1024  # max_upload of the small server

# -- 2, 3: the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build() -> tfjs.TfjsBuild:
    return tfjs.installed()


@pytest_asyncio.fixture
async def server(build, tmp_path, monkeypatch):
    """A server capped at LIMIT bytes, running in an empty working directory (nothing may appear there)."""
    monkeypatch.chdir(tmp_path)
    srv = await HarnessServer([build], max_upload=LIMIT).start(port=0)
    assert srv.max_upload == LIMIT and srv.uploads.max_upload == LIMIT
    yield srv
    await srv.stop()
    assert list(tmp_path.iterdir()) == [], "the server wrote files into its working directory"


@pytest_asyncio.fixture
async def client():
    async with aiohttp.ClientSession() as session:
        yield session


async def still_serving(server: HarnessServer, client: aiohttp.ClientSession) -> None:
    async with client.get(server.page_url(next(iter(server.tfjs)), "cpu")) as r:
        assert r.status == 200
    token = server.expect()
    async with client.post(f"{server.url}/results/{token}/ok.bin", data=b"ok") as r:
        assert r.status == 204
    assert server.take(token) == {"ok.bin": b"ok"}
    upload = server.open_upload()
    async with client.post(f"{server.url}/uploads/{upload.token}", data=multipart(part("model.json", "model.json", b"{}")),
                           headers={"Content-Type": "multipart/form-data; boundary=BOUNDARY"}) as r:
        assert r.status == 200, await r.text()
    assert upload.files == {"model.json": b"{}"}


def part(field: str | None, filename: str | None, body: bytes, *, disposition: bytes | None = None,
         content_type: bytes = b"application/octet-stream") -> bytes:
    """One multipart part; `disposition` replaces the Content-Disposition header's value verbatim."""
    if disposition is None:
        disposition = b"form-data"
        if field is not None:
            disposition += b'; name="' + field.encode() + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename.encode() + b'"'
    return (b"--BOUNDARY\r\nContent-Disposition: " + disposition + b"\r\nContent-Type: " + content_type
            + b"\r\n\r\n" + body + b"\r\n")


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--BOUNDARY--\r\n"


MULTIPART = "multipart/form-data; boundary=BOUNDARY"


async def post_upload(server, client, body, content_type: str = MULTIPART) -> tuple[object, int, str]:
    upload = server.open_upload()
    async with client.post(f"{server.url}/uploads/{upload.token}", data=body, headers={"Content-Type": content_type}) as r:
        return upload, r.status, await r.text()


async def chunked(data: bytes, size: int = 256):
    for i in range(0, len(data), size):
        yield data[i:i + size]




async def test_results_post_over_the_cap_is_413_even_without_content_length(server, client):
    """The /results/ cap with a chunked body (no Content-Length to refuse up front); with one, see
    tests/test_server.py::test_body_over_max_upload_is_413."""
    token = server.expect()
    async with client.post(f"{server.url}/results/{token}/big.bin", data=chunked(b"x" * (4 * LIMIT))) as r:
        assert r.status == 413
    async with client.post(f"{server.url}/results/{token}/fits.bin", data=chunked(b"y" * LIMIT)) as r:
        assert r.status == 204
    assert server.take(token) == {"fits.bin": b"y" * LIMIT}
    await still_serving(server, client)


@pytest.mark.parametrize("parts", [
    pytest.param([("a.bin", LIMIT + 1)], id="one-part"),
    pytest.param([("a.bin", 8 * LIMIT)], id="8x"),
    # parts only together over the cap: the first one is stored before the second is read
    pytest.param([("a.bin", LIMIT // 2), ("b.bin", LIMIT // 2 + 1)], id="two-parts"),
])
@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
async def test_multipart_upload_over_the_cap_is_413_and_nothing_stored(server, client, parts, transfer):
    body = multipart(*(part(name, name, b"x" * size) for name, size in parts))
    upload, status, text = await post_upload(server, client, body if transfer == "content-length" else chunked(body))
    assert status == 413, text
    assert upload.parts == {} and upload.files == {}
    await still_serving(server, client)


async def test_multipart_upload_at_the_cap_is_stored(server, client):
    body = multipart(part("model.json", "model.json", b"{" + b" " * (LIMIT // 2 - 2) + b"}"),
                     part("model.weights.bin", "model.weights.bin", b"w" * (LIMIT // 2)))
    upload, status, text = await post_upload(server, client, body)
    assert status == 200, text
    assert sorted(upload.files) == ["model.json", "model.weights.bin"] and len(upload.files["model.weights.bin"]) == LIMIT // 2


BAD_FILENAMES = {
    "dotdot": b'form-data; name="a"; filename="../x"',
    "dotdot-deep": b'form-data; name="a"; filename="../../../../tmp/x"',
    "absolute": b'form-data; name="a"; filename="/abs"',  # aiohttp strips the leading "/" from quoted names
    "absolute-backslash": b'form-data; name="a"; filename="\\\\abs"',
    "subdir": b'form-data; name="a"; filename="a/b"',
    "backslash": b'form-data; name="a"; filename="a\\\\b"',
    "nul": b'form-data; name="a"; filename="a\x00b"',  # a NUL in the part's header: aiohttp's header parser raises
    "nul-rfc5987": b"form-data; name=\"a\"; filename*=UTF-8''a%00b",
    "dotdot-rfc5987": b"form-data; name=\"a\"; filename*=UTF-8''..%2Fx",
    "empty": b'form-data; name="a"; filename=""',
    "dot": b'form-data; name="a"; filename="."',
    "dotdot-only": b'form-data; name="a"; filename=".."',
}


@pytest.mark.parametrize("case", list(BAD_FILENAMES))
async def test_multipart_filename_with_path_components_is_400(server, client, case):
    bad = part(None, None, b"payload", disposition=BAD_FILENAMES[case])
    upload, status, text = await post_upload(server, client, multipart(bad))
    assert status == 400, (status, text)
    assert upload.parts == {} and upload.files == {}, (upload.parts, upload.files)
    await still_serving(server, client)


@pytest.mark.parametrize("case", ["dotdot", "subdir", "empty"])
async def test_a_bad_part_after_a_good_one_stores_nothing_of_the_request(server, client, case):
    ok = part("model.json", "model.json", b"{}")
    bad = part(None, None, b"payload", disposition=BAD_FILENAMES[case])
    upload, status, text = await post_upload(server, client, multipart(ok, bad))
    assert status == 400, (status, text)
    assert upload.parts == {} and upload.files == {}, (upload.parts, upload.files)


MALFORMED = {
    # (content type, body)
    "no-boundary-param": ("multipart/form-data", multipart(part("a", "a.bin", b"x"))),
    "empty-boundary": ("multipart/form-data; boundary=", multipart(part("a", "a.bin", b"x"))),
    "wrong-boundary": ("multipart/form-data; boundary=OTHER", multipart(part("a", "a.bin", b"x"))),
    "boundary-too-long": (f'multipart/form-data; boundary="{"b" * 200}"', multipart(part("a", "a.bin", b"x"))),
    "not-multipart": ("application/octet-stream", multipart(part("a", "a.bin", b"x"))),
    "empty-body": (MULTIPART, b""),
    "garbage": (MULTIPART, b"hello world"),
    "truncated-in-data": (MULTIPART, multipart(part("a", "a.bin", b"x" * 100))[:-40]),
    "truncated-in-headers": (MULTIPART, multipart(part("a", "a.bin", b"x"))[:25]),
    "no-parts": (MULTIPART, b"--BOUNDARY--\r\n"),
    "part-without-filename": (MULTIPART, multipart(part("a", None, b"x"))),
    "part-without-disposition": (MULTIPART, b"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nx\r\n--BOUNDARY--\r\n"),
    "good-then-part-without-filename": (MULTIPART, multipart(part("model.json", "model.json", b"{}"), part("a", None, b"x"))),
    "duplicate-disposition-params": (MULTIPART, multipart(part(None, None, b"x",
                                                               disposition=b'form-data; name="a"; name="b"; filename="a.bin"'))),
}


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
async def test_malformed_multipart_is_400_and_the_server_keeps_serving(server, client, case):
    content_type, body = MALFORMED[case]
    upload, status, text = await post_upload(server, client, body, content_type)
    assert status == 400, (status, text)
    assert upload.parts == {} and upload.files == {}
    await still_serving(server, client)


@pytest.mark.parametrize("cut", ["first-part", "second-part"])
async def test_client_vanishing_mid_upload_stores_nothing(build, client, cut):
    """The client announces more than it sends and hangs up: no crash, nothing of it kept (the
    second-part case: the first part, complete and read, must not be kept either). Parts of 64 KiB:
    aiohttp reads a part in 8 KiB chunks, so a tiny part would never be read before the hang-up."""
    server = await HarnessServer([build], max_upload=1 << 20).start(port=0)
    try:
        upload = server.open_upload()
        body = multipart(part("model.json", "model.json", b" " * 65536),
                         part("model.weights.bin", "model.weights.bin", b"w" * 65536))
        sent = body[:40] if cut == "first-part" else body[:-1000]
        host, port = server.url.removeprefix("http://").split(":")
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST /uploads/{upload.token} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {MULTIPART}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + sent)
        await writer.drain()
        await asyncio.sleep(0.5)  # the server reads what came
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.3)
        assert upload.parts == {} and upload.files == {}, sorted(upload.parts)
        await still_serving(server, client)
    finally:
        await server.stop()


# -- 5: Trip.step names the engine, the model and the step -----------------------------------------------


class StubPage(Page):
    """A page of `engine` whose steps hang forever (ignoring their timeout) or raise `error`."""

    def __init__(self, engine: str, error: Exception | None = None):
        self.engine = ENGINES[engine]
        self.error = error
        self.calls: list[tuple[str, float]] = []

    async def run_step(self, name, args, timeout):
        self.calls.append((name, timeout))
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()  # a driver whose own deadline never fires

    async def close(self):
        pass


def stub_trip(page: Page, tmp_path: Path, timeout: float = 0.3) -> roundtrip.Trip:
    server = HarnessServer([tfjs.installed()])  # never started: the trip only opens a result slot on it
    driver = types.SimpleNamespace(spec=ENGINES["chromium"])
    return roundtrip.Trip(page, driver, server, golden.load("mlp"), "4.22.0", tmp_path, timeout=timeout)


async def test_a_step_whose_driver_never_answers_times_out_naming_engine_model_step(tmp_path, monkeypatch):
    monkeypatch.setattr(timeouts, "STEP_GRACE_S", 0.2)
    page = StubPage("chromium")
    trip = stub_trip(page, tmp_path)
    started = time.monotonic()
    with pytest.raises(StepTimeout) as caught:
        await trip.save({"kind": "custom"})
    assert time.monotonic() - started < 0.3 + 0.2 + 1
    assert str(caught.value).startswith("chromium / mlp / step 'save': gave no answer within 0.3 s"), caught.value
    assert page.calls == [("save", 0.3)]  # the page itself was given the trip's timeout


@pytest.mark.parametrize("error", [
    StepTimeout("webkit: step 'load' gave no answer within 60 s"),
    EngineError("webkit: step 'load' failed in WebKitWebDriver: WebDriverException: no message (did the browser exit?)"),
])
async def test_engine_errors_from_a_step_keep_their_type_and_name_engine_model_step(tmp_path, error):
    page = StubPage("webkit", error)
    trip = stub_trip(page, tmp_path)
    with pytest.raises(EngineError) as caught:
        await trip.load({"kind": "custom"})
    assert type(caught.value) is type(error)  # StepTimeout stays StepTimeout, EngineError stays EngineError
    assert not isinstance(caught.value, AssertionError)  # so the plugin reports `error`, not a finding
    assert caught.value.__cause__ is error
    detail = str(error).removeprefix("webkit: ")
    assert str(caught.value) == f"webkit / mlp / step 'load': {detail}"


async def test_a_step_on_another_engines_page_names_that_engine(tmp_path):
    """A browser row whose step runs on a Node page (node-to-browser): the message names node."""
    trip = stub_trip(StubPage("chromium"), tmp_path)
    node_page = StubPage("node", EngineError("node: the node host (pid 1) exited with code 1"))
    with pytest.raises(EngineError, match=r"^node / mlp / step 'save': the node host \(pid 1\) exited with code 1$"):
        await trip.step("save", {}, node_page)


# -- 4: the pool relaunches a dead engine, however it died ------------------------------------------------


class FakeDriver:
    spec = ENGINES["chromium"]

    def __init__(self):
        self.alive = True
        self.stopped = False
        self.info = EngineInfo("chromium", "0", "fake", "system")

    async def start(self):
        return self.info

    async def stop(self):
        self.stopped = True


async def test_pool_relaunches_an_engine_that_died_since_its_last_test(monkeypatch):
    """A browser that dies between tests (nobody's step saw it) is relaunched by the next `get`, not
    handed out dead; a live one is kept."""
    made: list[FakeDriver] = []
    monkeypatch.setattr(pool_module, "make_driver", lambda found, **options: made.append(FakeDriver()) or made[-1])
    pool = EnginePool({})
    pool.found = {"chromium": Found(ENGINES["chromium"], ENGINES["chromium"].builds["system"])}
    first = await pool.get("chromium")
    assert await pool.get("chromium") is first and len(made) == 1
    first.alive = False  # crashed while idle
    second = await pool.get("chromium")
    assert second is not first and second.alive and first.stopped and len(made) == 2
    await pool.stop_all()
    assert second.stopped


# -- 4, 6: end to end: a browser killed mid-step, and nothing left running --------------------------------


# The tiny session: per engine, a row whose browser is killed mid-step, a normal row, a row whose page
# step never answers (a real page), and a normal row again. Rows are conformance rows (custom-handler x
# mlp), so conformance.json carries their outcomes. Firefox (the slowest to launch) runs only the normal
# rows: launched once, for the check that nothing is left running.
SESSION = '''
import asyncio, os

import psutil
import pytest

from harness.trip import roundtrip, timeouts
from harness.engines.memory import engine_processes
from harness.schemes import SCHEMES

ROW = dict(schemes=[SCHEMES["custom-handler"]], models=["mlp"])
HANG = "window.harness.run = () => new Promise(() => {}); return true"


@pytest.mark.conformance(**ROW)
async def test_1_killed(scheme, model, engine_name, make_trip, harness_page):
    trip = make_trip(model)
    await harness_page.evaluate(HANG, 10)  # the next step stays in flight until the browser dies
    step = asyncio.create_task(trip.save({"kind": "custom"}))
    step.add_done_callback(lambda t: t.cancelled() or t.exception())  # never an unretrieved task exception
    try:
        await asyncio.sleep(1)
        assert not step.done(), step
        # The browser's own processes; not WebKitWebDriver: a browser crash leaves its driver running.
        killed = []
        for p in engine_processes(engine_name):
            try:
                if "webdriver" not in p.name().lower():
                    line = f"{engine_name} {p.pid} {' '.join(p.cmdline())[:200]}"
                    p.kill()
                    killed.append(line)
            except psutil.Error:
                pass  # gone already (a helper of a killed browser)
        assert killed, f"no {engine_name} process under pid {os.getpid()}"
        with open(os.environ["KILLED_LOG"], "a") as f:
            f.write("".join(line + "\\n" for line in killed))
    except BaseException:
        step.cancel()
        raise
    await step  # must raise EngineError


@pytest.mark.conformance(**ROW)
async def test_2_after_kill(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)


@pytest.mark.conformance(**ROW)
async def test_3_hung_step(scheme, model, engine_name, make_trip, harness_page):
    trip = make_trip(model, timeout=1)
    await harness_page.evaluate(HANG, 10)
    await trip.save({"kind": "custom"})  # must raise StepTimeout


@pytest.mark.conformance(**ROW)
async def test_4_after_timeout(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
'''

BROWSERS = ["chromium", "firefox", "webkit"]
KILLED = ["chromium", "webkit"]  # one per driver: Playwright, WebDriver
# What a browser engine may start: browsers and their helpers, WebKitWebDriver, Xvfb (not Playwright's node).
ENGINE_PROCESS = re.compile(r"chrom|firefox|webkit|minibrowser|xvfb", re.I)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _key(p: psutil.Process) -> tuple[int, float] | None:
    try:
        return p.pid, p.create_time()
    except psutil.Error:
        return None


def _running(pid: int, created: float) -> bool:
    """The very process (pid and start time) is still there and not a zombie."""
    try:
        p = psutil.Process(pid)
        return p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _tied_to(marker: str) -> dict[int, str]:
    """Live processes whose environment or command line carries `marker` (the session's own TMPDIR)."""
    found = {}
    for p in psutil.process_iter():
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(p.cmdline())
            if marker in cmdline or p.environ().get("TMPDIR") == marker:
                found[p.pid] = cmdline[:300]
        except psutil.Error:
            continue
    return found


# the harness's ini (tests/conftest.py INI; a module-scoped fixture cannot use the function-scoped harness_ini)
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\nasyncio_default_test_loop_scope = session\n"


@pytest.fixture(scope="module")
def session_run(tmp_path_factory):
    """Run SESSION on chromium, firefox and webkit in a pytest subprocess with its own TMPDIR, recording
    every process under it while it runs (pid, start time, command line)."""
    _needs_browsers()
    root = tmp_path_factory.mktemp("robustness-e2e")
    work, tmpdir, results = root / "work", root / "tmp", root / "results"
    work.mkdir(), tmpdir.mkdir()
    (work / "pytest.ini").write_text(INI)
    (work / "test_session.py").write_text(SESSION)
    killed_log = root / "killed.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONBREAKPOINT"))}
    env.update(TMPDIR=str(tmpdir), KILLED_LOG=str(killed_log), PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-rA", "-q",
               *(a for e in BROWSERS for a in ("--engine", e)), "--results-dir", str(results), "test_session.py",
               "-k", " and ".join(f"not ({t} and {e})" for t in ("test_1", "test_3") for e in BROWSERS if e not in KILLED)]
    seen: dict[tuple[int, float], str] = {}
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for p in _descendants(proc.pid):
                key = _key(p)
                if key:
                    # Read again on every pass: a child caught between fork and exec still shows its
                    # parent's command line (a relaunched WebKitWebDriver was once recorded as python).
                    try:
                        cmd = " ".join(p.cmdline())[:300]  # empty once it is a zombie: keep what it ran
                        if cmd or key not in seen:
                            seen[key] = cmd or p.name()
                    except psutil.Error:
                        pass
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        for p in [psutil.Process(proc.pid), *_descendants(proc.pid)]:
            try:
                p.kill()
            except psutil.Error:
                pass
        out, _ = proc.communicate()
        pytest.fail(f"the session did not finish within 300 s:\n{out.decode(errors='replace')[-5000:]}")
    finally:
        done.set()
        sampler.join()
    elapsed = time.monotonic() - started
    doc = json.loads((results / "conformance.json").read_text()) if (results / "conformance.json").exists() else None
    killed = killed_log.read_text().splitlines() if killed_log.exists() else []
    return types.SimpleNamespace(ret=proc.returncode, out=out.decode(errors="replace"), doc=doc, seen=seen,
                                 tmpdir=str(tmpdir), killed=killed, elapsed=elapsed)


def _needs_browsers():
    from harness.config import load_matrix
    from harness.engines.discovery import Missing, discover, playwright_executables
    from harness.paths import DEFAULT_CONFIG

    found = discover({e: m for e, m in load_matrix(DEFAULT_CONFIG).items() if e in BROWSERS}, playwright_executables())
    missing = {e: f.reason for e, f in found.items() if isinstance(f, Missing)}
    if missing:
        pytest.skip(f"needs every browser engine: missing {missing}")


def test_killed_browser_fails_its_row_naming_the_engine_and_the_rest_of_the_session_passes(session_run):
    run = session_run
    assert run.doc is not None, run.out[-5000:]
    rows = {(r["test"].split("::")[1].split("[")[0], r["engine"]): r for r in run.doc["results"]}
    assert len(rows) == 2 * len(BROWSERS) + 2 * len(KILLED), (sorted(rows), run.out[-5000:])
    for engine in BROWSERS:
        for test in ("test_2_after_kill", "test_4_after_timeout"):
            assert rows[test, engine]["outcome"] == "passed", (rows[test, engine], run.out[-5000:])
    for engine in KILLED:
        killed = rows["test_1_killed", engine]
        assert killed["outcome"] == "error", (killed, run.out[-5000:])
        (why,) = killed["differences"]  # the engine failed, not StepTimeout, not a TF.js finding
        assert (why["what"], why["path"], why["actual"]) == ("error", "call", "EngineError"), why
        assert why["message"].startswith(f"EngineError: {engine} / mlp / step 'save': "), why
        assert killed["duration_s"] < 20, killed  # the dead browser is noticed at once, not at the step's 60 s deadline
        hung = rows["test_3_hung_step", engine]
        assert hung["outcome"] == "error", hung
        (why,) = hung["differences"]
        assert (why["what"], why["path"], why["actual"]) == ("error", "call", "StepTimeout"), why
        assert re.match(rf"StepTimeout: {engine} / mlp / step 'save': step 'save' gave no answer within 1 s", why["message"]), why
        assert any(line.startswith(f"{engine} ") for line in run.killed), run.killed  # its processes were really killed
    assert {e["engine"] for e in run.doc["engines"] if e.get("version")} == set(BROWSERS), run.doc["engines"]
    assert run.ret == pytest.ExitCode.TESTS_FAILED, run.out[-5000:]  # exactly the killed and hung rows failed
    assert re.search(rf"\b{2 * len(KILLED)} failed, {2 * len(BROWSERS)} passed\b", run.out), run.out[-3000:]
    assert "INTERNALERROR" not in run.out, run.out[-5000:]


def test_no_engine_process_outlives_the_session(session_run):
    """Every process the session started (seen under its pid while it ran: browsers and their helpers,
    WebKitWebDriver, Xvfb, Playwright's driver) is gone once it exited, and no process anywhere carries
    its private TMPDIR (which every process it started inherits, even one that escaped the tree)."""
    run = session_run
    engines = {key: cmd for key, cmd in run.seen.items() if ENGINE_PROCESS.search(cmd)}
    # The record can fail: it saw every kind of process the session starts (two browsers per killed engine).
    for kind in ("chromium", "firefox", "WebKitWebDriver", "MiniBrowser", "Xvfb"):
        assert any(kind.lower() in cmd.lower() for cmd in engines.values()), (kind, sorted(set(run.seen.values())))
    assert sum("WebKitWebDriver" in cmd for cmd in engines.values()) >= 2, engines  # killed and relaunched
    deadline = time.monotonic() + 5  # a process killed as the session ended may take a moment to go
    while True:
        left = {key: cmd for key, cmd in run.seen.items() if _running(*key)}
        tied = _tied_to(run.tmpdir)
        if not (left or tied) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"started by the session and still running after it exited: {left}"
    assert not tied, f"processes with the session's TMPDIR still running: {tied}"
