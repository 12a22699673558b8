"""The Node engine against real Node and TF.js from node_modules: the shared steps (steps.js) run by
harness/js/node_host.js, with the harness's own server for fixtures and posted artifacts.

One driver (from the discovered matrix entry) and one server are shared by the module; every test
opens its own host process, as the scenarios do.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from harness import tfjs
from harness.config import EngineEntry, load_matrix
from harness.engines import ENGINES
from harness.engines.base import EngineError, StepTimeout
from harness.engines.discovery import Found, Missing, discover, make_driver
from harness.engines.node import NodeDriver, NodePage
from harness.server import HarnessServer

REPO = Path(__file__).resolve().parent.parent
MLP = REPO / "fixtures" / "mlp"
GOLDEN_WEIGHTS = (MLP / "group1-shard1of1.bin").read_bytes()

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(not shutil.which("node"), reason="node is not on PATH (apt: nodejs)"),
    pytest.mark.skipif(
        not (REPO / "node_modules" / "@tensorflow" / "tfjs-node" / "dist" / "io" / "file_system.js").exists(),
        reason="node_modules lacks @tensorflow/tfjs-node: run `npm ci`",
    ),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server():
    srv = await HarnessServer([tfjs.installed()]).start()
    yield srv
    await srv.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def driver():
    found = discover(load_matrix(), {})["node"]  # a system build: no Playwright paths needed
    assert isinstance(found, Found), found
    driver = make_driver(found)
    await driver.start()
    yield driver
    await driver.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def page(driver, server):
    page = await driver.open(server.page_url(tfjs.installed().version, "cpu"), timeout=30)
    yield page
    await page.close()


def save_args(server, token, target):
    return {
        "token": token,
        "server": server.url,
        "format": "layers-model",
        "fixture": f"{server.url}/fixtures/mlp/model.json",
        "target": target,
    }


def load_args(server, token, source):
    return {
        "token": token,
        "server": server.url,
        "format": "layers-model",
        "source": source,
        "inputs": [{"url": f"{server.url}/fixtures/mlp/input0.bin", "dtype": "float32", "shape": [5, 8]}],
    }


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --- the engine as data, discovery, start ---


async def test_node_is_an_engine_with_a_node_host():
    spec = ENGINES["node"]
    assert spec.host == "node" and all(e.host == "browser" for n, e in ENGINES.items() if n != "node")
    build = spec.builds["system"]
    assert (build.kind, build.driver, build.executable) == ("system", "node", "node")
    assert load_matrix()["node"].builds == ("system",)


async def test_discovery_finds_node_on_path_or_says_what_is_missing():
    found = discover({"node": EngineEntry("node", ("system",))}, {})["node"]
    assert isinstance(found, Found) and isinstance(make_driver(found), NodeDriver)
    missing = discover({"node": EngineEntry("node", ("system",), executable="/nonexistent/node")}, {})["node"]
    assert isinstance(missing, Missing)
    assert missing.reason == "system build (/nonexistent/node): not found" and missing.apt_packages == ("nodejs",)


async def test_start_reports_the_node_version(driver):
    assert isinstance(driver, NodeDriver) and driver.alive
    info = driver.info
    assert (info.engine, info.driver, info.build) == ("node", "node", "system")
    proc = await asyncio.create_subprocess_exec("node", "--version", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert info.version == out.decode().strip().removeprefix("v")
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.version)
    assert info.executable == shutil.which("node")


async def test_open_starts_a_ready_host(page):
    assert isinstance(page, NodePage) and page.alive
    ready = page.ready_info
    assert ready["tfjs"] == tfjs.installed().version and ready["backend"] == "cpu"
    assert ready["node"].startswith("v")
    assert ready["fileSystem"] in ("tfjs-node (js only)", "tfjs-node (native)")
    reply = await page.run_step("info", {}, timeout=10)
    assert reply.pop("elapsed_ms") >= 0  # the host times each step (report.timing's in-page time)
    assert reply == {
        "status": "ok",
        "result": {"tfjs": tfjs.installed().version, "backend": "cpu", "scope": "main"},
    }


async def test_worker_thread_context_runs_the_steps_in_a_worker_thread(driver, server):
    """--context worker-thread: the steps run in a worker_threads Worker (they say so), and a round trip
    through file:// works there as in the main thread."""
    page = await driver.open(f"{server.url}/page?tfjs={tfjs.installed().version}&backend=cpu&context=worker-thread",
                             timeout=30)
    try:
        assert page.ready_info["thread"] == "worker-thread"
        reply = await page.run_step("info", {}, timeout=10)
        assert reply["result"]["scope"] == "worker-thread"
    finally:
        await page.close()


