"""`load-options`: LoadOptions passed the way users pass them, `tf.loadLayersModel(url, options)` and
`tf.loadGraphModel(url, options)`, not through a handler the page builds.

The golden's own files (model.json and every shard of every group) are published on a model-server slot
that answers 401 to a request without the row's header. The load passes, in one options object:

* `requestInit: {headers, credentials: 'include'}`: the header and the credentials mode must reach every
  request (models_test.ts 'load topology and weights with browserHTTPRequest with requestInit', and
  weights_loader_test.ts 'should use request option');
* `fetchFunc`: the user's own fetch, which must see every request, model.json and each weight file,
  with that requestInit (http_test.ts 'Overriding BrowserHTTPRequest fetchFunc'; the router passes the
  options on: router_registry_test.ts 'getLoadHandler loadOptions');
* `onProgress`: called twice per weight file, fetched then read, at the evenly spaced fractions
  upstream asserts (models_test.ts 'loadLayersModel: with onProgress callback from URL': two weight
  files give exactly [0.25, 0.5, 0.75, 1]; progress_test.ts 'Default progress from 0 to 1':
  `start + k / n * (end - start)`, for the fetches over [0, 0.5] and the reads over [0.5, 1]).

The loaded model must equal the golden, as every load does.
"""

from __future__ import annotations

import json
import secrets

from harness.golden import decode
from harness.schemes.base import Scheme, Unsupported
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_weights
from harness.trip.roundtrip import TfjsError, Trip

HEADER = "X-Harness-Key"


def expected_progress(weight_files: int) -> list[float]:
    """The fractions TF.js's onProgress must report for `weight_files` files, in order: each of the n
    fetches then each of the n reads, computed as progress.ts writes them (the same IEEE doubles)."""
    n = weight_files
    return [0.0 + k / n * (0.5 - 0.0) for k in range(1, n + 1)] + [0.5 + k / n * (1.0 - 0.5) for k in range(1, n + 1)]


class LoadOptions(Scheme):
    name = "load-options"
    hosts = ("browser", "node")
    models = ("mlp", "split-weights", "graph")  # one weight file, seven in three groups, a graph model

    async def run(self, trip: Trip) -> list[Difference]:
        secret = {HEADER: secrets.token_hex(8)}
        upload = trip.server.open_upload(require=secret)
        files = trip.golden.files()
        upload.publish(files)
        url = f"{trip.server.url}/uploads/{upload.token}/model.json"
        options = {"requestInit": {"headers": secret, "credentials": "include"}}
        source = {"kind": "url", "url": url, "options": options, "recordProgress": True, "recordFetches": True}
        try:
            result = await trip.load(source)
        except TfjsError as e:
            return [e.difference()]
        out = trip.check_loaded(result)
        weights = [name for name in files if name != "model.json"]
        trip.observed["onProgress"] = progress = result.get("progress")
        trip.observed["fetches"] = fetches = result.get("fetches")
        trip.observed["requests"] = upload.request_lines()
        if weights and progress != expected_progress(len(weights)):
            out.append(Difference("onProgress", "fractions", f"{len(weights)} weight file(s): expected "
                                                              f"{expected_progress(len(weights))}, got {progress}",
                                  expected=expected_progress(len(weights)), actual=progress))
        out += self._check_fetches(url, files, fetches or [], secret)
        refused = [r["path"] for r in upload.requests if r.get("status") != 200]
        if refused:
            out.append(Difference("requestInit", "server", f"requests the server refused (no {HEADER} header): {refused}",
                                  actual=refused))
        return out

    @staticmethod
    def _check_fetches(url: str, files: dict[str, bytes], fetches: list[dict], secret: dict) -> list[Difference]:
        """fetchFunc saw model.json and each weight file once, each with the header and credentials 'include'."""
        base = url.rsplit("/", 1)[0]
        wanted = sorted(f"{base}/{name}" for name in files)
        seen = sorted(f["url"].removeprefix("./") for f in fetches)
        out = []
        if seen != wanted:
            out.append(Difference("fetchFunc", "requests", f"the fetchFunc given saw {seen}, expected every request: "
                                                           f"{wanted}", expected=wanted, actual=seen))
        header = HEADER.lower()
        wrong = [f for f in fetches if f.get("credentials") != "include" or f.get("headers", {}).get(header) != secret[HEADER]]
        if wrong:
            out.append(Difference("requestInit", "fetchFunc", f"requests without credentials 'include' and the "
                                                              f"{HEADER} header: {wrong}", actual=wrong))
        return out


