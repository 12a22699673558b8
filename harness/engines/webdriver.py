"""The W3C WebDriver driver, via Selenium: WebKitGTK's MiniBrowser through ``WebKitWebDriver``, or any
browser behind a remote WebDriver endpoint (a remote build: safaridriver, Selenium Grid, a cloud grid,
``WebKitWebDriver --port``), where the endpoint owns the browser process, its display and its downloads.

A local build names the module that launches it (``Build.launcher``, e.g. harness.engines.webkitgtk:
its environment, display and session options); this module knows only W3C WebDriver.

One WebDriver session (one browser window) per pytest session. WebDriver has no
browser contexts, so ``open()`` isolates pages by clearing the origin's storage
after navigating and checking that it really is empty.

Selenium is synchronous and WebKitWebDriver can hang without an error (no display),
so every call runs on this driver's own worker thread under an asyncio deadline.
One thread keeps Selenium calls in order, and a call stuck past its deadline only
wedges this driver, not the event loop's default executor. Build quirks live in
``harness.engines.webkit`` (``Build.notes``).

Downloads (``Build.downloads == "directory"``): the launcher points the browser's download directory
into the driver's private HOME; ``open()`` empties it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import importlib
import os
import shutil
import signal
import tempfile
import time
import weakref
from typing import Any, Callable, Mapping

from selenium import webdriver
from selenium.common.exceptions import InvalidSessionIdException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.common.service import Service
from selenium.webdriver.remote.file_detector import UselessFileDetector
from urllib3.exceptions import HTTPError as Urllib3Error

from harness.engines import downloads
from harness.engines.base import RESET_STORAGE_JS, Driver, EngineError, EngineInfo, Page, QuotaApplied, StepTimeout, page_mode
from harness.engines.xvfb import Xvfb
from harness.trip import timeouts

# Local builds name what launches them (Build.launcher): the module with environment(), service(), new_session().
LAUNCHERS = {"webkitgtk": "harness.engines.webkitgtk"}

# Waits for the harness page, then empties the origin's storage and lists what is left
# (harness/js/reset_storage.js, shared with the Playwright driver). Replies {left}, {notReady} or {failed}.
_READY_AND_CLEAR_JS = f"""
const done = arguments[arguments.length - 1];
({RESET_STORAGE_JS.strip()})().then(done, e => done({{failed: `${{(e && e.name) || "Error"}}: ${{(e && e.message) || e}}`}}));
"""

_RUN_STEP_JS = """
const [name, args, done] = arguments;
Promise.resolve()
  .then(() => window.harness.run(name, args))
  .then(done, e => done({status: "error", error: {name: (e && e.name) || "Error", message: String((e && e.message) || e)}}));
"""

# After a reload: wait for the harness page again, touching no storage. Replies {ok} or {notReady}.
_WAIT_READY_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  while (!(window.harness && window.harness.ready)) await new Promise(r => setTimeout(r, 20));
  try { await window.harness.ready; return {ok: true}; }
  catch (e) { return {notReady: String((e && e.message) || e)}; }
})().then(done);
"""

# A test's script: the body of an async function; replies {value} or {error}.
_EVALUATE_JS = """
const [body, done] = arguments;
(async () => ({value: await (new Function("return (async () => {" + body + "})()"))()}))()
  .then(done, e => done({error: `${(e && e.name) || "Error"}: ${(e && e.message) || e}`}));
"""


