"""Model servers for the http(s) schemes: receive TF.js's multipart save, serve files for loads.

Each upload slot is opened by the harness (`UploadStore.open`) and may require a header value
(e.g. `Authorization: Bearer ...`); requests without it get 401, as a real model server would.
Every request to a slot is recorded so a scenario can check what TF.js really sent.
"""

from __future__ import annotations

import dataclasses
import secrets

from aiohttp import web

from harness.server.names import check_name


@dataclasses.dataclass(frozen=True)
class Part:
    field: str  # the multipart form field name
    filename: str | None
    content_type: str | None
    data: bytes


@dataclasses.dataclass
class Upload:
    token: str
    require: dict[str, str]  # header -> exact value every request must carry
    parts: dict[str, Part] = dataclasses.field(default_factory=dict)  # by field name
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)  # served by GET, by file name
    requests: list[dict] = dataclasses.field(default_factory=list)  # method, path, content type, status

    def publish(self, files: dict[str, bytes]) -> None:
        for name in files:
            check_name(name)
        self.files.update(files)


class UploadStore:
    def __init__(self, max_upload: int):
        self.max_upload = max_upload
        self._slots: dict[str, Upload] = {}

    def open(self, require: dict[str, str] | None = None) -> Upload:
        upload = Upload(secrets.token_hex(8), dict(require or {}))
        self._slots[upload.token] = upload
        return upload

    def close(self, token: str) -> None:
        self._slots.pop(token, None)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/uploads/{token}", self._receive),
            web.put("/uploads/{token}", self._receive),
            web.get("/uploads/{token}/{name}", self._serve),
            web.get("/uploads/{token}/prefixed/{name}", self._serve),  # for weightPathPrefix loads
            web.options("/uploads/{tail:.*}", self._preflight),
        ]

    def _slot(self, request: web.Request) -> Upload:
        upload = self._slots.get(request.match_info["token"])
        if upload is None:
            raise web.HTTPNotFound(text=f"no open upload slot {request.match_info['token']!r}")
        return upload

    def _authorise(self, upload: Upload, request: web.Request) -> None:
        record = {"method": request.method, "path": request.path, "content_type": request.content_type,
                  "headers": {k: request.headers.get(k) for k in upload.require}}
        upload.requests.append(record)
        for header, value in upload.require.items():
            if request.headers.get(header) != value:
                record["status"] = 401
                raise web.HTTPUnauthorized(text=f"missing or wrong {header} header")
        record["status"] = 200

    async def _receive(self, request: web.Request) -> web.Response:
        upload = self._slot(request)
        self._authorise(upload, request)
        if request.content_type != "multipart/form-data":
            raise web.HTTPBadRequest(text=f"expected multipart/form-data, got {request.content_type!r}")
        try:
            reader = await request.multipart()
            total = 0
            while (part := await reader.next()) is not None:
                data = await part.read()
                total += len(data)
                if total > self.max_upload:
                    raise web.HTTPRequestEntityTooLarge(max_size=self.max_upload, actual_size=total)
                if part.filename is not None:
                    check_name(part.filename)
                upload.parts[part.name] = Part(part.name, part.filename, part.headers.get("Content-Type"), bytes(data))
                if part.filename:
                    upload.files[part.filename] = bytes(data)
        except (ValueError, AssertionError) as e:  # aiohttp's parser on malformed bodies
            raise web.HTTPBadRequest(text=f"malformed multipart body: {e}") from e
        return web.json_response({"stored": sorted(upload.parts)})

    async def _serve(self, request: web.Request) -> web.Response:
        upload = self._slot(request)
        self._authorise(upload, request)
        name = request.match_info["name"]
        if name not in upload.files:
            raise web.HTTPNotFound(text=f"{name!r} was not uploaded; have {sorted(upload.files)}")
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        return web.Response(body=upload.files[name], content_type=content_type)

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204)


@web.middleware
async def cors(request: web.Request, handler) -> web.StreamResponse:
    """Model servers are usually another origin than the app: allow what TF.js sends to /uploads."""
    try:
        response = await handler(request)
    except web.HTTPException as e:
        response = e
    if request.path.startswith("/uploads/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    if isinstance(response, web.HTTPException) and response.status >= 400:
        raise response
    return response
