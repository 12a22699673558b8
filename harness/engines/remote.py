"""Remote engines: the same drivers pointed at an endpoint instead of a browser they launch.

    [engines.chromium]  connect = "ws://HOST:PORT/"      a Playwright server (`playwright run-server`,
                        launch_options = {...}           a Docker image, a cloud service): browser_type.connect
    [engines.webkit]    webdriver = "http://HOST:PORT"   a W3C WebDriver endpoint (safaridriver, Selenium Grid,
                        capabilities = {...}             a cloud grid, WebKitWebDriver --port): webdriver.Remote

The engine keeps its name (rows, expectations and the matrix do not change); the build is "remote",
and each row's `host` says where it ran. What the remote end cannot do for the harness is declared
here, so rows that need it skip with the reason instead of failing:
  - no persistent profile (a Playwright server launches browsers for connect() only; WebDriver sessions
    are the endpoint's);
  - downloads: Playwright streams them back over the connection (Download.save_as), except Firefox over
    WebDriver BiDi, which reports none; a WebDriver endpoint keeps them on its own machine.
"""

from __future__ import annotations

import socket

from harness.config import EngineEntry
from harness.engines.base import Build, EngineSpec

ENDPOINT_KINDS = {"connect": "playwright-server", "webdriver": "webdriver"}

NO_DOWNLOADS_BIDI = ("Firefox over WebDriver BiDi (channel moz-firefox) reports no download events to Playwright, "
                     "and its download directory is on the server's machine")
NO_DOWNLOADS_WEBDRIVER = ("a remote WebDriver browser saves downloads on its own machine; W3C WebDriver has no "
                          "command to fetch them")
NO_QUOTA_WEBDRIVER = "no quota emulation over W3C WebDriver"
NO_PROFILE_CONNECT = ("a Playwright server launches browsers for connect() only; launch_persistent_context (an "
                      "on-disk profile) is local to the server's machine")
NO_PROFILE_WEBDRIVER = ("a remote WebDriver endpoint keeps its browser's profile; the harness cannot relaunch it on a "
                        "profile of its own")


def remote_build(spec: EngineSpec, entry: EngineEntry) -> Build:
    """The build of an entry with `connect` or `webdriver`; the engine's own Playwright build says what
    the browser type is and how its quota is limited (Chromium's CDP works over a connection too)."""
    local = spec.builds.get("playwright") or next(iter(spec.builds.values()))
    if entry.connect:
        options = dict(entry.launch_options or {})
        bidi = str(options.get("channel", "")).startswith("moz-")
        return Build(kind="remote", driver="playwright", browser_type=local.browser_type, endpoint=entry.connect,
                     launch_options=options, quota=local.quota, no_quota=local.no_quota,
                     downloads="" if bidi else "event", no_downloads=NO_DOWNLOADS_BIDI if bidi else "",
                     no_persistent_profile=NO_PROFILE_CONNECT)
    return Build(kind="remote", driver="webdriver", browser_type=local.browser_type, endpoint=entry.webdriver,
                 capabilities=dict(entry.capabilities or {}), args=entry.args,
                 downloads="", no_downloads=NO_DOWNLOADS_WEBDRIVER, no_quota=NO_QUOTA_WEBDRIVER,
                 no_persistent_profile=NO_PROFILE_WEBDRIVER, file_choice="append")


def host(entry: EngineEntry | None) -> dict:
    """Where an engine's rows ran, for the report: the machine that ran pytest, the kind of endpoint
    ("local": a browser this machine launched), and the endpoint's URL."""
    kind, url = "local", None
    if entry is not None and entry.connect:
        kind, url = ENDPOINT_KINDS["connect"], entry.connect
    elif entry is not None and entry.webdriver:
        kind, url = ENDPOINT_KINDS["webdriver"], entry.webdriver
    return {"runner": socket.gethostname(), "endpoint": kind, **({"url": url} if url else {})}