class RelativeUrl(Scheme):
    """`http-relative`: a model URL relative to the page, as an app's own code writes it
    (`tf.loadLayersModel('model/model.json')`, models_test.ts 'load topology and weights from implicit
    relative http path'): no router takes it, so TF.js falls back to browserHTTPRequest, and the weight
    files must be fetched beside model.json. The golden's own files are published on a slot and loaded
    as `uploads/<t>/model.json` and as `./uploads/<t>/model.json` (the page is at the server's root)."""

    name = "http-relative"
    hosts = ("browser",)  # Node has no page location to be relative to
    models = ("mlp", "split-weights", "graph")

    async def run(self, trip: Trip) -> list[Difference]:
        files = trip.golden.files()
        out = []
        trip.observed["requests"] = {}
        for label, form in (("relative", "uploads/{t}/model.json"), ("dot-relative", "./uploads/{t}/model.json")):
            upload = trip.server.open_upload()
            upload.publish(files)
            out += await trip.load_and_check({"kind": "url", "url": form.format(t=upload.token)}, prefix=f"{label}.")
            got = sorted(r["path"].rsplit("/", 1)[-1] for r in upload.requests if r.get("status") == 200)
            trip.observed["requests"][label] = got
            if got != sorted(files):
                out.append(Difference("requests", label, f"the server answered {got}, expected every file once: "
                                                         f"{sorted(files)}", expected=sorted(files), actual=got))
        return out


class LoadWeights(Scheme):
    """`load-weights`: `tf.io.loadWeights(manifest, filePathPrefix, names)`, the weights-only loading that
    libraries such as face-api.js use (weights_loader_test.ts). The golden's files are published on a slot
    and its own manifest is given: every weight requested comes back with the golden's bytes, bit for bit
    (numpy's decoding of the files; quantized weights as dequantized float32); asking for one group's
    weights fetches that group's files only ('2 group, 4 weights, fetches one group'); a name the manifest
    lacks rejects with 'Could not find weights' ('throws if requested weight not found')."""

    name = "load-weights"
    hosts = ("browser", "node")
    models = ("split-weights", "mlp", "quantized-uint8")  # three groups of 2, 4 and 1 files; one file; quantized

    async def run(self, trip: Trip) -> list[Difference]:
        files = trip.golden.files()
        manifest = json.loads(files["model.json"]).get("weightsManifest") or []
        if not manifest:
            raise Unsupported(f"model {trip.golden.name} has no weights manifest: nothing to load")
        upload = trip.server.open_upload()
        upload.publish(files)
        prefix = f"{trip.server.url}/uploads/{upload.token}/"
        # what TF.js decodes from the files, by numpy (harness.golden.decode): quantized weights dequantized,
        # whatever the model's format (a graph model's own save keeps them quantized; loadWeights does not)
        want = {spec["name"]: (spec, data) for spec, data in decode.held(trip.golden.weight_specs, trip.golden.weight_data)}
        seen = trip.observed["loadWeights"] = {}
        out = []
        groups = [[w["name"] for w in g["weights"]] for g in manifest]
        one = len(groups) // 2  # a middle group: its files, and no other, must be fetched
        for label, names in (("all", [n for g in groups for n in g]), (f"group{one + 1}", groups[one])):
            upload.requests.clear()
            reply = await trip.step("loadWeights", {"manifest": manifest, "filePathPrefix": prefix, "names": names,
                                                    "prefix": f"{label}.", "deadline": timeouts.scaled(timeouts.TFJS_CALL_S)})
            fetched = sorted(r["path"].rsplit("/", 1)[-1] for r in upload.requests)
            seen[label] = {"names": names, "fetched": fetched, **reply}
            if "error" in reply:
                out.append(Difference("loadWeights", label, f"tf.io.loadWeights(manifest, prefix, {len(names)} names) "
                                                            f"failed: {reply['error']['name']}: {reply['error']['message']}"))
                continue
            out += self._compare(trip, label, names, reply["tensors"], want)
            paths = sorted(p for p in manifest[one]["paths"]) if label != "all" else sorted(
                p for g in manifest for p in g["paths"])
            if fetched != paths:
                out.append(Difference("loadWeights", f"{label}.requests", f"fetched {fetched}, expected exactly {paths}",
                                      expected=paths, actual=fetched))
        reply = await trip.step("loadWeights", {"manifest": manifest, "filePathPrefix": prefix, "names": ["doesntexist"],
                                                "prefix": "missing.", "deadline": timeouts.scaled(timeouts.TFJS_CALL_S)})
        seen["doesntexist"] = reply
        message = (reply.get("error") or {}).get("message", "")
        if "Could not find weights" not in message:
            out.append(Difference("loadWeights", "doesntexist", f"a name the manifest lacks must reject with 'Could not "
                                                                f"find weights' (weights_loader_test.ts 'throws if requested "
                                                                f"weight not found'); got {reply}"[:400]))
        return out

    @staticmethod
    def _compare(trip: Trip, label: str, names: list[str], tensors: list[dict], want: dict) -> list[Difference]:
        got = {t["name"]: t for t in tensors}
        out = []
        if sorted(got) != sorted(names):
            out.append(Difference("loadWeights", f"{label}.names", f"returned {sorted(got)}, asked for {sorted(names)}",
                                  expected=sorted(names), actual=sorted(got)))
        parts = trip.parts()
        for name in (n for n in names if n in got and n in want and got[n]["part"]):  # string weights: not posted
            spec, expected = want[name]
            t = got[name]
            if [t["dtype"], list(t["shape"])] != [spec["dtype"], list(spec["shape"])]:
                out.append(Difference("loadWeights", f"{label}.{name}", f"dtype/shape {t['dtype']} {t['shape']}, expected "
                                                                        f"{spec['dtype']} {spec['shape']}"))
                continue
            out += diff_weights([spec], expected, parts.get(t["part"], b""), f"loadWeights.{label}")
        return out
