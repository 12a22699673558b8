"""Which engines this machine can run, and with which build; and the driver for a found build."""

from __future__ import annotations

import dataclasses
import os
import shutil

from harness.config import EngineEntry
from harness.engines import ENGINES
from harness.engines.base import Build, Driver, EngineSpec


@dataclasses.dataclass(frozen=True)
class Found:
    spec: EngineSpec
    build: Build


@dataclasses.dataclass(frozen=True)
class Missing:
    spec: EngineSpec
    reason: str
    apt_packages: tuple[str, ...]


def playwright_executables() -> dict[str, str]:
    """Where Playwright's own browser builds would be, by browser type (they may not exist)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        return {name: getattr(pw, name).executable_path for name in ("chromium", "firefox", "webkit")}


def _present(build: Build, pw_paths: dict[str, str]) -> tuple[bool, str]:
    if build.kind == "playwright":
        path = pw_paths.get(build.browser_type, "")
        return os.path.exists(path), f"Playwright's {build.browser_type} build ({path or 'unknown path'})"
    missing = [exe for exe in (build.executable, "Xvfb" if build.needs_display else None) if exe and not shutil.which(exe)]
    return not missing, f"system build ({', '.join(missing) or build.executable})"


def discover(matrix: dict[str, EngineEntry], pw_paths: dict[str, str]) -> dict[str, Found | Missing]:
    """For each engine in the matrix, the first of its builds that is installed, or why none is."""
    out: dict[str, Found | Missing] = {}
    for name, entry in matrix.items():
        spec = ENGINES[name]
        if entry.remote:  # an endpoint: nothing to find on this machine (the driver connects at start)
            from harness.engines.remote import remote_build

            out[name] = Found(spec, remote_build(spec, entry))
            continue
        tried = []
        for kind in entry.builds:
            build = spec.builds[kind]
            if kind == "system" and entry.executable:
                build = dataclasses.replace(build, executable=entry.executable)
            ok, what = _present(build, pw_paths)
            if ok:
                out[name] = Found(spec, dataclasses.replace(build, args=build.args + entry.args))
                break
            tried.append(f"{what}: not found")
        else:
            apt = tuple(p for kind in entry.builds for p in spec.builds[kind].apt_packages)
            out[name] = Missing(spec, "; ".join(tried), apt)
    return out


def make_driver(found: Found, *, headed: bool = False, tracing: bool = False) -> Driver:
    """`tracing` (--tracing): Playwright's traces; the other drivers keep none."""
    if found.build.driver == "playwright":
        from harness.engines.playwright import PlaywrightDriver

        return PlaywrightDriver(found.spec, found.build, headed=headed, tracing=tracing)
    if found.build.driver == "webdriver":
        from harness.engines.webdriver import WebDriverDriver

        return WebDriverDriver(found.spec, found.build, headed=headed)
    if found.build.driver == "node":
        from harness.engines.node import NodeDriver

        return NodeDriver(found.spec, found.build, headed=headed)
    raise ValueError(f"{found.spec.name}: unknown driver {found.build.driver!r}")
