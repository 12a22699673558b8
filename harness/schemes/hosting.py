"""`http-hosted`: the golden published on a model host that serves it the way the real web does, and
loaded the way a user's code loads it (`tf.loadLayersModel(url)`, `tf.loadGraphModel(url, options)`).

A row is one hosting profile (its `hosting`, PROFILES) on one engine and model. The host is the harness
server on another origin than the page (`HarnessServer.cdn_url`: another port of the page's site, as a
CDN is; every load is a CORS one), through harness.server.hosting. Each profile makes one or more
attempts; each attempt expects one of:

* a load, bit for bit: the loaded artifacts and predictions are compared with the golden (its
  differences are the row's, under the attempt's label);
* a rejection whose message names the failing URL and, where the server answered an error status, that
  status (what TF.js's http handler says of model.json: "Request to ${url} failed with status code
  ${status}", http.ts).

Every attempt's outcome is classed (`classify`) and kept verbatim in `observed.hosting.<label>`:

    exact              resolved, bit for bit
    clear              rejected, naming the failing URL and status
    partial            rejected, naming one of the two
    vague              rejected, naming neither
    silent-corruption  load() resolved with other weights (or predictions) than the golden's, or resolved
                       and the model then failed when used (predict), as garbage weights make it
    hang               never settled within timeouts.TFJS_CALL_S

`partial`, `vague`, `silent-corruption` and `hang` are differences (what = the class, path = the
label); so is a rejection where the profile should load (`refused`), with TF.js's message. The server's
record of every request the attempt made is kept beside it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from harness.schemes.base import Scheme, Unsupported
from harness.schemes.http import named_statuses
from harness.schemes.negative import HTML_FALLBACK, NOT_FOUND_PAGE, shard_paths
from harness.server.hosting import Rule, Slot
from harness.trip import timeouts
from harness.trip.compare import Difference
from harness.trip.outcomes import settle
from harness.trip.roundtrip import Trip

PLAIN = "plain"
SLOW_RATE = 4 << 20  # bytes per second of the slow profile: the sharded model's 10 MB take ~2.5 s
RETRY_AFTER_S = 1
KEY_HEADER = "X-Harness-Key"  # a custom request header: a CORS preflight must allow it
FAILING = ("clear", "partial", "vague", "silent-corruption", "hang")


@dataclasses.dataclass(frozen=True)
class Expect:
    """What an attempt must give: a load ("load"), or a rejection ("reject") naming one of the failing
    `files` and `status` (None: no error status reached the page, as for a CORS refusal or a cut connection)."""

    kind: str
    files: tuple[str, ...] = ()
    status: int | None = None

    @classmethod
    def load(cls) -> "Expect":
        return cls("load")

    @classmethod
    def reject(cls, files: str | list[str], status: int | None = None) -> "Expect":
        return cls("reject", (files,) if isinstance(files, str) else tuple(files), status)

    def wanted(self) -> str:
        """What the message should name, in words."""
        which = self.files[0] if len(self.files) == 1 else f"one of {', '.join(self.files)}"
        return f"the URL of {which}" + (f" and HTTP status {self.status}" if self.status else "")


def names_url(message: str, urls: list[str]) -> bool:
    """Whether a message names one of `urls`: its path (as sent, without the query) appears in it."""
    return any(urlsplit(u).path in message for u in urls if urlsplit(u).path)


def classify(outcome: dict, failing_urls: list[str], status: int | None, differs: bool) -> str:
    """The class of an attempt's outcome (see the module docstring)."""
    if outcome["outcome"] == "hang":
        return "hang"
    if outcome["outcome"] == "resolved":
        return "silent-corruption" if differs else "exact"
    if outcome["error"].get("phase") not in (None, "load"):  # load() resolved; the model broke when used
        return "silent-corruption"
    message = str(outcome["error"].get("message") or "")
    url = names_url(message, failing_urls)
    if status is None:
        return "clear" if url else "vague"
    said = status in named_statuses(message)
    return "clear" if url and said else "partial" if url or said else "vague"


