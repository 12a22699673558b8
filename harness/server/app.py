"""aiohttp application and its lifecycle (see the package docstring for the routes)."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import ssl
from pathlib import Path
from urllib.parse import quote

from aiohttp import WSMsgType, web

from harness import backends, tfjs
from harness.paths import FIXTURES, JS_DIR
from harness.server.hosting import HostingStore
from harness.server.names import check_name
from harness.server.uploads import Upload, UploadStore, cors
from harness.tfjs import TfjsBuild

# A cross-origin isolated page (SharedArrayBuffer, so the wasm backend's threads) and what its resources say.
ISOLATED = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
ISOLATED_RESOURCE = {"Cross-Origin-Resource-Policy": "same-origin"}
# The page itself may be framed by the other site's isolated page (iframe-cross-site): COEP require-corp
# admits a cross-origin frame only if its document says so (measured: without it Chromium never loaded the
# frame of a wasm row).
ISOLATED_PAGE = {**ISOLATED, "Cross-Origin-Resource-Policy": "cross-origin"}
DEFAULT_MAX_UPLOAD = 1 << 30  # 1 GiB per posted artifact
SECOND_SITE = "127.0.0.2"  # another site on this machine's loopback, for cross-site frames
# What a worker imports after TF.js (harness/js; page.html loads the same in a window, with contexts.js and page.js).
WORKER_SCRIPTS = ("backends.js", "steps.js", "probes.js", "hosting.js", "storage.js", "quota.js", "bench.js", "host.js",
                  "worker_host.js")


def _relays(query) -> bool:
    """Whether a harness page's URL asks for a window that only relays its steps to another context
    (harness.contexts: a worker or frame the window opens; ?frame=1 is such a frame, which runs them)."""
    from harness import contexts

    name = query.get("context", contexts.DEFAULT)
    return not query.get("frame") and name in contexts.CONTEXTS and contexts.get(name).relayed


def _url_host(name: str) -> str:
    return f"[{name}]" if ":" in name else name  # an IPv6 address in a URL


class HarnessServer:
    def __init__(self, tfjs: list[TfjsBuild], *, fixtures: Path = FIXTURES, max_upload: int = DEFAULT_MAX_UPLOAD):
        self.tfjs = {b.version: b for b in tfjs}
        self._bundles: dict[Path, bytes] = {}  # TF.js bundles and maps, read once, served from memory
        self.fixtures = fixtures
        self.max_upload = max_upload
        self._results: dict[str, dict[str, bytes]] = {}
        self._sockets: set[web.WebSocketResponse] = set()  # pages' open /results-ws sockets, closed at stop
        self.uploads = UploadStore(max_upload)
        self.hosting = HostingStore()  # models served as hosting profiles (harness.server.hosting)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.https_url = ""  # the same routes over TLS, with a certificate made at start-up
        self.ca_pem: bytes = b""  # the CA that signed it, for clients that verify
        self.cdn_url = ""  # the same routes on another port: another origin of the page's site, as a CDN is
        self.cross_site_url = ""  # the same routes on another site (a frame of it is a third party), if any
        self.no_cross_site = "the harness server was given a public host: no second loopback site"

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0, *, https: bool = True,
                    public_host: str | None = None) -> "HarnessServer":
        """Listen on `host` (loopback unless told otherwise) at `port` (0: a free one), plus a TLS port.
        Pages are sent to `public_host` (the name a remote browser reaches this machine by; default the
        bound address, or this machine's name when bound to every interface)."""
        app = web.Application(client_max_size=self.max_upload, middlewares=[cors])
        app.add_routes(
            [
                web.get("/page", self._page),
                web.get("/worker.js", self._worker),
                web.get("/clear-site-data", self._clear_site_data),
                web.get("/tfjs/{version}/{file}", self._tfjs),
                web.get("/tfjs/{version}/{backend}/{file}", self._backend_file),
                web.post("/results/{token}/{name}", self._receive),
                web.get("/results-ws", self._receive_ws),
                *self.uploads.routes(),
                *self.hosting.routes(),
                web.static("/js", JS_DIR),
                # the golden zoo, where there is one (a checkout; a wheel's runs load the user's own models)
                *([web.static("/fixtures", self.fixtures)] if self.fixtures.is_dir() else []),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0]
        name = public_host or (socket.gethostname() if host in ("0.0.0.0", "::", "") else bound[0])
        self.url = f"http://{_url_host(name)}:{bound[1]}"
        await web.TCPSite(self._runner, host, 0).start()
        self.cdn_url = f"http://{_url_host(name)}:{self._runner.addresses[-1][1]}"
        if https:
            await web.TCPSite(self._runner, host, 0, ssl_context=self._tls_context(name)).start()
            bound = self._runner.addresses[-1]
            self.https_url = f"https://{_url_host(name)}:{bound[1]}"
        if host == "127.0.0.1" and public_host is None:
            self.cross_site_url = await self._second_site()
        return self

    async def _second_site(self) -> str:
        """The same routes on a second site, for the cross-site frame context (harness.contexts): another
        loopback address (127.0.0.2: for an IP host, the site is the whole address). "" where it cannot be
        bound (the contexts that need it then skip, saying so)."""
        try:
            await web.TCPSite(self._runner, SECOND_SITE, 0).start()
        except OSError as e:
            self.no_cross_site = f"could not listen on {SECOND_SITE}: {e}"
            return ""
        return f"http://{SECOND_SITE}:{self._runner.addresses[-1][1]}"

    def _tls_context(self, host: str) -> ssl.SSLContext:
        """A self-signed CA and a certificate for `host`, made now; engines are told to accept it."""
        import trustme

        ca = trustme.CA()
        self.ca_pem = ca.cert_pem.bytes()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(host).configure_cert(context)
        return context

    async def stop(self) -> None:
        for ws in list(self._sockets):  # else the runner waits for each open page's socket (60 s apiece)
            await ws.close(code=1001, message=b"the harness server is stopping")
        if self._runner:
            await self._runner.cleanup()

    # -- results posted by pages -------------------------------------------------------------
    def expect(self) -> str:
        """Open a slot for one step's artifacts; the page posts to /results/<token>/<name>."""
        token = secrets.token_hex(8)
        self._results[token] = {}
        return token

    def take(self, token: str) -> dict[str, bytes]:
        """Close the slot and return what was posted to it, by name."""
        return self._results.pop(token)

    def parts(self, token: str) -> dict[str, bytes]:
        """What was posted to an open slot so far."""
        return self._results[token]

    def open_upload(self, require: dict[str, str] | None = None) -> Upload:
        """A model-server slot: TF.js saves to /uploads/<token>, loads from /uploads/<token>/<file>."""
        return self.uploads.open(require)

    def fixture_url(self, golden, name: str = "model.json") -> str:
        """The URL of a golden's file; the golden must live under this server's fixtures dir."""
        return f"{self.url}/fixtures/{golden.dir.resolve().relative_to(self.fixtures.resolve()).as_posix()}/{name}"

    def page_url(self, tfjs_version: str, backend: str, context: str = "window") -> str:
        """The harness page on a TF.js build and backend; its steps run in `context` (harness.contexts), on
        the context's site."""
        from harness import contexts

        where = contexts.get(context)
        base = self.cross_site_url if where.site == "second" else self.url
        if not base:
            raise ValueError(f"no second site for a {context} page: {self.no_cross_site}")
        url = f"{base}/page?tfjs={quote(tfjs_version, safe='')}&backend={backend}"
        if where.mode != "ephemeral":  # for the driver: a private or on-disk profile's browser opens it (the page ignores it)
            url += f"&mode={where.mode}"
        return f"{url}&context={context}" if where.relayed else url

    # -- handlers --------------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        """The harness page on one TF.js build and backend. A wasm page is cross-origin isolated (COOP
        same-origin, COEP require-corp), as the wasm backend's threads need SharedArrayBuffer; the page
        says whether the threaded build then ran (its backendInfo step)."""
        version, backend = self._build_and_backend(request)
        config, scripts = self._scripts(version, backend)
        if _relays(request.query):  # its steps run in the worker or frame it opens, on that context's own TF.js
            scripts = []
        html = (JS_DIR / "page.html").read_text()
        html = html.replace("{{TFJS_SCRIPTS}}", "\n".join(f'<script src="{s}"></script>' for s in scripts))
        html = html.replace("{{BACKEND}}", json.dumps(config))
        html = html.replace("{{ORIGINS}}", json.dumps({"crossSite": self.cross_site_url}))
        headers = ISOLATED_PAGE if backend.base == "wasm" else {}
        return web.Response(text=html, content_type="text/html", headers=headers)

    def _build_and_backend(self, request: web.Request) -> tuple[str, backends.Backend]:
        version = request.query.get("tfjs", "")
        if version not in self.tfjs:
            raise web.HTTPNotFound(text=f"no TF.js build {version!r}; this server has {sorted(self.tfjs)}")
        try:
            return version, backends.get(request.query.get("backend", backends.DEFAULT))
        except ValueError as e:
            raise web.HTTPNotFound(text=str(e)) from None

    @staticmethod
    def _scripts(version: str, backend: backends.Backend) -> tuple[dict, list[str]]:
        """The backend record a page or worker starts with, and its scripts: TF.js, then the backend's own bundle."""
        prefix = f"/tfjs/{quote(version, safe='')}"
        config = {"name": backend.name, "base": backend.base, "flags": dict(backend.flags), "wasmPaths": f"{prefix}/wasm/"}
        package = tfjs.BACKEND_PACKAGES.get(backend.base)
        return config, [f"{prefix}/tf.min.js", *([f"{prefix}/{backend.base}/{package[1]}"] if package else [])]

    @staticmethod
    async def _clear_site_data(request: web.Request) -> web.Response:
        """/clear-site-data: a response that tells the engine to clear the origin's storage (the
        Clear-Site-Data header, "storage": localStorage, IndexedDB, Cache Storage, service workers), as a
        site does when it wipes its data, and as the engine's own eviction leaves it (harness.schemes.eviction)."""
        return web.Response(status=204, headers={"Clear-Site-Data": '"storage"', "Cache-Control": "no-store"})

    async def _worker(self, request: web.Request) -> web.Response:
        """/worker.js?tfjs=V&backend=B[&upload=websocket]: a worker's script (dedicated, shared or service:
        harness/js/contexts.js opens it), TF.js and the harness scripts by importScripts, then
        harness/js/worker_host.js. Served at the root, so that a URL relative to it resolves as one relative
        to the page does."""
        version, backend = self._build_and_backend(request)
        config, scripts = self._scripts(version, backend)
        harness = [f"/js/{name}" for name in WORKER_SCRIPTS]
        upload = "websocket" if request.query.get("upload") == "websocket" else "fetch"
        body = (f"self.harnessBackend = {json.dumps(config)};\nself.harnessUpload = {json.dumps(upload)};\n"
                f"importScripts({', '.join(json.dumps(s) for s in scripts + harness)});\n")
        headers = {**ISOLATED, **ISOLATED_RESOURCE} if backend.base == "wasm" else {}
        return web.Response(text=body, content_type="text/javascript", headers={"Cache-Control": "no-store", **headers})

    async def _bundle_bytes(self, path) -> bytes:
        """An immutable file the server hands out (a TF.js or backend bundle, a .wasm), read once; 404 if absent."""
        body = self._bundles.get(path)
        if body is None:
            try:
                body = self._bundles[path] = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                raise web.HTTPNotFound() from None
        return body

    async def _backend_file(self, request: web.Request) -> web.StreamResponse:
        """/tfjs/<build id>/<wasm|webgpu>/<file>: the backend package of the build's TF.js version: its UMD
        bundle, and the wasm binaries (application/wasm, which WebAssembly.instantiateStreaming requires)."""
        build = self.tfjs.get(request.match_info["version"])
        base, name = request.match_info["backend"], request.match_info["file"]
        dist = build.backend_dist(base) if build is not None and base in tfjs.BACKEND_PACKAGES else None
        allowed = dist is not None and (name == tfjs.BACKEND_PACKAGES[base][1] or (base == "wasm" and name.endswith(".wasm")))
        if not allowed or "/" in name:
            raise web.HTTPNotFound(text=f"no {base} backend file {name!r} for TF.js build {request.match_info['version']!r}")
        body = await self._bundle_bytes(dist / name)
        kind = "application/wasm" if name.endswith(".wasm") else "text/javascript"
        return web.Response(body=body, content_type=kind,
                            headers={"Cache-Control": "public, max-age=31536000, immutable", **ISOLATED_RESOURCE})

    async def _tfjs(self, request: web.Request) -> web.StreamResponse:
        """/tfjs/<build id>/tf.min.js: the build's UMD bundle (an npm dist file or a local bundle,
        whatever its file name); /tfjs/<id>/tf.min.js.map: its source map, if it has one."""
        build = self.tfjs.get(request.match_info["version"])
        name = request.match_info["file"]
        if build is None or name not in ("tf.min.js", "tf.min.js.map"):
            raise web.HTTPNotFound()
        path = build.bundle if name == "tf.min.js" else build.bundle.with_name(build.bundle.name + ".map")
        body = await self._bundle_bytes(path)
        # A build id names one immutable file (npm version, or the bundle's SHA-256): cached for good,
        # so a kept browser context fetches and compiles it once (harness.engines.playwright).
        return web.Response(body=body, content_type="text/javascript" if name == "tf.min.js" else "application/json",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    def _slot_for(self, token: str, name: str) -> dict[str, bytes]:
        """The open slot an artifact `name` may go to; raises 404 (no such slot), 400 (a bad name) or 409
        (already posted)."""
        slot = self._results.get(token)
        if slot is None:
            raise web.HTTPNotFound(text=f"no open result slot {token!r}")
        check_name(name)
        if name in slot:
            raise web.HTTPConflict(text=f"artifact {name!r} was already posted for this step")
        return slot

    async def _receive(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        slot = self._slot_for(request.match_info["token"], name)
        slot[name] = await request.read()  # aiohttp answers 413 past client_max_size
        return web.Response(status=204)

    async def _receive_ws(self, request: web.Request) -> web.WebSocketResponse:
        """The same artifacts over one WebSocket per page (a build's `upload = "websocket"`: Firefox under
        WebDriver BiDi observes every HTTP body, and posted 53 MB/s that way against 177 over a WebSocket).
        Per artifact: a text frame {"token", "name", "size"}, then binary frames of `size` bytes in all;
        the server answers each artifact with a text frame {"ok": true}, or {"error": "..."} and closes."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._artifacts_from(ws)
        finally:
            self._sockets.discard(ws)
        return ws

    async def _artifacts_from(self, ws: web.WebSocketResponse) -> None:
        header, chunks, received = None, [], 0
        async for message in ws:
            try:
                if message.type == WSMsgType.TEXT:
                    if header is not None:
                        raise ValueError(f"a new artifact began before {header['name']!r} was complete")
                    header = json.loads(message.data)
                    if not 0 <= header["size"] <= self.max_upload:
                        raise ValueError(f"artifact {header['name']!r} of {header['size']} bytes is over the "
                                         f"{self.max_upload}-byte limit")
                    self._slot_for(header["token"], header["name"])
                elif message.type == WSMsgType.BINARY and header is not None:
                    chunks.append(message.data)
                    received += len(message.data)
                    if received > header["size"]:
                        raise ValueError(f"artifact {header['name']!r}: {received} bytes sent, {header['size']} announced")
                else:
                    raise ValueError(f"unexpected WebSocket message {message.type.name}")
                if header is not None and received == header["size"]:
                    self._slot_for(header["token"], header["name"])[header["name"]] = b"".join(chunks)
                    header, chunks, received = None, [], 0
                    await ws.send_str('{"ok": true}')
            except (web.HTTPException, ValueError, KeyError, TypeError) as e:  # HTTP: what a POST would answer
                why = f"HTTP {e.status}: {e.text}" if isinstance(e, web.HTTPException) else f"{type(e).__name__}: {e}"
                await ws.send_str(json.dumps({"error": why}))
                await ws.close()
