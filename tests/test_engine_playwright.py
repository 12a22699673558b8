"""The Playwright driver's kept browser context (harness.engines.playwright): reused while its tests go
well, given up after one goes wrong, never used for a page with a quota; on each Playwright engine."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from harness.engines.base import StepTimeout
from harness.engines.playwright import PlaywrightDriver

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Stores 4 MiB in IndexedDB; replies "stored" or the error that refused it. (Chromium's estimate() does not
# show a quota override, but the commit obeys it.)
PUT_4MIB = """
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('quota-probe', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('s');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    return await new Promise(resolve => {
      const tx = db.transaction('s', 'readwrite');
      const bytes = new Uint32Array(1 << 20);  // 4 MiB that do not compress (Firefox compresses values)
      for (let i = 0, x = 1; i < bytes.length; i++) bytes[i] = x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const put = tx.objectStore('s').put(bytes.buffer, 'k');
      put.onerror = () => resolve(put.error.name);  // Firefox refuses the request itself
      tx.oncomplete = () => resolve('stored');
      tx.onabort = tx.onerror = () => resolve((tx.error && tx.error.name) || 'aborted');
    });
  } finally {
    db.close();
  }
"""


@pytest.fixture
def driver(engine):
    if not isinstance(engine, PlaywrightDriver):
        pytest.skip(f"{engine.spec.name} runs on {type(engine).__name__}, not Playwright")
    return engine


async def test_a_clean_page_hands_its_context_to_the_next(engine_name, driver, page_url):
    first = await driver.open(page_url, timeout=60)
    context = first.context
    await first.evaluate("localStorage.setItem('k', 'v'); return 1", timeout=10)
    await first.close()
    second = await driver.open(page_url, timeout=60)
    try:
        assert second.context is context
        assert await second.evaluate("return [localStorage.length, window.marker ?? null]", timeout=10) == [0, None]
    finally:
        await second.close()


async def test_a_page_whose_step_timed_out_closes_its_context(engine_name, driver, page_url):
    first = await driver.open(page_url, timeout=60)
    context = first.context
    await first.evaluate("localStorage.setItem('k', 'v'); return 1", timeout=10)
    with pytest.raises(StepTimeout):
        await first.evaluate("await new Promise(() => {});", timeout=0.5)
    await first.close()
    second = await driver.open(page_url, timeout=60)
    try:
        assert second.context is not context
        assert await second.evaluate("return localStorage.length", timeout=10) == 0
    finally:
        await second.close()


async def test_a_quota_page_has_a_context_of_its_own(engine_name, driver, page_url):
    normal = await driver.open(page_url, timeout=60)
    kept = normal.context
    await normal.close()
    limited = await driver.open(page_url, timeout=60, quota=3 * 1024 * 1024)
    try:
        assert limited.context is not kept
        assert await limited.evaluate(PUT_4MIB, timeout=30) == "QuotaExceededError"
    finally:
        await limited.close()
    after = await driver.open(page_url, timeout=60)
    try:
        assert after.context is kept  # the quota page's context was not kept in its place
        assert await after.evaluate(PUT_4MIB, timeout=30) == "stored"
    finally:
        await after.close()


async def test_a_persistent_window_page_runs_on_an_on_disk_profile_kept_emptied_for_the_next_one(engine_name, driver,
                                                                                                   page_url):
    url = f"{page_url}&mode=persistent"  # what HarnessServer.page_url gives a persistent-window row
    page = await driver.open(url, timeout=60)
    try:
        profile = page.profile_dir
        assert profile and os.path.isdir(profile)
        assert await page.evaluate(PUT_4MIB, timeout=30) == "stored"
        written = sum(f.stat().st_size for f in Path(profile).rglob("*") if f.is_file())
        assert written > 4 * 2**20, f"the 4 MiB stored are not in the profile dir ({written} bytes there)"
    finally:
        await page.close()
    assert os.path.isdir(profile), "a clean page's profile is kept for the next persistent-window page"
    again = await driver.open(url, timeout=60)
    try:
        assert again.profile_dir == profile
        assert await again.evaluate("return (await indexedDB.databases()).map(d => d.name)", timeout=30) == []
        again.dirty = True  # something the next test must not inherit: the profile goes with its browser
    finally:
        await again.close()
    assert not os.path.exists(profile), "a dirty page's profile outlived it"
    limited = await driver.open(url, timeout=60, quota=3 * 1024 * 1024)  # a quota holds on an on-disk profile too
    try:
        assert limited.profile_dir and limited.profile_dir != profile
        assert await limited.evaluate(PUT_4MIB, timeout=30) == "QuotaExceededError"
    finally:
        await limited.close()
    assert not os.path.exists(limited.profile_dir), "a quota page's profile is its own, deleted on close"
    ephemeral = await driver.open(page_url, timeout=60)
    try:
        assert ephemeral.profile_dir is None
    finally:
        await ephemeral.close()


def _trace_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode(errors="replace") for n in z.namelist() if n.endswith(".trace"))


async def test_tracing_keeps_a_failed_pages_own_trace_and_is_off_by_default(engine_name, driver, page_url, tmp_path):
    """--tracing retain-on-failure: each page of the kept context records its own trace chunk, which a
    row that did not pass keeps (trace.zip). Off (the default), a page records nothing."""
    traced = PlaywrightDriver(driver.spec, driver.build, tracing=True)
    await traced.start()
    try:
        first = await traced.open(page_url, timeout=60)
        await first.evaluate("console.log('the first page'); return 1", timeout=10)
        await first.close()
        second = await traced.open(page_url, timeout=60)
        try:
            assert second.context is first.context
            await second.evaluate("console.log('the second page'); return 1", timeout=10)
            assert await second.save_trace(str(tmp_path / "trace.zip"))
        finally:
            await second.close()
        text = _trace_text(tmp_path / "trace.zip")
        assert "the second page" in text and "the first page" not in text
    finally:
        await traced.stop()
    untraced = await driver.open(page_url, timeout=60)
    try:
        assert not driver.tracing and not await untraced.save_trace(str(tmp_path / "none.zip"))
        assert not (tmp_path / "none.zip").exists()
    finally:
        await untraced.close()


SET_ITEM = """
  try { localStorage.setItem('tensorflowjs_models/m/weight_data', 'x'.repeat(%d)); return 'stored'; }
  catch (e) { return e.name; }