@dataclasses.dataclass
class Hosted:
    """One row's host: the slot serving the golden's files, and the attempts made against it."""

    trip: Trip
    slot: Slot
    base: str  # the host's origin, as the engine reaches it

    @property
    def shards(self) -> list[str]:
        return shard_paths(json.loads(self.trip.golden.files()["model.json"]))

    @property
    def browser(self) -> bool:
        return self.trip.driver.spec.host == "browser"

    def url(self, name: str, query: str = "") -> str:
        return f"{self.base}{self.slot.path(name)}{'?' + query if query else ''}"

    async def attempt(self, label: str, what: str, source: dict, expect: Expect) -> list[Difference]:
        """Load from `source`; judge and record the outcome (observed.hosting[label])."""
        trip, first = self.trip, len(self.slot.requests)
        prefix = f"{label}."
        outcome = await settle(trip.load(source, prefix=prefix, deadline=timeouts.scaled(timeouts.TFJS_CALL_S)))
        requests = self.slot.requests[first:]
        differences = trip.check_loaded(outcome["value"], prefix=prefix) if outcome["outcome"] == "resolved" else []
        ends = tuple(f"{sep}{name}" for name in expect.files for sep in ("/", "%2F"))
        failing = [f"{self.base}{r['path']}" for r in requests if ends and r["path"].endswith(ends)]
        cls = classify(outcome, failing, expect.status, bool(differences))
        seen = {"what": what, "expect": dataclasses.asdict(expect), "class": cls, "outcome": outcome["outcome"],
                "requests": [{k: v for k, v in r.items() if v not in (None, False)} for r in requests]}
        if "error" in outcome:
            seen["error"] = outcome["error"]
        if outcome["outcome"] == "resolved":
            seen["loaded"] = [str(d) for d in differences[:5]] or "equals the golden bit for bit"
            seen.update({k: v for k, v in outcome["value"].items() if k in ("progress", "progressAt", "convertedWeightUrls")})
        trip.observed.setdefault("hosting", {})[label] = seen
        text = f"{outcome['error'].get('name')}: {outcome['error'].get('message')}" if "error" in outcome else ""
        if expect.kind == "load":
            if outcome["outcome"] == "resolved":
                return differences
            return [Difference("refused", label, f"{what}: it should load, but TF.js {outcome['outcome']}: {text}",
                               expected="resolved", actual=text)]
        if cls in ("clear", "exact"):  # exact: the fault did not break the load (judged by the profile)
            return [] if cls == "clear" else [Difference("accepted", label, f"{what}: loaded bit for bit although the "
                                                         f"server answered {self._answers(requests)}",
                                                         expected="a rejection", actual="resolved")]
        wanted = expect.wanted()
        if cls == "silent-corruption":
            how = (f"first difference: {differences[0]}" if differences else
                   f"the model then failed in phase {outcome['error'].get('phase')!r}: {text}")
            return [Difference(cls, label, f"{what}: load() resolved with other weights than the golden's, no error; "
                                           f"{how}", expected="a rejection naming " + wanted, actual="resolved")]
        return [Difference(cls, label, f"{what}: TF.js rejected with a message that should name {wanted}: {text}",
                           expected=wanted, actual=text)]

    @staticmethod
    def _answers(requests: list[dict]) -> list[str]:
        return [f"{r['path'].rsplit('/', 1)[-1]} -> {r['status']}" for r in requests]


# -- the profiles --------------------------------------------------------------------------------

Profile = Callable[[Hosted], Awaitable[list[Difference]]]


def _source(url: str, **extra) -> dict:
    return {"kind": "url", "url": url, **extra}


async def _redirect(h: Hosted) -> list[Difference]:
    """301, 302, 307 and 308 on model.json and each shard; to this origin, then to another (with CORS)."""
    out = []
    names = ["model.json", *h.shards]
    for where, codes in (("same", (301, 302, 307, 308)), ("cross", (308, 307, 302, 301))):
        for i, name in enumerate(names):
            h.slot.rules[name] = Rule(redirect=(codes[i % len(codes)], where))
        chain = ", ".join(f"{n} {codes[i % len(codes)]}" for i, n in enumerate(names))
        first = len(h.slot.requests)
        # A query of its own per attempt (TF.js gives it to the shards too): an engine may cache a permanent
        # redirect (301, 308) of the attempt before, as HTTP lets it (measured: Chromium does).
        out += await h.attempt(f"{where}-origin", f"every file redirected ({chain}) to "
                               f"{'the same host' if where == 'same' else 'another origin, with CORS'}",
                               _source(h.url("model.json", f"attempt={where}")), Expect.load())
        # the host did redirect every file, and the engine followed each redirect to its target
        seen = h.slot.requests[first:]
        unfollowed = [n for n in names if not any(r.get("location", "").endswith(f"/at/{n}") for r in seen)
                      or not any(r.get("redirected") and r["path"].endswith(f"/at/{n}") for r in seen)]
        if unfollowed:
            out.append(Difference("redirect", f"{where}-origin", f"not redirected and followed: {unfollowed} "
                                  f"(requests: {Hosted._answers(seen)})", expected=names, actual=unfollowed))
    return out