class WebDriverPage(Page):
    """The harness page in the session's only window; valid until the next ``open()``."""

    def __init__(self, driver: "WebDriverDriver", url: str):
        self._driver = driver
        self.engine, self.build = driver.spec, driver.build
        self.url = url
        self.downloads_dir = driver._downloads_dir

    async def run_step(self, name: str, args: Mapping[str, Any], timeout: float) -> dict:
        self._driver._check_current(self)
        reply = await self._driver._execute_async(_RUN_STEP_JS, name, dict(args), timeout=timeout, what=f"step {name!r}")
        if not isinstance(reply, dict):
            raise EngineError(f"{self._driver.spec.name}: step {name!r} answered {type(reply).__name__}, not an object")
        return reply

    async def evaluate(self, body: str, timeout: float) -> Any:
        """Run ``body`` as the body of an async function in the page; its JSON result (for tests)."""
        self._driver._check_current(self)
        reply = await self._driver._execute_async(_EVALUATE_JS, body, timeout=timeout, what="evaluate")
        if "error" in reply:
            raise EngineError(f"{self._driver.spec.name}: evaluate threw {reply['error']}")
        return reply.get("value")

    async def downloads(self, count: int, timeout: float) -> dict[str, bytes]:
        self._driver._check_current(self)
        if not self._driver.build.downloads:
            raise NotImplementedError(f"{self._driver.spec.name}: cannot capture downloads: {self._driver.build.no_downloads}")
        if self._driver.build.downloads != "directory":
            raise NotImplementedError(f"{self._driver.spec.name}: WebDriver can only poll a download directory, "
                                      f"not capture {self._driver.build.downloads!r}")
        return await downloads.wait_for_files(self.downloads_dir, count, timeout, who=self._driver.spec.name)

    async def forget_downloads(self) -> None:
        if self.downloads_dir:
            await asyncio.to_thread(downloads.empty_directory, self.downloads_dir)

    async def set_input_files(self, selector: str, paths: list[str], timeout: float) -> None:
        self._driver._check_current(self)
        keys = "\n".join(os.path.abspath(p) for p in paths)
        await self._driver._call(f"choose files in {selector}", timeout, self._driver._send_keys, selector, keys)

    async def reload(self, timeout: float) -> None:
        """Reload (storage kept: unlike open(), nothing is cleared) and wait for ``harness.ready``."""
        self._driver._check_current(self)
        started = time.monotonic()
        await self._driver._call("reload", timeout, self._driver._reload, timeout, grace=self._driver.grace)
        left = max(timeout - (time.monotonic() - started), 0.1)
        state = await self._driver._execute_async(_WAIT_READY_JS, timeout=left, what="waiting for harness.ready after reload")
        if "notReady" in state:
            raise EngineError(f"{self._driver.spec.name}: the harness page did not become ready after reload: "
                              f"{state['notReady']}")

    async def close(self) -> None:
        if self._driver._page is not self:
            return
        self._driver._page = None
        try:
            await self._driver._call("navigate to about:blank", 10.0, self._driver._wd.get, "about:blank")
        except EngineError:
            pass  # the browser is already gone; the driver reports that


