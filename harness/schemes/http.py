"""`http://` and `https://` (a model server), and `tf.io.browserHTTPRequest` with headers.

save: TF.js POSTs multipart/form-data with parts `model.json` (application/json) and
`model.weights.bin` (application/octet-stream) (tfjs-core/src/io/http.ts); the harness server
stores them and serves them back for the load.
"""

from __future__ import annotations

import json
import secrets

from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip
from harness.schemes.base import Scheme
from harness.server.uploads import Upload

PARTS = {"model.json": "application/json", "model.weights.bin": "application/octet-stream"}


def check_upload(trip: Trip, upload: Upload) -> list[Difference]:
    """The multipart parts of a TF.js http save: names, file names, types, content."""
    out = []
    if set(upload.parts) != set(PARTS):
        return [Difference("upload", "parts", f"expected {sorted(PARTS)}, got {sorted(upload.parts)}")]
    for field, content_type in PARTS.items():
        part = upload.parts[field]
        if part.filename != field:
            out.append(Difference("upload", field, f"file name {part.filename!r}, expected {field!r}"))
        if (part.content_type or "").split(";")[0] != content_type:
            out.append(Difference("upload", field, f"content type {part.content_type!r}, expected {content_type!r}"))
    try:
        model_json = json.loads(upload.parts["model.json"].data)
    except ValueError as e:
        return out + [Difference("upload", "model.json", f"not JSON: {e}")]
    weights = upload.parts["model.weights.bin"].data
    return out + trip.want.check_model_json("upload", model_json, weights, ["./model.weights.bin"])


class Http(Scheme):
    name = "http"
    hosts = ("browser", "node")

    def base(self, trip: Trip) -> str:
        return trip.server.url

    def upload(self, trip: Trip) -> Upload:
        if "upload" not in trip.state:
            trip.state["upload"] = trip.server.open_upload()
        return trip.state["upload"]

    def save_target(self, trip: Trip) -> dict:
        return {"kind": "url", "url": f"{self.base(trip)}/uploads/{self.upload(trip).token}"}

    def load_source(self, trip: Trip) -> dict:
        return {"kind": "url", "url": f"{self.base(trip)}/uploads/{self.upload(trip).token}/model.json"}

    async def after_save(self, trip: Trip, save_result: dict) -> list[Difference]:
        return check_upload(trip, self.upload(trip))


class Https(Http):
    """The same over TLS with a self-signed certificate made at start-up (engines accept it)."""

    name = "https"
    hosts = ("browser",)

    def base(self, trip: Trip) -> str:
        return trip.server.https_url


class BrowserHTTPRequest(Scheme):
    """`tf.io.browserHTTPRequest` with a PUT and an Authorization header, as the TF.js guide writes it
    (`{method: 'PUT', headers: {...}}`) and as the API documents it (`{requestInit: {method, headers}}`);
    `requestInit` headers plus `weightPathPrefix`, `weightUrlConverter` and `onProgress` for load. The
    server answers 401 to requests without the header and TF.js must surface that as an error."""

    name = "browser-http-request"

    async def run(self, trip: Trip) -> list[Difference]:
        secret = {"Authorization": f"Bearer {secrets.token_hex(8)}"}
        out = await self._guide_form(trip, secret)
        upload = trip.server.open_upload(require=secret)
        url = f"{trip.server.url}/uploads/{upload.token}"
        out += await self._expect_401(trip, "save without the header",
                                     trip.save({"kind": "browserHTTPRequest", "url": url,
                                                "options": {"requestInit": {"method": "PUT"}}}))
        saved = await trip.save({"kind": "browserHTTPRequest", "url": url,
                                 "options": {"requestInit": {"method": "PUT", "headers": secret}}})
        out += trip.check_save_result(saved)
        methods = [r["method"] for r in upload.requests if r["status"] == 200]
        if methods != ["PUT"]:
            out.append(Difference("upload", "method", f"expected one authorised PUT, got {methods}"))
        out += check_upload(trip, upload)
        model_url = f"{url}/model.json"
        out += await self._expect_401(trip, "load without the header",
                                      trip.load({"kind": "browserHTTPRequest", "url": model_url}, prefix="unauthorised."))
        # requestInit headers, weightPathPrefix and onProgress
        prefixed = f"{url}/prefixed/"
        result = await trip.load({"kind": "browserHTTPRequest", "url": model_url, "recordProgress": True,
                                  "options": {"requestInit": {"headers": secret}, "weightPathPrefix": prefixed}})
        out += trip.check_loaded(result)
        out += self._check_progress(result.get("progress", []))
        trip.observed["onProgress"] = result.get("progress")
        out += self._check_fetched(upload, prefixed, "weightPathPrefix")
        # weightUrlConverter
        upload.requests.clear()
        result = await trip.load({"kind": "browserHTTPRequest", "url": model_url, "weightUrlPrefix": prefixed,
                                  "options": {"requestInit": {"headers": secret}}}, prefix="converter.")
        out += trip.check_loaded(result, prefix="converter.")
        if result.get("convertedWeightUrls") != ["./model.weights.bin"] and result.get("convertedWeightUrls") != ["model.weights.bin"]:
            out.append(Difference("weightUrlConverter", "calls", f"called with {result.get('convertedWeightUrls')!r}"))
        out += self._check_fetched(upload, prefixed, "weightUrlConverter")
        trip.observed["weightUrlConverter"] = result.get("convertedWeightUrls")
        return out

    @staticmethod
    async def _guide_form(trip: Trip, secret: dict) -> list[Difference]:
        """The save exactly as the "Save and load models" guide shows it."""
        upload = trip.server.open_upload(require=secret)
        target = {"kind": "browserHTTPRequest", "url": f"{trip.server.url}/uploads/{upload.token}",
                  "options": {"method": "PUT", "headers": secret}}
        try:
            saved = await trip.save(target)
        except TfjsError as e:
            seen = [{k: r[k] for k in ("method", "status", "headers")} for r in upload.requests]
            trip.observed["guideForm"] = {"error": str(e), "requests": seen}
            return [Difference("guide-form", "save", f"tf.io.browserHTTPRequest(url, {{method: 'PUT', headers}}) "
                               f"as the guide writes it failed: {e}; the server saw {seen}")]
        return trip.check_save_result(saved, "guide-form") + check_upload(trip, upload)

    @staticmethod
    async def _expect_401(trip: Trip, what: str, call) -> list[Difference]:
        try:
            await call
        except TfjsError as e:
            if "401" in str(e):
                return []
            return [Difference("auth", what, f"failed, but without naming HTTP 401: {e}")]
        return [Difference("auth", what, "succeeded although the server answered 401")]

    @staticmethod
    def _check_progress(progress: list) -> list[Difference]:
        if not progress:
            return [Difference("onProgress", "calls", "never called")]
        if any(b < a for a, b in zip(progress, progress[1:])) or progress[-1] != 1:
            return [Difference("onProgress", "values", f"not monotonic ending at 1: {progress}")]
        return []

    @staticmethod
    def _check_fetched(upload: Upload, prefix: str, how: str) -> list[Difference]:
        fetched = [r["path"] for r in upload.requests if r["method"] == "GET" and r["status"] == 200]
        if not any(p.endswith("/prefixed/model.weights.bin") for p in fetched):
            return [Difference(how, "weights URL", f"weights were not fetched from {prefix}: GETs {fetched}")]
        return []
