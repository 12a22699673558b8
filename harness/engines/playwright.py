"""The Playwright driver: Chromium (CDP), Firefox (Juggler or WebDriver BiDi), Playwright's WebKit.

One browser per engine per pytest session; every page gets a new browser context, so its
localStorage and IndexedDB start empty and vanish with it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Mapping

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from harness.engines.base import READY_JS, Driver, EngineError, EngineInfo, Page, StepTimeout
from harness.engines.xvfb import Xvfb

_RUN_STEP_JS = """async ([name, args]) => {
  try { return await window.harness.run(name, args); }
  catch (e) { return {status: "error", error: {name: (e && e.name) || "Error", message: String((e && e.message) || e)}}; }
}"""


class PlaywrightPage(Page):
    def __init__(self, driver: "PlaywrightDriver", context, page):
        self._driver = driver
        self.context = context
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))

    async def run_step(self, name: str, args: Mapping[str, Any], timeout: float) -> dict:
        try:
            return await asyncio.wait_for(self.page.evaluate(_RUN_STEP_JS, [name, dict(args)]), timeout)
        except asyncio.TimeoutError:
            raise StepTimeout(f"{self._driver.spec.name}: step {name!r} gave no answer within {timeout:g} s") from None
        except PlaywrightError as e:
            raise EngineError(f"{self._driver.spec.name}: step {name!r} failed in the driver: {e.message}") from e

    async def close(self) -> None:
        try:
            await self.context.close()
        except PlaywrightError:
            pass  # the browser is already gone; the driver reports that


class PlaywrightDriver(Driver):
    async def start(self) -> EngineInfo:
        build = self.build
        self._pw = await async_playwright().start()
        browser_type = getattr(self._pw, build.browser_type)
        options: dict[str, Any] = {"headless": not self.headed, "args": list(build.args)}
        if build.executable:
            options["executable_path"] = build.executable
        if build.channel:
            options["channel"] = build.channel
        if build.prefs:
            options["firefox_user_prefs"] = dict(build.prefs)
        self._xvfb = None
        if self.headed and not os.environ.get("DISPLAY"):  # headed windows need a screen: give them a virtual one
            self._xvfb = await asyncio.to_thread(Xvfb().start)
            options["env"] = {**os.environ, "DISPLAY": self._xvfb.display}
        try:
            self._browser = await browser_type.launch(**options)
        except PlaywrightError as e:
            await self._pw.stop()
            if self._xvfb:
                self._xvfb.stop()
            raise EngineError(f"{self.spec.name}: could not launch {build.kind} build: {e.message}") from e
        self.info = EngineInfo(
            engine=self.spec.name,
            version=self._browser.version,
            driver="playwright",
            build=build.kind,
            executable=build.executable or browser_type.executable_path,
        )
        return self.info

    @property
    def alive(self) -> bool:
        return self._browser.is_connected()

    async def open(self, url: str, *, timeout: float) -> Page:
        if not self.alive:
            raise EngineError(f"{self.spec.name}: the browser is no longer running")
        context = await self._browser.new_context(ignore_https_errors=True, accept_downloads=True)
        page = await context.new_page()
        harness_page = PlaywrightPage(self, context, page)
        try:
            await page.goto(url, timeout=timeout * 1000)
            await asyncio.wait_for(page.evaluate(f"async () => {{ await ({READY_JS}); return true; }}"), timeout)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            await harness_page.close()
            log = "\n".join(harness_page.console[-20:])
            raise EngineError(f"{self.spec.name}: the harness page at {url} did not become ready: {e!r}\n{log}") from e
        return harness_page

    async def stop(self) -> None:
        try:
            await self._browser.close()
        finally:
            await self._pw.stop()
            if self._xvfb:
                self._xvfb.stop()
