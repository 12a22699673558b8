"""`negative-*`: TF.js must REFUSE bad model artifacts with a clear error, and keep nothing of them.

Each row serves (or stores, or chooses) artifacts that are broken in one way, as a user meets them,
and makes the call a user's code makes (`tf.loadLayersModel(url)`, `model.save(url)`,
`tf.io.browserFiles(files)`). The call must:

1. reject, within DEADLINE_S (never settling is reported as `hang`), in the phase of that call
   (`load` or `save`, not later in predict);
2. with a message that names what is wrong (`Refusal.mentions`: e.g. the 404/500 status or the shard
   for a broken shard, "dtype" for a wrong dtype, the path for a model that does not exist);
3. leave nothing behind (browsers): the storage keys of both media (page step `storageKeys`) and
   `tf.io.listModels()` are the same after the call as before the row started. (`listModels()` itself
   creates TF.js's empty IndexedDB database, so its two stores appear after the first snapshot; only
   keys and listed models count.)

Every attempt's outcome is kept verbatim in `observed.negative.<label>`: the error's name, message
and phase, or, when TF.js accepted the artifacts, what it loaded. An accepted load is a difference
(`accepted <label>`) whose evidence compares what was loaded with the golden (so "the extra bytes
were ignored, the weights equal the golden" and "the weights are random" read differently).

| row | model | artifacts | hosts |
|---|---|---|---|
| negative-truncated-weights | mlp | the weights file one byte short | browsers, node |
| negative-trailing-bytes | mlp | TRAILING appended to the weights file | browsers, node |
| negative-missing-shard | mlp, sharded | the (middle) weight file answers 404 with a site's HTML "page not found" | browsers, node |
| negative-shard-500 | sharded | the middle shard answers 500 | browsers, node |
| negative-wrong-dtype | mlp | the first weight's dtype "int32"; then the unknown "float64" | browsers, node |
| negative-shape-mismatch | mlp | the last weight's shape says one more row than its bytes hold | browsers, node |
| negative-malformed-json | mlp | model.json is an HTML page (a dev server's fallback), status 200 | browsers, node |
| negative-unknown-format | mlp | model.json "format": "not-a-tfjs-format" | browsers, node |
| negative-no-manifest | mlp | model.json without weightsManifest, weights file present | browsers, node |
| negative-cors | mlp | the files from another origin (the https site) with no CORS header | browsers |
| negative-missing-path | mlp | localstorage:// and indexeddb:// paths never saved | browsers |
| negative-browser-files | mlp | browserFiles with model.json alone; then the weights file chosen twice | browsers |
| negative-save-500 | mlp | save() to a model server answering 500 | browsers, node |

The model server is harness.server.uploads (publish_fault, refuse_saves, /nocors/uploads/).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Awaitable

from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip
from harness.schemes.base import Scheme, Unsupported
from harness.schemes.files import FILE_INPUT
from harness.server.uploads import Upload

DEADLINE_S = 10.0  # for one load/save to settle; every refusal measured here settles in well under 1 s
TRAILING = b"TRAILING"  # appended to the weights by negative-trailing-bytes
HTML_FALLBACK = b"<!doctype html>\n<html><head><title>My app</title></head><body><div id=root></div></body></html>\n"
# A site's own "page not found" page, as static hosts serve it with a 404 (1,030 bytes: bigger than the
# mlp's 848-byte weights file, far smaller than a 4 MiB shard).
NOT_FOUND_PAGE = (
    b"<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
    b"<meta name=viewport content=\"width=device-width, initial-scale=1\">\n<title>Page not found</title>\n"
    b"<style>body{font-family:system-ui,sans-serif;margin:0;padding:4rem 1rem;color:#333;background:#fafafa}"
    b"main{max-width:36rem;margin:0 auto}h1{font-size:2rem;margin:0 0 1rem}p{line-height:1.5}"
    b"a{color:#0366d6;text-decoration:none}a:hover{text-decoration:underline}"
    b".code{font-size:6rem;font-weight:700;color:#ddd;margin:0}</style>\n</head>\n<body>\n<main>\n"
    b"<p class=code>404</p>\n<h1>Page not found</h1>\n"
    b"<p>The page you are looking for does not exist. It may have been moved, renamed or deleted, "
    b"or the address may be mistyped.</p>\n"
    b"<p>Check the address for typing errors, or go back to the <a href=\"/\">home page</a> and find "
    b"what you were looking for from there. If you followed a link on this site, it will be fixed "
    b"as soon as possible.</p>\n"
    b"<p><a href=\"/\">&larr; Home</a> &middot; <a href=\"/docs/\">Documentation</a> &middot; "
    b"<a href=\"/search/\">Search</a></p>\n</main>\n</body>\n</html>\n"
)


@dataclasses.dataclass(frozen=True)
class Refusal:
    """What a clear refusal of one attempt looks like."""

    phase: str  # the page step phase it must fail in: "load" or "save"
    mentions: str  # a regex (case-insensitive) the error's name + message must match: it names what is wrong
    why: str  # the words a reader needs: what the message should say


@dataclasses.dataclass
class Attempt:
    label: str  # "truncated-weights", "dtype-int32", ...: the key in observed.negative, the Difference's path
    what: str  # what is wrong with the artifacts, in a user's words
    refusal: Refusal


# -- outcomes ------------------------------------------------------------------------------------


async def settle(call: Awaitable) -> dict:
    """How a TF.js call ended: resolved (its value), rejected (name, message and phase verbatim), hang."""
    try:
        value = await call
    except TfjsError as e:
        error = {k: e.error.get(k) for k in ("name", "message", "phase")}
        return {"outcome": "hang" if error["name"] == "DeadlineExceeded" else "rejected", "error": error}
    return {"outcome": "resolved", "value": value}


def judge_refusal(attempt: Attempt, outcome: dict) -> list[Difference]:
    """A rejection in the right phase whose message names the problem; anything else is a difference
    (an accepted call is judged by the caller, which has the evidence)."""
    label, refusal = attempt.label, attempt.refusal
    if outcome["outcome"] == "hang":
        return [Difference("hang", label, f"{attempt.what}: {outcome['error']['message']}")]
    if outcome["outcome"] != "rejected":
        return []
    error = outcome["error"]
    text = f"{error['name']}: {error['message']}"
    if error["phase"] != refusal.phase:
        return [Difference("wrong-phase", label, f"{attempt.what}: failed in phase {error['phase']!r}, not in the "
                                                 f"{refusal.phase} itself: {text}")]
    if not re.search(refusal.mentions, text, re.IGNORECASE):
        return [Difference("unclear-error", label, f"{attempt.what}: rejected, but the error does not say so "
                                                   f"({refusal.why}; /{refusal.mentions}/ not found): {text}")]
    return []


async def refused_load(trip: Trip, attempt: Attempt, source: dict) -> list[Difference]:
    """Load from `source`: it must be refused (see Refusal); the outcome goes to observed.negative."""
    prefix = f"{attempt.label}."
    outcome = await settle(trip.load(source, prefix=prefix, deadline=DEADLINE_S))
    seen = _observe(trip, attempt, outcome)
    if outcome["outcome"] != "resolved":
        return judge_refusal(attempt, outcome)
    differences = trip.check_loaded(outcome["value"], prefix=prefix)
    if differences:
        evidence = (f"the loaded model differs from the golden in {len(differences)} place(s), first: "
                    f"{differences[0]}")
    else:
        evidence = "the loaded model equals the golden bit for bit, predictions included (the fault was ignored)"
    seen["loaded"] = [str(d) for d in differences[:5]] or "equals the golden"
    return [Difference("accepted", attempt.label, f"{attempt.what}: TF.js loaded it without an error; {evidence}")]


async def refused_save(trip: Trip, attempt: Attempt, target: dict) -> list[Difference]:
    """Save the golden to `target`: it must be refused."""
    outcome = await settle(trip.save(target, deadline=DEADLINE_S))
    _observe(trip, attempt, outcome)
    if outcome["outcome"] == "resolved":
        return [Difference("accepted", attempt.label, f"{attempt.what}: save() resolved with "
                                                      f"{json.dumps(outcome['value'], default=str)[:300]}")]
    return judge_refusal(attempt, outcome)


def _observe(trip: Trip, attempt: Attempt, outcome: dict) -> dict:
    seen = {"what": attempt.what, "outcome": outcome["outcome"]}
    if "error" in outcome:
        seen["error"] = outcome["error"]
    trip.observed.setdefault("negative", {})[attempt.label] = seen
    return seen


# -- nothing half-saved ----------------------------------------------------------------------------


async def storage_state(trip: Trip) -> dict | None:
    """Every storage key of both media and every model tf.io.listModels() lists (browsers; None in Node,
    which has neither medium)."""
    if trip.driver.spec.host != "browser":
        return None
    keys = await trip.step("storageKeys", {})
    flat = [f"localStorage {k}" for k in keys["localStorage"]]
    flat += [f"indexeddb {store} {k}" for store, ks in sorted(keys["indexeddb"].items()) for k in ks]
    listed = await trip.step("manage", {"op": "listModels", "args": [], "deadline": DEADLINE_S})
    return {"keys": flat, "indexeddbStores": sorted(keys["indexeddb"]),
            "listModels": sorted(listed.get("value") or {}), "listModelsError": listed.get("error")}


async def nothing_new(trip: Trip, before: dict | None, when: str) -> list[Difference]:
    """No storage key and no listed model that was not there `before`."""
    if before is None:
        return []
    after = await storage_state(trip)
    trip.observed.setdefault("storage", {})[when] = after
    out = []
    if after["listModelsError"]:
        out.append(Difference("half-saved", when, f"tf.io.listModels() failed: {after['listModelsError']}"))
    new_keys = sorted(set(after["keys"]) - set(before["keys"]))
    if new_keys:
        out.append(Difference("half-saved", when, f"storage keys appeared: {new_keys}"))
    new_models = sorted(set(after["listModels"]) - set(before["listModels"]))
    if new_models:
        out.append(Difference("half-saved", when, f"tf.io.listModels() lists new models: {new_models}"))
    return out


# -- artifacts -------------------------------------------------------------------------------------


def model_file(trip: Trip) -> str:
    return trip.golden.examples.get("model_file", "model.json")


def golden_files(trip: Trip) -> tuple[dict, dict[str, bytes]]:
    """The golden's model.json (parsed) and its files as on disk: model.json and every shard, in order."""
    g = trip.golden
    raw = (g.dir / model_file(trip)).read_bytes()
    model_json = json.loads(raw)
    files = {"model.json": raw}
    for group in model_json.get("weightsManifest") or []:
        files.update({p: (g.dir / p).read_bytes() for p in group["paths"]})
    if len(files) == 1:
        raise Unsupported(f"model {g.name} has no weight files: nothing to break")
    return model_json, files


