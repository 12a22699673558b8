"""The Playwright driver: Chromium (CDP), Firefox (Juggler or WebDriver BiDi), Playwright's WebKit.

One browser per engine per pytest session, and browser contexts kept for the tests, one per slot (the
session's browser, the private, headed or webgpu browser beside it, the persistent-window profile): each
``open()`` navigates its slot's kept page to the harness page (a new JavaScript realm, TF.js from
the HTTP cache) and empties the origin's storage with the storage APIs, then checks that nothing is
left (harness/js/reset_storage.js, as the WebDriver driver does); the page is refused otherwise. A
page whose test went wrong (a step timed out or failed in the driver, a trace was kept, its quota was
changed) closes its context instead of handing it back, and the next ``open()`` starts a new one; so
does a page with a quota (its own context: the CDP override belongs to the context) and a second page
while its slot's kept one is in use (what a reset costs against a new context: README, "Engines").
``open_persistent`` launches a separate browser on an on-disk profile (``launch_persistent_context``)
with the same options (restart-persistence: closing the page closes that browser); a persistent-window
page (``mode=persistent`` in its URL) is opened that way on a new profile, which is then kept as any
kept context is and deleted when its browser closes (with a quota: a profile of its own, the CDP
override on its page, or Firefox's fixedLimit among its prefs).

Quota (``Build.quota``): "cdp" overrides the page origin's quota on the page's own CDP session
before the page loads; "prefs" opens the page in a second browser launched with Firefox's fixed
temporary-storage limit (harness.engines.firefox; one browser per quota, kept for the session).

WebGL (``Build.webgl``): "headed" (Firefox: headless gives no WebGL context) opens every page whose
row runs a webgl backend in a headed browser of its own, launched at the first such page under an Xvfb
the driver starts, and kept for the session (with a quota: one headed browser per quota). WebGPU
(``Build.webgpu_args``): webgpu pages likewise get a browser launched with those arguments.

Downloads are captured as the build declares (``Build.downloads``): "event" keeps each page's
``download`` events; "directory" launches with ``downloads_path`` (a private directory, emptied
whenever a page opens, so a driver's pages must not download at the same time) and polls it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import tempfile
import time
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from harness import backends as tfjs_backends
from harness.engines import downloads, firefox
from harness.engines.base import (
    READY_JS,
    RESET_STORAGE_JS,
    DownloadsIncomplete,
    Driver,
    EngineError,
    EngineInfo,
    Page,
    QuotaApplied,
    StepTimeout,
    page_mode,
)
from harness.engines.xvfb import Xvfb
from harness.trip import timeouts

# A step's reply comes back as one JSON string, not as the object: Playwright serialises a returned object
# value by value (over WebDriver BiDi, Firefox's remote agent does it in JavaScript), and a reply of 200 small
# records cost Firefox 36.5 ms of CPU as an object, 1.5 ms as a string (Chromium: 21.5 and under 1). The
# numbers JSON has no word for (NaN, +-Infinity, -0) travel tagged, and come back as they left; undefined comes
# back as None, as Playwright gives it; a Date as its ISO string, as over WebDriver.
_RUN_STEP_JS = """async ([name, args]) => {
  let reply;
  try { reply = await window.harness.run(name, args); }
  catch (e) { reply = {status: "error", error: {name: (e && e.name) || "Error", message: String((e && e.message) || e)}}; }
  return JSON.stringify(reply, (key, value) => value === undefined ? null : typeof value !== "number" ? value
    : !Number.isFinite(value) ? {__harness_number__: String(value)} : Object.is(value, -0) ? {__harness_number__: "-0"} : value);
}"""


_TAGGED = ("NaN", "Infinity", "-Infinity", "-0")


def _number(record: dict) -> Any:
    """A tagged number of a step's JSON reply (_RUN_STEP_JS) as the float it was; any other object as it is."""
    tag = record.get("__harness_number__") if len(record) == 1 else None
    return float(tag) if tag in _TAGGED else record


