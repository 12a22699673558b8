"""The WebDriver driver against real WebKitGTK (WebKitWebDriver + MiniBrowser under Xvfb).

A tiny harness page is served from a temp dir; one driver is shared by the module, and
one more is started and stopped to check that nothing is left running.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import signal
import threading
import time

import pytest
import pytest_asyncio

from harness.engines.base import EngineError, StepTimeout
from harness.engines.webdriver import WebDriverDriver
from harness.engines.webkit import ENGINE

BUILD = ENGINE.builds["system"]

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(not os.path.exists(BUILD.executable), reason=f"{BUILD.executable} missing (apt: webkit2gtk-driver)"),
    pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb missing (apt: xvfb)"),
    # Selenium's own WebKitGTK class triggers this; nothing of ours.
    pytest.mark.filterwarnings("ignore:setting remote_server_addr:DeprecationWarning"),
]

HARNESS_HTML = """<!doctype html><meta charset="utf-8"><script>
const steps = {
  echo: async args => ({echo: args}),
  hang: () => new Promise(() => {}),
  busy: () => { for (;;) {} },
  fail: async () => { throw new TypeError("bad input"); },
  write: async () => {
    localStorage.setItem("k", "v");
    sessionStorage.setItem("s", "v");
    await new Promise((resolve, reject) => {
      const req = indexedDB.open("written-db", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("store").put("value", "key");
      req.onsuccess = () => { req.result.close(); resolve(); };
      req.onerror = () => reject(req.error);
    });
  },
  inspect: async () => ({
    localStorage: Object.keys(localStorage),
    sessionStorage: Object.keys(sessionStorage),
    indexedDB: (await indexedDB.databases()).map(d => d.name),
  }),
};
window.harness = {
  ready: Promise.resolve({ok: true}),
  run: async (name, args) => ({status: "ok", result: await steps[name](args)}),
};
</script>"""

NEVER_READY_HTML = "<!doctype html><title>no harness here</title>"

WEBKIT_PROCESS = re.compile(r"WebKitWebDriver|WebKitWebProcess|WebKitNetworkProcess|MiniBrowser|Xvfb")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """Serve the test pages from a temp dir on a free local port."""
    root = tmp_path_factory.mktemp("site")
    (root / "harness.html").write_text(HARNESS_HTML)
    (root / "never-ready.html").write_text(NEVER_READY_HTML)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def driver():
    driver = WebDriverDriver(ENGINE, BUILD)
    await driver.start()
    yield driver
    await driver.stop()


async def test_start_reports_a_real_version(driver):
    assert driver.info.engine == "webkit" and driver.info.driver == "webdriver" and driver.info.build == "system"
    assert re.fullmatch(r"\d+\.\d+(\.\d+)*", driver.info.version), driver.info.version
    assert driver.info.executable == BUILD.executable


async def test_run_step_echoes_json(driver, base_url):
    page = await driver.open(f"{base_url}/harness.html", timeout=20)
    args = {"text": "héllo ✓", "n": 1.5, "big": 2**40, "none": None, "list": [1, "two", {"three": [3]}], "flag": True}
    assert await page.run_step("echo", args, timeout=10) == {"status": "ok", "result": {"echo": args}}
    await page.close()


async def test_rejected_step_is_an_error_reply(driver, base_url):
    page = await driver.open(f"{base_url}/harness.html", timeout=20)
    reply = await page.run_step("fail", {}, timeout=10)
    assert reply == {"status": "error", "error": {"name": "TypeError", "message": "bad input"}}


async def test_step_that_never_resolves_times_out(driver, base_url):
    page = await driver.open(f"{base_url}/harness.html", timeout=20)
    started = time.monotonic()
    with pytest.raises(StepTimeout, match=r"webkit: step 'hang' gave no answer within 2 s"):
        await page.run_step("hang", {}, timeout=2)
    assert time.monotonic() - started < 2 + 3
    # The session survives a script timeout.
    assert (await page.run_step("echo", {"x": 1}, timeout=10))["status"] == "ok"


async def test_page_that_never_gets_ready_fails_open(driver, base_url):
    started = time.monotonic()
    with pytest.raises(EngineError, match="never-ready.html"):
        await driver.open(f"{base_url}/never-ready.html", timeout=2)
    assert time.monotonic() - started < 2 + 3


async def test_second_open_sees_empty_storage(driver, base_url):
    first = await driver.open(f"{base_url}/harness.html", timeout=20)
    assert (await first.run_step("write", {}, timeout=10))["status"] == "ok"
    written = (await first.run_step("inspect", {}, timeout=10))["result"]
    assert written == {"localStorage": ["k"], "sessionStorage": ["s"], "indexedDB": ["written-db"]}
    await first.close()

    second = await driver.open(f"{base_url}/harness.html", timeout=20)
    empty = (await second.run_step("inspect", {}, timeout=10))["result"]
    assert empty == {"localStorage": [], "sessionStorage": [], "indexedDB": []}
    with pytest.raises(EngineError, match="closed or replaced"):
        await first.run_step("inspect", {}, timeout=10)


def _webkit_processes(pgids: set[int] | None = None) -> dict[int, str]:
    """Live (non-zombie) WebKit/Xvfb processes by pid (only those in process groups `pgids`, if given)."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if state != "Z" and WEBKIT_PROCESS.search(cmdline) and (pgids is None or int(pgrp) in pgids):
            found[int(entry)] = cmdline
    return found


@pytest_asyncio.fixture(loop_scope="session")
async def own_driver():
    """A driver of the test's own, and the WebKit/Xvfb processes it started: WebKitWebDriver's process
    group (MiniBrowser and its WebKit*Process children) and its Xvfb, never another run's processes."""
    driver = WebDriverDriver(ENGINE, BUILD)
    await driver.start()
    xvfb = driver._procs.xvfb.process.pid
    driver.test_processes = {**_webkit_processes({driver._procs.service.process.pid}),
                             **{pid: cmd for pid, cmd in _webkit_processes().items() if pid == xvfb}}
    yield driver
    await driver.stop()


async def test_stop_leaves_no_processes(own_driver, base_url):
    page = await own_driver.open(f"{base_url}/harness.html", timeout=20)
    assert (await page.run_step("echo", {}, timeout=10))["status"] == "ok"
    started = own_driver.test_processes
    assert any("WebKitWebDriver" in cmd for cmd in started.values()), started
    assert any("Xvfb" in cmd for cmd in started.values()), started
    home = own_driver._procs.home
    await own_driver.stop()
    left = {pid: cmd for pid, cmd in _webkit_processes().items() if pid in started}
    assert not left, f"left running after stop(): {left}"
    assert not os.path.exists(home)


async def test_dead_browser_is_an_engine_error(own_driver, base_url):
    page = await own_driver.open(f"{base_url}/harness.html", timeout=20)
    for pid, cmd in own_driver.test_processes.items():
        if "MiniBrowser" in cmd:
            os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        await page.run_step("echo", {}, timeout=10)
    assert not isinstance(caught.value, StepTimeout), caught.value
    assert time.monotonic() - started < 5


async def test_busy_page_fails_fast_after_its_deadline(own_driver, base_url):
    """A busy main thread defeats WebDriver's script timeout; the outer deadline catches it."""
    own_driver.grace = 0.5
    page = await own_driver.open(f"{base_url}/harness.html", timeout=20)
    started = time.monotonic()
    with pytest.raises(StepTimeout, match="driver now stuck"):
        await page.run_step("busy", {}, timeout=1)
    assert time.monotonic() - started < 1 + 0.5 + 1
    with pytest.raises(EngineError, match="stuck since step 'busy'"):
        await own_driver.open(f"{base_url}/harness.html", timeout=20)
    started = time.monotonic()
    await own_driver.stop()
    assert time.monotonic() - started < 3