"""


async def test_a_context_whose_cleared_storage_is_still_counted_is_not_reused(engine_name, driver, page_url):
    """Fresh storage is a full quota, not only no keys: on Firefox a cleared localStorage of 4.5 M
    characters, written by a second page of the context, went on counting for seconds, and a 0.8 M
    setItem was refused on the next page (reset_storage.js now refuses a page whose estimate() still
    counts it)."""
    first = await driver.open(page_url, timeout=60)
    second = await driver.open_sibling(first, page_url, timeout=60)
    assert await second.evaluate(SET_ITEM % 4_500_000, timeout=30) == "stored"
    await second.close()
    await first.close()
    after = await driver.open(page_url, timeout=60)
    try:
        assert await after.evaluate("return localStorage.length", timeout=10) == 0
        assert await after.evaluate(SET_ITEM % 800_000, timeout=30) == "stored"
    finally:
        await after.close()


async def test_a_steps_reply_comes_back_as_it_left_the_page_numbers_json_has_no_word_for_too(driver, page_url):
    """Replies travel as one JSON string (harness.engines.playwright._RUN_STEP_JS), NaN, +-Infinity and -0 tagged."""
    import math

    page = await driver.open(page_url, timeout=60)
    try:
        reply = await page.run_step("userScript", {"source": "return {a: [NaN, Infinity, -Infinity, -0, 0, 1.5, 2], "
                                                             "u: undefined, n: null, s: 'x', o: {__harness_number__: 1}}",
                                                   "args": {}}, 30)
    finally:
        await page.close()
    value = reply["result"]["value"]
    a = value["a"]
    assert math.isnan(a[0]) and a[1:3] == [math.inf, -math.inf] and math.copysign(1, a[3]) == -1 and a[4:] == [0, 1.5, 2]
    assert value["u"] is None and value["n"] is None and value["s"] == "x"
    assert value["o"] == {"__harness_number__": 1}  # not a tag: a page's own object stays as it is