# Until the page's scripts have defined window.harness (a page whose scripts failed never does: the wait runs
# out, naming the console), then its TF.js and backend.
_WAIT_READY_JS = (f"async () => {{ while (!({READY_JS})) await new Promise(r => setTimeout(r, 20)); "
                  f"await ({READY_JS}); return true; }}")
GRACE_S = 5.0  # the outer asyncio deadline beyond Playwright's own timeouts


class PlaywrightPage(Page):
    def __init__(self, driver: "PlaywrightDriver", context, page, *, downloads_dir: str | None = None,
                 owns_browser: bool = False, owns_context: bool = True, kept: tuple | None = None):
        self._driver = driver
        self.engine, self.build = driver.spec, driver.build
        self._owns_context = owns_context  # a sibling (open_sibling) closes only its page
        self.kept = kept  # the driver's slot this page's context is kept in: close() hands it back for the next test
        self.dirty = False  # something the next test must not inherit happened: close() closes the context
        self.tracing = driver.tracing  # a trace (chunk) of this page is being recorded (--tracing)
        self.closed = False
        self.context = context
        self.page = page
        self.downloads_dir = downloads_dir  # "directory" capture: this page's downloads land here
        self._owns_downloads_dir = owns_browser
        self.profile_dir: str | None = None  # a persistent-window page's own on-disk profile: deleted on close
        self.console: list[str] = []
        self.download_events: list = []  # "event" capture: Playwright Download objects, in order
        self._listeners = [
            ("console", lambda m: self.console.append(f"[{m.type}] {m.text}")),
            ("pageerror", lambda e: self.console.append(f"[pageerror] {e}")),
            ("download", lambda d: self.download_events.append(d)),
        ]
        for event, listener in self._listeners:
            page.on(event, listener)

    def _check_open(self) -> None:
        if self.closed:  # its page may be serving the next test already
            raise EngineError(f"{self._who}: this page was closed or replaced by a later open()")

    def _forget_listeners(self) -> None:
        for event, listener in self._listeners:
            self.page.remove_listener(event, listener)

    @property
    def _who(self) -> str:
        return self._driver.spec.name

    async def run_step(self, name: str, args: Mapping[str, Any], timeout: float) -> dict:
        self._check_open()
        reply = await self._bounded(f"step {name!r}", timeout, self.page.evaluate(_RUN_STEP_JS, [name, dict(args)]))
        return json.loads(reply, object_hook=_number)

    async def evaluate(self, body: str, timeout: float) -> Any:
        """Run ``body`` as the body of an async function in the page; its JSON result (for tests)."""
        self._check_open()
        return await self._bounded("evaluate", timeout, self.page.evaluate(f"async () => {{ {body} }}"))

    async def downloads(self, count: int, timeout: float) -> dict[str, bytes]:
        self._check_open()
        method = self._driver.build.downloads
        if method == "directory":
            return await downloads.wait_for_files(self.downloads_dir, count, timeout, who=self._who)
        if not method:
            raise NotImplementedError(f"{self._who}: cannot capture downloads: {self._driver.build.no_downloads}")
        if method != "event":
            raise NotImplementedError(f"{self._who}: unknown download capture {method!r}")
        deadline = time.monotonic() + timeout
        while len(self.download_events) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        events = list(self.download_events)
        files: dict[str, bytes] = {}
        for download in events:
            left = max(deadline - time.monotonic(), 0.1)
            try:
                data = await asyncio.wait_for(self._download_bytes(download), left)
            except asyncio.TimeoutError:
                raise DownloadsIncomplete(f"{self._who}: download {download.suggested_filename!r} did not finish "
                                          f"within {timeout:g} s; complete: {sorted(files) or 'none'}", files,
                                          [download.suggested_filename]) from None
            except PlaywrightError as e:
                raise EngineError(f"{self._who}: download {download.suggested_filename!r} failed: {e.message}") from e
            name = _unique(download.suggested_filename, files)
            files[name] = data
        if len(files) < count:
            raise DownloadsIncomplete(f"{self._who}: {len(files)} of {count} expected downloads arrived within "
                                      f"{timeout:g} s: {', '.join(f'{n} ({len(b)} bytes)' for n, b in files.items()) or 'none'}",
                                      files)
        return files

    async def _download_bytes(self, download) -> bytes:
        """The finished download's content: from Playwright's own file, or, from a remote server (whose
        files are on its machine), a copy streamed over the connection (Download.save_as)."""
        if not self._driver.build.endpoint:
            return await asyncio.to_thread(_read, await download.path())
        with tempfile.TemporaryDirectory(prefix="tfjs-remote-download-") as tmp:
            copy = os.path.join(tmp, "file")
            await download.save_as(copy)
            return await asyncio.to_thread(_read, copy)

    async def set_input_files(self, selector: str, paths: list[str], timeout: float) -> None:
        self._check_open()
        paths = [os.path.abspath(p) for p in paths]
        await self._bounded(f"set_input_files {selector}", timeout,
                            self.page.set_input_files(selector, paths, timeout=timeout * 1000))

    async def reload(self, timeout: float) -> None:
        self._check_open()
        started = time.monotonic()
        await self._bounded("reload", timeout, self.page.reload(timeout=timeout * 1000))
        left = max(timeout - (time.monotonic() - started), 0.1)
        await self._bounded("waiting for harness.ready after reload", left, self.page.evaluate(_WAIT_READY_JS))

    async def save_trace(self, path: str) -> bool:
        """This page's trace (since it opened: the kept context records one chunk per page)."""
        if not self._owns_context or not self.tracing:
            return False  # the sibling's context belongs to the page that opened it
        self.tracing, self.dirty = False, True  # a failed test's context is not handed on
        try:
            await asyncio.wait_for(self.context.tracing.stop_chunk(path=path), 60)
            return True
        except (PlaywrightError, asyncio.TimeoutError):
            return False

    async def forget_downloads(self) -> None:
        """Delete the downloads reported so far (their files too), or empty the download directory."""
        for download in list(self.download_events):
            try:
                await asyncio.wait_for(download.delete(), 10)
            except (PlaywrightError, asyncio.TimeoutError):
                pass
        self.download_events.clear()
        if self.downloads_dir and os.path.isdir(self.downloads_dir):
            await asyncio.to_thread(downloads.empty_directory, self.downloads_dir)

    async def set_quota(self, quota: int, timeout: float) -> QuotaApplied:
        if self._driver.build.quota != "cdp":
            return await super().set_quota(quota, timeout)
        self.dirty = True  # the override stays with the context's origin
        self.quota = await self._driver._limit_quota(self, self.page.url, quota, timeout)
        return self.quota

    async def _bounded(self, what: str, timeout: float, awaitable) -> Any:
        try:
            return await asyncio.wait_for(awaitable, timeout + GRACE_S)
        except asyncio.TimeoutError:
            self.dirty = True
            raise StepTimeout(f"{self._who}: {what} gave no answer within {timeout:g} s") from None
        except PlaywrightError as e:
            self.dirty = True
            if "Timeout" in type(e).__name__:
                raise StepTimeout(f"{self._who}: {what} gave no answer within {timeout:g} s: {e.message}") from e
            raise EngineError(f"{self._who}: {what} failed in the driver: {e.message}") from e

    async def close(self) -> None:
        self.closed = True
        if self.kept is not None:
            slot, self.kept = self.kept, None
            if await self._driver._hand_back(self, slot):
                return
        try:
            await asyncio.wait_for(self.context.close() if self._owns_context else self.page.close(), 30)
        except (PlaywrightError, asyncio.TimeoutError):
            pass  # the browser is already gone (or stuck); the driver reports that
        finally:
            if self._owns_downloads_dir and self.downloads_dir:
                shutil.rmtree(self.downloads_dir, ignore_errors=True)
            if self.profile_dir:
                shutil.rmtree(self.profile_dir, ignore_errors=True)


