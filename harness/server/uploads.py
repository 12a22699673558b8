"""Model servers for the http(s) schemes: receive TF.js's multipart save, serve files for loads.

Each upload slot is opened by the harness (`UploadStore.open`) and may require a header value
(e.g. `Authorization: Bearer ...`); requests without it get 401, as a real model server would. A slot
may also require query parameters on every URL (`Upload.require_query`: a signed or cache-busted link);
a request without them gets 403.
Every request to a slot is recorded so a scenario can check what TF.js really sent.

Faults, for the negative scenarios (harness/schemes/negative.py), as a broken model server shows them:

* `Upload.publish_fault(name, status, body)`: GET of that file answers `status` with `body` (a plain
  text error page by default) instead of its bytes, e.g. a weight shard answering 500;
* `Upload.refuse_saves(status, body)`: a save (POST/PUT) is read to the end, what it carried is
  recorded (`requests[-1]["parts"]`: field, file name, byte count) and nothing of it is stored: the
  slot answers `status`, like a server failing while it writes the upload;
* `/nocors/uploads/<token>/<name>`: the same files (and faults) served WITHOUT any
  Access-Control-* header (the `cors` middleware only touches paths under /uploads/), for
  cross-origin loads a browser must refuse. There is no preflight route under /nocors/.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from http import HTTPStatus

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from harness.server.names import check_name

# aiohttp drops a leading "/" or "\\" from a quoted filename ("/abs" -> "abs"): look at the header itself.
_ROOTED_FILENAME = re.compile(r'filename\*?\s*=\s*"?[\\/]', re.IGNORECASE)


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

    # status, body: GET of the file answers this instead of its bytes (publish_fault)
    faults: dict[str, tuple[int, bytes]] = dataclasses.field(default_factory=dict)
    save_fault: tuple[int, bytes] | None = None  # a save answers this and stores nothing (refuse_saves)
    # query parameter -> exact value every request's URL must carry (a signed or cache-busted link), else 403
    require_query: dict[str, str] = dataclasses.field(default_factory=dict)

    def request_lines(self, query: bool = False) -> list[str]:
        """Every request this slot saw, one line each: "GET model.json -> 200" (with "?<query>" when asked)."""
        return [f"{r['method']} {r['path'].rsplit('/', 1)[-1]}{'?' + r['query'] if query else ''} -> {r.get('status')}"
                for r in self.requests]

    def publish(self, files: dict[str, bytes]) -> None:
        for name in files:
            check_name(name)
        self.files.update(files)

    def publish_fault(self, name: str, status: int, body: bytes | None = None) -> None:
        """GET of `name` answers `status` with `body` (default: "<status> <reason>"), whether or not
        the file was published."""
        check_name(name)
        self.faults[name] = (status, _error_page(status) if body is None else body)

    def refuse_saves(self, status: int, body: bytes | None = None) -> None:
        """Saves to this slot are read to the end, recorded, and answered `status`; nothing is stored."""
        self.save_fault = (status, _error_page(status) if body is None else body)


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
            web.get("/nocors/uploads/{token}/{name}", self._serve),  # no CORS headers: cross-origin loads fail
            web.options("/uploads/{tail:.*}", self._preflight),
        ]

    def _slot(self, request: web.Request) -> Upload:
        upload = self._slots.get(request.match_info["token"])
        if upload is None:
            raise web.HTTPNotFound(text=f"no open upload slot {request.match_info['token']!r}")
        return upload

    def _authorise(self, upload: Upload, request: web.Request) -> None:
        record = {"method": request.method, "path": request.path, "query": request.query_string,
                  "content_type": request.content_type, "headers": {k: request.headers.get(k) for k in upload.require}}
        upload.requests.append(record)
        for header, value in upload.require.items():
            if request.headers.get(header) != value:
                record["status"] = 401
                raise web.HTTPUnauthorized(text=f"missing or wrong {header} header")
        for name, value in upload.require_query.items():
            if request.query.get(name) != value:
                record["status"] = 403
                raise web.HTTPForbidden(text=f"missing or wrong query parameter {name!r} in {request.path_qs}")
        record["status"] = 200

    async def _receive(self, request: web.Request) -> web.Response:
        upload = self._slot(request)
        self._authorise(upload, request)
        if upload.save_fault is not None:
            return await self._refuse(upload, request)
        if request.content_type != "multipart/form-data":
            raise web.HTTPBadRequest(text=f"expected multipart/form-data, got {request.content_type!r}")
        received: list[Part] = []  # stored only once the whole body is read and every part is good
        total = 0
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                disposition = part.headers.get(hdrs.CONTENT_DISPOSITION, "")
                if not isinstance(part, BodyPartReader) or part.filename is None or _ROOTED_FILENAME.search(disposition):
                    raise web.HTTPBadRequest(text=f"every part must be one file with a plain name; "
                                                  f"got Content-Disposition {disposition!r}")
                check_name(part.filename)
                data = bytearray()
                while chunk := await part.read_chunk():
                    total += len(chunk)
                    if total > self.max_upload:  # counted while reading: a huge part is never held whole
                        raise web.HTTPRequestEntityTooLarge(max_size=self.max_upload, actual_size=total)
                    data += chunk
                received.append(Part(part.name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), bytes(data)))
        except (ValueError, AssertionError, HttpProcessingError) as e:  # aiohttp's parser on malformed bodies
            raise web.HTTPBadRequest(text=f"malformed multipart body: {e}") from e
        if not received:
            raise web.HTTPBadRequest(text="the multipart body has no parts")
        for p in received:
            upload.parts[p.field] = p
            upload.files[p.filename] = p.data
        return web.json_response({"stored": sorted(upload.parts)})

    async def _refuse(self, upload: Upload, request: web.Request) -> web.Response:
        """A save to a slot that refuses saves: read it all, record its parts, store nothing."""
        status, body = upload.save_fault
        record = upload.requests[-1]
        record["status"] = status
        if request.content_type == "multipart/form-data":
            record["parts"] = []
            try:
                reader = await request.multipart()
                while (part := await reader.next()) is not None:
                    data = await part.read()
                    record["parts"].append({"field": part.name, "filename": part.filename, "bytes": len(data)})
            except (ValueError, AssertionError) as e:
                record["parts_error"] = str(e)
        else:
            record["bytes"] = len(await request.read())
        return web.Response(status=status, body=body, content_type="text/plain")

    async def _serve(self, request: web.Request) -> web.Response:
        upload = self._slot(request)
        self._authorise(upload, request)
        name = request.match_info["name"]
        if name in upload.faults:
            status, body = upload.faults[name]
            upload.requests[-1]["status"] = status
            return web.Response(status=status, body=body, content_type="text/plain")
        if name not in upload.files:
            upload.requests[-1]["status"] = 404  # (recorded as answered, like the faults above)
            raise web.HTTPNotFound(text=f"{name!r} was not uploaded; have {sorted(upload.files)}")
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        return web.Response(body=upload.files[name], content_type=content_type)

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204)


def _error_page(status: int) -> bytes:
    """What a plain server sends with an error status: "500 Internal Server Error"."""
    try:
        return f"{status} {HTTPStatus(status).phrase}".encode()
    except ValueError:
        return f"{status} Error".encode()


@web.middleware
async def cors(request: web.Request, handler) -> web.StreamResponse:
    """Model servers are usually another origin than the app: allow what TF.js sends to /uploads."""
    try:
        response = await handler(request)
    except web.HTTPException as e:
        response = e
    if request.path.startswith("/fixtures/") and request.method == "GET":
        # A model on a CDN is read from any site: a cross-site frame's TF.js loads the goldens (harness.contexts).
        response.headers["Access-Control-Allow-Origin"] = "*"
    if request.path.startswith("/uploads/"):
        # A page of another origin that sends credentials ({credentials: 'include'}: a cross-site frame's
        # load-options) gets its origin back, as a credentialed CORS answer must be; others get "*".
        origin = request.headers.get("Origin")
        response.headers["Access-Control-Allow-Origin"] = origin or "*"
        if origin:
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Harness-Key"
    if isinstance(response, web.HTTPException) and response.status >= 400:
        raise response
    return response