def shard_paths(model_json: dict) -> list[str]:
    return [p for group in model_json["weightsManifest"] for p in group["paths"]]


def with_model_json(files: dict[str, bytes], model_json: dict) -> dict[str, bytes]:
    return {**files, "model.json": json.dumps(model_json).encode()}


# -- schemes ---------------------------------------------------------------------------------------


class Negative(Scheme):
    """A negative row: `attempts` make the refused calls; afterwards nothing may be left in storage."""

    hosts = ("browser", "node")

    async def run(self, trip: Trip) -> list[Difference]:
        before = await storage_state(trip)
        trip.observed["storage"] = {"before": before}
        return await self.attempts(trip, before)

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        raise NotImplementedError


@dataclasses.dataclass
class Served:
    """One bad model on the model server: its files, and files that answer an error status instead."""

    attempt: Attempt
    files: dict[str, bytes]
    faults: dict[str, tuple[int, bytes | None]] = dataclasses.field(default_factory=dict)  # status, body


class HttpLoad(Negative):
    """`tf.loadLayersModel('http://.../model.json')` of files a model server serves broken."""

    def served(self, trip: Trip, model_json: dict, files: dict[str, bytes]) -> list[Served]:
        raise NotImplementedError

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        model_json, files = golden_files(trip)
        out = []
        for bad in self.served(trip, model_json, files):
            upload = trip.server.open_upload()
            upload.publish({k: v for k, v in bad.files.items() if k not in bad.faults})
            for name, (status, body) in bad.faults.items():
                upload.publish_fault(name, status, body)
            url = f"{trip.server.url}/uploads/{upload.token}/model.json"
            out += await refused_load(trip, bad.attempt, {"kind": "url", "url": url})
            trip.observed["negative"][bad.attempt.label]["requests"] = _requests(upload)
            out += await nothing_new(trip, before, f"after {bad.attempt.label}")
        return out


