"""Peak memory of an engine's browser processes while something runs (the large-model rows).

The browser processes are found among this Python process's descendants (Playwright's driver
and WebKitWebDriver are our children; the browsers are theirs) by the executable path, which
names the engine (``PROCESS_NAMES``). RSS is summed over them, so pages shared between processes
count once per process: an upper bound, reported as such.
"""

from __future__ import annotations

import asyncio
import os

import psutil

PROCESS_NAMES = {
    "chromium": ("chromium", "chrome"),
    "firefox": ("firefox",),
    "webkit": ("webkit", "minibrowser"),
}


def engine_processes(engine: str) -> list[psutil.Process]:
    names = PROCESS_NAMES.get(engine, (engine,))
    out = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            exe = (proc.exe() or proc.name()).lower()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if any(n in exe for n in names):
            out.append(proc)
    return out


def rss(engine: str) -> int:
    total = 0
    for proc in engine_processes(engine):
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


class PeakMemory:
    """``async with PeakMemory("chromium") as m: ...`` then ``m.peak`` / ``m.before`` (bytes)."""

    def __init__(self, engine: str, interval: float = 0.1):
        self.engine = engine
        self.interval = interval
        self.before = 0
        self.peak = 0
        self._task: asyncio.Task | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, await asyncio.to_thread(rss, self.engine))
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> "PeakMemory":
        self.before = self.peak = await asyncio.to_thread(rss, self.engine)
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self.peak = max(self.peak, await asyncio.to_thread(rss, self.engine))

    def as_json(self) -> dict:
        return {"rss_before_bytes": self.before, "rss_peak_bytes": self.peak,
                "how": f"summed RSS of the {self.engine} processes under this pytest process, sampled every "
                       f"{self.interval:g} s (shared pages count once per process: an upper bound)"}
