"""The one engine interface the scenarios use, whatever drives the browser.

An *engine* (chromium, firefox, webkit) is declared as data in its own module: an
``EngineSpec`` listing the builds it can run as (Playwright's own build, the
system's) and which driver runs each build. A *driver* owns one running browser
for a pytest session (start/stop) and opens *pages*: the harness page with fresh,
isolated storage, on which named JavaScript steps run with JSON arguments.

    driver = make_driver(found)          # harness.engines.discovery
    info = await driver.start()          # EngineInfo: name, exact version, driver, build
    page = await driver.open(url)        # fresh storage, harness page loaded and ready
    reply = await page.run_step("save", {...}, timeout=60)  # steps: harness/js/steps.js
    await page.close(); await driver.stop()
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Mapping

from harness.paths import JS_DIR


@dataclasses.dataclass(frozen=True)
class Build:
    """One way to run an engine: which binary, which driver, which launch options."""

    kind: str  # "playwright" (Playwright's own build), "system" (the OS package), "remote" (an endpoint)
    driver: str  # "playwright" or "webdriver"
    browser_type: str  # Playwright's browser type ("chromium", "firefox", "webkit")
    executable: str | None = None  # None: Playwright's own build
    channel: str | None = None  # Playwright channel, e.g. "moz-firefox" (Firefox over BiDi)
    args: tuple[str, ...] = ()
    prefs: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # Firefox prefs
    needs_display: bool = False  # runs under an Xvfb the harness starts
    apt_packages: tuple[str, ...] = ()  # Debian packages that provide it
    version_command: tuple[str, ...] = ()  # prints the version without a browser; default: EXECUTABLE --version
    # How the driver sees files the page downloads (Page.downloads): "event" (the driver reports each
    # download, e.g. Playwright's page.on("download")) or "directory" (the browser writes them into a
    # directory the driver chooses and polls; see harness.engines.downloads).
    # "" : the driver cannot see them (the reason in no_downloads; downloads:// rows skip).
    downloads: str = "event"
    no_downloads: str = ""
    # How pages send artifacts back (harness/js/page.js): "fetch" (a POST per artifact) or "websocket"
    # (one socket per page: for a driver whose protocol observes every HTTP body, Firefox over BiDi).
    upload: str = "fetch"
    # How the driver limits the quota of the page's origin (IndexedDB and the rest of the quota-managed
    # storage; localStorage has a fixed limit everywhere, see harness.quota): "cdp" (Chromium's
    # Storage.overrideQuotaForOrigin on the page's CDP session), "prefs" (a browser launched with
    # Firefox's dom.quotaManager.temporaryStorage.fixedLimit), or "" with the reason in no_quota.
    quota: str = ""
    no_quota: str = ""
    notes: str = ""  # quirks and their upstream links
    # Remote builds (harness.engines.remote): the endpoint the driver talks to instead of launching a
    # browser, and what it asks of it (Playwright server launch options / WebDriver capabilities).
    endpoint: str | None = None
    launch_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    capabilities: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # The module that launches a local WebDriver build (harness.engines.webdriver.LAUNCHERS), e.g. "webkitgtk".
    launcher: str = ""
    # Why Driver.open_persistent cannot keep a profile on this build (measured), "" when it can.
    no_persistent_profile: str = ""
    # How a choice of files in <input type=file> combines with an earlier one: "replace" (as a user's new
    # choice, and Playwright's set_input_files) or "append" (WebDriver's send_keys adds to the selection).
    file_choice: str = "replace"
    # TF.js backends beyond cpu (harness.backends), measured per build. webgl: "context" (every page of the
    # browser gets a WebGL context), "headed" (only a headed browser does: the driver runs webgl pages in a
    # headed browser of its own, under an Xvfb it starts), or "" with the reason in no_webgl. wasm and webgpu
    # run wherever their reason (no_wasm, no_webgpu) is "".
    webgl: str = "context"
    no_webgl: str = ""
    no_worker_webgl: str = ""  # why a worker of this build gets no WebGL (OffscreenCanvas), measured; "": it does
    no_wasm: str = ""
    no_webgpu: str = ""
    # Launch arguments a browser needs for webgpu pages (Chromium: --enable-unsafe-webgpu); the driver runs
    # those pages in a browser launched with them, so that the other rows run on the build as it is.
    webgpu_args: tuple[str, ...] = ()
    # Execution contexts (harness.contexts) this build cannot open, with the measured reason: its rows skip.
    no_contexts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # A private browsing window (the private-window context): the prefs of a browser of its own, launched with
    # them (Firefox: browser.privatebrowsing.autostart), or none, and why not in no_private.
    private_prefs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    no_private: str = "no way to open a private browsing window on this build is known to the harness"

    def lacks_context(self, context: str, bases: tuple[str, ...] = ()) -> str:
        """The declared, measured reason this build cannot open `context` for a row on the backends of
        `bases` (harness.backends' base names), "" if it can."""
        from harness import contexts

        mode = contexts.get(context).mode if context in contexts.CONTEXTS else ""
        if mode == "private" and not self.private_prefs:
            return self.no_private
        if mode == "persistent" and self.no_persistent_profile:
            return self.no_persistent_profile
        if context in contexts.WORKERS and "webgl" in bases and self.no_worker_webgl:
            return self.no_worker_webgl
        return self.no_contexts.get(context, "")

    def lacks(self, feature: str) -> str:
        """The declared, measured reason this build cannot do `feature` (one of FEATURES), "" if it can.
        A scheme that needs a feature a build lacks skips with this reason; any other inability of a
        driver is a harness error, never a skip."""
        if feature == "downloads":
            return "" if self.downloads else (self.no_downloads or "the driver cannot capture downloads")
        if feature == "persistent-profile":
            return self.no_persistent_profile
        if feature == "quota":
            return "" if self.quota else (self.no_quota or "no quota emulation")
        if feature == "cpu":
            return ""
        if feature == "webgl":
            return "" if self.webgl else (self.no_webgl or "no WebGL")
        if feature == "wasm":
            return self.no_wasm
        if feature == "webgpu":
            return self.no_webgpu
        raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")


FEATURES = ("downloads", "persistent-profile", "quota", "cpu", "webgl", "wasm", "webgpu")  # the last four: backends


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    name: str
    builds: Mapping[str, Build]  # by kind, in default preference order
    run_info_extras: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Where the steps run: "browser" (a harness page: storage schemes, downloads, <input type=file>) or
    # "node" (harness/js/node_host.js: file://, http; no page). Schemes use it to know where they can run.
    host: str = "browser"


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    """What a report says about the engine a row ran on."""

    engine: str
    version: str
    driver: str
    build: str
    executable: str | None = None
    endpoint: str | None = None  # a remote build's URL

    def as_row(self) -> dict:
        row = {"engine": self.engine, "version": self.version, "driver": self.driver, "build": self.build}
        if self.endpoint:
            row["endpoint"] = self.endpoint
        return row


def page_mode(url: str) -> str:
    """The storage mode a harness page's URL asks its driver for (harness.contexts.Context.mode)."""
    from urllib.parse import parse_qs, urlsplit

    return (parse_qs(urlsplit(url).query).get("mode") or ["ephemeral"])[0]


class EngineError(Exception):
    """The engine or its driver failed (crash, launch failure); not a TF.js finding."""


class StepTimeout(EngineError):
    """A page step did not answer within its deadline."""


class DownloadsIncomplete(StepTimeout):
    """Fewer downloads than expected completed in time: `arrived` (name -> bytes) and `unfinished`
    (names seen but not complete) say which, as data."""

    def __init__(self, message: str, arrived: dict[str, bytes], unfinished: list[str] | None = None):
        super().__init__(message)
        self.arrived = arrived
        self.unfinished = list(unfinished or [])


@dataclasses.dataclass(frozen=True)
class QuotaApplied:
    """What the driver did to limit the page's storage quota: `requested` bytes, `effective` bytes
    (the engine's unit may round), `how` (the mechanism), or `effective` None and the reason in `how`.
    `localstorage`: the same limit also holds localStorage (Firefox: it counts toward the quota)."""

    requested: int
    effective: int | None
    how: str
    localstorage: bool = False

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def _clocked(cls: type, kinds: Mapping[str, str]) -> None:
    """Time a driver's or page's own methods on the row's clock (harness.trip.clock), by kind."""
    for name, kind in kinds.items():
        if name in cls.__dict__:
            setattr(cls, name, _timed(cls.__dict__[name], kind))


def _timed(method, kind: str):
    import functools

    from harness.trip import clock

    @functools.wraps(method)
    async def timed(*args, **kwargs):
        with clock.timed(kind):
            return await method(*args, **kwargs)
    return timed


class Page(abc.ABC):
    """The harness page open in one fresh, isolated storage context."""

    def __init_subclass__(cls, **kwargs):  # the engine's time, apart from the harness's (harness.trip.clock)
        super().__init_subclass__(**kwargs)
        _clocked(cls, {"close": "open", "downloads": "wait", "reload": "wait", "set_input_files": "wait"})

    quota: QuotaApplied | None = None  # set by Driver.open when a quota was asked for
    engine: EngineSpec | None = None  # the engine this page runs on (set by its driver)
    build: Build | None = None  # the build of that engine
    backend_failed: str | None = None  # TF.js's backend did not start in the row's context: why (its info step)

    def lacks(self, feature: str) -> str:
        """Build.lacks for this page's build."""
        return self.build.lacks(feature) if self.build is not None else f"{type(self).__name__} declares no build"

    @abc.abstractmethod
    async def run_step(self, name: str, args: Mapping[str, Any], timeout: float) -> dict:
        """Run ``harness.run(name, args)`` in the page and return its JSON reply.

        The reply is ``{"status": "ok"|"error", "error": {"name", "message"}, "result": ...}``.
        Raises StepTimeout after ``timeout`` seconds, EngineError if the browser is gone.
        """

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- what a user does outside the page, done by the driver (never by a hook inside the page) --

    async def downloads(self, count: int, timeout: float) -> dict[str, bytes]:
        """The files the browser downloaded since this page opened, by file name, once `count` are complete.

        Raises DownloadsIncomplete (with the files that did arrive) if fewer than `count` complete within
        `timeout`.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot capture downloads")

    async def set_input_files(self, selector: str, paths: list[str], timeout: float) -> None:
        """Choose `paths` in the page's <input type=file> at `selector`, as a user would."""
        raise NotImplementedError(f"{type(self).__name__} cannot choose files")

    async def reload(self, timeout: float) -> None:
        """Reload the page (storage kept) and wait until `window.harness.ready` resolves again."""
        raise NotImplementedError(f"{type(self).__name__} cannot reload")

    async def save_trace(self, path: str) -> bool:
        """Write the driver's trace of this page (Playwright: actions, console, network) to `path`;
        False when the driver keeps none."""
        return False

    async def forget_downloads(self) -> None:  # noqa: B027 (a default: drivers without downloads do nothing)
        """Drop what this page downloaded so far (the benchmark downloads many times in one page)."""

    async def set_quota(self, quota: int, timeout: float) -> QuotaApplied:
        """Change the quota of this open page's origin now (the medium filling up while the page runs)."""
        raise NotImplementedError(f"{type(self).__name__} cannot change the quota of an open page")


class Driver(abc.ABC):
    """One running browser of one engine build, for a whole pytest session."""

    def __init_subclass__(cls, **kwargs):  # the engine's time, apart from the harness's (harness.trip.clock)
        super().__init_subclass__(**kwargs)
        _clocked(cls, {"open": "open", "open_sibling": "open", "open_persistent": "open"})

    def __init__(self, spec: EngineSpec, build: Build, *, headed: bool = False, tracing: bool = False):
        self.spec = spec
        self.build = build
        self.headed = headed
        self.tracing = tracing  # record each page's trace, kept if its row does not pass (drivers that trace)
        self.info: EngineInfo | None = None
        # What navigator.storage.persist() answered, by storage mode, in this browser's first row of that mode
        # (harness.trip.roundtrip.storage_facts): a prompt nobody answers costs every row that asks it.
        self.persist_answers: dict[str, object] = {}

    @abc.abstractmethod
    async def start(self) -> EngineInfo: ...

    @abc.abstractmethod
    async def open(self, url: str, *, timeout: float, quota: int | None = None, backends: tuple[str, ...] = ()) -> Page:
        """Open ``url`` with fresh storage and wait until ``window.harness.ready`` resolves.

        ``quota``: limit the origin's quota-managed storage (IndexedDB) to this many bytes where the
        build can (``Build.quota``); ``Page.quota`` says what was done, or why nothing could be.
        ``backends``: the TF.js backends (harness.backends names) that this page's siblings will run
        beside the URL's own, so that a driver can open the page in a browser that gives all of them
        (a webgl sibling of a wasm page needs Firefox's headed browser, Build.webgl == "headed")."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    async def open_sibling(self, page: Page, url: str, *, timeout: float) -> Page:
        """Open `url` (the harness page with another TF.js build, say) on the same storage as `page`:
        what a user's next visit sees after an upgrade. `page` may stop being usable (a driver with one
        window navigates it); closing the sibling leaves `page`'s storage alone."""
        raise NotImplementedError(f"{type(self).__name__} cannot open a page on the same storage")

    async def open_persistent(self, url: str, profile_dir: str, *, timeout: float) -> Page:
        """Open `url` in a browser on the on-disk profile `profile_dir` (created if empty).

        Closing that page closes that browser; opening the same profile again must show the same
        storage. Drivers that cannot keep a profile raise NotImplementedError with the reason.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot open a persistent profile")

    @property
    @abc.abstractmethod
    def alive(self) -> bool:
        """False once the browser (or its driver) has died: the pool then relaunches it."""


# The expression every driver evaluates in the page (see harness/js/page.js).
READY_JS = "window.harness && window.harness.ready"

# Empties the page origin's storage and lists what is left, for drivers that reuse a window or a
# browser context between tests (an async function expression; see the file).
RESET_STORAGE_JS = (JS_DIR / "reset_storage.js").read_text()
