"""What the drivers do outside the page, as a user would, on every engine of the matrix.

Downloads are captured from the browser (Playwright's download events, or the directory the browser
writes to, as the build declares in ``Build.downloads``), never from a hook inside the page. Each
test runs once per engine (``engine_name``), on the harness page with fresh storage (``harness_page``).
"""

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from harness.engines.base import EngineError, StepTimeout

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.filterwarnings("ignore:setting remote_server_addr:DeprecationWarning"),
]

# A TF.js downloads:// save: TF.js 4.22 clicks two <a download> anchors on blob URLs, back to back
# (model JSON, then one setTimeout(0) later the weights). Returns the weights' bytes, base64.
SAVE_TINY_MODEL = """
  const m = tf.sequential({layers: [tf.layers.dense({units: 1, inputShape: [1]})]});
  await m.save('downloads://m');
  const parts = m.getWeights().map(w => new Uint8Array(w.dataSync().buffer));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  return btoa(String.fromCharCode(...bytes));
"""

# Two downloads 200 ms apart: what every engine delivers whole (see test_tfjs_save_downloads_two_files).
CLICK_TWO_SPACED = """
  const click = (name, bytes) => {
    const a = document.createElement('a');
    a.download = name;
    a.href = URL.createObjectURL(new Blob([bytes], {type: 'application/octet-stream'}));
    a.click();
  };
  click('first.txt', 'hello, first');
  await new Promise(r => setTimeout(r, 200));
  click('second.bin', Uint8Array.from({length: 256}, (_, i) => i));
  return true;
"""

# WebKitGTK 2.50 usually drops the first of two downloads started back to back (measured: only
# m.weights.bin arrived in 16 of 19 TF.js saves; no prompt, no error). A finding about the engine, not
# the driver; not strict, since both files do arrive now and then.
KNOWN_DROPPED_FIRST_DOWNLOAD = {
    "webkit": "WebKitGTK usually drops the first of two back-to-back <a download> clicks: only m.weights.bin arrives",
}


async def test_tfjs_save_downloads_two_files(engine_name, harness_page, request):
    if engine_name in KNOWN_DROPPED_FIRST_DOWNLOAD:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_DROPPED_FIRST_DOWNLOAD[engine_name], raises=StepTimeout))
    weights = base64.b64decode(await harness_page.evaluate(SAVE_TINY_MODEL, timeout=30))
    started = time.monotonic()
    try:
        files = await harness_page.downloads(2, timeout=10)
    finally:
        print(f"{engine_name}: downloads() took {time.monotonic() - started:.2f} s")
    assert sorted(files) == ["m.json", "m.weights.bin"]
    model = json.loads(files["m.json"])
    assert [group["paths"] for group in model["weightsManifest"]] == [["./m.weights.bin"]]
    assert [(w["name"], w["shape"], w["dtype"]) for w in model["weightsManifest"][0]["weights"]] == [
        ("dense_Dense1/kernel", [1, 1], "float32"), ("dense_Dense1/bias", [1], "float32")]
    assert len(files["m.weights.bin"]) == 8  # 1x1 kernel + 1 bias, float32
    assert files["m.weights.bin"] == weights


async def test_two_spaced_downloads_arrive_exactly(engine_name, harness_page):
    await harness_page.evaluate(CLICK_TWO_SPACED, timeout=10)
    files = await harness_page.downloads(2, timeout=15)
    assert files == {"first.txt": b"hello, first", "second.bin": bytes(range(256))}


async def test_missing_download_times_out_naming_what_arrived(engine_name, harness_page):
    await harness_page.evaluate("""
      const a = document.createElement('a');
      a.download = 'only.txt';
      a.href = URL.createObjectURL(new Blob(['just one']));
      a.click();
      return true;""", timeout=10)
    # Let the one file land first (on a loaded machine it can take more than the 2 s below), then ask for two.
    assert list(await harness_page.downloads(1, timeout=30)) == ["only.txt"]
    started = time.monotonic()
    with pytest.raises(StepTimeout, match=r"1 of 2 expected downloads arrived within 2 s.*only\.txt \(8 bytes\)"):
        await harness_page.downloads(2, timeout=2)
    assert time.monotonic() - started < 2 + 2


async def test_each_page_sees_only_its_own_downloads(engine_name, engine, page_url, harness_page):
    await harness_page.evaluate(CLICK_TWO_SPACED, timeout=10)
    assert len(await harness_page.downloads(2, timeout=15)) == 2
    await harness_page.close()
    page = await engine.open(page_url, timeout=60)
    try:
        with pytest.raises(StepTimeout, match="0 of 1 expected downloads"):
            await page.downloads(1, timeout=1)
    finally:
        await page.close()