def _requests(upload: Upload) -> list[str]:
    return [f"{r['method']} {r['path'].rsplit('/', 1)[-1]} -> {r['status']}" for r in upload.requests]


SIZE = Refusal("load", r"weight|byte|length|values|shape|size|short|truncat",
               "it should say the weight data does not have the size the manifest gives")


class TruncatedWeights(HttpLoad):
    name = "negative-truncated-weights"

    def served(self, trip, model_json, files):
        last = shard_paths(model_json)[-1]
        return [Served(Attempt("truncated-weights", f"{last} one byte short ({len(files[last]) - 1} of "
                                                    f"{len(files[last])} bytes)", SIZE),
                       {**files, last: files[last][:-1]})]


class TrailingBytes(HttpLoad):
    name = "negative-trailing-bytes"

    def served(self, trip, model_json, files):
        last = shard_paths(model_json)[-1]
        return [Served(Attempt("trailing-bytes", f"{last} with {len(TRAILING)} bytes after the last weight "
                                                 f"({len(files[last]) + len(TRAILING)} bytes, the manifest "
                                                 f"accounts for {len(files[last])})", SIZE),
                       {**files, last: files[last] + TRAILING})]


def _middle_shard(model_json: dict) -> str:
    paths = shard_paths(model_json)
    return paths[len(paths) // 2]


class MissingShard(HttpLoad):
    name = "negative-missing-shard"

    def served(self, trip, model_json, files):
        shard = _middle_shard(model_json)
        refusal = Refusal("load", rf"404|not found|{re.escape(shard)}", "it should name the 404 or the missing shard")
        what = (f"weight file {shard} missing on the server: HTTP 404 with the site's {len(NOT_FOUND_PAGE)}-byte "
                f"HTML error page (the file has {len(files[shard])} bytes)")
        return [Served(Attempt("missing-shard", what, refusal), files, faults={shard: (404, NOT_FOUND_PAGE)})]


class Shard500(HttpLoad):
    name = "negative-shard-500"

    def served(self, trip, model_json, files):
        shard = _middle_shard(model_json)
        refusal = Refusal("load", rf"500|internal server error|{re.escape(shard)}",
                          "it should name the HTTP 500 or the shard")
        return [Served(Attempt("shard-500", f"weight shard {shard} answered HTTP 500 (body \"500 Internal Server "
                                            f"Error\")", refusal), files, faults={shard: (500, None)})]


class WrongDtype(HttpLoad):
    name = "negative-wrong-dtype"

    def served(self, trip, model_json, files):
        out = []
        for dtype in ("int32", "float64"):
            changed = copy.deepcopy(model_json)
            spec = changed["weightsManifest"][0]["weights"][0]
            was, spec["dtype"] = spec["dtype"], dtype
            refusal = Refusal("load", rf"dtype|{dtype}", f"it should name the dtype {dtype!r}")
            out.append(Served(Attempt(f"dtype-{dtype}", f"manifest says {spec['name']} is {dtype} (its bytes are "
                                                        f"{was})", refusal), with_model_json(files, changed)))
        return out


class ShapeMismatch(HttpLoad):
    name = "negative-shape-mismatch"

    def served(self, trip, model_json, files):
        changed = copy.deepcopy(model_json)
        spec = changed["weightsManifest"][-1]["weights"][-1]
        was = list(spec["shape"])
        spec["shape"] = [was[0] + 1, *was[1:]] if was else [2]
        return [Served(Attempt("shape-mismatch", f"manifest says {spec['name']} has shape {spec['shape']}; its "
                                                 f"bytes hold {was}", SIZE), with_model_json(files, changed))]


class MalformedJson(HttpLoad):
    name = "negative-malformed-json"

    def served(self, trip, model_json, files):
        refusal = Refusal("load", r"json|parse", "it should say model.json is not valid JSON")
        return [Served(Attempt("malformed-json", "model.json is an HTML page (a dev server's fallback), "
                                                 "served with status 200", refusal),
                       {**files, "model.json": HTML_FALLBACK})]


class UnknownFormat(HttpLoad):
    name = "negative-unknown-format"

    def served(self, trip, model_json, files):
        changed = {**model_json, "format": "not-a-tfjs-format"}
        refusal = Refusal("load", r"format", "it should name the unknown format")
        return [Served(Attempt("unknown-format", f"model.json \"format\": \"not-a-tfjs-format\" (was "
                                                 f"{model_json.get('format')!r})", refusal),
                       with_model_json(files, changed))]


class NoManifest(HttpLoad):
    name = "negative-no-manifest"

    def served(self, trip, model_json, files):
        changed = {k: v for k, v in model_json.items() if k != "weightsManifest"}
        refusal = Refusal("load", r"weight|manifest", "it should say the model's weights are missing")
        weights = len(trip.golden.weight_specs)
        return [Served(Attempt("no-manifest", f"model.json without weightsManifest (the topology has {weights} "
                                              f"weights; the weight files are on the server)", refusal),
                       with_model_json(files, changed))]


class CrossOriginNoCors(Negative):
    """The golden's files on another origin (the harness's https site) without Access-Control-Allow-Origin:
    the page must refuse to read them. The same files with the header (the https scheme's route) must
    load, or the refusal proves nothing."""

    name = "negative-cors"
    hosts = ("browser",)

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        _, files = golden_files(trip)
        upload = trip.server.open_upload()
        upload.publish(files)
        base = trip.server.https_url
        if not base:
            raise Unsupported("the harness server has no second (https) origin")
        refusal = Refusal("load", r"fetch|network|load failed|access-control|cors|origin|cross",
                          "it should be the browser's refusal of a cross-origin response")
        attempt = Attempt("no-cors", f"model.json and weights from {base} (another origin than the page) "
                                     f"without an Access-Control-Allow-Origin header", refusal)
        out = await refused_load(trip, attempt, {"kind": "url", "url": f"{base}/nocors/uploads/{upload.token}/model.json"})
        trip.observed["negative"]["no-cors"]["requests"] = _requests(upload)
        out += await nothing_new(trip, before, "after no-cors")
        control = await trip.load_and_check({"kind": "url", "url": f"{base}/uploads/{upload.token}/model.json"},
                                            prefix="control.")
        trip.observed["negative"]["control"] = {"what": "the same files from the same origin WITH the CORS header",
                                                "outcome": "loaded and matched" if not control else [str(d) for d in control]}
        return out + [Difference("control", d.path, f"the same files with CORS headers did not load cleanly, so the "
                                                    f"refusal above proves nothing: {d}") for d in control]


class MissingPath(Negative):
    """Loading localstorage:// and indexeddb:// paths nothing was ever saved to."""

    name = "negative-missing-path"
    hosts = ("browser",)

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        out = []
        for scheme in ("localstorage", "indexeddb"):
            path = f"{trip.golden.name}-never-saved"
            refusal = Refusal("load", re.escape(path), f"it should name the path {path!r}")
            attempt = Attempt(f"missing-{scheme}", f"{scheme}://{path}, never saved", refusal)
            out += await refused_load(trip, attempt, {"kind": "url", "url": f"{scheme}://{path}"})
            out += await nothing_new(trip, before, f"after missing-{scheme}")
        return out


class BrowserFilesIncomplete(Negative):
    """`tf.io.browserFiles` with model.json chosen but not its weights file, then with the weights file
    chosen twice (two copies of the same file, from two folders)."""

    name = "negative-browser-files"
    hosts = ("browser",)

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        model_json, files = golden_files(trip)
        weights = shard_paths(model_json)
        source = {"kind": "browserFiles", "input": FILE_INPUT}
        out = []
        # model.json alone
        await self._choose(trip, [("alone", "model.json", files["model.json"])])
        missing = Refusal("load", r"weight|\.bin|manifest|not provided|missing",
                          "it should say the weight files are missing")
        out += await refused_load(trip, Attempt("weights-missing", f"model.json chosen without {weights}", missing),
                                  source)
        out += await nothing_new(trip, before, "after weights-missing")
        # the weights given twice, in a fresh file input: a user's new choice replaces the old one (so does
        # Playwright's set_input_files), WebDriver's send_keys adds to it (measured on WebKitGTK: the page
        # got model.json twice), so under WebDriver the page is reloaded first (storage kept)
        if trip.driver.build.driver == "webdriver":
            await trip.page.reload(trip.timeout)
        chosen = [("twice", "model.json", files["model.json"])]
        chosen += [(folder, p, files[p]) for folder in ("twice", "twice-again") for p in weights]
        await self._choose(trip, chosen)
        twice = Refusal("load", r"duplicate|twice|mismatch|number of",
                        "it should say a weight file was given more than once")
        out += await refused_load(trip, Attempt("weights-twice", f"{weights} chosen twice (model.json + "
                                                                 f"{2 * len(weights)} weight files)", twice), source)
        out += await nothing_new(trip, before, "after weights-twice")
        return out

    @staticmethod
    async def _choose(trip: Trip, chosen: list[tuple[str, str, bytes]]) -> None:
        """Write (folder, name, bytes) under the trip's temp dir and choose them, in order, in the file input."""
        paths = []
        for folder, name, data in chosen:
            path = trip.tmp / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(str(path))
        trip.observed.setdefault("chosen", []).append([f"{folder}/{name}" for folder, name, _ in chosen])
        await trip.page.set_input_files(f"#{FILE_INPUT}", paths, trip.timeout)


class Save500(Negative):
    """`model.save('http://.../upload')` to a model server that answers 500 and stores nothing."""

    name = "negative-save-500"

    async def attempts(self, trip: Trip, before: dict | None) -> list[Difference]:
        upload = trip.server.open_upload()
        upload.refuse_saves(500)
        url = f"{trip.server.url}/uploads/{upload.token}"
        refusal = Refusal("save", r"500", "it should name the HTTP 500")
        out = await refused_save(trip, Attempt("save-500", f"the model server at {url} answered HTTP 500", refusal),
                                 {"kind": "url", "url": url})
        sent = [{k: r.get(k) for k in ("method", "status", "parts")} for r in upload.requests]
        trip.observed["negative"]["save-500"]["requests"] = sent
        if upload.parts or upload.files:
            out.append(Difference("half-saved", "server", f"the server kept {sorted(upload.parts)}"))
        if len(sent) != 1 or {p["field"] for p in sent[0]["parts"] or []} != {"model.json", "model.weights.bin"}:
            out.append(Difference("upload", "requests", f"expected one multipart request with model.json and "
                                                        f"model.weights.bin, the server saw {sent}"))
        return out + await nothing_new(trip, before, "after save-500")


MISSING_SHARD = MissingShard()
NEGATIVE_MLP: list[Scheme] = [
    TruncatedWeights(), TrailingBytes(), MISSING_SHARD, WrongDtype(), ShapeMismatch(), MalformedJson(),
    UnknownFormat(), NoManifest(), CrossOriginNoCors(), MissingPath(), BrowserFilesIncomplete(), Save500(),
]
NEGATIVE_SHARDED: list[Scheme] = [MISSING_SHARD, Shard500()]