class WebDriverDriver(Driver):
    """One WebKitWebDriver + MiniBrowser (under a private Xvfb) for a whole pytest session."""

    # Extra seconds the outer (asyncio) deadline allows beyond WebDriver's own script and page
    # load timeouts, so that a page that times out is reported by WebDriver, not by a stuck call.
    grace: float = 5.0

    def __init__(self, spec, build, *, headed: bool = False, launch_timeout: float | None = None):
        super().__init__(spec, build, headed=headed)
        self.launch_timeout = launch_timeout or timeouts.scaled(timeouts.LAUNCH_S)
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"{spec.name}-webdriver")
        self._procs: _Processes | None = None
        self._release: weakref.finalize | None = None
        self._wd: webdriver.Remote | None = None
        self._page: WebDriverPage | None = None
        self._script_timeout: float | None = None
        self._wedged: str | None = None  # set when a call outlived its deadline: its thread may never return
        self._downloads_dir: str | None = None

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> EngineInfo:
        """Start Xvfb (unless headed on a real display), WebKitWebDriver and one session; or, for a
        remote build, one session at its endpoint."""
        if self.build.endpoint:
            return await self._start_remote()
        launcher = importlib.import_module(LAUNCHERS[self.build.launcher])
        procs = self._procs = _Processes(home=tempfile.mkdtemp(prefix=f"tfjs-{self.spec.name}-"))
        self._release = weakref.finalize(self, procs.release)  # also at interpreter exit, if stop() never ran
        try:
            display = None
            if self.build.needs_display and not (self.headed and os.environ.get("DISPLAY")):
                procs.xvfb = await asyncio.to_thread(Xvfb().start)
                display = procs.xvfb.display
            env, self._downloads_dir = launcher.environment(procs.home, display)
            procs.service = launcher.service(self.build.executable, env, procs.log_path)
            self._wd = await self._call("start a session", self.launch_timeout, launcher.new_session, procs.service,
                                        self.build.args)
        except BaseException as e:
            log = procs.log_tail()
            await self.stop()
            if isinstance(e, EngineError):
                raise EngineError(f"{e}\n{log}") from e
            raise
        self.info = EngineInfo(
            engine=self.spec.name,
            version=self._wd.capabilities.get("browserVersion", "unknown"),
            driver="webdriver",
            build=self.build.kind,
            executable=procs.service.path,
        )
        return self.info

    async def _start_remote(self) -> EngineInfo:
        """One session at the build's endpoint (safaridriver, a grid, WebKitWebDriver --port) with the
        build's capabilities; the endpoint owns the browser, its display and its downloads."""
        self._wd = await self._call(f"start a session at {self.build.endpoint}", self.launch_timeout, self._new_remote_session)
        caps = self._wd.capabilities
        self.info = EngineInfo(
            engine=self.spec.name,
            version=caps.get("browserVersion", "unknown"),
            driver="webdriver",
            build=self.build.kind,
            executable=caps.get("browserName"),
            endpoint=self.build.endpoint,
        )
        return self.info

    def _new_remote_session(self) -> webdriver.Remote:
        options = ArgOptions()
        for arg in self.build.args:
            options.add_argument(arg)
        options.set_capability("acceptInsecureCerts", True)
        for key, value in self.build.capabilities.items():
            options.set_capability(key, value)
        return webdriver.Remote(command_executor=self.build.endpoint, options=options)

    async def stop(self) -> None:
        """Quit the session; kill whatever of the driver's process group is left; clean up."""
        wd, self._wd, self._page = self._wd, None, None
        if wd is not None and not self._wedged:
            try:
                await self._call("quit the session", 10.0, wd.quit)
            except EngineError:
                pass  # killed below
        if self._release is not None:
            await asyncio.to_thread(self._release)
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def alive(self) -> bool:
        """The session, WebKitWebDriver and the browser it launched (its child, MiniBrowser) all run: a
        crashed browser leaves WebKitWebDriver running with a dead session, which is not alive either."""
        if self._wd is None or self._wedged:
            return False
        if self.build.endpoint:  # nothing of it runs here: a dead session shows at its next command
            return True
        if self._procs.service.process.poll() is not None:
            return False
        return bool(_live_processes(ppid=self._procs.service.process.pid))

    # -- pages -----------------------------------------------------------------

    async def open(self, url: str, *, timeout: float, quota: int | None = None,
                   backends: tuple[str, ...] = ()) -> WebDriverPage:
        """Navigate to ``url``, wait for ``harness.ready``, then empty and check the origin's storage.
        No quota emulation over WebDriver: a requested quota is reported as not applied (Build.no_quota)."""
        if not self.alive:
            raise EngineError(f"{self.spec.name}: the browser is not usable"
                              f"{self._wedged or ' (stopped, or the browser or its driver exited)'}")
        if page_mode(url) != "ephemeral":  # a private or on-disk profile: the row should have skipped (Build.lacks_context)
            raise EngineError(f"{self.spec.name}: cannot open a {page_mode(url)} window over WebDriver here")
        self._page = None
        if self._downloads_dir:
            await asyncio.to_thread(downloads.empty_directory, self._downloads_dir)
        await self._call(f"load {url}", timeout, self._load, url, timeout, grace=self.grace)
        state = await self._execute_async(_READY_AND_CLEAR_JS, timeout=timeout, what=f"waiting for harness.ready at {url}")
        if "notReady" in state:
            raise EngineError(f"{self.spec.name}: the harness page at {url} did not become ready: {state['notReady']}")
        if "failed" in state:
            raise EngineError(f"{self.spec.name}: could not clear storage at {url}: {state['failed']}")
        if state["left"]:
            raise EngineError(f"{self.spec.name}: storage at {url} is not empty after clearing: {'; '.join(state['left'])}")
        self._page = WebDriverPage(self, url)
        if quota is not None:
            self._page.quota = QuotaApplied(quota, None, self.build.no_quota or "no quota emulation over WebDriver")
        return self._page

    async def open_sibling(self, page: Page, url: str, *, timeout: float) -> WebDriverPage:
        """Navigate the one window to `url` without clearing anything (the session's storage is the
        same); `page` is no longer current afterwards."""
        self._check_current(page)
        started = time.monotonic()
        await self._call(f"load {url}", timeout, self._load, url, timeout, grace=self.grace)
        left = max(timeout - (time.monotonic() - started), 0.1)
        state = await self._execute_async(_WAIT_READY_JS, timeout=left, what=f"waiting for harness.ready at {url}")
        if "notReady" in state:
            raise EngineError(f"{self.spec.name}: the harness page at {url} did not become ready: {state['notReady']}")
        self._page = WebDriverPage(self, url)
        return self._page

    async def open_persistent(self, url: str, profile_dir: str, *, timeout: float) -> WebDriverPage:
        """No build driven over WebDriver keeps a profile of the harness's (each declares why:
        Build.no_persistent_profile); asking anyway is a harness error."""
        raise NotImplementedError(f"{self.spec.name}: "
                                  f"{self.build.lacks('persistent-profile') or 'no persistent profile over WebDriver'}")

    def _load(self, url: str, timeout: float) -> None:
        self._wd.set_page_load_timeout(timeout)
        self._wd.get(url)

    def _reload(self, timeout: float) -> None:
        self._wd.set_page_load_timeout(timeout)
        self._wd.refresh()

    def _send_keys(self, selector: str, keys: str) -> None:
        element = self._wd.find_element(By.CSS_SELECTOR, selector)
        try:
            element.send_keys(keys)
        except WebDriverException as e:
            # Selenium's Remote uploads chosen files to the endpoint first (POST .../se/file): Selenium Grid
            # and cloud grids have that command, a plain driver (WebKitWebDriver, safaridriver) does not and
            # reads the paths on its own machine. Fall back to sending the paths, for this session.
            if not (self.build.endpoint and "/se/file" in (e.msg or "")):
                raise
            self._wd.file_detector = UselessFileDetector()
            element.send_keys(keys)

    def _check_current(self, page: WebDriverPage) -> None:
        if page is not self._page:
            raise EngineError(f"{self.spec.name}: page {page.url} was closed or replaced by a later open()")

    # -- calls -----------------------------------------------------------------

    async def _execute_async(self, script: str, *args: Any, timeout: float, what: str) -> Any:
        """``execute_async_script`` with the in-page script timeout and an outer deadline a bit later."""

        def run() -> Any:
            if self._script_timeout != timeout:  # one round trip fewer per step when unchanged
                self._wd.set_script_timeout(timeout)
                self._script_timeout = timeout
            return self._wd.execute_async_script(script, *args)

        return await self._call(what, timeout, run, grace=self.grace)

    async def _call(self, what: str, deadline: float, fn: Callable[..., Any], *args: Any, grace: float = 0.0) -> Any:
        """Run a Selenium call on the worker thread; map hangs and driver failures to harness errors.

        WebDriver's own timeouts (script, page load) raise StepTimeout and leave the session usable.
        If the call itself outlives ``deadline + grace`` (the page's main thread is busy, or the driver
        hangs), the worker thread is stuck: the driver is marked wedged and refuses further calls.
        """
        if self._wedged:
            raise EngineError(f"{self.spec.name}: cannot {what}{self._wedged}")
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        try:
            return await asyncio.wait_for(future, deadline + grace)
        except asyncio.TimeoutError:
            self._wedged = f"; the driver has been stuck since {what} outlived its {deadline:g} s deadline"
            raise StepTimeout(f"{self.spec.name}: {what} gave no answer within {deadline:g} s (driver now stuck)") from None
        except TimeoutException:
            raise StepTimeout(f"{self.spec.name}: {what} gave no answer within {deadline:g} s") from None
        except (WebDriverException, Urllib3Error, OSError) as e:
            detail = e.msg if isinstance(e, WebDriverException) else str(e)
            detail = (detail or "").strip() or "no message (did the browser exit?)"
            where = self.build.endpoint or "WebKitWebDriver"
            if self.build.endpoint and isinstance(e, (InvalidSessionIdException, Urllib3Error, OSError)):
                # The remote session or endpoint is gone: not alive, so the pool starts a new session.
                self._wedged = f"; the session at {where} was lost during {what}: {type(e).__name__}"
            raise EngineError(f"{self.spec.name}: {what} failed in {where}: {type(e).__name__}: {detail}") from e


