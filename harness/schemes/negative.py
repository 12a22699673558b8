"""`negative-*`: model artifacts broken in one way each, as a user meets them, and the call a user's code
makes (`tf.loadLayersModel(url)`, `model.save(url)`, `tf.io.browserFiles(files)`).

What each case expects is what upstream promises (CASES, `upstream`): where TF.js's own tests assert that
such artifacts load (a model.json without weights, browserFiles given model.json alone, an unknown
`format`), the row expects the load to resolve as upstream asserts, and a behaviour by which a user can
lose data is reported as a `hazard` (the row still passes). Everywhere else the call must:

1. reject, within timeouts.TFJS_CALL_S (never settling is reported as `hang`), in the phase of that
   call (`load` or `save`, not later in predict);
2. with a message that names what is wrong (`Refusal.mentions`, matched on the message with its URLs
   taken out: a URL that contains "cors" or "404" proves nothing);
3. leave nothing behind (browsers): the storage keys of both media (page step `storageKeys`) and
   `tf.io.listModels()` are the same after the call as before the row started.

Every attempt's outcome is kept verbatim in `observed.negative.<label>`: the error's name, message and
phase, or, when TF.js accepted the artifacts, what it loaded. A load accepted where it must be refused
is a difference (`accepted <label>`) whose evidence compares what was loaded with the golden.

The model server is harness.server.uploads (publish_fault, refuse_saves, /nocors/uploads/).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Callable

from harness.schemes.base import Scheme, Unsupported
from harness.schemes.files import FILE_INPUT
from harness.schemes.http import named_statuses
from harness.server.uploads import Upload
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_json
from harness.trip.outcomes import settle
from harness.trip.roundtrip import Trip

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
_URL = re.compile(r"\b(?:https?|file|blob|data)://\S+|\b(?:localstorage|indexeddb|downloads)://\S+", re.IGNORECASE)


def without_urls(text: str) -> str:
    return _URL.sub("<url>", text)


@dataclasses.dataclass(frozen=True)
class Refusal:
    """What a clear refusal of one attempt looks like."""

    phase: str  # the page step phase it must fail in: "load" or "save"
    mentions: str  # a regex (case-insensitive) the error's name + message (URLs taken out) must match
    why: str  # the words a reader needs: what the message should say
    status: int | None = None  # the HTTP status the message must name as a status ("status 500")
    network: bool = False  # a network-level refusal: fetch's TypeError, and no HTTP status named at all


@dataclasses.dataclass(frozen=True)
class Accepted:
    """What upstream intends for these artifacts: the load resolves. `loads` is what it must hold:
    "golden" (everything equal to the golden, predictions included) or "topology" (the golden's
    topology and weight specs; the weights are the layers' initializers, so neither they nor the
    predictions are compared). `hazard`: the expectations entry of the data a user can lose by it."""

    promise: str  # the upstream test or doc that asserts it
    loads: str = "golden"
    hazard: str | None = None
    # A graph model saves the artifacts it loaded (harness.trip.rewrites): what these served files change in them
    graph_fields: dict | None = None  # model.json fields as served
    graph_weight_suffix: bytes = b""  # bytes served after the weights the manifest accounts for

    def want(self, trip: Trip):
        """What the loaded model's artifacts must be: the golden's, or for a graph model the served ones."""
        if trip.format != "graph-model" or not (self.graph_fields or self.graph_weight_suffix):
            return trip.want
        return dataclasses.replace(trip.want, model_json={**trip.want.model_json, **(self.graph_fields or {})},
                                   weight_data=trip.want.weight_data + self.graph_weight_suffix)


@dataclasses.dataclass
class Attempt:
    label: str  # "truncated-weights", "dtype-int32", ...: the key in observed.negative, the Difference's path
    what: str  # what is wrong with the artifacts, in a user's words
    expect: Refusal | Accepted


# -- outcomes ------------------------------------------------------------------------------------


def judge_refusal(attempt: Attempt, outcome: dict) -> list[Difference]:
    """A rejection in the right phase whose message names the problem; anything else is a difference
    (an accepted call is judged by the caller, which has the evidence)."""
    label, refusal = attempt.label, attempt.expect
    if outcome["outcome"] == "hang":
        return [Difference("hang", label, f"{attempt.what}: {outcome['error']['message']}")]
    if outcome["outcome"] != "rejected":
        return []
    error = outcome["error"]
    text = f"{error['name']}: {error['message']}"
    if error["phase"] != refusal.phase:
        return [Difference("wrong-phase", label, f"{attempt.what}: failed in phase {error['phase']!r}, not in the "
                                                 f"{refusal.phase} itself: {text}", expected=refusal.phase,
                           actual=error["phase"])]
    statuses = named_statuses(str(error["message"]))
    clear = re.search(refusal.mentions, without_urls(text), re.IGNORECASE) is not None
    if refusal.status is not None:
        clear = clear and refusal.status in statuses
    if refusal.network:
        clear = clear and error["name"] == "TypeError" and not statuses
    if not clear:
        return [Difference("unclear-error", label, f"{attempt.what}: rejected, but the error does not say so "
                                                   f"({refusal.why}): {text}", expected=refusal.why, actual=text)]
    return []


async def attempt_load(trip: Trip, attempt: Attempt, source: dict) -> list[Difference]:
    """Load from `source` and judge it by the attempt's expectation; the outcome goes to observed.negative."""
    prefix = f"{attempt.label}."
    outcome = await settle(trip.load(source, prefix=prefix, deadline=timeouts.scaled(timeouts.TFJS_CALL_S)))
    seen = _observe(trip, attempt, outcome)
    if isinstance(attempt.expect, Accepted):
        return _judge_accepted(trip, attempt, outcome, seen, prefix)
    if outcome["outcome"] != "resolved":
        return judge_refusal(attempt, outcome)
    differences = trip.check_loaded(outcome["value"], prefix=prefix)
    if differences:
        evidence = (f"the loaded model differs from the golden in {len(differences)} place(s), first: "
                    f"{differences[0]}")
    else:
        evidence = "the loaded model equals the golden bit for bit, predictions included (the fault was ignored)"
    seen["loaded"] = [str(d) for d in differences[:5]] or "equals the golden"
    return [Difference("accepted", attempt.label, f"{attempt.what}: TF.js loaded it without an error; {evidence}",
                       expected="a rejection", actual="resolved")]