async def _signed(h: Hosted) -> list[Difference]:
    """S3-style presigned URLs: each file's own signature; the model URL's fails for the shards (403)."""
    h.slot.signed = True
    model = h.url("model.json", h.slot.sign("model.json"))
    out = await h.attempt("model-url-only", "tf.loadLayersModel of the presigned model.json URL alone: TF.js appends "
                          "its query (model.json's signature) to every shard URL, which the host refuses (403)",
                          _source(model), Expect.reject(h.shards, 403))
    urls = {name: h.url(name, h.slot.sign(name)) for name in h.shards}
    out += await h.attempt("weight-url-converter", "the presigned model.json URL, and a weightUrlConverter that gives "
                           "each shard its own presigned URL", _source(model, weightUrls=urls), Expect.load())
    expired = h.url("model.json", h.slot.sign("model.json", expires_s=60, issued=datetime.datetime.now(
        datetime.timezone.utc) - datetime.timedelta(hours=1)))
    out += await h.attempt("expired", "a presigned model.json URL that expired an hour ago (403, S3's AccessDenied "
                           "'Request has expired')", _source(expired), Expect.reject("model.json", 403))
    return out


async def _firebase(h: Hosted) -> list[Difference]:
    """Firebase Storage download URLs: the object path %2F-encoded in one segment, ?alt=media&token=..."""
    model = f"{h.base}{h.slot.firebase_path('model.json')}?{h.slot.firebase_query('model.json')}"
    out = await h.attempt("download-url-only", "tf.loadLayersModel of model.json's Firebase download URL alone: the "
                          "shard URLs resolve to .../o/<shard> beside the encoded folder, with model.json's token "
                          "(tensorflow/tfjs#4898); Firebase answers 404", _source(model), Expect.reject(h.shards, 404))
    urls = {n: f"{h.base}{h.slot.firebase_path(n)}?{h.slot.firebase_query(n)}" for n in h.shards}
    out += await h.attempt("weight-url-converter", "model.json's download URL, and a weightUrlConverter that gives each "
                           "shard its own download URL", _source(model, weightUrls=urls), Expect.load())
    return out


async def _compressed(h: Hosted) -> list[Difference]:
    """gzip and br Content-Encoding (br when the engine accepts it), chunked, without Content-Length."""
    h.slot.rules["model.json"] = Rule(encoding="gzip")
    for i, name in enumerate(h.shards):
        h.slot.rules[name] = Rule(encoding="negotiate" if i % 2 == 0 else "gzip")
    out = await h.attempt("gzip-br", "model.json gzip, the shards br (where the engine's Accept-Encoding offers it, "
                          "else gzip) and gzip in turn; chunked, no Content-Length", _source(h.url("model.json")),
                          Expect.load())
    encodings = h.trip.observed["encodings"] = {r["path"].rsplit("/", 1)[-1]: r.get("encoding") for r in h.slot.requests}
    offered_br = all("br" in (r.get("accept_encoding") or "") for r in h.slot.requests)
    wanted = {"gzip", "br"} if offered_br else {"gzip"}  # the first shard negotiates: br where offered
    if set(encodings.values()) != wanted:  # the host sent what the profile says, as the engine offered it
        out.append(Difference("encoding", "gzip-br", f"the host sent {encodings}; the engine offered "
                              f"{sorted({r.get('accept_encoding') for r in h.slot.requests}, key=str)}",
                              expected=sorted(wanted), actual=encodings))
    return out


async def _wrong_content_type(h: Hosted) -> list[Difference]:
    h.slot.rules["model.json"] = Rule(serve_as="text/plain; charset=utf-8")
    types = ("text/html; charset=utf-8", "application/json")
    for i, name in enumerate(h.shards):
        h.slot.rules[name] = Rule(serve_as=types[i % 2])
    return await h.attempt("wrong-content-type", "model.json as text/plain (as raw file hosts serve it), the shards as "
                           f"{' and '.join(types[:len(h.shards)])}", _source(h.url("model.json")), Expect.load())