async def test_an_unknown_node_context_fails_to_open(driver, server):
    with pytest.raises(EngineError, match="no context dedicated-worker in Node"):
        await driver.open(f"{server.url}/page?tfjs={tfjs.installed().version}&backend=cpu&context=dedicated-worker",
                          timeout=30)


async def test_open_rejects_a_tfjs_version_node_does_not_have(driver, server):
    with pytest.raises(EngineError, match=r"no TF.js build '0\.0\.1'; installed: .*4\.22\.0"):
        await driver.open(f"{server.url}/page?tfjs=0.0.1&backend=cpu", timeout=30)
    assert not driver._pages  # no host was started


async def test_open_runs_the_requested_npm_version(driver, server):
    page = await driver.open(f"{server.url}/page?tfjs=3.21.0&backend=cpu", timeout=30)
    try:
        assert (await page.run_step("info", {}, 30))["result"]["tfjs"] == "3.21.0"
    finally:
        await page.close()


async def test_open_with_an_unknown_backend_fails_with_the_reason(driver, server):
    with pytest.raises(EngineError, match=r"unknown TF.js backend 'nosuch'; known: cpu, webgl, "):
        await driver.open(server.page_url(tfjs.installed().version, "nosuch"), timeout=30)


async def test_a_backend_that_does_not_come_up_is_an_error_naming_it(driver, server):
    """webgl in Node (rows skip before this: the build declares it lacks webgl): the host asks TF.js for it and
    stops with TF.js's reason, never running on the backend TF.js would fall back to."""
    with pytest.raises(EngineError, match=r"TF.js backend webgl failed to start here: Backend name 'webgl' not found"):
        await driver.open(server.page_url(tfjs.installed().version, "webgl"), timeout=30)


async def test_wasm_comes_up_in_node_and_says_what_it_is(driver, server):
    page = await driver.open(server.page_url(tfjs.installed().version, "wasm"), timeout=30)
    try:
        assert page.ready_info["backend"] == "wasm"
        reply = await page.run_step("backendInfo", {}, 30)
        facts = reply["result"]
        assert facts["backend"] == "wasm" and facts["WASM_HAS_SIMD_SUPPORT"] is True
        assert facts["binary"] in ("tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm")
    finally:
        await page.close()


# --- the shared steps, on file:// and http ---


async def test_save_to_file_then_load_from_file(page, server, tmp_path):
    token = server.expect()
    reply = await page.run_step("save", save_args(server, token, {"kind": "url", "url": f"file://{tmp_path}/mlp"}), timeout=60)
    assert reply["status"] == "ok", reply
    assert sorted(p.name for p in (tmp_path / "mlp").iterdir()) == ["model.json", "weights.bin"]
    assert (tmp_path / "mlp" / "weights.bin").read_bytes() == GOLDEN_WEIGHTS
    assert reply["result"]["saveResult"]["modelArtifactsInfo"]["weightDataBytes"] == len(GOLDEN_WEIGHTS)

    reply = await page.run_step(
        "load", load_args(server, token, {"kind": "url", "url": f"file://{tmp_path}/mlp/model.json"}), timeout=60
    )
    assert reply["status"] == "ok", reply
    parts = server.take(token)
    assert parts["loaded.weights.bin"] == GOLDEN_WEIGHTS
    assert reply["result"]["predictions"] == [{"output": 0, "part": "prediction0.bin", "shape": [5, 4], "dtype": "float32"}]
    expected = np.frombuffer((MLP / "output0.bin").read_bytes(), np.float32)
    np.testing.assert_allclose(np.frombuffer(parts["prediction0.bin"], np.float32), expected, rtol=1e-5, atol=1e-6)


async def test_load_over_http_uses_nodes_fetch(page, server):
    """TF.js's http router only checks that a global `fetch` exists; Node 20 has one."""
    token = server.expect()
    reply = await page.run_step(
        "load", load_args(server, token, {"kind": "url", "url": f"{server.url}/fixtures/mlp/model.json"}), timeout=60
    )
    assert reply["status"] == "ok", reply
    assert server.take(token)["loaded.weights.bin"] == GOLDEN_WEIGHTS


# --- errors, timeouts, dead hosts, cleanup ---


