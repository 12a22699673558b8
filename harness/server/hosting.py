"""Hosting profiles: a model's files served the way the real web serves them (CDNs, signed URLs,
redirects, compression, broken responses), for harness.schemes.hosting.

A slot (`HostingStore.open(files)`) publishes one model's files; `Slot.rules` say, per file, how the
server answers (a redirect, an error status, another content type, compression, a throttle, a cut-off
body), and the slot itself what every request needs (a per-file signature, a session cookie, a custom
header) and whether the host is offline. Every request is recorded (`Slot.requests`): what the engine
really sent, and what the server answered.

    GET     /hosted/TOKEN/f/NAME        the file, as the slot's rules serve it
    GET     /hosted/TOKEN/at/NAME       where a redirect leads: the file, served plainly (with CORS)
    GET     /hosted/TOKEN/sign-in       sets the slot's session cookie (Set-Cookie), as a login does
    OPTIONS /hosted/TOKEN/...           a CORS preflight: recorded, answered as the slot allows
    GET     /v0/b/BUCKET/o/OBJECT       a Firebase Storage download URL: OBJECT is "models%2FTOKEN%2FNAME" in
                                        one path segment, with ?alt=media&token=<that file's download token>
    GET     /hosting-sw.js              the service worker that caches the model (harness/js/hosting_sw.js)

CORS: every /hosted/ answer carries Access-Control-Allow-Origin ("*", or the request's origin with
Access-Control-Allow-Credentials for a slot that needs its cookie) unless a rule takes it away. Offline,
a slot's connections are closed unanswered, as a network failure shows itself to fetch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import gzip
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, unquote

from aiohttp import web

from harness.paths import JS_DIR
from harness.server.names import check_name

CHUNK = 64 * 1024  # bytes per write of a chunked or throttled body
COOKIE = "harness-session"
FIREBASE_BUCKET = "harness-models.appspot.com"
FIREBASE_FOLDER = "models"
# S3's answers to a refused presigned URL (application/xml, status 403).
S3_EXPIRED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired'
              b'</Message></Error>')
S3_BAD_SIGNATURE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request '
                    b'signature we calculated does not match the signature you provided.</Message></Error>')
FIREBASE_NOT_FOUND = b'{\n  "error": {\n    "code": 404,\n    "message": "Not Found."\n  }\n}'
FIREBASE_DENIED = b'{\n  "error": {\n    "code": 403,\n    "message": "Permission denied."\n  }\n}'


@dataclasses.dataclass
class Rule:
    """How the server answers for one file (every field optional: none, the file as published)."""

    status: int | None = None  # answer this status with `body` instead of the file...
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    times: int | None = None  # ...for the first `times` requests only (None: always), then serve the file
    redirect: tuple[int, str] | None = None  # (301 | 302 | 307 | 308, "same" | "cross"): where /f/NAME sends to
    serve_as: str | None = None  # the Content-Type the file itself goes with (default: by its name)
    encoding: str | None = None  # "gzip" | "br" | "negotiate" (br if the client accepts it, else gzip): chunked
    rate: int | None = None  # bytes per second the body is sent at
    truncate_at: int | None = None  # announce the whole Content-Length, send this many bytes, close the connection
    cors: bool = True  # False: no Access-Control-* header on this file's answers


@dataclasses.dataclass
class Slot:
    token: str
    files: dict[str, bytes]
    rules: dict[str, Rule] = dataclasses.field(default_factory=dict)
    requests: list[dict] = dataclasses.field(default_factory=list)
    signed: bool = False  # every /f/ request needs its own file's signature (`sign`)
    cookie: str | None = None  # the session cookie value every /f/ request needs (set by /sign-in)
    allow_headers: tuple[str, ...] = ()  # request headers a preflight allows (beyond the CORS-safelisted)
    require_header: tuple[str, str] | None = None  # (name, value) every /f/ request must carry
    offline: bool = False
    cross_url: str = ""  # the origin a "cross" redirect sends to
    download_tokens: dict[str, str] = dataclasses.field(default_factory=dict)  # Firebase: per file
    _secret: bytes = dataclasses.field(default_factory=lambda: secrets.token_bytes(16))
    _served: dict[str, int] = dataclasses.field(default_factory=dict)  # requests per file so far (Rule.times)

    def reset_counts(self) -> None:
        """Count requests afresh (a Rule with `times` applies to the next ones again)."""
        self._served.clear()

    def path(self, name: str) -> str:
        return f"/hosted/{self.token}/f/{name}"

    # -- signed URLs (S3 style) -----------------------------------------------------------------
    def sign(self, name: str, *, expires_s: int = 900, issued: datetime.datetime | None = None) -> str:
        """The query string of a presigned URL for one file: valid for `expires_s` from `issued` (default
        now), for that file's path only."""
        issued = issued or datetime.datetime.now(datetime.timezone.utc)
        date = issued.strftime("%Y%m%dT%H%M%SZ")
        return (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires={expires_s}"
                f"&X-Amz-SignedHeaders=host&X-Amz-Signature={self._signature(name, date, str(expires_s))}")

    def _signature(self, name: str, date: str, expires: str) -> str:
        return hmac.new(self._secret, f"{self.path(name)}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def check_signature(self, name: str, query) -> bytes | None:
        """None if the request's query signs this file and has not expired; else S3's error body."""
        date, expires, given = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", ""), query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(given.encode(), self._signature(name, date, expires).encode()):
            return S3_BAD_SIGNATURE
        issued = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if issued.timestamp() + int(expires) < time.time():
            return S3_EXPIRED
        return None

    # -- Firebase Storage ------------------------------------------------------------------------
    def firebase_path(self, name: str) -> str:
        """The path of a file's Firebase download URL: the object's path %2F-encoded in one segment."""
        return f"/v0/b/{FIREBASE_BUCKET}/o/{quote(f'{FIREBASE_FOLDER}/{self.token}/{name}', safe='')}"

    def firebase_query(self, name: str) -> str:
        token = self.download_tokens.setdefault(name, secrets.token_hex(16))
        return f"alt=media&token={token}"


class HostingStore:
    def __init__(self) -> None:
        self._slots: dict[str, Slot] = {}

    def open(self, files: dict[str, bytes], **options) -> Slot:
        for name in files:
            check_name(name)
        slot = Slot(secrets.token_hex(8), dict(files), **options)
        self._slots[slot.token] = slot
        return slot

    def close(self, token: str) -> None:
        self._slots.pop(token, None)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/hosted/{token}/f/{name}", self._file),
            web.get("/hosted/{token}/at/{name}", self._redirected),
            web.get("/hosted/{token}/sign-in", self._sign_in),
            web.options("/hosted/{token}/{tail:.*}", self._preflight),
            web.get("/v0/b/{bucket}/o/{object:.+}", self._firebase),
            web.get("/hosting-sw.js", self._service_worker),
        ]

    # -- handlers --------------------------------------------------------------------------------
    def _slot(self, request: web.Request, token: str | None = None) -> tuple[Slot, dict]:
        token = request.match_info.get("token", "") if token is None else token
        slot = self._slots.get(token)
        if slot is None:
            raise web.HTTPNotFound(text=f"no hosted model {token!r}")
        entry = {"method": request.method, "path": request.path, "query": request.query_string,
                 "origin": request.headers.get("Origin"), "accept_encoding": request.headers.get("Accept-Encoding"),
                 "cookie": COOKIE in request.cookies, "status": None}
        if slot.require_header:
            entry["header"] = request.headers.get(slot.require_header[0])
        slot.requests.append(entry)
        return slot, entry

    async def _file(self, request: web.Request) -> web.StreamResponse:
        slot, entry = self._slot(request)
        name = check_name(request.match_info["name"])
        return await self._answer(request, slot, entry, name, signed_query=request.query)

    async def _redirected(self, request: web.Request) -> web.StreamResponse:
        slot, entry = self._slot(request)
        name = check_name(request.match_info["name"])
        entry["redirected"] = True
        return await self._answer(request, slot, entry, name, follow=False)

    async def _firebase(self, request: web.Request) -> web.StreamResponse:
        """A Firebase Storage download URL. The object's path must be %2F-encoded in the one segment (the
        raw path is read: aiohttp's own has it decoded), and carry alt=media and that object's token."""
        raw = request.raw_path.split("?", 1)[0]
        prefix = f"/v0/b/{request.match_info['bucket']}/o/"
        encoded = raw[len(prefix):] if raw.startswith(prefix) else ""
        folder, _, rest = unquote(encoded).partition("/")
        token, _, name = rest.partition("/")
        slot = self._slots.get(token) if "/" not in encoded and folder == FIREBASE_FOLDER else None
        if slot is None or request.match_info["bucket"] != FIREBASE_BUCKET or name not in slot.files:
            if slot is not None:
                slot.requests.append({"method": "GET", "path": raw, "query": request.query_string,
                                      "origin": request.headers.get("Origin"), "status": 404})
            return self._cors(request, slot, None, web.Response(status=404, body=FIREBASE_NOT_FOUND,
                                                                 content_type="application/json"))
        slot, entry = self._slot(request, token)
        entry["path"] = raw
        if request.query.get("alt") != "media" or request.query.get("token") != slot.download_tokens.get(name):
            entry["status"] = 403
            return self._cors(request, slot, name, web.Response(status=403, body=FIREBASE_DENIED,
                                                                 content_type="application/json"))
        return await self._answer(request, slot, entry, name)

    async def _sign_in(self, request: web.Request) -> web.Response:
        """A login: sets the slot's session cookie for its paths (SameSite=Lax: sent to any origin of the site)."""
        slot, entry = self._slot(request)
        slot.cookie = slot.cookie or secrets.token_hex(8)
        entry["status"] = 204
        response = web.Response(status=204)
        response.set_cookie(COOKIE, slot.cookie, path=f"/hosted/{slot.token}/", httponly=True, samesite="Lax")
        return self._cors(request, slot, None, response)

    async def _preflight(self, request: web.Request) -> web.Response:
        slot, entry = self._slot(request)
        entry["requested_headers"] = request.headers.get("Access-Control-Request-Headers")
        entry["status"] = 204
        response = web.Response(status=204)
        if slot.allow_headers:
            response.headers["Access-Control-Allow-Headers"] = ", ".join(slot.allow_headers)
        response.headers["Access-Control-Allow-Methods"] = "GET"
        return self._cors(request, slot, None, response)

    @staticmethod
    async def _service_worker(request: web.Request) -> web.Response:
        """Served at the root, so that its scope may be the whole origin (the harness page is /page)."""
        return web.Response(body=(JS_DIR / "hosting_sw.js").read_bytes(), content_type="text/javascript",
                            headers={"Cache-Control": "no-store"})

    # -- answering -------------------------------------------------------------------------------
    def _cors(self, request: web.Request, slot: Slot | None, name: str | None, response: web.StreamResponse):
        rule = slot.rules.get(name) if slot is not None and name else None
        if rule is not None and not rule.cors:
            return response
        origin = request.headers.get("Origin")
        if slot is not None and slot.cookie is not None and origin:  # a credentialed request needs its origin back
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        else:
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    async def _answer(self, request: web.Request, slot: Slot, entry: dict, name: str, *, follow: bool = True,
                      signed_query=None) -> web.StreamResponse:
        if slot.offline:
            entry["status"] = "connection closed (offline)"
            request.transport.close()
            raise asyncio.CancelledError  # nothing is answered: to fetch, the host is unreachable
        refusal = self._refusal(slot, name, request, signed_query if follow else None)
        if refusal is not None:
            entry["status"] = refusal.status
            return self._cors(request, slot, name, refusal)
        if name not in slot.files:
            entry["status"] = 404
            return self._cors(request, slot, name, web.Response(status=404, text=f"no file {name!r}"))
        rule = slot.rules.get(name) or Rule()
        served = slot._served[name] = slot._served.get(name, 0) + 1
        if follow and rule.status is not None and (rule.times is None or served <= rule.times):
            entry["status"] = rule.status
            return self._cors(request, slot, name, web.Response(status=rule.status, body=rule.body,
                                                                 content_type=rule.content_type, headers=rule.headers))
        if follow and rule.redirect is not None:
            code, where = rule.redirect
            base = slot.cross_url if where == "cross" else ""
            entry["status"], entry["location"] = code, f"{base}/hosted/{slot.token}/at/{name}"
            response = web.Response(status=code, headers={"Location": entry["location"]})
            return self._cors(request, slot, name, response)
        entry["status"] = 200
        return await self._body(request, slot, entry, name, rule)

    @staticmethod
    def _refusal(slot: Slot, name: str, request: web.Request, signed_query) -> web.Response | None:
        """What a request lacking the slot's signature, cookie or header gets (None: it has them)."""
        if signed_query is not None and slot.signed:
            why = slot.check_signature(name, signed_query)
            if why is not None:
                return web.Response(status=403, body=why, content_type="application/xml")
        if slot.cookie is not None and request.cookies.get(COOKIE) != slot.cookie:
            return web.Response(status=401, text="sign in first: no session cookie")
        if slot.require_header and request.headers.get(slot.require_header[0]) != slot.require_header[1]:
            return web.Response(status=401, text=f"missing or wrong {slot.require_header[0]} header")
        return None

    async def _body(self, request: web.Request, slot: Slot, entry: dict, name: str, rule: Rule) -> web.StreamResponse:
        data = slot.files[name]
        content_type = rule.serve_as or ("application/json" if name.endswith(".json") else "application/octet-stream")
        response = web.StreamResponse(headers={"Content-Type": content_type, "Cache-Control": "no-cache"})
        self._cors(request, slot, name, response)
        encoding = rule.encoding
        if encoding == "negotiate":
            encoding = "br" if "br" in (request.headers.get("Accept-Encoding") or "") else "gzip"
        if encoding:
            data = gzip.compress(data) if encoding == "gzip" else _brotli(data)
            response.headers["Content-Encoding"] = encoding
            response.enable_chunked_encoding()  # no Content-Length: as a CDN streams what it compresses
            entry["encoding"] = encoding
        else:
            response.content_length = len(data)
        await response.prepare(request)
        sent = data if rule.truncate_at is None else data[:rule.truncate_at]
        started = time.monotonic()
        step = max(1024, min(CHUNK, rule.rate // 20)) if rule.rate else CHUNK
        for offset in range(0, len(sent), step):
            chunk = sent[offset:offset + step]
            if rule.rate:  # each chunk leaves when the link would have carried it, and the bytes before it
                await asyncio.sleep(max(0.0, (offset + len(chunk)) / rule.rate - (time.monotonic() - started)))
            await response.write(chunk)
        entry["bytes_sent"] = len(sent)
        entry["send_s"] = round(time.monotonic() - started, 3)
        if rule.truncate_at is not None:
            entry["status"] = f"200, closed after {len(sent)} of {len(data)} bytes"
            request.transport.close()  # mid-body: the Content-Length announced is never reached
            return response
        await response.write_eof()
        return response


def _brotli(data: bytes) -> bytes:
    import brotli

    return brotli.compress(data, quality=5)
