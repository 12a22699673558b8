"""`http://` and `https://` (a model server), and `tf.io.browserHTTPRequest` with headers.

save: TF.js POSTs multipart/form-data with parts `model.json` (application/json) and
`model.weights.bin` (application/octet-stream) (tfjs-core/src/io/http.ts); the harness server
stores them and serves them back for the load.
"""

from __future__ import annotations

import json
import re
import secrets

from harness.schemes.base import Scheme
from harness.server.uploads import Upload
from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip

PARTS = {"model.json": "application/json", "model.weights.bin": "application/octet-stream"}
# How TF.js names an HTTP status in its errors (tfjs-core/src/io/http.ts, tfjs-v4.22.0 L126-L146):
# save: "BrowserHTTPRequest.save() failed due to HTTP response status 401."; load: "Request to URL
# failed with status code 401. Please verify this URL points to the model JSON of the model to load."
_STATUS = re.compile(r"\bstatus(?: code)? (\d{3})\b")


def named_statuses(message: str) -> list[int]:
    """The HTTP statuses a TF.js error message names ("status 401", "status code 404"), as numbers."""
    return [int(s) for s in _STATUS.findall(message)]


def check_upload(trip: Trip, upload: Upload) -> list[Difference]:
    """The multipart parts of a TF.js http save: names, file names, types, content."""
    out = []
    if set(upload.parts) != set(PARTS):
        return [Difference("upload", "parts", f"expected {sorted(PARTS)}, got {sorted(upload.parts)}",
                           expected=sorted(PARTS), actual=sorted(upload.parts))]
    for field, content_type in PARTS.items():
        part = upload.parts[field]
        if part.filename != field:
            out.append(Difference("upload", f"{field}.filename", f"file name {part.filename!r}, expected {field!r}",
                                  expected=field, actual=part.filename))
        if (part.content_type or "").split(";")[0] != content_type:
            out.append(Difference("upload", f"{field}.content-type", f"content type {part.content_type!r}, expected "
                                  f"{content_type!r}", expected=content_type, actual=part.content_type))
    try:
        model_json = json.loads(upload.parts["model.json"].data)
    except ValueError as e:
        return out + [Difference("upload", "model.json", f"not JSON: {e}")]
    weights = upload.parts["model.weights.bin"].data
    return out + trip.want.check_model_json("upload", model_json, weights, ["./model.weights.bin"])


class Http(Scheme):
    name = "http"
    crosses_contexts = True
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
        """The multipart parts, sent in one request whose method is TF.js's default, POST (http_test.ts
        'Save topology and weights, default POST method': one call, init.method 'POST')."""
        upload = self.upload(trip)
        saves = [r["method"] for r in upload.requests if r["method"] != "GET"]
        out = [] if saves == ["POST"] else [Difference("upload", "method", f"expected one POST, the server saw {saves}",
                                                       expected=["POST"], actual=saves)]
        return out + check_upload(trip, upload)


class Https(Http):
    """The same over TLS with a self-signed certificate made at start-up (engines accept it)."""

    name = "https"
    crosses_contexts = False  # a variant of http's fetch path: http's rows cross contexts
    hosts = ("browser",)

    def base(self, trip: Trip) -> str:
        return trip.server.https_url


