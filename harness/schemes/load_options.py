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

import secrets

from harness.schemes.base import Scheme
from harness.trip.compare import Difference
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
        trip.observed["requests"] = [f"{r['method']} {r['path'].rsplit('/', 1)[-1]} -> {r.get('status')}"
                                     for r in upload.requests]
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
