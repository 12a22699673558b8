"""aiohttp application and its lifecycle (see the package docstring for the routes)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from aiohttp import web

from harness.config import JS_DIR, REPO
from harness.tfjs import TfjsBuild

FIXTURES = REPO / "fixtures"
DEFAULT_MAX_UPLOAD = 1 << 30  # 1 GiB per posted artifact
# An artifact name is one plain file name: no path components, no dot-files.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class HarnessServer:
    def __init__(self, tfjs: list[TfjsBuild], *, fixtures: Path = FIXTURES, max_upload: int = DEFAULT_MAX_UPLOAD):
        self.tfjs = {b.version: b for b in tfjs}
        self.fixtures = fixtures
        self.max_upload = max_upload
        self._results: dict[str, dict[str, bytes]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "HarnessServer":
        app = web.Application(client_max_size=self.max_upload)
        app.add_routes(
            [
                web.get("/page", self._page),
                web.get("/tfjs/{version}/{file}", self._tfjs),
                web.post("/results/{token}/{name}", self._receive),
                web.static("/js", JS_DIR),
                web.static("/fixtures", self.fixtures),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self

    async def stop(self) -> None:
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

    def page_url(self, tfjs_version: str, backend: str) -> str:
        return f"{self.url}/page?tfjs={tfjs_version}&backend={backend}"

    # -- handlers --------------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        version = request.query.get("tfjs", "")
        if version not in self.tfjs:
            raise web.HTTPNotFound(text=f"no TF.js build {version!r}; this server has {sorted(self.tfjs)}")
        html = (JS_DIR / "page.html").read_text().replace("{{TFJS}}", f"/tfjs/{version}/tf.min.js")
        return web.Response(text=html, content_type="text/html")

    async def _tfjs(self, request: web.Request) -> web.StreamResponse:
        build = self.tfjs.get(request.match_info["version"])
        name = request.match_info["file"]
        if build is None or name not in ("tf.min.js", "tf.js", "tf.min.js.map", "tf.js.map"):
            raise web.HTTPNotFound()
        return web.FileResponse(build.dist / name)

    async def _receive(self, request: web.Request) -> web.Response:
        token, name = request.match_info["token"], request.match_info["name"]
        slot = self._results.get(token)
        if slot is None:
            raise web.HTTPNotFound(text=f"no open result slot {token!r}")
        if not _NAME.match(name):
            raise web.HTTPBadRequest(text=f"bad artifact name {name!r}: one plain file name expected")
        if name in slot:
            raise web.HTTPConflict(text=f"artifact {name!r} was already posted for this step")
        slot[name] = await request.read()  # aiohttp answers 413 past client_max_size
        return web.Response(status=204)