class HttpQuery(Http):
    """http:// with a query string on the model's URL, as signed and cache-busted links carry one: the
    model server answers 403 to any request without it. http_test.ts 'should parse url with suffix':
    the weight URLs are the model.json URL's prefix + path + its `?` suffix, so every weight request
    must carry the query. The row saves to `/uploads/<t>?<query>` and loads that back, then loads the
    golden's own files (every shard of every group, as published) from a second slot with its own query;
    the server's record of every request is checked too (`observed.requests`)."""

    name = "http-query"
    crosses_contexts = False  # a variant of http's fetch path: http's rows cross contexts
    models = ("mlp", "graph", "split-weights")  # its subject is the URL: one weights file, and seven in three groups

    def query(self, upload: Upload) -> str:
        if not upload.require_query:
            upload.require_query.update({"v": "20261202", "token": secrets.token_hex(8)})
        return "&".join(f"{k}={v}" for k, v in upload.require_query.items())

    def save_target(self, trip: Trip) -> dict:
        return {"kind": "url", "url": f"{super().save_target(trip)['url']}?{self.query(self.upload(trip))}"}

    def load_source(self, trip: Trip) -> dict:
        return {"kind": "url", "url": f"{super().load_source(trip)['url']}?{self.query(self.upload(trip))}"}

    async def run(self, trip: Trip) -> list[Difference]:
        out = await super().run(trip)
        slots = {"saved": self.upload(trip)}
        files = trip.golden.files()
        if len(files) > 1:  # a model with weight files
            golden = slots["golden-files"] = trip.server.open_upload()
            golden.publish(files)
            url = f"{self.base(trip)}/uploads/{golden.token}/model.json?{self.query(golden)}"
            out += await trip.load_and_check({"kind": "url", "url": url}, prefix="golden-files.")
        trip.observed["requests"] = {}
        for label, upload in slots.items():
            query = self.query(upload)
            trip.observed["requests"][label] = upload.request_lines(query=True)
            bare = [r["path"] for r in upload.requests if r["query"] != query]
            if bare:
                out.append(Difference("query", label, f"requests without the model URL's query ?{query}: {bare}",
                                      expected=query, actual=bare))
            fetched = {r["path"].rsplit("/", 1)[-1] for r in upload.requests if r["method"] == "GET"}
            wanted = set(files) if label == "golden-files" else {"model.json", "model.weights.bin"}
            if trip.want.weight_data and not wanted <= fetched:
                out.append(Difference("query", label, f"not fetched: {sorted(wanted - fetched)} (GETs {sorted(fetched)})",
                                      expected=sorted(wanted), actual=sorted(fetched)))
        return out


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
        out += await self._expect_401(trip, "save without the header", upload,
                                      trip.save({"kind": "browserHTTPRequest", "url": url,
                                                 "options": {"requestInit": {"method": "PUT"}}}))
        upload.requests.clear()
        saved, diffs = await trip.save_and_check({"kind": "browserHTTPRequest", "url": url,
                                                  "options": {"requestInit": {"method": "PUT", "headers": secret}}},
                                                 "save-result")
        out += diffs
        if saved is None:  # nothing on the server to load
            return out
        methods = [r["method"] for r in upload.requests if r["status"] == 200]
        if methods != ["PUT"]:
            out.append(Difference("upload", "method", f"expected one authorised PUT, got {methods}",
                                  expected=["PUT"], actual=methods))
        out += check_upload(trip, upload)
        model_url = f"{url}/model.json"
        upload.requests.clear()
        out += await self._expect_401(trip, "load without the header", upload,
                                      trip.load({"kind": "browserHTTPRequest", "url": model_url}, prefix="unauthorised."))
        # requestInit headers, weightPathPrefix and onProgress
        prefixed = f"{url}/prefixed/"
        upload.requests.clear()
        try:
            result = await trip.load({"kind": "browserHTTPRequest", "url": model_url, "recordProgress": True,
                                      "options": {"requestInit": {"headers": secret}, "weightPathPrefix": prefixed}})
        except TfjsError as e:
            out.append(e.difference())
        else:
            out += trip.check_loaded(result)
            out += self._check_progress(result.get("progress", []))
            trip.observed["onProgress"] = result.get("progress")
            out += self._check_fetched(upload, prefixed, "weightPathPrefix")
        # weightUrlConverter
        upload.requests.clear()
        try:
            result = await trip.load({"kind": "browserHTTPRequest", "url": model_url, "weightUrlPrefix": prefixed,
                                      "options": {"requestInit": {"headers": secret}}}, prefix="converter.")
        except TfjsError as e:
            return out + [e.difference("converter.")]
        out += trip.check_loaded(result, prefix="converter.")
        calls = result.get("convertedWeightUrls")
        if calls not in (["./model.weights.bin"], ["model.weights.bin"]):
            out.append(Difference("weightUrlConverter", "calls", f"called with {calls!r}",
                                  expected=["model.weights.bin"], actual=calls))
        out += self._check_fetched(upload, prefixed, "weightUrlConverter")
        trip.observed["weightUrlConverter"] = calls
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
                               f"as the guide writes it failed: {e}; the server saw {seen}",
                               expected="one authorised PUT", actual=[f"{r['method']} -> {r['status']}" for r in seen])]
        return trip.check_save_result(saved, "guide-form") + check_upload(trip, upload)

    @staticmethod
    async def _expect_401(trip: Trip, what: str, upload: Upload, call) -> list[Difference]:
        """The server answers 401 (it records the status it sent); TF.js must reject, naming that status
        as a status ("status 401", "status code 401"), not as any "401" in the text (a port, a token)."""
        try:
            await call
        except TfjsError as e:
            answered = [r["status"] for r in upload.requests]
            if 401 not in answered:
                return [Difference("auth", what, f"the server never answered 401 (it answered {answered}): the "
                                   f"request failed before reaching it: {e}", expected=[401], actual=answered)]
            named = named_statuses(str(e.error.get("message") or ""))
            if 401 in named:
                return []
            return [Difference("auth", what, f"failed, but without naming HTTP status 401: {e}", expected=401,
                               actual=named)]
        return [Difference("auth", what, "succeeded although the server answered 401")]

    @staticmethod
    def _check_progress(progress: list) -> list[Difference]:
        if not progress:
            return [Difference("onProgress", "calls", "never called")]
        if any(b < a for a, b in zip(progress, progress[1:])) or progress[-1] != 1:
            return [Difference("onProgress", "values", f"not monotonic ending at 1: {progress}",
                               expected="monotonic, ending at 1", actual=progress)]
        return []

    @staticmethod
    def _check_fetched(upload: Upload, prefix: str, how: str) -> list[Difference]:
        fetched = [r["path"] for r in upload.requests if r["method"] == "GET" and r["status"] == 200]
        if not any(p.endswith("/prefixed/model.weights.bin") for p in fetched):
            return [Difference(how, "weights URL", f"weights were not fetched from {prefix}: GETs {fetched}",
                               expected=f"{prefix}model.weights.bin", actual=fetched)]
        return []
