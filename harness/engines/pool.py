"""The engines of one pytest session: discovered once, each browser started on first use and
kept for the session, all stopped at the end. Launch failures are remembered, not retried."""

from __future__ import annotations

import asyncio

from harness.config import EngineEntry
from harness.engines.base import Driver, EngineError, EngineInfo
from harness.engines.discovery import Found, Missing, discover, make_driver, playwright_executables


class EnginePool:
    def __init__(self, matrix: dict[str, EngineEntry], *, headed: bool = False, tracing: bool = False):
        self.matrix = matrix
        self.headed = headed
        self.tracing = tracing
        self.found: dict[str, Found | Missing] = {}
        self._drivers: dict[str, Driver] = {}
        self._failed: dict[str, str] = {}
        self._infos: dict[str, EngineInfo] = {}  # kept after stop, for the report
        # What each backend really was, per engine (harness/js/backends.js describe), said by the first page
        # opened on it: engine -> backend name -> facts.
        self.backends: dict[str, dict[str, dict]] = {}
        self._lock = asyncio.Lock()

    async def discover(self, found: dict[str, Found | Missing] | None = None) -> "EnginePool":
        """Which build each engine runs as: `found` (a discovery already made, as the run's matrix makes one:
        harness.pytest.matrix.RunState.found), else discovered now."""
        if found is None:
            # Playwright's sync API, off the loop
            found = discover(self.matrix, await asyncio.to_thread(playwright_executables))
        self.found = dict(found)
        return self

    def missing(self, name: str) -> Missing | None:
        entry = self.found.get(name)
        return entry if isinstance(entry, Missing) else None

    async def get(self, name: str) -> Driver:
        """The running driver of `name`, started on first use (and again if it died). Raises EngineError
        if it cannot run."""
        async with self._lock:
            if name in self._drivers:
                driver = self._drivers[name]
                if driver.alive:
                    return driver
                # It died since its last test (a crash between tests, or one nobody noticed): relaunch.
                del self._drivers[name]
                try:
                    await driver.stop()
                except Exception:
                    pass
            if name in self._failed:
                raise EngineError(self._failed[name])
            entry = self.found[name]
            if isinstance(entry, Missing):
                raise EngineError(f"{name} is not installed: {entry.reason}")
            driver = make_driver(entry, headed=self.headed, tracing=self.tracing)
            try:
                await driver.start()
            except Exception as e:  # remembered so that every later test of this engine says why at once
                self._failed[name] = f"{name} ({entry.build.kind} build, {entry.build.driver}) failed to start: {e}"
                raise EngineError(self._failed[name]) from e
            self._drivers[name] = driver
            self._infos[name] = driver.info
            return driver

    async def restart(self, name: str) -> None:
        """Drop a browser that died; the next `get` starts a new one."""
        async with self._lock:
            driver = self._drivers.pop(name, None)
        if driver is not None:
            try:
                await driver.stop()
            except Exception:
                pass

    def infos(self) -> list[dict]:
        """One record per engine of the matrix, for the report."""
        rows = []
        for name in self.matrix:
            entry = self.found.get(name)
            if name in self._infos:
                rows.append(self._infos[name].as_row())
                if self.backends.get(name):
                    rows[-1]["backends"] = dict(self.backends[name])
            elif isinstance(entry, Missing):
                rows.append({"engine": name, "version": None, "driver": None, "build": None, "missing": entry.reason})
            elif name in self._failed:
                rows.append({"engine": name, "version": None, "driver": entry.build.driver, "build": entry.build.kind,
                             "failed": self._failed[name]})
        return rows

    async def stop_all(self) -> None:
        drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            try:
                await driver.stop()
            except Exception as e:  # keep stopping the others
                print(f"warning: stopping {driver.spec.name} failed: {e}")

