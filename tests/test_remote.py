"""Remote engines for real, each on loopback: a Playwright server (`playwright run-server`) driven through
--connect, and a standalone WebKitWebDriver (`WebKitWebDriver --port=P`, under its own Xvfb) driven
through --webdriver. No mock of either protocol: the endpoint launches the browser, the harness only
connects to it, and the rows must say so (`host`)."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from harness.engines import ENGINES
from harness.engines.xvfb import Xvfb
from harness.paths import REPO

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
filterwarnings = ignore:setting remote_server_addr in RemoteConnection:DeprecationWarning
"""
CHROMIUM = ENGINES["chromium"].builds["system"]
WEBKIT = ENGINES["webkit"].builds["system"]


def _rows(results_dir, context="window"):
    doc = json.loads((results_dir / "conformance.json").read_text())
    return doc, {r["scheme"]: r for r in doc["results"] if r["context"] == context}


def _run(pytester, tmp_path, config: str, *args):
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    (tmp_path / "engines.toml").write_text(config)
    results = tmp_path / "results"
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--engine-config", str(tmp_path / "engines.toml"),
                                        "--results-dir", str(results), *args, "test_roundtrip.py", timeout=300)
    return run, results


def _group_kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture
def playwright_server():
    """`playwright run-server` on loopback (--unsafe: the client may name the browser executable, as a
    machine without Playwright's own builds needs); yields its ws:// endpoint."""
    server = subprocess.Popen([sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1", "--port", "0",
                               "--unsafe"], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = server.stdout.readline().strip()  # "Listening on ws://127.0.0.1:PORT/"
        assert line.startswith("Listening on ws://"), f"playwright run-server said {line!r}"
        yield line.removeprefix("Listening on ")
    finally:
        _group_kill(server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webkit_webdriver_server():
    """`WebKitWebDriver --port=P` as a standalone server, with a display of its own (as on a machine
    that serves WebKitGTK to others); yields its http:// endpoint once /status answers."""
    if not os.path.exists(WEBKIT.executable) or not shutil.which("Xvfb"):
        pytest.skip(f"needs {WEBKIT.executable} and Xvfb (apt: webkit2gtk-driver xvfb)")
    xvfb = Xvfb().start()
    home = tempfile.mkdtemp(prefix="tfjs-remote-webkit-")
    port = _free_port()
    env = {**os.environ, "DISPLAY": xvfb.display, "GDK_BACKEND": "x11", "HOME": home}
    env.pop("WAYLAND_DISPLAY", None)
    server = subprocess.Popen([WEBKIT.executable, f"--port={port}"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status = json.load(urllib.request.urlopen(f"{url}/status", timeout=2))
                assert status["value"]["ready"], status
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "WebKitWebDriver --port did not start"
                time.sleep(0.1)
        yield url
    finally:
        _group_kill(server)  # its own process group: MiniBrowser and the WebKit*Process children too
        xvfb.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.skipif(not os.path.exists(CHROMIUM.executable), reason=f"{CHROMIUM.executable} missing (apt: chromium)")
def test_scenarios_run_in_a_browser_of_a_playwright_server(harness_ini, tmp_path, playwright_server):
    # Playwright's own Chromium is not on this machine: the server launches Debian's, as the entry says.
    config = (f'[engines.chromium]\nlaunch_options = {{executablePath = "{CHROMIUM.executable}", '
              f'args = {json.dumps(list(CHROMIUM.args))}}}\n')
    rows = "localstorage-mlp or indexeddb-mlp or downloads-mlp or browser-files-mlp or restart-persistence-mlp"
    run, results = _run(harness_ini, tmp_path, config, "--engine", "chromium", "--connect", f"chromium={playwright_server}",
                        "--context", "window", "--context", "iframe-cross-site", "-k", rows)
    doc, by_scheme = _rows(results)
    assert set(by_scheme) == {"localstorage", "indexeddb", "downloads", "browser-files", "restart-persistence"}, run.stdout.str()
    for scheme in ("localstorage", "indexeddb", "downloads", "browser-files"):  # downloads: streamed back over the connection
        assert by_scheme[scheme]["outcome"] == "passed", f"{scheme}: {by_scheme[scheme]['detail']}"
    assert by_scheme["restart-persistence"]["outcome"] == "skipped"
    assert "Playwright server" in by_scheme["restart-persistence"]["detail"]
    # What a remote engine denies a third-party frame is measured there, as on a local one: Debian's Chromium
    # gives it no storage, so TF.js's refusal is the check, and it is clear.
    _, framed = _rows(results, "iframe-cross-site")
    for scheme in ("localstorage", "indexeddb"):
        assert framed[scheme]["outcome"] == "passed", f"{scheme} in the frame: {framed[scheme]['detail']}"
        assert framed[scheme]["observed"]["engine_denies"], framed[scheme]["observed"]
    for row in doc["results"]:
        assert row["host"]["endpoint"] == "playwright-server" and row["host"]["url"] == playwright_server
    (engine,) = doc["engines"]
    assert engine["build"] == "remote" and engine["endpoint"] == playwright_server and engine["version"]
    assert f"playwright-server {playwright_server}" in run.stdout.str()  # the matrix says where the rows ran
    assert run.ret == pytest.ExitCode.OK, run.stdout.str()


def test_scenarios_run_through_a_standalone_webdriver_server(harness_ini, tmp_path, webkit_webdriver_server):
    config = '[engines.webkit]\ncapabilities = {"webkitgtk:browserOptions" = {args = ["--automation"]}}\n'
    rows = "localstorage-mlp or indexeddb-mlp or browser-files-mlp or http-mlp or downloads-mlp"
    run, results = _run(harness_ini, tmp_path, config, "--engine", "webkit", "--webdriver", f"webkit={webkit_webdriver_server}",
                        "--context", "window", "-k", rows)
    doc, by_scheme = _rows(results)
    assert {"localstorage", "indexeddb", "browser-files", "http", "downloads"} <= set(by_scheme), run.stdout.str()
    for scheme in ("localstorage", "indexeddb", "browser-files", "http"):
        assert by_scheme[scheme]["outcome"] == "passed", f"{scheme}: {by_scheme[scheme]['detail']}"
    assert by_scheme["downloads"]["outcome"] == "skipped" and "its own machine" in by_scheme["downloads"]["detail"]
    for row in doc["results"]:
        assert row["host"] == {"runner": socket.gethostname(), "endpoint": "webdriver", "url": webkit_webdriver_server}
    (engine,) = doc["engines"]
    assert engine["build"] == "remote" and engine["driver"] == "webdriver" and engine["version"]
    assert run.ret == pytest.ExitCode.OK, run.stdout.str()
