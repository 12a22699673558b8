"""Reads `playwright.config`, the engine matrix (TOML): which builds to try per engine, extra args, or a
remote endpoint to use instead (a Playwright server, a WebDriver server or grid)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from harness.engines import ENGINES
from harness.paths import DEFAULT_CONFIG

_KEYS = {"builds", "args", "executable", "connect", "launch_options", "webdriver", "capabilities"}


@dataclasses.dataclass(frozen=True)
class EngineEntry:
    name: str
    builds: tuple[str, ...]
    args: tuple[str, ...] = ()
    executable: str | None = None  # overrides the system build's executable
    # Remote engines (harness.engines.remote): at most one of connect / webdriver.
    connect: str | None = None  # a Playwright server's ws:// endpoint (browser_type.connect)
    launch_options: Mapping[str, Any] | None = None  # what that server launches (x-playwright-launch-options)
    webdriver: str | None = None  # a W3C WebDriver endpoint (safaridriver, a grid, WebKitWebDriver --port)
    capabilities: Mapping[str, Any] | None = None  # the New Session capabilities sent to it

    @property
    def remote(self) -> bool:
        return bool(self.connect or self.webdriver)


def check_remote(entry: EngineEntry, where: str) -> None:
    """A remote entry is one endpoint of the right kind; ValueError saying what is wrong otherwise."""
    if entry.connect and entry.webdriver:
        raise ValueError(f"{where}: [engines.{entry.name}] has both connect and webdriver; choose one")
    if entry.remote and ENGINES[entry.name].host != "browser":
        raise ValueError(f"{where}: {entry.name} runs no browser; only browser engines can be remote")
    if entry.connect and urlsplit(entry.connect).scheme not in ("ws", "wss"):
        raise ValueError(f"{where}: {entry.name} connect = {entry.connect!r}: a Playwright server endpoint is ws:// or wss://")
    if entry.webdriver and urlsplit(entry.webdriver).scheme not in ("http", "https"):
        raise ValueError(f"{where}: {entry.name} webdriver = {entry.webdriver!r}: a WebDriver endpoint is http:// or https://")
    # Without an endpoint in the file, launch_options / capabilities wait for --connect / --webdriver.
    if entry.launch_options and entry.webdriver:
        raise ValueError(f"{where}: {entry.name} launch_options go with connect (a Playwright server), not webdriver")
    if entry.capabilities and entry.connect:
        raise ValueError(f"{where}: {entry.name} capabilities go with webdriver, not connect (a Playwright server)")


def load_matrix(path: Path = DEFAULT_CONFIG) -> dict[str, EngineEntry]:
    """The engines declared in the config, in file order. Unknown keys are an error, not ignored."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    entries = {}
    for name, table in data.get("engines", {}).items():
        if name not in ENGINES:
            raise ValueError(f"{path}: unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
        unknown = set(table) - _KEYS
        if unknown:
            raise ValueError(f"{path}: [engines.{name}] has unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
        builds = tuple(table.get("builds", ENGINES[name].builds))
        bad = [b for b in builds if b not in ENGINES[name].builds]
        if bad:
            raise ValueError(f"{path}: [engines.{name}] builds {bad} unknown; {name} has {list(ENGINES[name].builds)}")
        entry = EngineEntry(name, builds, tuple(table.get("args", ())), table.get("executable"),
                            connect=table.get("connect"), launch_options=table.get("launch_options"),
                            webdriver=table.get("webdriver"), capabilities=table.get("capabilities"))
        check_remote(entry, str(path))
        entries[name] = entry
    return entries


def with_endpoints(matrix: dict[str, EngineEntry], connect: Mapping[str, str], webdriver: Mapping[str, str],
                   where: str = "command line") -> dict[str, EngineEntry]:
    """The matrix with --connect ENGINE=WS_URL / --webdriver ENGINE=URL applied (they win over the file;
    the entry's launch_options / capabilities stay)."""
    out = dict(matrix)
    for kind, given in (("connect", connect), ("webdriver", webdriver)):
        for name, url in given.items():
            if name not in ENGINES:
                raise ValueError(f"--{kind} {name}={url}: unknown engine; known engines: {', '.join(ENGINES)}")
            entry = out.get(name) or EngineEntry(name, tuple(ENGINES[name].builds))
            other = "webdriver" if kind == "connect" else "connect"
            entry = dataclasses.replace(entry, **{kind: url, other: None})
            if kind == "connect":
                entry = dataclasses.replace(entry, capabilities=None)
            else:
                entry = dataclasses.replace(entry, launch_options=None)
            check_remote(entry, where)
            out[name] = entry
    return out