async def test_a_failing_step_replies_an_error_with_its_phase(page, server, tmp_path):
    token = server.expect()
    reply = await page.run_step(
        "load", load_args(server, token, {"kind": "url", "url": f"file://{tmp_path}/none/model.json"}), timeout=60
    )
    assert reply["status"] == "error"
    error = reply["error"]
    assert error["phase"] == "load" and error["name"] == "Error"
    assert error["message"] == f"Path {tmp_path}/none/model.json does not exist: loading failed"
    assert "file_system.js" in error["stack"]
    server.take(token)
    # The host keeps answering.
    assert (await page.run_step("info", {}, timeout=10))["status"] == "ok"


async def test_an_unknown_step_is_an_error_reply(page):
    reply = await page.run_step("nosuch", {}, timeout=10)
    assert reply == {"status": "error", "error": {"name": "HarnessError", "message": "no node step named nosuch"}}


async def test_a_step_that_never_answers_times_out(page, server):
    hung: list[asyncio.StreamWriter] = []

    async def never_answer(reader, writer):
        hung.append(writer)  # accept, read nothing, answer nothing

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    token = server.expect()
    started = time.monotonic()
    try:
        with pytest.raises(StepTimeout, match=r"node: step 'load' gave no answer within 2 s"):
            await page.run_step(
                "load", load_args(server, token, {"kind": "url", "url": f"http://127.0.0.1:{port}/model.json"}), timeout=2
            )
        assert time.monotonic() - started < 2 + 2
        assert page.alive and (await page.run_step("info", {}, timeout=10))["status"] == "ok"
    finally:
        for writer in hung:
            writer.close()
        silent.close()
        server.take(token)


async def test_a_killed_host_is_an_engine_error(page):
    os.kill(page.pid, signal.SIGKILL)
    with pytest.raises(EngineError, match=r"node: step 'info'.*exited with code -9") as caught:
        await page.run_step("info", {}, timeout=10)
    assert not isinstance(caught.value, StepTimeout)
    assert not page.alive


async def test_a_host_dying_mid_step_fails_the_waiting_step(page, server):
    hung: list[asyncio.StreamWriter] = []

    async def never_answer(reader, writer):
        hung.append(writer)

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    token = server.expect()
    step = asyncio.create_task(
        page.run_step("load", load_args(server, token, {"kind": "url", "url": f"http://127.0.0.1:{port}/m.json"}), timeout=30)
    )
    while not hung:
        await asyncio.sleep(0.05)
    os.kill(page.pid, signal.SIGKILL)
    try:
        with pytest.raises(EngineError, match=r"step 'load' got no answer.*exited with code -9"):
            await asyncio.wait_for(step, 10)
    finally:
        for writer in hung:
            writer.close()
        silent.close()
        server.take(token)


async def test_close_leaves_no_node_process(driver, server):
    page = await driver.open(server.page_url(tfjs.installed().version, "cpu"), timeout=30)
    pid = page.pid
    await page.close()
    assert process_gone(pid) and not page.alive
    await page.close()  # twice is fine


async def test_stop_closes_every_open_host(server):
    found = discover(load_matrix(), {})["node"]
    driver = make_driver(found)
    await driver.start()
    pages = [await driver.open(server.page_url(tfjs.installed().version, "cpu"), timeout=30) for _ in range(2)]
    await driver.stop()
    assert not driver.alive
    assert all(process_gone(p.pid) for p in pages)
    with pytest.raises(EngineError, match="not started"):
        await driver.open(server.page_url(tfjs.installed().version, "cpu"), timeout=30)


async def test_tfjs_logging_goes_to_stderr_not_the_protocol(page, server):
    """The cpu backend console.warn's a banner ("Hi, looks like you are running TensorFlow.js in Node.js")
    on its first tensor; the reply after it still parses, and the banner is in the host's stderr."""
    token = server.expect()
    reply = await page.run_step("save", save_args(server, token, {"kind": "custom", "key": "k"}), timeout=60)
    assert reply["status"] == "ok", reply
    server.take(token)
    if page.ready_info["fileSystem"] == "tfjs-node (js only)":
        deadline = time.monotonic() + 5  # stderr is read on its own; it may lag behind the reply
        while not any("running TensorFlow.js in Node.js" in line for line in page.console):
            assert time.monotonic() < deadline, list(page.console)
            await asyncio.sleep(0.05)
    assert not any(line.startswith("[stdout, not protocol]") for line in page.console)