async def _cors_partial(h: Hosted) -> list[Difference]:
    for name in h.shards:
        h.slot.rules[name] = Rule(cors=False)
    what = "CORS headers on model.json only, none on the shards (tensorflow/tfjs#1755)"
    # A browser must refuse the shards' responses (fetch's TypeError); Node has no CORS: it loads.
    expect = Expect.reject(h.shards) if h.browser else Expect.load()
    return await h.attempt("shards-without-cors", what, _source(h.url("model.json")), expect)


async def _cors_credentials(h: Hosted) -> list[Difference]:
    """A host that needs its session cookie and a custom header: requestInit {credentials: 'include',
    headers}, a preflight that allows the header, Access-Control-Allow-Credentials."""
    key = "k-" + h.slot.token
    h.slot.require_header, h.slot.allow_headers = (KEY_HEADER, key), (KEY_HEADER,)
    signed_in = await h.trip.step("hostingSignIn", {"url": f"{h.base}/hosted/{h.slot.token}/sign-in"})
    h.trip.observed["sign_in"] = signed_in
    init = {"headers": {KEY_HEADER: key}}
    out = await h.attempt("without-credentials", f"requestInit {{headers: {{{KEY_HEADER}}}}} without credentials: the "
                          "session cookie is not sent (401)", _source(h.url("model.json"), options={"requestInit": init}),
                          Expect.reject("model.json", 401))
    first = len(h.slot.requests)
    # Node's fetch keeps no cookies: the host refuses it, as it refuses a browser that did not sign in.
    expect = Expect.load() if h.browser else Expect.reject("model.json", 401)
    out += await h.attempt("credentials-include", f"requestInit {{credentials: 'include', headers: {{{KEY_HEADER}}}}} "
                           "after signing in", _source(h.url("model.json"), options={"requestInit": {**init,
                                                                                     "credentials": "include"}}), expect)
    preflights = [r for r in h.slot.requests[first:] if r["method"] == "OPTIONS"]
    if h.browser and not preflights:
        out.append(Difference("preflight", "credentials-include", f"no CORS preflight for the custom {KEY_HEADER} header "
                              f"reached the host (requests: {Hosted._answers(h.slot.requests[first:])})",
                              expected="OPTIONS", actual=None))
    return out


async def _slow(h: Hosted) -> list[Difference]:
    for name in h.slot.files:
        h.slot.rules[name] = Rule(rate=SLOW_RATE)
    out = await h.attempt("throttled", f"every file sent at {SLOW_RATE >> 20} MiB/s, with onProgress",
                          _source(h.url("model.json"), recordProgress=True), Expect.load())
    seen = h.trip.observed["hosting"]["throttled"]
    progress = seen.get("progress")
    if seen["outcome"] == "resolved":
        if not progress or progress[-1] != 1 or any(b < a for a, b in zip(progress, progress[1:])):
            out.append(Difference("onProgress", "throttled", f"not monotonic ending at 1: {progress}",
                                  expected="monotonic, ending at 1", actual=progress))
        elif not any(0 < f < 1 for f in progress):
            out.append(Difference("onProgress", "throttled", f"no intermediate fraction: {progress}",
                                  expected="a fraction between 0 and 1", actual=progress))
    seen["send_s"] = {r["path"].rsplit("/", 1)[-1]: r.get("send_s") for r in seen["requests"]}
    return out