def _judge_accepted(trip: Trip, attempt: Attempt, outcome: dict, seen: dict, prefix: str) -> list[Difference]:
    expect: Accepted = attempt.expect
    if outcome["outcome"] != "resolved":
        error = outcome["error"]
        return [Difference("refused", attempt.label, f"{attempt.what}: TF.js refused it ({error['name']}: "
                                                     f"{error['message']}), but upstream intends it to load: "
                                                     f"{expect.promise}", expected="resolved", actual=outcome["outcome"])]
    if expect.loads == "golden":
        out = trip.check_loaded(outcome["value"], prefix=prefix, want=expect.want(trip))
    else:  # topology only: the golden's topology and weight specs, the initializers' values
        loaded = json.loads(trip.parts()[f"{prefix}loaded.json"])
        out = diff_json(trip.want.model_json["modelTopology"], loaded.get("modelTopology"), f"{prefix}loaded.modelTopology")
        specs, got = trip.want.weight_specs, loaded.get("weightSpecs")
        if trip.want.by_name and isinstance(got, list):  # a user's layers model: TF.js orders its weights its own way
            specs, got = {w["name"]: w for w in specs}, {w.get("name"): w for w in got if isinstance(w, dict)}
        out += diff_json(specs, got, f"{prefix}loaded.weightSpecs")
        seen["weights"] = "the layers' initializers (not compared: random by design)"
    seen["loaded"] = [str(d) for d in out[:5]] or f"as upstream intends ({expect.loads})"
    if expect.hazard and not out:
        trip.hazard(expect.hazard, "accepted", attempt.label, f"{attempt.what}: loaded as upstream intends "
                                                              f"({expect.promise})")
    return out