@dataclasses.dataclass
class _Processes:
    """What ``start()`` created: a private HOME, maybe an Xvfb, the WebKitWebDriver service."""

    home: str
    xvfb: Xvfb | None = None
    service: Service | None = None

    @property
    def log_path(self) -> str:
        return os.path.join(self.home, "webdriver.log")

    def log_tail(self, chars: int = 2000) -> str:
        """The end of WebKitWebDriver's (and MiniBrowser's) stderr, for launch failures."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def release(self) -> None:
        """Kill the driver's whole process group (MiniBrowser outlives a killed WebKitWebDriver), stop Xvfb, remove HOME."""
        process = self.service and self.service.process
        if process is not None:
            _kill_process_group(process.pid)
            process.poll()  # reap it
        if self.xvfb is not None:
            self.xvfb.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _kill_process_group(pgid: int, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL, every live process in ``pgid`` (driver, MiniBrowser, WebKit*Process)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _live_members(pgid):
            return
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + grace
        while _live_members(pgid) and time.monotonic() < end:
            time.sleep(0.05)


def _live_members(pgid: int) -> list[int]:
    """Pids in process group ``pgid`` that are not zombies (Linux /proc)."""
    return _live_processes(pgid=pgid)


def _live_processes(*, pgid: int | None = None, ppid: int | None = None) -> list[int]:
    """Pids of the processes in group ``pgid`` (or children of ``ppid``) that are not zombies (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, parent, group = fields[0], int(fields[1]), int(fields[2])  # fields: state, ppid, pgrp, ...
        if state != "Z" and (pgid is None or group == pgid) and (ppid is None or parent == ppid):
            pids.append(int(entry))
    return pids