async def test_set_input_files_gives_the_page_the_files(engine_name, harness_page, tmp_path):
    model_json = tmp_path / "model.json"
    model_json.write_text('{"format": "layers-model"}')
    weights = tmp_path / "model.weights.bin"
    weights.write_bytes(bytes(range(256)) * 4)
    await harness_page.set_input_files("#harness-files", [str(model_json), str(weights)], timeout=10)
    seen = await harness_page.evaluate("""
      const files = Array.from(document.getElementById('harness-files').files);
      return Promise.all(files.map(async f => ({name: f.name, size: f.size, """
        """head: Array.from(new Uint8Array(await f.slice(0, 4).arrayBuffer()))})));
    """, timeout=10)
    assert seen == [
        {"name": "model.json", "size": 26, "head": list(b'{"fo')},
        {"name": "model.weights.bin", "size": 1024, "head": [0, 1, 2, 3]},
    ]


async def test_reload_keeps_local_storage(engine_name, harness_page):
    await harness_page.evaluate("localStorage.setItem('kept', 'yes'); window.marker = 1; return true;", timeout=10)
    await harness_page.reload(timeout=30)
    after = await harness_page.evaluate(
        "return {kept: localStorage.getItem('kept'), marker: window.marker ?? null, ready: (await window.harness.ready).tfjs};",
        timeout=10)
    assert after["kept"] == "yes"
    assert after["marker"] is None  # really a new document
    assert after["ready"]
    assert (await harness_page.run_step("info", {}, timeout=10))["status"] == "ok"


WRITE_STORAGE = """
  localStorage.setItem('persist-k', 'persist-v');
  await new Promise((resolve, reject) => {
    const req = indexedDB.open('persist-db', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('store').put({x: [1, 2, 3]}, 'key');
    req.onsuccess = () => { req.result.close(); resolve(); };
    req.onerror = () => reject(req.error);
  });
  return true;
"""

READ_STORAGE = """
  const names = (await indexedDB.databases()).map(d => d.name);
  let value = null;
  if (names.includes('persist-db')) {
    value = await new Promise((resolve, reject) => {
      const req = indexedDB.open('persist-db', 1);
      req.onsuccess = () => {
        const get = req.result.transaction('store').objectStore('store').get('key');
        get.onsuccess = () => { req.result.close(); resolve(get.result); };
        get.onerror = () => reject(get.error);
      };
      req.onerror = () => reject(req.error);
    });
  }
  return {localStorage: localStorage.getItem('persist-k'), databases: names, value};
"""


def _processes_using(path: str) -> list[str]:
    """Command lines of live processes that mention ``path``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if path in cmd and state != "Z":
            found.append(cmd)
    return found


async def test_open_persistent_keeps_storage_across_restart(engine_name, engine, page_url, tmp_path):
    url = page_url
    profile = str(tmp_path / "profile")
    started = time.monotonic()
    try:
        first = await engine.open_persistent(url, profile, timeout=60)
    except NotImplementedError as e:
        pytest.skip(str(e))
    try:
        assert await first.evaluate(READ_STORAGE, timeout=10) == {"localStorage": None, "databases": [], "value": None}
        await first.evaluate(WRITE_STORAGE, timeout=10)
    finally:
        await first.close()
    assert not _processes_using(profile), "the persistent browser outlived close()"
    assert os.listdir(profile), "nothing was written to the profile dir"
    second = await engine.open_persistent(url, profile, timeout=60)
    try:
        after = await second.evaluate(READ_STORAGE, timeout=10)
    finally:
        await second.close()
    print(f"{engine_name}: two persistent launches + write/read took {time.monotonic() - started:.2f} s")
    assert after == {"localStorage": "persist-v", "databases": ["persist-db"], "value": {"x": [1, 2, 3]}}
    assert engine.alive, "the session's shared browser must be untouched"


# Everything a test can leave in the origin's storage (the kept window or context must not hand any on).
LEAVE_EVERYTHING = WRITE_STORAGE.replace("return true;", """
  sessionStorage.setItem('session-k', 'v');
  document.cookie = 'left=1; max-age=3600';
  if (self.caches) await (await caches.open('left-cache')).put('/left', new Response('x'));
  return true;
""")

STORAGE_LEFT = """
  return {localStorage: Object.keys(localStorage), sessionStorage: Object.keys(sessionStorage),
          databases: (await indexedDB.databases()).map(d => d.name), cookie: document.cookie,
          caches: self.caches ? await caches.keys() : []};
"""
NOTHING_LEFT = {"localStorage": [], "sessionStorage": [], "databases": [], "cookie": "", "caches": []}


async def test_next_page_starts_with_nothing_the_last_one_stored(engine_name, engine, page_url, harness_page):
    await harness_page.evaluate(LEAVE_EVERYTHING, timeout=10)
    left = await harness_page.evaluate(STORAGE_LEFT, timeout=10)
    assert left["localStorage"] == ["persist-k"] and left["databases"] == ["persist-db"] and left["cookie"] == "left=1"
    await harness_page.close()
    page = await engine.open(page_url, timeout=60)
    try:
        assert await page.evaluate(STORAGE_LEFT, timeout=10) == NOTHING_LEFT
        with pytest.raises(EngineError, match="closed or replaced"):  # the old handle must not reach the new page
            await harness_page.evaluate("return 1", timeout=10)
    finally:
        await page.close()