async def attempt_save(trip: Trip, attempt: Attempt, target: dict) -> list[Difference]:
    """Save the golden to `target`: it must be refused."""
    outcome = await settle(trip.save(target, deadline=timeouts.scaled(timeouts.TFJS_CALL_S)))
    _observe(trip, attempt, outcome)
    if outcome["outcome"] == "resolved":
        return [Difference("accepted", attempt.label, f"{attempt.what}: save() resolved with "
                                                      f"{json.dumps(outcome['value'], default=str)[:300]}",
                           expected="a rejection", actual="resolved")]
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
    listed = await trip.step("manage", {"op": "listModels", "args": [], "deadline": timeouts.scaled(timeouts.TFJS_CALL_S)})
    return {"keys": flat, "indexeddbStores": sorted(keys["indexeddb"]),
            "listModels": sorted(listed.get("value") or {}), "listModelsError": listed.get("error")}


async def nothing_new(trip: Trip, before: dict | None, when: str) -> list[Difference]:
    """No storage key and no listed model that was not there `before`. (`listModels()` itself creates
    TF.js's empty IndexedDB database, so its two stores appear after the first snapshot; only keys and
    listed models count.)"""
    if before is None:
        return []
    after = await storage_state(trip)
    trip.observed.setdefault("storage", {})[when] = after
    out = []
    if after["listModelsError"]:
        out.append(Difference("half-saved", when, f"tf.io.listModels() failed: {after['listModelsError']}"))
    new_keys = sorted(set(after["keys"]) - set(before["keys"]))
    if new_keys:
        out.append(Difference("half-saved", when, f"storage keys appeared: {new_keys}", actual=new_keys))
    new_models = sorted(set(after["listModels"]) - set(before["listModels"]))
    if new_models:
        out.append(Difference("half-saved", when, f"tf.io.listModels() lists new models: {new_models}", actual=new_models))
    return out


# -- artifacts -------------------------------------------------------------------------------------


def golden_files(trip: Trip) -> tuple[dict, dict[str, bytes]]:
    """The golden's model.json (parsed) and its files as on disk: model.json and every shard, in order."""
    files = trip.golden.files()
    if len(files) == 1:
        raise Unsupported(f"model {trip.golden.name} has no weight files: nothing to break")
    return json.loads(files["model.json"]), files


def shard_paths(model_json: dict) -> list[str]:
    return [p for group in model_json["weightsManifest"] for p in group["paths"]]


