"""Node: the same steps as the browsers (harness/js/steps.js), run by TF.js in Node, no browser at all.

Every page is a fresh `node harness/js/node_host.js` process (about 0.3 s to ready), so each test starts
with an empty TF.js (no models in memory, no registered handlers of its own). The host speaks JSON
lines: one request per stdin line, one reply per stdout line, the reply of the browser's
`harness.run` (see node_host.js). What TF.js logs goes to the host's stderr, kept as `page.console`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from harness.engines.base import Build, Driver, EngineError, EngineInfo, EngineSpec, Page, StepTimeout
from harness.paths import JS_DIR, REPO

HOST_JS = JS_DIR / "node_host.js"
FILE_SYSTEM_JS = Path("@tensorflow") / "tfjs-node" / "dist" / "io" / "file_system.js"  # under TF.js's node_modules
_LINE_LIMIT = 64 << 20  # one reply line; results are small (artifacts are POSTed to the server)
_STDERR_TAIL = 200

ENGINE = EngineSpec(
    name="node",
    builds={
        "system": Build(
            kind="system",
            driver="node",
            browser_type="node",
            executable="node",  # found on PATH; `executable` in playwright.config picks another
            apt_packages=("nodejs",),
            webgl="",
            no_webgl=("Node has no WebGL: @tensorflow/tfjs-backend-webgl needs a browser's canvas (OffscreenCanvas "
                      "or document), and Node gives neither (headless-gl is not a TF.js dependency)"),
            no_webgpu="Node has no navigator.gpu (TF.js's webgpu backend runs only in browsers)",
            notes=(
                "TF.js from node_modules (`npm ci`): the pure-JS @tensorflow/tfjs on the backend the page URL "
                "names (cpu), plus @tensorflow/tfjs-node's own file:// IOHandler (dist/io/file_system, which "
                "never loads the native binding). tfjs-node is installed with scripts ignored (.npmrc): its "
                "install script downloads libtensorflow. If the native binding is present and loads, the host "
                "uses full @tensorflow/tfjs-node instead; the ready reply says which (fileSystem). "
                "http(s):// goes through Node's global fetch (TF.js's http router only checks that `fetch` "
                "exists). Browser-only steps parts (inspectStorage, files) are absent."
            ),
        ),
    },
    host="node",
)


class NodePage(Page):
    """One node_host.js process: fresh TF.js state, closed with the page."""

    def __init__(self, driver: "NodeDriver", proc: asyncio.subprocess.Process):
        self._driver = driver
        self.engine, self.build = driver.spec, driver.build
        self.proc = proc
        self.console: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL)  # the host's stderr
        self.ready_info: dict | None = None  # the host's ready reply: tfjs, backend, node, fileSystem
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self._ready.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved" noise
        self._gone: str | None = None  # why the host can no longer answer
        self._closing = False
        self._stdout_task = asyncio.create_task(self._read_stdout())
        self._stderr_task = asyncio.create_task(self._read_stderr())

    @property
    def name(self) -> str:
        return self._driver.spec.name

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and self._gone is None

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self.console)[-lines:])

    # -- reading the host ----------------------------------------------------------------------
    async def _read_stderr(self) -> None:
        while line := await self.proc.stderr.readline():
            self.console.append(line.decode("utf-8", "replace").rstrip("\n"))

    async def _read_stdout(self) -> None:
        try:
            while line := await self.proc.stdout.readline():
                try:
                    msg = json.loads(line)
                except ValueError:
                    self.console.append(f"[stdout, not protocol] {line.decode('utf-8', 'replace').rstrip()}")
                    continue
                if "id" in msg:
                    future = self._pending.pop(msg["id"], None)
                    if future is not None and not future.done():
                        future.set_result({k: v for k, v in msg.items() if k != "id"})
                elif not self._ready.done():
                    self._ready.set_result(msg)
        except (ValueError, asyncio.LimitOverrunError) as e:  # a reply line past _LINE_LIMIT
            self._gone = f"unreadable reply from the node host: {e}"
        finally:
            await self._host_gone()

    async def _host_gone(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 2)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), 1)
        if self._gone is None:
            self._gone = f"the node host (pid {self.proc.pid}) exited with code {self.proc.returncode}"
        error = EngineError(f"{self.name}: {self._gone}\n{self.stderr_tail()}")
        for future in [*self._pending.values(), self._ready]:
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def wait_ready(self, timeout: float) -> dict:
        try:
            msg = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except asyncio.TimeoutError:
            raise EngineError(f"{self.name}: the node host was not ready within {timeout:g} s\n{self.stderr_tail()}") from None
        if "ready" not in msg:
            failed = msg.get("failed") or msg
            raise EngineError(
                f"{self.name}: the node host failed to start: {failed.get('name')}: {failed.get('message')}\n"
                f"{failed.get('stack') or ''}\n{self.stderr_tail()}"
            )
        self.ready_info = msg["ready"]
        return self.ready_info

    # -- Page ------------------------------------------------------------------------------------
    async def run_step(self, name: str, args: Mapping[str, Any], timeout: float) -> dict:
        if not self.alive:
            raise EngineError(f"{self.name}: step {name!r}: {self._gone or 'the node host is not running'}\n{self.stderr_tail()}")
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "step": name, "args": dict(args)}) + "\n"
        try:
            self.proc.stdin.write(line.encode())
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as e:
            self._pending.pop(request_id, None)
            raise EngineError(f"{self.name}: step {name!r}: could not write to the node host: {e!r}\n{self.stderr_tail()}") from e
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(request_id, None)
            raise StepTimeout(f"{self.name}: step {name!r} gave no answer within {timeout:g} s") from None
        except EngineError as e:
            raise EngineError(f"{self.name}: step {name!r} got no answer: {e}") from e

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._driver._pages.discard(self)
        proc = self.proc
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                proc.stdin.close()  # the host exits when its stdin closes
            try:
                await asyncio.wait_for(proc.wait(), 2)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 2)
                except asyncio.TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(self._stdout_task, self._stderr_task), 5)


class NodeDriver(Driver):
    """Nothing runs between pages: start() checks node and TF.js, open() starts one host per page."""

    def __init__(self, spec: EngineSpec, build: Build, *, headed: bool = False):
        super().__init__(spec, build, headed=headed)
        self._node: str | None = None
        self._pages: set[NodePage] = set()
        self._running = False

    async def start(self) -> EngineInfo:
        node = shutil.which(self.build.executable or "node")
        if not node:
            raise EngineError(f"{self.spec.name}: {self.build.executable!r} not found on PATH (apt: nodejs)")
        try:
            proc = await asyncio.create_subprocess_exec(
                node, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(proc.communicate(), 20)
        except (OSError, asyncio.TimeoutError) as e:
            raise EngineError(f"{self.spec.name}: `{node} --version` failed: {e!r}") from e
        version = out.decode().strip()
        if proc.returncode != 0 or not version.startswith("v"):
            raise EngineError(f"{self.spec.name}: `{node} --version` said {version or err.decode().strip()!r}")
        from harness import tfjs

        try:
            tfjs.installed()
        except FileNotFoundError as e:
            raise EngineError(f"{self.spec.name}: {e}") from e
        file_system = tfjs.node_modules_dir() / FILE_SYSTEM_JS
        if not file_system.exists():
            raise EngineError(f"{self.spec.name}: @tensorflow/tfjs-node is not installed ({file_system} missing); "
                              "run `tfjs-conformance setup` (in a checkout: `npm ci`)")
        self._node = node
        self._running = True
        self.info = EngineInfo(engine=self.spec.name, version=version[1:], driver="node", build=self.build.kind, executable=node)
        return self.info

    @property
    def alive(self) -> bool:
        return self._running

    async def open(self, url: str, *, timeout: float, quota: int | None = None, backends: tuple[str, ...] = ()) -> Page:
        """Start a fresh host for the harness page URL `http://HOST:PORT/page?tfjs=VERSION&backend=NAME`.
        Node has no browser storage: a quota is ignored (file:// is the disk's business)."""
        if not self._running:
            raise EngineError(f"{self.spec.name}: the driver is not started")
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        origin = f"{parts.scheme}://{parts.netloc}"
        from harness import backends

        try:
            backend = backends.get(query.get("backend", [backends.DEFAULT])[0])
        except ValueError as e:
            raise EngineError(f"{self.spec.name}: {e}") from None
        wanted_tfjs = query.get("tfjs", [None])[0]
        config = json.dumps({"name": backend.name, "base": backend.base, "flags": dict(backend.flags)})
        command = [self._node, *self.build.args, str(HOST_JS), "--server", origin, "--backend", backend.base,
                   "--backend-config", config]
        if query.get("context"):  # harness.contexts: worker-thread
            command += ["--context", query["context"][0]]
        semver = None
        if wanted_tfjs:
            from harness import tfjs

            try:
                build = tfjs.lookup(wanted_tfjs)
            except KeyError as e:
                raise EngineError(f"{self.spec.name}: {e}") from None
            semver = build.semver
            command += ["--tfjs", build.node_module]
        try:
            from harness import tfjs

            # node_host.js requires TF.js by package name: from wherever it is installed (harness.tfjs), which
            # is not beside the harness's own files once the harness is a wheel in site-packages.
            node_path = os.pathsep.join(filter(None, [str(tfjs.node_modules_dir()), os.environ.get("NODE_PATH")]))
            proc = await asyncio.create_subprocess_exec(
                *command,
                cwd=REPO,
                env={**os.environ, "NODE_PATH": node_path},
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
            )
        except OSError as e:
            raise EngineError(f"{self.spec.name}: could not start {' '.join(command)}: {e!r}") from e
        page = NodePage(self, proc)
        self._pages.add(page)
        try:
            ready = await page.wait_ready(timeout)
            if semver and ready.get("tfjs") != semver:
                raise EngineError(f"{self.spec.name}: {url} asks for TF.js {wanted_tfjs} ({semver}), but Node loaded "
                                  f"{ready.get('tfjs')}")
        except BaseException:
            await page.close()
            raise
        return page

    async def open_sibling(self, page: Page, url: str, *, timeout: float) -> Page:
        """Another host on the same machine: Node's storage (the file system) is shared anyway."""
        return await self.open(url, timeout=timeout)

    async def stop(self) -> None:
        self._running = False
        for page in list(self._pages):
            await page.close()