@dataclasses.dataclass
class _Kept:
    """A context kept between tests (its page, and what a persistent-window browser owns on disk)."""

    context: Any
    page: Any
    profile_dir: str | None = None
    downloads_dir: str | None = None
    owns_downloads_dir: bool = False

    async def discard(self) -> None:
        await _close_quietly(self.context)
        for path in (self.profile_dir, self.owns_downloads_dir and self.downloads_dir):
            if path:
                shutil.rmtree(path, ignore_errors=True)


async def _close_quietly(context) -> None:
    try:
        await asyncio.wait_for(context.close(), 30)
    except (PlaywrightError, asyncio.TimeoutError):
        pass  # the browser is already gone (or stuck); the driver reports that


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _unique(name: str, taken: Mapping[str, bytes]) -> str:
    """``name``, or ``stem (n).ext`` as Chromium names a repeated download on disk."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, dot + ext) if stem else (name, "")
    n = 1
    while f"{stem} ({n}){ext}" in taken:
        n += 1
    return f"{stem} ({n}){ext}"


class PlaywrightDriver(Driver):
    launch_timeout: float = 60.0  # connecting to a remote server (which launches the browser)

    def _launch_options(self, *, headed: bool | None = None) -> dict[str, Any]:
        build = self.build
        headed = self.headed if headed is None else headed
        options: dict[str, Any] = {"headless": not headed, "args": list(build.args)}
        if build.executable:
            options["executable_path"] = build.executable
        if build.channel:
            options["channel"] = build.channel
        if build.prefs:
            options["firefox_user_prefs"] = dict(build.prefs)
        if self._xvfb:
            options["env"] = {**os.environ, "DISPLAY": self._xvfb.display}
        return options

    async def start(self) -> EngineInfo:
        build = self.build
        self._downloads_dir = None
        self._xvfb = None
        # Browsers beside the session's own, by (Firefox fixedLimit KiB or None, headed, extra arguments): a
        # quota's, a webgl page's (Firefox), a webgpu page's (Chromium).
        self._browsers: dict[tuple, Any] = {}
        self._kept: dict[tuple, _Kept] = {}  # contexts kept between tests, by slot (see the module docstring)
        self.reset_failures: list[str] = []  # why a kept context was given up (a new one was opened instead)
        self._pw = await async_playwright().start()
        browser_type = self._browser_type = getattr(self._pw, build.browser_type)
        if self.headed and not os.environ.get("DISPLAY") and not build.endpoint:  # headed windows need a screen: a virtual one
            self._xvfb = await asyncio.to_thread(Xvfb().start)
        try:
            if build.endpoint:
                self._browser = await self._connect(build.launch_options, timeouts.scaled(self.launch_timeout))
            else:
                options = self._launch_options()
                if build.downloads == "directory":
                    self._downloads_dir = options["downloads_path"] = tempfile.mkdtemp(prefix=f"tfjs-{self.spec.name}-downloads-")
                self._browser = await browser_type.launch(**options)
        except (PlaywrightError, EngineError) as e:
            await self._cleanup()
            if isinstance(e, EngineError):
                raise
            raise EngineError(f"{self.spec.name}: could not launch {build.kind} build: {e.message}") from e
        self.info = EngineInfo(
            engine=self.spec.name,
            version=self._browser.version,
            driver="playwright",
            build=build.kind,
            executable=build.executable or (None if build.endpoint else browser_type.executable_path),
            endpoint=build.endpoint,
        )
        return self.info

    async def _connect(self, launch_options, timeout: float):
        """A browser from the Playwright server at the build's endpoint, launched with `launch_options`
        (Playwright's launch options, camelCase; executablePath and args need `run-server --unsafe`)."""
        headers = {"x-playwright-launch-options": json.dumps(dict(launch_options))} if launch_options else None
        try:
            return await asyncio.wait_for(
                self._browser_type.connect(self.build.endpoint, headers=headers, timeout=timeout * 1000), timeout + GRACE_S)
        except (PlaywrightError, asyncio.TimeoutError) as e:
            detail = e.message if isinstance(e, PlaywrightError) else f"no answer within {timeout:g} s"
            raise EngineError(f"{self.spec.name}: could not connect to the Playwright server at {self.build.endpoint}: "
                              f"{detail}") from e

    @property
    def alive(self) -> bool:
        return self._browser.is_connected()

    def _launch_for(self, url: str, backends: tuple[str, ...] = ()) -> tuple[bool, tuple[str, ...], str]:
        """What a browser for a page at `url` (and its siblings on `backends`) must be launched with beyond
        the session's own: (headed, extra arguments, storage mode). Headed: the build gives WebGL only headed
        (Build.webgl == "headed") and the row runs a webgl backend; arguments: a webgpu row's
        (Build.webgpu_args); mode (harness.contexts.Context.mode): "private" for a private-window page
        (Build.private_prefs), "persistent" for a persistent-window page (an on-disk profile), else "ephemeral"."""
        query = parse_qs(urlsplit(url).query)
        names = [*(query.get("backend") or [tfjs_backends.DEFAULT]), *backends]
        bases = {tfjs_backends.BACKENDS[n].base for n in names if n in tfjs_backends.BACKENDS}
        headed = not self.headed and self.build.webgl == "headed" and "webgl" in bases
        mode = page_mode(url)
        if mode == "private" and not self.build.private_prefs:  # the row should have skipped (Build.lacks_context)
            raise EngineError(f"{self.spec.name}: cannot open a private browsing window: {self.build.no_private}")
        if mode == "persistent" and self.build.lacks("persistent-profile"):  # the same
            raise EngineError(f"{self.spec.name}: cannot open an on-disk profile: {self.build.lacks('persistent-profile')}")
        return headed, (self.build.webgpu_args if "webgpu" in bases else ()), mode

    async def open(self, url: str, *, timeout: float, quota: int | None = None, backends: tuple[str, ...] = ()) -> Page:
        if not self.alive:
            raise EngineError(f"{self.spec.name}: the browser is no longer running")
        if self._downloads_dir:
            await asyncio.to_thread(downloads.empty_directory, self._downloads_dir)
        headed, extra_args, mode = self._launch_for(url, backends)
        kib = self._fixed_limit_kib(quota)
        # The slot a page may be kept in between tests: its browser's (the session's, a private, headed or
        # webgpu one) or, for a persistent-window page, the on-disk profile's. A quota page is not kept (the
        # CDP override belongs to its context; a Firefox quota is a browser of its own, rarely reused).
        slot = None if quota is not None else (mode == "persistent", headed, extra_args, mode == "private")
        kept = self._kept.pop(slot, None) if slot is not None else None
        if kept is not None:
            try:
                if self.tracing:
                    await asyncio.wait_for(kept.context.tracing.start_chunk(), timeout)
            except (asyncio.TimeoutError, PlaywrightError) as e:
                self.reset_failures.append(f"tracing.start_chunk: {e!r}")
                await kept.discard()
            else:
                if kept.owns_downloads_dir and kept.downloads_dir:  # the session's own is emptied above
                    await asyncio.to_thread(downloads.empty_directory, kept.downloads_dir)
                harness_page = PlaywrightPage(self, kept.context, kept.page, downloads_dir=kept.downloads_dir,
                                              owns_browser=kept.owns_downloads_dir, kept=slot)
                harness_page.profile_dir = kept.profile_dir
                try:
                    await self._load(harness_page, url, timeout, reset=True)
                    return harness_page
                except EngineError as e:  # the context is closed: a new one below
                    self.reset_failures.append(str(e))
        if mode == "persistent":
            return await self._open_on_new_profile(url, timeout, quota, headed, extra_args, slot)
        browser = self._browser
        if kib is not None or headed or extra_args or mode == "private":
            browser = await self._other_browser(kib, headed, extra_args, timeout, private=mode == "private")
        try:
            context = await asyncio.wait_for(browser.new_context(ignore_https_errors=True, accept_downloads=True), timeout)
            # Kept only when the test fails (Page.save_trace): actions, console and network. No DOM snapshots
            # (the page has no UI worth seeing; they cost ~15% of a Firefox run: 104.7 s -> 88.5 s on 52 rows).
            if self.tracing:
                await asyncio.wait_for(context.tracing.start(snapshots=False, screenshots=False, sources=False), timeout)
            page = await asyncio.wait_for(context.new_page(), timeout)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            raise EngineError(f"{self.spec.name}: could not open a new context: {e!r}") from e
        harness_page = PlaywrightPage(self, context, page, downloads_dir=self._downloads_dir, kept=slot)
        if quota is not None:
            harness_page.quota = await self._limit_quota(harness_page, url, quota, timeout)
        await self._load(harness_page, url, timeout)
        return harness_page

    async def _hand_back(self, harness_page: PlaywrightPage, slot: tuple) -> bool:
        """A kept page's test is over: keep its context in `slot` for the next test if nothing went wrong
        (the trace chunk dropped, the page's downloads deleted, other pages and cookies gone, no page kept
        there already). False: the caller closes it."""
        harness_page._forget_listeners()
        context, page = harness_page.context, harness_page.page
        clean = not harness_page.dirty and self.alive and not page.is_closed() and slot not in self._kept
        if clean:
            try:
                await asyncio.wait_for(self._tidy(harness_page), 30)
            except (PlaywrightError, asyncio.TimeoutError) as e:
                self.reset_failures.append(f"tidying the kept context: {e!r}")
                clean = False
        if clean:
            self._kept[slot] = _Kept(context, page, harness_page.profile_dir, harness_page.downloads_dir,
                                     harness_page._owns_downloads_dir)
        return clean

    @staticmethod
    async def _tidy(harness_page: PlaywrightPage) -> None:
        if harness_page.tracing:
            harness_page.tracing = False
            await harness_page.context.tracing.stop_chunk()
        for other in harness_page.context.pages:
            if other is not harness_page.page:
                await other.close()
        for download in harness_page.download_events:
            await download.delete()
        await harness_page.context.clear_cookies()

    def _fixed_limit_kib(self, quota: int | None) -> int | None:
        """Firefox's fixedLimit pref for `quota` where the build limits quota by prefs (Build.quota), else None."""
        return firefox.fixed_limit_kib(quota) if quota is not None and self.build.quota == "prefs" else None

    async def _limit_quota(self, harness_page: PlaywrightPage, url: str, quota: int, timeout: float) -> QuotaApplied:
        how = self.build.quota
        if how == "prefs":
            kib = firefox.fixed_limit_kib(quota)
            # localStorage counts toward the same group limit: with fixedLimit 1953 KiB, localStorage took
            # 1,999,872 characters, exactly the group limit.
            return QuotaApplied(quota, firefox.group_limit(kib), f"dom.quotaManager.temporaryStorage.fixedLimit={kib} (KiB)",
                                localstorage=True)
        if how == "cdp":
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
            try:
                cdp = await asyncio.wait_for(harness_page.context.new_cdp_session(harness_page.page), timeout)
                await asyncio.wait_for(cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": quota}),
                                       timeout)
            except (asyncio.TimeoutError, PlaywrightError) as e:
                await harness_page.close()
                raise EngineError(f"{self.spec.name}: Storage.overrideQuotaForOrigin({origin}) failed: {e!r}") from e
            return QuotaApplied(quota, quota, f"CDP Storage.overrideQuotaForOrigin({origin}, {quota})")
        return QuotaApplied(quota, None, self.build.no_quota or f"{self.spec.name}: no quota emulation")

    async def _ensure_display(self) -> None:
        """A screen for a headed browser: the session's DISPLAY, else an Xvfb of the driver's own."""
        if not self._xvfb and not os.environ.get("DISPLAY"):
            self._xvfb = await asyncio.to_thread(Xvfb().start)

    async def _other_browser(self, kib: int | None, headed: bool, extra_args: tuple[str, ...], timeout: float, *,
                             private: bool = False):
        """A browser beside the session's: launched with Firefox's fixedLimit of `kib` KiB (a quota),
        headed (a webgl page on a build that gives WebGL only headed), with `extra_args` (a webgpu page's),
        in private browsing mode (Build.private_prefs), or any of these together; kept for the session."""
        key = (kib, headed, extra_args, private)
        browser = self._browsers.get(key)
        if browser is not None and browser.is_connected():
            return browser
        prefs = {firefox.FIXED_LIMIT: kib} if kib is not None else {}
        if private:
            prefs.update(self.build.private_prefs)
        what = " and ".join(filter(None, (kib is not None and f"a {kib} KiB storage limit", headed and "headed",
                                          extra_args and " ".join(extra_args), private and "private browsing")))
        if self.build.endpoint:  # the server launches it: the pref and headless travel in the launch options
            options = dict(self.build.launch_options)
            if prefs:
                options["firefoxUserPrefs"] = {**options.get("firefoxUserPrefs", {}), **prefs}
            if headed:
                options["headless"] = False
            if extra_args:
                options["args"] = [*options.get("args", []), *extra_args]
            browser = await self._connect(options, timeout)
            self._browsers[key] = browser
            return browser
        if headed:
            await self._ensure_display()
        options = self._launch_options(headed=headed or None)
        if prefs:
            options["firefox_user_prefs"] = {**options.get("firefox_user_prefs", {}), **prefs}
        options["args"] = [*options["args"], *extra_args]
        if self._downloads_dir:
            options["downloads_path"] = self._downloads_dir
        try:
            browser = await asyncio.wait_for(self._browser_type.launch(**options), timeout + GRACE_S)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            raise EngineError(f"{self.spec.name}: could not launch with {what}: {e!r}") from e
        self._browsers[key] = browser
        return browser

    async def open_sibling(self, page: Page, url: str, *, timeout: float) -> Page:
        """A new page in `page`'s browser context: same origin storage, same downloads."""
        try:
            new = await asyncio.wait_for(page.context.new_page(), timeout)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            raise EngineError(f"{self.spec.name}: could not open a page in the same context: {e!r}") from e
        sibling = PlaywrightPage(self, page.context, new, downloads_dir=page.downloads_dir, owns_context=False)
        await self._load(sibling, url, timeout)
        return sibling

    async def open_persistent(self, url: str, profile_dir: str, *, timeout: float) -> Page:
        """A second browser process on ``profile_dir``; closing the page closes that browser."""
        if self.build.lacks("persistent-profile"):  # declared (a remote server): asking anyway is a harness error
            raise NotImplementedError(f"{self.spec.name}: {self.build.lacks('persistent-profile')}")
        headed, extra_args, _ = self._launch_for(url)
        harness_page = await self._launch_on_profile(profile_dir, timeout, headed, extra_args)
        await self._load(harness_page, url, timeout)
        return harness_page

    async def _open_on_new_profile(self, url: str, timeout: float, quota: int | None, headed: bool,
                                   extra_args: tuple[str, ...], slot: tuple | None) -> Page:
        """A persistent-window page: a browser of its own on a new on-disk profile (with Firefox's fixedLimit
        pref for a quota), kept in `slot` for the next persistent-window page (its storage emptied and checked
        as a kept context's), else the profile deleted when the page closes."""
        profile_dir = tempfile.mkdtemp(prefix=f"tfjs-{self.spec.name}-profile-")
        kib = self._fixed_limit_kib(quota)
        try:
            harness_page = await self._launch_on_profile(profile_dir, timeout, headed, extra_args,
                                                         prefs={firefox.FIXED_LIMIT: kib} if kib is not None else {})
        except EngineError:
            shutil.rmtree(profile_dir, ignore_errors=True)
            raise
        harness_page.profile_dir, harness_page.kept = profile_dir, slot
        if quota is not None:
            harness_page.quota = await self._limit_quota(harness_page, url, quota, timeout)
        await self._load(harness_page, url, timeout)
        return harness_page

    async def _launch_on_profile(self, profile_dir: str, timeout: float, headed: bool, extra_args: tuple[str, ...],
                                 prefs: dict | None = None) -> "PlaywrightPage":
        """A browser launched on the on-disk profile `profile_dir`, and its first page (not navigated yet)."""
        if headed:
            await self._ensure_display()
        options = self._launch_options(headed=headed or None)
        options["args"] = [*options["args"], *extra_args]
        if prefs:
            options["firefox_user_prefs"] = {**options.get("firefox_user_prefs", {}), **prefs}
        downloads_dir = None
        if self.build.downloads == "directory":
            downloads_dir = options["downloads_path"] = tempfile.mkdtemp(prefix=f"tfjs-{self.spec.name}-downloads-")
        os.makedirs(profile_dir, exist_ok=True)
        try:
            context = await asyncio.wait_for(
                self._browser_type.launch_persistent_context(
                    profile_dir, ignore_https_errors=True, accept_downloads=True, timeout=timeout * 1000, **options),
                timeout + GRACE_S)
            page = context.pages[0] if context.pages else await asyncio.wait_for(context.new_page(), timeout)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            if downloads_dir:
                shutil.rmtree(downloads_dir, ignore_errors=True)
            raise EngineError(f"{self.spec.name}: could not launch on the profile {profile_dir}: {e!r}") from e
        return PlaywrightPage(self, context, page, downloads_dir=downloads_dir, owns_browser=True)

    async def _load(self, harness_page: PlaywrightPage, url: str, timeout: float, *, reset: bool = False) -> None:
        """Navigate to the harness page and wait until it is ready; `reset`: then empty the origin's
        storage and refuse the page unless nothing is left (a kept context's page)."""
        if self.build.upload != "fetch":  # how the page sends artifacts back (Build.upload)
            url = f"{url}{'&' if '?' in url else '?'}upload={self.build.upload}"
        try:
            await harness_page.page.goto(url, timeout=timeout * 1000)
            if reset:
                state = await asyncio.wait_for(harness_page.page.evaluate(RESET_STORAGE_JS), timeout)
                problem = state.get("notReady") or ("; ".join(state["left"]) and
                                                    f"storage is not empty after clearing: {'; '.join(state['left'])}")
                if problem:
                    raise EngineError(problem)
            else:
                await asyncio.wait_for(harness_page.page.evaluate(_WAIT_READY_JS), timeout)
        except (asyncio.TimeoutError, PlaywrightError, EngineError) as e:
            harness_page.dirty = True
            await harness_page.close()
            log = "\n".join(harness_page.console[-20:])
            raise EngineError(f"{self.spec.name}: the harness page at {url} did not become ready: {e!r}\n{log}") from e

    async def stop(self) -> None:
        try:
            for kept in self._kept.values():
                await kept.discard()
            self._kept.clear()
            for browser in [*self._browsers.values(), self._browser]:
                try:
                    await asyncio.wait_for(browser.close(), 30)
                except (PlaywrightError, asyncio.TimeoutError):
                    pass
        finally:
            await self._cleanup()

    async def _cleanup(self) -> None:
        try:
            await asyncio.wait_for(self._pw.stop(), 30)
        finally:
            if self._xvfb:
                self._xvfb.stop()
            if self._downloads_dir:
                shutil.rmtree(self._downloads_dir, ignore_errors=True)