def middle_shard(model_json: dict) -> str:
    paths = shard_paths(model_json)
    return paths[len(paths) // 2]


def with_model_json(files: dict[str, bytes], model_json: dict) -> dict[str, bytes]:
    return {**files, "model.json": json.dumps(model_json).encode()}


@dataclasses.dataclass
class Served:
    """One bad model on the model server: its files, and files that answer an error status instead."""

    attempt: Attempt
    files: dict[str, bytes]
    faults: dict[str, tuple[int, bytes | None]] = dataclasses.field(default_factory=dict)  # status, body
    origin: str = "same"  # "same" (the page's) or "nocors" (the https site, without CORS headers)


SIZE = Refusal("load", r"weight|byte|length|values|shape|size|short|truncat",
               "it should say the weight data does not have the size the manifest gives")
DECODES_BY_OFFSET = ("no upstream test or doc refuses weight data longer than its manifest: io_utils.ts decodeWeights "
                     "reads each weight at the offset the manifest gives (tfjs-v4.22.0 L119-L135)")
FORMAT_VERBATIM = ("http_test.ts 'http-load fetch' '1 group, 2 weights, 1 path' serves format 'tfjs-layers' and asserts "
                   "expect(modelArtifacts.format).toEqual('tfjs-layers'): the io layer passes format on unread")
GRAPH_KEEPS = ("; a graph model saves the artifacts it loaded, as served (graph_model.ts save: "
               "handlerOrURL.save(this.artifacts), tfjs-v4.22.0 L280-L300)")
TOPOLOGY_ONLY_HTTP = ("http_test.ts 'topology only': a model.json of {modelTopology} loads with weightSpecs and "
                      "weightData undefined; tfjs-layers models_test 'loadLayersModel from IOHandler: load topology "
                      "only' builds the model with its initializers")
TOPOLOGY_ONLY_FILES = ("browser_files_test.ts 'Upload model topology only': browserFiles([jsonFile]) resolves "
                       "{modelTopology} (weightSpecs undefined) although the manifest lists ./model.weights.bin; the API "
                       "doc: \"If no weights files are provided, only the model topology will be loaded\"")


def _truncated(trip, model_json, files):
    last = shard_paths(model_json)[-1]
    return [Served(Attempt("truncated-weights", f"{last} one byte short ({len(files[last]) - 1} of {len(files[last])} "
                                                f"bytes)", SIZE), {**files, last: files[last][:-1]})]


def _trailing(trip, model_json, files):
    last = shard_paths(model_json)[-1]
    return [Served(Attempt("trailing-bytes", f"{last} with {len(TRAILING)} bytes after the last weight "
                                             f"({len(files[last]) + len(TRAILING)} bytes, the manifest accounts for "
                                             f"{len(files[last])})", Accepted(DECODES_BY_OFFSET + GRAPH_KEEPS,
                                                                               graph_weight_suffix=TRAILING)),
                   {**files, last: files[last] + TRAILING})]


def _missing_shard(trip, model_json, files):
    shard = middle_shard(model_json)
    refusal = Refusal("load", rf"404|not found|{re.escape(shard)}", "it should name the 404 or the missing shard")
    what = (f"weight file {shard} missing on the server: HTTP 404 with the site's {len(NOT_FOUND_PAGE)}-byte "
            f"HTML error page (the file has {len(files[shard])} bytes)")
    return [Served(Attempt("missing-shard", what, refusal), files, faults={shard: (404, NOT_FOUND_PAGE)})]


def _shard_500(trip, model_json, files):
    shard = middle_shard(model_json)
    refusal = Refusal("load", rf"500|internal server error|{re.escape(shard)}", "it should name the HTTP 500 or the shard")
    return [Served(Attempt("shard-500", f"weight shard {shard} answered HTTP 500 (body \"500 Internal Server Error\")",
                           refusal), files, faults={shard: (500, None)})]


def _wrong_dtype(trip, model_json, files):
    out = []
    # the first float32 weight, declared as another dtype: one stored as float32 if there is one, else a quantized one
    weights = [(g, w, spec) for g, group in enumerate(model_json["weightsManifest"])
               for w, spec in enumerate(group["weights"]) if spec["dtype"] == "float32"]
    g, w, _ = next((x for x in weights if "quantization" not in x[2]), weights[0] if weights else (0, 0, None))
    for dtype in ("int32", "float64"):
        changed = copy.deepcopy(model_json)
        spec = changed["weightsManifest"][g]["weights"][w]
        quantized = (spec.get("quantization") or {}).get("dtype")
        was, spec["dtype"] = spec["dtype"] if not quantized else f"{quantized}-quantized {spec['dtype']}", dtype
        refusal = Refusal("load", rf"dtype|{dtype}", f"it should name the dtype {dtype!r}")
        out.append(Served(Attempt(f"dtype-{dtype}", f"manifest says {spec['name']} is {dtype} (its bytes are {was})",
                                  refusal), with_model_json(files, changed)))
    return out


def _shape_mismatch(trip, model_json, files):
    changed = copy.deepcopy(model_json)
    spec = changed["weightsManifest"][-1]["weights"][-1]
    was = list(spec["shape"])
    spec["shape"] = [was[0] + 1, *was[1:]] if was else [2]
    return [Served(Attempt("shape-mismatch", f"manifest says {spec['name']} has shape {spec['shape']}; its bytes hold "
                                             f"{was}", SIZE), with_model_json(files, changed))]


def _malformed_json(trip, model_json, files):
    refusal = Refusal("load", r"json|parse", "it should say model.json is not valid JSON")
    return [Served(Attempt("malformed-json", "model.json is an HTML page (a dev server's fallback), served with status "
                                             "200", refusal), {**files, "model.json": HTML_FALLBACK})]


def _unknown_format(trip, model_json, files):
    changed = {**model_json, "format": "not-a-tfjs-format"}
    return [Served(Attempt("unknown-format", f"model.json \"format\": \"not-a-tfjs-format\" (was "
                                             f"{model_json.get('format')!r})",
                                   Accepted(FORMAT_VERBATIM + GRAPH_KEEPS, graph_fields={"format": "not-a-tfjs-format"})),
                   with_model_json(files, changed))]


def _no_manifest(trip, model_json, files):
    changed = {k: v for k, v in model_json.items() if k != "weightsManifest"}
    return [Served(Attempt("no-manifest", f"model.json without weightsManifest (the topology has "
                                          f"{len(trip.golden.weight_specs)} weights; the weight files are on the server)",
                           Accepted(TOPOLOGY_ONLY_HTTP, loads="topology")), with_model_json(files, changed))]


def _no_cors(trip, model_json, files):
    refusal = Refusal("load", r"failed to fetch|networkerror|load failed|access.control|cors",
                      "it should be the browser's network-level refusal of a cross-origin response (fetch's TypeError), "
                      "naming no HTTP status", network=True)
    return [Served(Attempt("no-cors", "model.json and weights from another origin than the page (the harness's https "
                                      "site) without an Access-Control-Allow-Origin header", refusal), files,
                   origin="nocors")]


# -- the cases -------------------------------------------------------------------------------------

Artifacts = Callable[[Trip, dict, dict], list[Served]]


@dataclasses.dataclass(frozen=True)
class Case:
    """One negative row: its name, the models it runs on, where, and how it breaks the artifacts (or
    which of the special attempts it makes: `kind`)."""

    name: str  # the row's scheme, "negative-<name>"
    artifacts: Artifacts | None  # for kind "http-load": the broken files the model server serves
    models: tuple[str, ...] = ("mlp",)
    hosts: tuple[str, ...] = ("browser", "node")
    kind: str = "http-load"  # http-load | missing-path | browser-files | save-500


CASES: tuple[Case, ...] = (
    Case("truncated-weights", _truncated),
    Case("trailing-bytes", _trailing),
    # a site's 404 page is longer than the mlp's weights, shorter than a shard: both run
    Case("missing-shard", _missing_shard, models=("mlp", "sharded")),
    Case("shard-500", _shard_500, models=("sharded",)),
    Case("wrong-dtype", _wrong_dtype),
    Case("shape-mismatch", _shape_mismatch),
    Case("malformed-json", _malformed_json),
    Case("unknown-format", _unknown_format),
    Case("no-manifest", _no_manifest),
    Case("cors", _no_cors, hosts=("browser",)),
    Case("missing-path", None, hosts=("browser",), kind="missing-path"),
    Case("browser-files", None, hosts=("browser",), kind="browser-files"),
    Case("save-500", None, kind="save-500"),
)


class Negative(Scheme):
    """A negative row (one Case); afterwards nothing may be left in storage."""

    def __init__(self, case: Case):
        self.case = case
        self.name = f"negative-{case.name}"
        self.hosts = case.hosts

    async def run(self, trip: Trip) -> list[Difference]:
        before = await storage_state(trip)
        trip.observed["storage"] = {"before": before}
        return await getattr(self, f"_{self.case.kind.replace('-', '_')}")(trip, before)

    async def _http_load(self, trip: Trip, before: dict | None) -> list[Difference]:
        model_json, files = golden_files(trip)
        out = []
        for bad in self.case.artifacts(trip, model_json, files):
            upload = trip.server.open_upload()
            upload.publish({k: v for k, v in bad.files.items() if k not in bad.faults})
            for name, (status, body) in bad.faults.items():
                upload.publish_fault(name, status, body)
            if bad.origin == "nocors":
                out += await self._cross_origin(trip, bad.attempt, upload)
            else:
                url = f"{trip.server.url}/uploads/{upload.token}/model.json"
                out += await attempt_load(trip, bad.attempt, {"kind": "url", "url": url})
            trip.observed["negative"][bad.attempt.label]["requests"] = upload.request_lines()
            out += await nothing_new(trip, before, f"after {bad.attempt.label}")
        return out

    @staticmethod
    async def _cross_origin(trip: Trip, attempt: Attempt, upload: Upload) -> list[Difference]:
        """The files from the https site without CORS headers must be refused; the same files with them
        must load, or the refusal proves nothing."""
        base = trip.server.https_url
        if not base:
            raise Unsupported("the harness server has no second (https) origin")
        out = await attempt_load(trip, attempt, {"kind": "url", "url": f"{base}/nocors/uploads/{upload.token}/model.json"})
        control = await trip.load_and_check({"kind": "url", "url": f"{base}/uploads/{upload.token}/model.json"},
                                            prefix="control.")
        trip.observed["negative"]["control"] = {"what": "the same files from the same origin WITH the CORS header",
                                                "outcome": "loaded and matched" if not control else [str(d) for d in control]}
        return out + [d.where("", f"the same files with CORS headers did not load cleanly, so the refusal above "
                                  f"proves nothing: {d.message}") for d in control]

    async def _missing_path(self, trip: Trip, before: dict | None) -> list[Difference]:
        """Loading localstorage:// and indexeddb:// paths nothing was ever saved to."""
        out = []
        for scheme in ("localstorage", "indexeddb"):
            path = f"{trip.golden.name}-never-saved"
            refusal = Refusal("load", re.escape(path), f"it should name the path {path!r}")
            attempt = Attempt(f"missing-{scheme}", f"{scheme}://{path}, never saved", refusal)
            out += await attempt_load(trip, attempt, {"kind": "url", "url": f"{scheme}://{path}"})
            out += await nothing_new(trip, before, f"after missing-{scheme}")
        return out

    async def _browser_files(self, trip: Trip, before: dict | None) -> list[Difference]:
        """`tf.io.browserFiles` with model.json chosen but not its weights file (upstream: topology only),
        then with the weights file chosen twice (two copies of the same file, from two folders: refused)."""
        model_json, files = golden_files(trip)
        weights = shard_paths(model_json)
        source = {"kind": "browserFiles", "input": FILE_INPUT}
        out = []
        await _choose(trip, [("alone", "model.json", files["model.json"])])
        alone = Accepted(TOPOLOGY_ONLY_FILES, loads="topology", hazard="browser-files-ignores-listed-weights")
        out += await attempt_load(trip, Attempt("weights-missing", f"model.json chosen without {weights}", alone), source)
        out += await nothing_new(trip, before, "after weights-missing")
        # The weights given twice, in a fresh choice: a user's new choice replaces the old one. A build
        # whose file choice adds to the selection (Build.file_choice "append": WebDriver's send_keys) gets
        # a reloaded page first (storage kept).
        if trip.page.build is not None and trip.page.build.file_choice == "append":
            await trip.page.reload(trip.timeout)
        chosen = [("twice", "model.json", files["model.json"])]
        chosen += [(folder, p, files[p]) for folder in ("twice", "twice-again") for p in weights]
        await _choose(trip, chosen)
        twice = Refusal("load", r"duplicate|twice|mismatch|number of", "it should say a weight file was given more than once")
        out += await attempt_load(trip, Attempt("weights-twice", f"{weights} chosen twice (model.json + "
                                                                 f"{2 * len(weights)} weight files)", twice), source)
        return out + await nothing_new(trip, before, "after weights-twice")

    async def _save_500(self, trip: Trip, before: dict | None) -> list[Difference]:
        """`model.save('http://.../upload')` to a model server that answers 500 and stores nothing."""
        upload = trip.server.open_upload()
        upload.refuse_saves(500)
        url = f"{trip.server.url}/uploads/{upload.token}"
        refusal = Refusal("save", r"status", "it should name the HTTP status 500", status=500)
        out = await attempt_save(trip, Attempt("save-500", f"the model server at {url} answered HTTP 500", refusal),
                                 {"kind": "url", "url": url})
        sent = [{k: r.get(k) for k in ("method", "status", "parts")} for r in upload.requests]
        trip.observed["negative"]["save-500"]["requests"] = sent
        if upload.parts or upload.files:
            out.append(Difference("half-saved", "server", f"the server kept {sorted(upload.parts)}"))
        if len(sent) != 1 or {p["field"] for p in sent[0]["parts"] or []} != {"model.json", "model.weights.bin"}:
            out.append(Difference("upload", "requests", f"expected one multipart request with model.json and "
                                                        f"model.weights.bin, the server saw {sent}"))
        return out + await nothing_new(trip, before, "after save-500")


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


NEGATIVE: dict[str, list[Scheme]] = {}  # model -> the negative rows that run on it
for _case in CASES:
    for _model in _case.models:
        NEGATIVE.setdefault(_model, []).append(Negative(_case))
NEGATIVE_MLP, NEGATIVE_SHARDED = NEGATIVE["mlp"], NEGATIVE["sharded"]
HAZARDS = ("browser-files-ignores-listed-weights",)  # the hazard ids these rows can report (expectations.toml)