async def _truncated(h: Hosted) -> list[Difference]:
    shard = h.shards[len(h.shards) // 2]
    size = len(h.slot.files[shard])
    h.slot.rules[shard] = Rule(truncate_at=size // 2)
    return await h.attempt("connection-closed", f"{shard}: Content-Length {size}, the connection closed after "
                           f"{size // 2} bytes", _source(h.url("model.json")), Expect.reject(shard))


async def _html_404(h: Hosted) -> list[Difference]:
    shard = h.shards[len(h.shards) // 2]
    h.slot.rules[shard] = Rule(status=404, body=NOT_FOUND_PAGE, content_type="text/html")
    out = await h.attempt("status-404", f"{shard}: the CDN's {len(NOT_FOUND_PAGE)}-byte HTML error page, status 404 "
                          f"(the file has {len(h.slot.files[shard])} bytes)", _source(h.url("model.json")),
                          Expect.reject(shard, 404))
    h.slot.rules[shard] = Rule(status=200, body=HTML_FALLBACK, content_type="text/html")
    out += await h.attempt("spa-fallback-200", f"{shard}: a single-page app's {len(HTML_FALLBACK)}-byte index.html, "
                           "status 200 (a misconfigured SPA fallback)", _source(h.url("model.json")), Expect.reject(shard))
    return out


async def _rate_limited(h: Hosted) -> list[Difference]:
    shard = h.shards[-1]
    out = []
    for status in (429, 503):
        h.slot.rules[shard] = Rule(status=status, body=f"{status} Slow down".encode(), times=1,
                                   headers={"Retry-After": str(RETRY_AFTER_S)})
        h.slot.reset_counts()
        out += await h.attempt(f"status-{status}", f"{shard} answered {status} with Retry-After: {RETRY_AFTER_S} (once)",
                               _source(h.url("model.json")), Expect.reject(shard, status))
    await asyncio.sleep(RETRY_AFTER_S)
    out += await h.attempt("after-retry-after", f"the same load again after Retry-After's {RETRY_AFTER_S} s",
                           _source(h.url("model.json")), Expect.load())
    return out


async def _service_worker_cache(h: Hosted) -> list[Difference]:
    """An app's service worker caches the model (Cache Storage, cache-first); offline, it loads from there."""
    registered = await h.trip.step("hostingServiceWorker", {"op": "register", "script": "/hosting-sw.js", "scope": "/"})
    if not registered.get("supported"):
        raise Unsupported(f"{h.trip.driver.spec.name} has no service worker here: {registered.get('why')}")
    h.trip.observed["service_worker"] = registered
    try:
        out = await h.attempt("online", "loaded once online, through the app's service worker (it caches what it "
                              "fetches)", _source(h.url("model.json")), Expect.load())
        h.slot.offline = True
        first = len(h.slot.requests)
        out += await h.attempt("offline", "the host unreachable (its connections closed unanswered): loaded again from "
                               "the service worker's cache", _source(h.url("model.json")), Expect.load())
        reached = h.slot.requests[first:]
        if reached:
            out.append(Difference("cache", "offline", f"{len(reached)} request(s) went to the host instead of the cache: "
                                  f"{Hosted._answers(reached)}", expected=[], actual=Hosted._answers(reached)))
    finally:
        h.slot.offline = False
        h.trip.observed["service_worker_removed"] = await h.trip.step("hostingServiceWorker", {"op": "unregister"})
    return out


PROFILES: dict[str, Profile] = {
    "redirect": _redirect,
    "signed": _signed,
    "firebase": _firebase,
    "compressed": _compressed,
    "wrong-content-type": _wrong_content_type,
    "cors-partial": _cors_partial,
    "cors-credentials": _cors_credentials,
    "slow": _slow,
    "truncated": _truncated,
    "html-404": _html_404,
    "rate-limited": _rate_limited,
    "service-worker-cache": _service_worker_cache,
}


class HttpHosted(Scheme):
    """Load the golden from a host with one hosting profile (`on(profile)` gives the row's scheme)."""

    name = "http-hosted"
    hosts = ("browser", "node")
    models = ("sharded", "graph")  # the core zoo's sharded layers model (3 shards) and its graph model
    in_contexts = False
    profile: str | None = None

    def on(self, profile: str) -> "HttpHosted":
        if profile not in PROFILES:
            raise ValueError(f"no hosting profile {profile!r}; known: {', '.join(PROFILES)}")
        scheme = HttpHosted()
        scheme.profile = profile
        return scheme

    def __str__(self) -> str:
        return f"{self.name}[{self.profile}]" if self.profile else self.name

    async def run(self, trip: Trip) -> list[Difference]:
        if self.profile is None:
            raise ValueError("http-hosted runs with a hosting profile: HttpHosted().on(profile)")
        # Browsers reach the compressed host over TLS (another origin than the page too: Chromium offers br
        # over https only); Node, which has not the harness's CA, over http.
        browser = trip.driver.spec.host == "browser"
        base = trip.server.https_url if browser and self.profile == "compressed" else trip.server.cdn_url
        slot = trip.server.hosting.open(trip.golden.files(), cross_url=trip.server.cross_site_url or trip.server.https_url)
        trip.observed["host"] = base
        try:
            return await PROFILES[self.profile](Hosted(trip, slot, base))
        finally:
            trip.server.hosting.close(slot.token)
