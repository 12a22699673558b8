"""`promise-*`: what TF.js's own io tests assert of its exported API, beyond a model's save and load,
made the way a user's code or a library calls it (page steps in harness/js/probes.js).

Each scheme builds its inputs in Python (artifacts, manifests, weight files written with numpy), hands
them to the page over the harness server, and judges what comes back against what Python computes from
those files (harness.golden.decode) and what the upstream test named in `UPSTREAM` asserts. They run on
the zoo's mlp only (their subject is TF.js's API, not the model), beside the contract rows.

    promise-decode-weights      tf.io.loadWeights / decodeWeights / decodeWeightsStream / encodeWeights
    promise-handler-artifacts   getSaveHandlers / getLoadHandlers on localStorage, IndexedDB and http
    promise-downloads           downloads:// with no name, of a topology-only model, and tf.io.browserDownloads itself
    promise-from-memory-legacy  fromMemory(topology, specs, data) and fromMemory(topology), and the Sync ones
    promise-load-routers        a user's load router given string arrays; every scheme's save and load routing
    promise-file-system-binary  Node: file:// [model.pb, manifest.json] pairs
    promise-load-memory         no tensor leaked by loadLayersModel; dispose frees them all
    promise-user-metadata       setUserDefinedMetadata refuses non-objects; large metadata warns
    promise-layers-load         trainableOnly saves, a non-strict partial load, a Keras HDF5-style topology
    promise-optimizers          fit() after a load, per optimizer: numpy's step, and the never-saved model's
    promise-graph-metadata      a graph model's userDefinedMetadata as model.metadata, through every medium
    promise-graph-hash-table    a hash-table graph model's modelInitializer runs and looks keys up, through every medium
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import numpy as np

from harness.engines.base import DownloadsIncomplete
from harness.golden import decode, train
from harness.golden.writer import js_json_bytes
from harness.schemes.base import Scheme, require
from harness.schemes.files import delivery
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_json, diff_weights, weight_layout
from harness.trip.roundtrip import ExpectedSave, TfjsError, Trip

IO_UTILS = "tfjs-core/src/io/io_utils_test.ts"
LOADER = "tfjs-core/src/io/weights_loader_test.ts"
LS = "tfjs-core/src/io/local_storage_test.ts"
IDB = "tfjs-core/src/io/indexed_db_test.ts"
HTTP = "tfjs-core/src/io/http_test.ts"
FILES = "tfjs-core/src/io/browser_files_test.ts"
PASSTHROUGH = "tfjs-core/src/io/passthrough_test.ts"
ROUTERS = "tfjs-core/src/io/router_registry_test.ts"
NODE_FS = "tfjs-node/src/io/file_system_test.ts"
LAYERS_SAVE = "tfjs-layers/src/model_save_test.ts"
LAYERS_MODELS = "tfjs-layers/src/models_test.ts"
METADATA = "tfjs-layers/src/user_defined_metadata_test.ts"


def _deadline() -> float:
    return timeouts.scaled(timeouts.TFJS_CALL_S)


def _error(outcome: dict) -> str | None:
    """'Name: message' of an `attempt` that failed (probes.js), None when it gave a value."""
    if "error" in outcome:
        return f"{outcome['error']['name']}: {outcome['error']['message']}"
    return None


class PromiseScheme(Scheme):
    """One scheme of promises; `UPSTREAM` lists the upstream tests (file, test name) it makes."""

    models = ("mlp",)
    UPSTREAM: tuple[tuple[str, str], ...] = ()


# -- promise-decode-weights ------------------------------------------------------------------------------

def _u16(*values: int) -> bytes:
    return np.array(values, dtype="<u2").tobytes()


def _strings(*values: str) -> bytes:
    out = b""
    for v in values:
        raw = v.encode("utf-8")
        out += len(raw).to_bytes(4, "little") + raw
    return out


# (spec, stored bytes) of a manifest with two groups: the first all quantized, the second none.
# Values are upstream's where its tests give them (io_utils_test 'support quantization uint8/uint16
# weights', 'decodes NaN to float32 NaN' and the other float16 tests, 'Mixed dtype tensors').
FLOAT16_SPECIALS = (0x7E00, 0x7C00, 0xFC00, 0x0000, 0x8000, 0x7BFF, 0xFBFF, 0x0001, 0x03FF, 0x3400, 0x3800,
                    0x3A00, 0x3555, 0x3C00)  # NaN, +-Inf, +-0, +-65504, subnormals, .25 .5 .75 .333 1
QUANTIZED = (
    ({"name": "q/uint8-float32", "shape": [3], "dtype": "float32",
      "quantization": {"min": -1, "scale": 0.1, "dtype": "uint8"}}, bytes([0, 48, 255])),
    ({"name": "q/uint8-int32", "shape": [3], "dtype": "int32",
      "quantization": {"min": -1, "scale": 0.1, "dtype": "uint8"}}, bytes([0, 48, 255])),
    ({"name": "q/uint16-float32", "shape": [3], "dtype": "float32",
      "quantization": {"min": -1, "scale": 0.1, "dtype": "uint16"}}, _u16(0, 48, 255)),
    ({"name": "q/uint16-int32", "shape": [5], "dtype": "int32",  # halves round up: 0.5 -> 1, 1.5 -> 2
      "quantization": {"min": -1, "scale": 0.5, "dtype": "uint16"}}, _u16(0, 3, 5, 255, 65535)),
    ({"name": "q/float16", "shape": [len(FLOAT16_SPECIALS)], "dtype": "float32",
      "quantization": {"dtype": "float16"}}, _u16(*FLOAT16_SPECIALS)),
)
PLAIN = (
    ({"name": "x1", "shape": [2, 2], "dtype": "int32"}, np.array([10, 20, 30, 40], "<i4").tobytes()),
    ({"name": "x2", "shape": [], "dtype": "float32"}, np.array([13.37], "<f4").tobytes()),
    ({"name": "x3", "shape": [3], "dtype": "bool"}, bytes([1, 0, 0])),
    ({"name": "x4", "shape": [2, 2], "dtype": "string"}, _strings("здраво", "a", "b", "c")),
    ({"name": "x5", "shape": [1], "dtype": "string"}, _strings("")),
    ({"name": "x6", "shape": [], "dtype": "string"}, _strings("hello")),
    ({"name": "y1", "shape": [3, 1], "dtype": "float32"}, np.array([-10, -20, -30], "<f4").tobytes()),
    ({"name": "y2", "shape": [2], "dtype": "complex64"}, np.array([1, 2, 1, 2], "<f4").tobytes()),  # re, im
    ({"name": "y3", "shape": [3], "dtype": "complex64"}, np.array([1, 1, 2, 2, -0.0, np.inf], "<f4").tobytes()),
)


def decode_manifest(strings: bool = True, name: str = "") -> tuple[list[dict], dict[str, bytes]]:
    """The manifest (2 groups; the second split over two files mid-weight) and its files, plus
    `<name>all.bin`: every weight's bytes in manifest order. strings=False: without the string weights."""
    plain = [(s, d) for s, d in PLAIN if strings or s["dtype"] != "string"]
    first = b"".join(data for _, data in QUANTIZED)
    second = b"".join(data for _, data in plain)
    cut = len(second) // 2 + 1
    paths = [f"{name}group1-shard1of1.bin"], [f"{name}group2-shard1of2.bin", f"{name}group2-shard2of2.bin"]
    manifest = [{"paths": paths[0], "weights": [copy.deepcopy(s) for s, _ in QUANTIZED]},
                {"paths": paths[1], "weights": [copy.deepcopy(s) for s, _ in plain]}]
    files = {paths[0][0]: first, paths[1][0]: second[:cut], paths[1][1]: second[cut:], f"{name}all.bin": first + second}
    return manifest, files


class DecodeWeights(PromiseScheme):
    """`tf.io.loadWeights(manifest, prefix)`, `tf.io.decodeWeights(buffer, specs)`, `tf.io.decodeWeightsStream
    (response.body, specs)` and `tf.io.encodeWeights(decoded)` over one manifest of two groups (QUANTIZED,
    PLAIN): every tensor's dtype, shape and bytes are what numpy decodes from the files
    (harness.golden.decode.held: uint8/uint16 affine dequantized in float64 and rounded once to float32,
    int32 targets rounded half up as Math.round, float16 widened with NaN/Inf/subnormals kept), and
    encodeWeights gives the same bytes back with plain specs. loadWeights is given the manifest without its
    string weights: weights_loader.ts sizes each weight by DTYPE_VALUE_SIZE_MAP, which has no 'string', and
    upstream's loadWeights tests have none."""

    name = "promise-decode-weights"
    hosts = ("browser", "node")
    UPSTREAM = ((IO_UTILS, "Mixed dtype tensors"), (IO_UTILS, "Complex64 tensors"),
                (IO_UTILS, "decodes NaN to float32 NaN"),
                (LOADER, "quantized weights (uint16)"), (LOADER, "2 groups, 1 quantized, 1 unquantized"))

    async def run(self, trip: Trip) -> list[Difference]:
        manifest, files = decode_manifest()
        numeric, numeric_files = decode_manifest(strings=False, name="numeric-")
        upload = trip.server.open_upload()
        upload.publish({**files, **numeric_files})
        prefix = f"{trip.server.url}/uploads/{upload.token}/"
        wants = {api: decode.held([w for g in m for w in g["weights"]], f[f"{name}all.bin"])
                 for api, m, f, name in (("loadWeights", numeric, numeric_files, "numeric-"),
                                         ("decodeWeights", manifest, files, ""))}
        wants["decodeWeightsStream"] = want = wants["decodeWeights"]
        reply = await trip.step("decodeWeights", {"manifest": manifest, "loadManifest": numeric, "filePathPrefix": prefix,
                                                  "whole": prefix + "all.bin", "prefix": ""})
        trip.observed["decodeWeights"] = reply
        parts = trip.parts()
        out = []
        for api in ("loadWeights", "decodeWeights", "decodeWeightsStream"):
            outcome = reply[api]
            if "absent" in outcome:
                continue
            if _error(outcome):
                out.append(Difference(api, "$", f"tf.io.{api} failed: {_error(outcome)}"))
                continue
            out += _compare_tensors(api, wants[api], outcome["value"], parts.get(f"{api}.bin", b""))
        if reply.get("decodeWeightsGavePromise"):
            out.append(Difference("decodeWeights", "$", "tf.io.decodeWeights returned a Promise; io_utils_test "
                                                        "'Mixed dtype tensors' asserts it returns the tensors"))
        encoded = reply.get("encodeWeights")
        if encoded is not None:
            if _error(encoded):
                out.append(Difference("encodeWeights", "$", f"tf.io.encodeWeights failed: {_error(encoded)}"))
            else:
                plain = [{k: s[k] for k in ("name", "shape", "dtype")} for s, _ in want]
                out += diff_json(plain, encoded["value"], "encodeWeights.specs")
                out += diff_weights(plain, b"".join(b for _, b in want), parts.get("encodeWeights.bin", b""),
                                    "encodeWeights.data")
        return out


def _compare_tensors(what: str, want: list[tuple[dict, bytes]], posted: list[dict], data: bytes) -> list[Difference]:
    """Tensors posted by steps.js postTensors ({name, dtype, shape, bytes} and their bytes in order)
    against `want` (spec as TF.js holds it, bytes), by name, bit for bit."""
    have, offset = {}, 0
    for t in posted:
        have[t["name"]] = (t, data[offset:offset + t["bytes"]])
        offset += t["bytes"]
    out = []
    if sorted(have) != sorted(s["name"] for s, _ in want):
        out.append(Difference(what, "names", "the tensors returned are not the manifest's weights",
                              expected=sorted(s["name"] for s, _ in want), actual=sorted(have)))
    for spec, expected in want:
        if spec["name"] not in have:
            continue
        tensor, actual = have[spec["name"]]
        got = {"shape": tensor["shape"], "dtype": tensor["dtype"]}
        diffs = diff_json({"shape": spec["shape"], "dtype": spec["dtype"]}, got, f"{what}.{spec['name']}")
        out += diffs or diff_weights([{k: spec[k] for k in ("name", "shape", "dtype")}], expected, actual, what)
    return out


# -- promise-handler-artifacts ---------------------------------------------------------------------------

INITIALIZER = {"node": [{"name": "table", "op": "HashTableV2", "attr": {
    "key_dtype": {"type": "DT_STRING"}, "value_dtype": {"type": "DT_INT64"}, "shared_name": {"s": "dGFibGU="}}}],
    "versions": {"producer": 1134}}
INITIALIZER_SIGNATURE = {"outputs": {"table:0": {"name": "table:0", "dtype": "DT_RESOURCE", "tensorShape": {}}}}
SIGNATURE = {"inputs": {"x:0": {"name": "x:0", "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}, {"size": "8"}]}}},
             "outputs": {"y:0": {"name": "y:0", "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}, {"size": "4"}]}}}}
# What local_storage_test's `artifacts1` carries beside topology and weights (every ModelArtifacts field).
EXTRA = {"format": "layers-model", "generatedBy": "TensorFlow.js v0.0.0", "convertedBy": "harness.schemes.promises",
         "signature": SIGNATURE, "userDefinedMetadata": {"outputLabels": ["a", "b", "c", "d"], "nested": {"ü": [1, None]}},
         "modelInitializer": INITIALIZER, "initializerSignature": INITIALIZER_SIGNATURE,
         "trainingConfig": {"loss": "categorical_crossentropy", "metrics": ["accuracy"],
                            "optimizer_config": {"class_name": "SGD", "config": {"learning_rate": 0.1}}}}
V0_UNDEFINED = ("format", "generatedBy", "convertedBy", "userDefinedMetadata", "trainingConfig", "modelInitializer",
                "initializerSignature")


class HandlerArtifacts(PromiseScheme):
    """Artifacts saved and loaded through the handlers TF.js routes URLs to (`tf.io.getSaveHandlers(url)[0]
    .save(artifacts)`, `tf.io.getLoadHandlers(url)[0].load()`, as upstream's tests call them):

    - every ModelArtifacts field (EXTRA: modelInitializer, initializerSignature, signature, metadata,
      training config) comes back exactly, from localStorage and IndexedDB;
    - v0 artifacts (topology, specs and data only) come back with every other field undefined;
    - two different models saved side by side each load as themselves;
    - http: the POSTed model.json carries every field; a topology-only save sends model.json alone and
      reports 0 weight bytes; a model.json with a manifest only loads with modelTopology undefined."""

    name = "promise-handler-artifacts"
    UPSTREAM = ((LS, "Save-load round trip succeeds"), (LS, "Save-load round trip succeeds: v0 format"),
                (IDB, "Save two models and load one"), (HTTP, "Save topology only, default POST method"),
                (HTTP, "weights only"))

    async def run(self, trip: Trip) -> list[Difference]:
        p = self.path(trip)
        g = trip.golden
        topology = g.model_json["modelTopology"]
        full = {"modelTopology": topology, "weightSpecs": g.weight_specs, **EXTRA}
        v0 = {"modelTopology": topology, "weightSpecs": g.weight_specs}
        other = bytes(reversed(g.weight_data))  # the second model: other bytes under the same specs
        upload = trip.server.open_upload()
        upload.publish({"full.bin": g.weight_data, "v0.bin": other})
        files = f"{trip.server.url}/uploads/{upload.token}"
        out = []
        seen = trip.observed["handlers"] = {}

        async def call(label: str, **args) -> dict:
            reply = await trip.step("handlers", {"prefix": f"{label}.", "deadline": _deadline(), **args})
            seen[label] = reply
            return reply

        for medium in ("localstorage", "indexeddb"):
            for label, artifacts, weights in (("full", full, "full.bin"), ("v0", v0, "v0.bin")):
                reply = await call(f"{medium}-{label}-save", save=f"{medium}://{p}/{label}", artifacts=artifacts,
                                   weights=f"{files}/{weights}")
                if _error(reply["save"]):
                    out.append(Difference(f"{medium}-{label}", "save", f"save failed: {_error(reply['save'])}"))
            for label, artifacts, data in (("full", full, g.weight_data), ("v0", v0, other)):
                reply = await call(f"{medium}-{label}", load=f"{medium}://{p}/{label}")
                undefined = V0_UNDEFINED if label == "v0" else ()
                out += _check_artifacts(trip, f"{medium}-{label}", reply["load"], artifacts, data, undefined)
        out += await self._http(trip, call, full, topology)
        return out

    @staticmethod
    async def _http(trip: Trip, call, full: dict, topology: dict) -> list[Difference]:
        g, out = trip.golden, []
        slot = trip.server.open_upload()
        url = f"{trip.server.url}/uploads/{slot.token}"
        weights = trip.server.open_upload()
        weights.publish({"w.bin": g.weight_data})
        reply = await call("http-full-save", save=url, artifacts=full,
                           weights=f"{trip.server.url}/uploads/{weights.token}/w.bin")
        if _error(reply["save"]):
            out.append(Difference("http-full", "save", f"save failed: {_error(reply['save'])}"))
        else:
            sent = json.loads(slot.parts["model.json"].data) if "model.json" in slot.parts else None
            want = {**{k: v for k, v in full.items() if k != "weightSpecs"},
                    "weightsManifest": [{"paths": ["./model.weights.bin"], "weights": g.weight_specs}]}
            out += diff_json(want, sent, "http-full.model.json")
            got = slot.parts["model.weights.bin"].data if "model.weights.bin" in slot.parts else b""
            out += diff_weights(g.weight_specs, g.weight_data, got, "http-full.model.weights.bin")
            reply = await call("http-full", load=f"{url}/model.json")
            out += _check_artifacts(trip, "http-full", reply["load"], full, g.weight_data, ())
        # a topology-only save: one POST, model.json alone, 0 weight bytes reported
        slot = trip.server.open_upload()
        reply = await call("http-topology-save", save=f"{trip.server.url}/uploads/{slot.token}",
                           artifacts={"modelTopology": topology})
        if _error(reply["save"]):
            out.append(Difference("http-topology", "save", f"save failed: {_error(reply['save'])}"))
        else:
            info = (reply["save"]["value"] or {}).get("modelArtifactsInfo") or {}
            out += diff_json({"modelTopologyBytes": len(js_json_bytes(topology)), "weightSpecsBytes": 0,
                              "weightDataBytes": 0},
                             {k: info.get(k) for k in ("modelTopologyBytes", "weightSpecsBytes", "weightDataBytes")},
                             "http-topology.modelArtifactsInfo")
            methods = [r["method"] for r in slot.requests]
            out += diff_json(["POST"], methods, "http-topology.requests")
            out += diff_json(["model.json"], sorted(slot.parts), "http-topology.parts")
            sent = json.loads(slot.parts["model.json"].data) if "model.json" in slot.parts else {}
            out += diff_json(topology, sent.get("modelTopology"), "http-topology.model.json.modelTopology")
        # a model.json with a weights manifest only (http_test 'weights only'): two groups, int32 and float32
        only = trip.server.open_upload()
        manifest = [{"paths": ["weightfile0"], "weights": [{"name": "fooWeight", "shape": [3, 1], "dtype": "int32"}]},
                    {"paths": ["weightfile1"], "weights": [{"name": "barWeight", "shape": [2], "dtype": "float32"}]}]
        data0, data1 = np.array([1, 3, 3], "<i4").tobytes(), np.array([-7, -4], "<f4").tobytes()
        only.publish({"model.json": json.dumps({"weightsManifest": manifest}).encode(), "weightfile0": data0,
                      "weightfile1": data1})
        reply = await call("http-weights-only", load=f"{trip.server.url}/uploads/{only.token}/model.json")
        specs = manifest[0]["weights"] + manifest[1]["weights"]
        out += _check_artifacts(trip, "http-weights-only", reply["load"], {"weightSpecs": specs}, data0 + data1,
                                ("modelTopology",))
        return out


def _check_artifacts(trip: Trip, what: str, outcome: dict, want: dict, data: bytes,
                     undefined: tuple[str, ...]) -> list[Difference]:
    """A handler's load() as posted by probes.js postArtifacts: exactly the JSON fields `want` (and the
    ones it lacks absent), these `undefined`, and the weight bytes."""
    if _error(outcome):
        return [Difference(what, "load", f"load failed: {_error(outcome)}")]
    parts = trip.parts()
    loaded = json.loads(parts.get(f"{what}.artifacts.json", b"null"))
    out = diff_json({k: v for k, v in want.items()}, loaded, f"{what}.artifacts")
    missing = [f for f in undefined if f not in outcome["value"]["undefinedFields"]]
    if missing:
        out.append(Difference(what, "undefined", f"{missing} must be undefined (upstream: toBeUndefined)",
                              expected=list(undefined), actual=outcome["value"]["undefinedFields"]))
    specs = want.get("weightSpecs") or []
    out += diff_weights(specs, data, parts.get(f"{what}.artifacts.weights.bin", b""), f"{what}.weightData")
    return out


# -- promise-downloads -----------------------------------------------------------------------------------

class Downloads(PromiseScheme):
    """`downloads://` with no name (browserDownloads is not exported: its router passes the empty name on)
    downloads model.json and model.weights.bin, whose manifest names ./model.weights.bin and which carries
    every ModelArtifacts field given (EXTRA: modelInitializer, initializerSignature...); a topology-only
    model downloads its JSON file alone and reports 0 weight bytes (browser_files_test)."""

    name = "promise-downloads"
    UPSTREAM = ((FILES, "No file name provided, with existing anchors"), (FILES, "Download only model topology"),
                (FILES, "URL scheme in explicit name gets stripped"))
    QUIET_S = 3.0  # after the JSON file of a topology-only save arrives: time for a weights file to follow

    async def run(self, trip: Trip) -> list[Difference]:
        require(trip, "downloads")
        g, out = trip.golden, []
        topology = g.model_json["modelTopology"]
        upload = trip.server.open_upload()
        upload.publish({"w.bin": g.weight_data})
        reply = await trip.step("handlers", {"save": "downloads://", "deadline": _deadline(),
                                             "artifacts": {"modelTopology": topology, "weightSpecs": g.weight_specs, **EXTRA},
                                             "weights": f"{trip.server.url}/uploads/{upload.token}/w.bin"})
        trip.observed["unnamed"] = reply
        if _error(reply["save"]):
            return [Difference("unnamed", "save", f"save failed: {_error(reply['save'])}")]
        try:
            files = await trip.page.downloads(2, timeouts.scaled(timeouts.DOWNLOAD_S))
            out += diff_json(["model.json", "model.weights.bin"], sorted(files), "unnamed.files")
        except DownloadsIncomplete as e:  # as the downloads rows say it (webkitgtk-download-drop)
            trip.observed["unnamedDownloads"] = {"arrived": sorted(e.arrived), "unfinished": e.unfinished, "driver": str(e)}
            out.append(delivery("model", sorted(e.arrived)))
            files = {}
        if "model.json" in files:
            out += diff_json({"modelTopology": topology, **EXTRA,  # every field, modelInitializer included
                              "weightsManifest": [{"paths": ["./model.weights.bin"], "weights": g.weight_specs}]},
                             json.loads(files["model.json"]), "unnamed.model.json")
        if files:
            out += diff_weights(g.weight_specs, g.weight_data, files.get("model.weights.bin", b""), "unnamed.weights")
        await trip.page.forget_downloads()
        out += await self._factory(trip)
        name = f"{self.path(trip)}-topology"
        reply = await trip.step("handlers", {"save": f"downloads://{name}", "deadline": _deadline(),
                                             "artifacts": {"modelTopology": topology}})
        trip.observed["topology-only"] = reply
        if _error(reply["save"]):
            return out + [Difference("topology-only", "save", f"save failed: {_error(reply['save'])}")]
        info = (reply["save"]["value"] or {}).get("modelArtifactsInfo") or {}
        out += diff_json({"weightSpecsBytes": 0, "weightDataBytes": 0},
                         {k: info.get(k) for k in ("weightSpecsBytes", "weightDataBytes")}, "topology-only.info")
        files = await trip.page.downloads(1, timeouts.scaled(timeouts.DOWNLOAD_S))
        try:  # a weights file would follow at once: wait a little for a second one
            files = await trip.page.downloads(2, self.QUIET_S)
        except DownloadsIncomplete:  # only the JSON file came, as upstream asserts
            pass
        out += diff_json([f"{name}.json"], sorted(files), "topology-only.files")
        if f"{name}.json" in files:
            out += diff_json(topology, json.loads(files[f"{name}.json"]).get("modelTopology"),
                             "topology-only.model.json.modelTopology")
        return out


    @staticmethod
    async def _factory(trip: Trip) -> list[Difference]:
        """`tf.io.browserDownloads('downloads://<name>')`, as the API reference documents it (namespace io) and
        browser_files_test 'URL scheme in explicit name gets stripped' calls it: <name>.json and
        <name>.weights.bin, the scheme stripped."""
        g = trip.golden
        name = f"{Downloads().path(trip)}-factory"
        upload = trip.server.open_upload()
        upload.publish({"w.bin": g.weight_data})
        reply = await trip.step("handlers", {"save": f"downloads://{name}", "factory": "browserDownloads",
                                             "deadline": _deadline(),
                                             "artifacts": {"modelTopology": g.model_json["modelTopology"],
                                                           "weightSpecs": g.weight_specs},
                                             "weights": f"{trip.server.url}/uploads/{upload.token}/w.bin"})
        trip.observed["factory"] = reply
        if _error(reply["save"]):
            return [Difference("factory", "save", f"tf.io.browserDownloads('downloads://{name}').save() failed: "
                                                  f"{_error(reply['save'])}")]
        try:
            files = await trip.page.downloads(2, timeouts.scaled(timeouts.DOWNLOAD_S))
        except DownloadsIncomplete as e:
            trip.observed["factoryDownloads"] = {"arrived": sorted(e.arrived), "unfinished": e.unfinished, "driver": str(e)}
            await trip.page.forget_downloads()
            return [delivery(name, sorted(e.arrived))]
        await trip.page.forget_downloads()
        out = diff_json([f"{name}.json", f"{name}.weights.bin"], sorted(files), "factory.files")
        if f"{name}.json" in files:
            out += diff_json([{"paths": [f"./{name}.weights.bin"], "weights": g.weight_specs}],
                             json.loads(files[f"{name}.json"]).get("weightsManifest"), "factory.weightsManifest")
        return out + diff_weights(g.weight_specs, g.weight_data, files.get(f"{name}.weights.bin", b""), "factory.weights")


# -- promise-from-memory-legacy --------------------------------------------------------------------------

class FromMemoryLegacy(PromiseScheme):
    """`tf.io.fromMemory(topology, specs, data)` and `fromMemory(topology)` (passthrough_test's legacy
    signatures), and the same of `fromMemorySync`, whose load() returns the artifacts, not a Promise."""

    name = "promise-from-memory-legacy"
    hosts = ("browser", "node")
    UPSTREAM = ((PASSTHROUGH, "load topology and weights: legacy signature"),)  # and 'load model topology only: legacy signature'

    async def run(self, trip: Trip) -> list[Difference]:
        g = trip.golden
        topology = g.model_json["modelTopology"]
        upload = trip.server.open_upload()
        upload.publish({"w.bin": g.weight_data})
        reply = await trip.step("fromMemoryLegacy", {"artifacts": {"modelTopology": topology, "weightSpecs": g.weight_specs},
                                                     "weights": f"{trip.server.url}/uploads/{upload.token}/w.bin", "prefix": ""})
        trip.observed["fromMemory"] = reply
        parts, out = trip.parts(), []
        for label, outcome in reply.items():
            if _error(outcome):
                out.append(Difference(label, "load", f"load failed: {_error(outcome)}"))
                continue
            legacy = label.endswith("-legacy")
            want = {"modelTopology": topology, **({"weightSpecs": g.weight_specs} if legacy else {})}
            out += diff_json(want, json.loads(parts.get(f"{label}.json", b"null")), f"{label}.artifacts")
            undefined = ("userDefinedMetadata",) if legacy else ("weightSpecs", "weightData", "userDefinedMetadata")
            missing = [f for f in undefined if f not in outcome["value"]["undefinedFields"]]
            if missing:
                out.append(Difference(label, "undefined", f"{missing} must be undefined (passthrough_test)",
                                      actual=outcome["value"]["undefinedFields"]))
            if legacy:
                out += diff_weights(g.weight_specs, g.weight_data, parts.get(f"{label}.weights.bin", b""), label)
            if label.startswith("fromMemorySync") and not outcome["value"]["sync"]:
                out.append(Difference(label, "sync", "fromMemorySync's load() returned a Promise"))
        return out


# -- promise-load-routers --------------------------------------------------------------------------------

ROUTER_CASES = (  # label, URL(s), handlers the registry must give (router_registry_test)
    ("pair", ["foo:///123", "foo:///456"], 1),
    ("mismatched-pair", ["foo:///123", "bar:///456"], 0),
    ("one-element", ["foo:///123"], 0),
    ("string", "foo:///123", 0),
)


class LoadRouters(PromiseScheme):
    """A user's `tf.io.registerLoadRouter` for pairs of foo:/// URLs: `tf.io.getLoadHandlers` hands string
    arrays to routers and gives exactly the router's handler for a pair, none otherwise. And every scheme's
    routing (`_routes`): one handler for each scheme the host has, for save and for load, none for an unknown
    scheme, save-only schemes (downloads://, a user's bar:// save router) none for load; the handler routed
    for localstorage:// and indexeddb:// saves into that medium (the keys a save adds, read with the storage
    APIs), as upstream's `instanceof BrowserLocalStorage` / `BrowserIndexedDB` say it must."""

    name = "promise-load-routers"
    hosts = ("browser", "node")
    UPSTREAM = ((ROUTERS, "getLoadHandler with string array argument succeeds"), (ROUTERS, "getSaveHandler succeeds"))

    async def run(self, trip: Trip) -> list[Difference]:
        reply = await trip.step("loadRouters", {"scheme": "foo:///", "cases": [[label, url] for label, url, _ in ROUTER_CASES]})
        trip.observed["loadRouters"] = reply
        out = []
        for label, url, count in ROUTER_CASES:
            outcome = reply[label]
            if _error(outcome):
                out.append(Difference("getLoadHandlers", label, f"tf.io.getLoadHandlers({json.dumps(url)}) threw "
                                                                f"{_error(outcome)}"))
                continue
            out += diff_json({"handlers": count, "theRouters": count}, outcome["value"], f"getLoadHandlers.{label}")
        return out + await self._routes(trip)

    async def _routes(self, trip: Trip) -> list[Difference]:
        browser = trip.driver.spec.host == "browser"
        p = f"{self.path(trip)}-routed"
        slot = f"{trip.server.url}/uploads/{trip.server.open_upload().token}"
        # label: (kind, url, handlers): what the host has (Node: no localStorage, IndexedDB or downloads)
        cases = {
            "save-localstorage": ("save", f"localstorage://{p}", int(browser)),
            "load-localstorage": ("load", f"localstorage://{p}", int(browser)),
            "save-indexeddb": ("save", f"indexeddb://{p}", int(browser)),
            "load-indexeddb": ("load", f"indexeddb://{p}", int(browser)),
            "save-downloads": ("save", f"downloads://{p}", int(browser)),
            "load-downloads": ("load", f"downloads://{p}", 0),  # save-only
            "save-http": ("save", slot, 1),
            "load-http": ("load", f"{slot}/model.json", 1),
            "save-unknown": ("save", f"qux://{p}", 0),
            "load-unknown": ("load", f"qux://{p}", 0),
            "save-users": ("save", f"bar://{p}", 1),  # a user's registerSaveRouter
            "load-users": ("load", f"bar://{p}", 0),
        }
        if not browser:
            cases["save-file"] = ("save", f"file://{trip.tmp}/routed", 1)
            cases["load-file"] = ("load", f"file://{trip.tmp}/routed/model.json", 1)
        write = ["save-localstorage", "save-indexeddb"] if browser else []
        reply = await trip.step("routes", {"cases": [[label, kind, url] for label, (kind, url, _) in cases.items()],
                                           "write": write, "deadline": _deadline()})
        trip.observed["routes"] = reply
        out = []
        for label, (kind, url, count) in cases.items():
            outcome = reply[label]
            if _error(outcome):
                out.append(Difference(f"get{kind.title()}Handlers", label,
                                      f"tf.io.get{kind.title()}Handlers({url!r}) threw {_error(outcome)}"))
                continue
            value = outcome["value"]
            out += diff_json({"handlers": count, "theUsers": int(label == "save-users")},
                             {k: value[k] for k in ("handlers", "theUsers")}, f"routes.{label}")
        media = {"save-localstorage": {"localStorage": [f"tensorflowjs_models/{p}/{k}" for k in
                                                         ("info", "model_metadata", "model_topology", "weight_data",
                                                          "weight_specs")], "indexeddb": {}},
                 "save-indexeddb": {"localStorage": [], "indexeddb": {"model_info_store": [p], "models_store": [p]}}}
        for label in write:
            added = (reply[label].get("value") or {}).get("added")
            if added is None:
                continue
            added = {"localStorage": sorted(added["localStorage"]),
                     "indexeddb": {store: keys for store, keys in added["indexeddb"].items() if keys}}
            out += diff_json(media[label], added, f"routes.{label}.storage-added")
        return out


# -- promise-file-system-binary (Node) -------------------------------------------------------------------

class FileSystemBinary(PromiseScheme):
    """Node: `tf.io.getLoadHandlers(['file://…/model.pb', 'file://…/manifest.json'])` (file_system_test
    'load binary model'): the router takes the pair, the handler gives the model.pb bytes as the topology
    and both weight files' bytes; one path alone is refused at once, a missing model.pb or weight file
    rejects naming it, and a pair with another scheme gets no handler."""

    name = "promise-file-system-binary"
    hosts = ("node",)
    # and 'should handle multiple paths', 'should return null for multiple paths with mismatched scheme' (the
    # map's 'should handle single path' entry holds the router's cases)
    UPSTREAM = ((NODE_FS, "load: two weight files"), (NODE_FS, "path length does not equal 2 fails"),
                (NODE_FS, "should handle single path"))
    MANIFEST = [{"paths": ["weights.1.bin"], "weights": [{"name": "dense/kernel", "shape": [3, 1], "dtype": "float32"}]},
                {"paths": ["weights.2.bin"], "weights": [{"name": "dense/bias", "shape": [1], "dtype": "float32"}]}]

    async def run(self, trip: Trip) -> list[Difference]:
        root = trip.tmp / "binary"
        (root / "missing").mkdir(parents=True)
        graph = bytes(range(256)) * 3  # model.pb: opaque bytes the handler must pass on as they are
        w1, w2 = np.array([-1.1, -3.3, -3.3], "<f4").tobytes(), np.array([-7.7], "<f4").tobytes()
        for folder, files in ((root, {"weights.2.bin": w2}), (root / "missing", {})):
            (folder / "model.pb").write_bytes(graph)
            (folder / "manifest.json").write_text(json.dumps(self.MANIFEST))
            (folder / "weights.1.bin").write_bytes(w1)
            for name, data in files.items():
                (folder / name).write_bytes(data)
        pair = [f"file://{root}/model.pb", f"file://{root}/manifest.json"]
        calls = {
            "pair": pair,
            "one-path": [f"file://{root}/foo/model.pb"],
            "no-model-pb": [f"file://{root}/foo/model.pb", f"file://{root}/foo/manifest.json"],
            "missing-weights": [f"file://{root}/missing/model.pb", f"file://{root}/missing/manifest.json"],
            "mismatched-scheme": [f"file://{root}/model.pb", "http://localhost/manifest.json"],
        }
        seen = trip.observed["fileSystem"] = {}
        out = []
        for label, urls in calls.items():
            seen[label] = reply = await trip.step("handlers", {"load": urls, "prefix": f"{label}.", "deadline": _deadline()})
            message = _error(reply["load"]) or ""
            if label == "pair":
                if message:
                    out.append(Difference(label, "load", f"load of {urls} failed: {message}"))
                    continue
                parts = trip.parts()
                specs = [w for g in self.MANIFEST for w in g["weights"]]
                out += diff_json({"modelTopology": {"binary": len(graph)}, "weightSpecs": specs},
                                 json.loads(parts[f"{label}.artifacts.json"]), f"{label}.artifacts")
                if parts.get(f"{label}.artifacts.topology.bin") != graph:
                    out.append(Difference(label, "modelTopology", "the topology is not model.pb's bytes"))
                out += diff_weights(specs, w1 + w2, parts.get(f"{label}.artifacts.weights.bin", b""), f"{label}.weightData")
                continue
            pattern = {"one-path": r"file paths must have a length of 2.*actual length is 1",
                       "no-model-pb": r"model\.pb.*does not exist.*loading failed",
                       "missing-weights": r"Weight file .*weights\.2\.bin does not exist",
                       "mismatched-scheme": r"gave 0 handlers"}[label]
            if not message:
                out.append(Difference(label, "load", f"tf.io.getLoadHandlers({urls}) loaded; file_system_test asserts "
                                                     f"it fails with /{pattern}/"))
            elif re.search(pattern, message) is None:
                out.append(Difference(label, "message", f"{message!r} does not match /{pattern}/ (file_system_test)",
                                      expected=pattern, actual=message))
        return out


# -- promise-load-memory ---------------------------------------------------------------------------------

class LoadMemory(PromiseScheme):
    """`tf.loadLayersModel(url)` adds exactly one tensor per weight to tf.memory().numTensors, and
    `model.dispose()` brings it back (models_test 'no memory leak during model loading')."""

    name = "promise-load-memory"
    hosts = ("browser", "node")
    UPSTREAM = ((LAYERS_MODELS, "loadLayersModel: no memory leak during model loading"),)

    async def run(self, trip: Trip) -> list[Difference]:
        reply = await trip.step("loadCounting", {"fixture": trip.fixture_url(), "deadline": _deadline()})
        trip.observed["numTensors"] = reply
        count = len(trip.golden.weight_specs)
        return diff_json({"loaded": reply["before"] + count, "disposed": reply["before"], "weights": count},
                         {k: reply[k] for k in ("loaded", "disposed", "weights")}, "numTensors")


# -- promise-user-metadata -------------------------------------------------------------------------------

MAX_USER_DEFINED_METADATA_SERIALIZED_LENGTH = 1 * 1024 * 1024  # tfjs-layers/src/user_defined_metadata.ts


class UserMetadata(PromiseScheme):
    """`model.setUserDefinedMetadata(x)` throws for every x that is not a JSON object (a JSON string, an
    array, an object holding a tensor, undefined, null, a string, a number); metadata over the limit
    makes the save warn once ('is too large in size') and is still saved whole."""

    name = "promise-user-metadata"
    hosts = ("browser", "node")
    UPSTREAM = ((METADATA, "Invalid user metadata leads to error: ${modelType}"),)  # and 'Large metadata size leads to warning'
    REFUSED = r"is expected to be a JSON object, but is not"

    async def run(self, trip: Trip) -> list[Difference]:
        length = MAX_USER_DEFINED_METADATA_SERIALIZED_LENGTH
        reply = await trip.step("userMetadata", {"fixture": trip.fixture_url(), "largeLength": length})
        trip.observed["userMetadata"] = reply
        out = []
        for label, outcome in reply["refused"].items():
            message = _error(outcome)
            if message is None or re.search(self.REFUSED, message) is None:
                out.append(Difference("setUserDefinedMetadata", label, f"expected it to throw /{self.REFUSED}/, got "
                                                                       f"{message or 'no error'}",
                                      expected=self.REFUSED, actual=message))
        warned = [w for w in reply["warnings"] if re.search("is too large in size", w)]
        if len(reply["warnings"]) != 1 or len(warned) != 1:
            out.append(Difference("save", "warnings", "upstream asserts exactly one warning, /is too large in size/",
                                  expected=1, actual=reply["warnings"]))
        if reply["savedMetadataLength"] != length:
            out.append(Difference("save", "userDefinedMetadata", "the large metadata was not saved whole",
                                  expected=length, actual=reply["savedMetadataLength"]))
        return out


# -- promise-layers-load ---------------------------------------------------------------------------------

class LayersLoad(PromiseScheme):
    """Three promises of tfjs-layers' save and load, on variants of the golden written by Python:

    - `trainable-only`: the first layer made `trainable: false`; `model.save(http, {trainableOnly: true})`
      sends the other layers' weights only, and the topology as served;
    - `non-strict`: a manifest with the first weight only, loaded with `{strict: false}`: every weight is
      there, the first with the golden's bytes, the zeros-initialized ones zero;
    - `hdf5-topology`: the topology nested as Keras's `model.to_json()` (`model_config`), which loads as
      the golden: its weights, its predictions, and its re-serialised topology."""

    name = "promise-layers-load"
    hosts = ("browser", "node")
    UPSTREAM = ((LAYERS_SAVE, "Saving only trainable weights succeeds"),
                (LAYERS_SAVE, "Partial non-strict load calls weight initializers"),
                (LAYERS_MODELS, "load topology and weights from implicit relative http path: HDF5 format"))

    async def run(self, trip: Trip) -> list[Difference]:
        files = trip.golden.files()
        model_json = json.loads(files["model.json"])
        return (await self._trainable_only(trip, files, model_json) + await self._non_strict(trip, files, model_json)
                + await self._hdf5(trip, files, model_json))

    @staticmethod
    def _publish(trip: Trip, files: dict, model_json: dict) -> str:
        upload = trip.server.open_upload()
        upload.publish({**files, "model.json": json.dumps(model_json).encode()})
        return f"{trip.server.url}/uploads/{upload.token}/model.json"

    async def _trainable_only(self, trip: Trip, files: dict, model_json: dict) -> list[Difference]:
        variant = copy.deepcopy(model_json)
        first = variant["modelTopology"]["config"]["layers"][0]["config"]
        first["trainable"] = False
        frozen = f"{first['name']}/"
        slot = trip.server.open_upload()
        try:
            await trip.step("save", {"fixture": self._publish(trip, files, variant), "deadline": _deadline(),
                                     "target": {"kind": "url", "url": f"{trip.server.url}/uploads/{slot.token}"},
                                     "saveConfig": {"trainableOnly": True}})
        except TfjsError as e:
            return [Difference("trainable-only", "save", str(e))]
        specs = [s for s in trip.golden.weight_specs if not s["name"].startswith(frozen)]
        data = b"".join(d for s, d in decode.held(trip.golden.weight_specs, trip.golden.weight_data)
                        if not s["name"].startswith(frozen))
        sent = json.loads(slot.parts["model.json"].data) if "model.json" in slot.parts else {}
        expected = ExpectedSave.of(dataclasses.replace(trip.golden, model_json=variant), trip.tfjs_version).model_json
        out = diff_json(expected["modelTopology"], sent.get("modelTopology"), "trainable-only.modelTopology")
        out += diff_json([s["name"] for s in specs], [w["name"] for g in sent.get("weightsManifest") or [] for w in g["weights"]],
                         "trainable-only.weights")
        got = slot.parts["model.weights.bin"].data if "model.weights.bin" in slot.parts else b""
        return out + diff_weights(specs, data, got, "trainable-only.weightData")

    async def _non_strict(self, trip: Trip, files: dict, model_json: dict) -> list[Difference]:
        variant = copy.deepcopy(model_json)
        group = variant["weightsManifest"][0]
        group["weights"] = group["weights"][:1]  # model_save_test: weightSpecs.slice(0, 1)
        variant["weightsManifest"] = [group]
        try:
            await trip.step("load", {"source": {"kind": "url", "url": self._publish(trip, files, variant),
                                                "options": {"strict": False}},
                                     "inputs": None, "prefix": "non-strict.", "deadline": _deadline()})
        except TfjsError as e:
            return [Difference("non-strict", "load", str(e))]
        parts = trip.parts()
        loaded = json.loads(parts["non-strict.loaded.json"])
        specs = [{k: s[k] for k in ("name", "shape", "dtype")} for s in trip.golden.after_load_specs]
        out = diff_json(specs, loaded.get("weightSpecs"), "non-strict.weightSpecs")
        if out:
            return out
        zeros = _zeros_initialized(model_json["modelTopology"])
        want = []
        layout = decode.held(trip.golden.after_load_specs, trip.golden.after_load_data)
        offset, data = 0, parts["non-strict.loaded.weights.bin"]
        for i, (spec, golden_bytes) in enumerate(layout):
            actual = data[offset:offset + len(golden_bytes)]
            offset += len(golden_bytes)
            if i == 0:
                want.append((spec, golden_bytes, actual))
            elif spec["name"] in zeros:
                want.append((spec, bytes(len(golden_bytes)), actual))
        for spec, expected, actual in want:
            out += diff_weights([spec], expected, actual, "non-strict.weightData")
        return out

    async def _hdf5(self, trip: Trip, files: dict, model_json: dict) -> list[Difference]:
        variant = copy.deepcopy(model_json)
        topology = variant["modelTopology"]
        variant["modelTopology"] = {"backend": "tensorflow", "keras_version": "2.1.4",
                                    "model_config": {"class_name": topology["class_name"], "config": topology["config"]}}
        try:
            result = await trip.load({"kind": "url", "url": self._publish(trip, files, variant)}, prefix="hdf5.",
                                     deadline=_deadline())
        except TfjsError as e:
            return [Difference("hdf5-topology", "load", str(e))]
        return trip.check_loaded(result, prefix="hdf5.")


# -- promise-optimizers ----------------------------------------------------------------------------------

class Optimizers(PromiseScheme):
    """Training resumed after a load, for each optimizer TF.js serialises (harness.golden.train.OPTIMIZERS:
    SGD, Momentum, Nesterov momentum, RMSProp, Adadelta, Adagrad, Adam) and for a compiled Adam model never
    fitted (`adam-never-fitted`: a trainingConfig and no optimizer state). Python writes the mlp golden with
    a trainingConfig (categorical cross-entropy, accuracy) and the optimizer's state after 3 steps (`iter`
    then its slots, `"group": "optimizer"`, TF.js's layout). The page (probes.js fitAfterLoad) loads it and
    saves it with its optimizer (browsers: over http; Node: to file://), loads that copy, fits one step on
    5 examples and saves again; and fits the never-saved model the same step. Judged:

    - the first save is the file: topology, trainingConfig, every spec (the optimizer's group included) and
      every byte; for the never-fitted model, its weights and `iter` = 0 (models_test 'Saving model without
      calling fit first');
    - after the step: `iter` and optimizer.iterations are 4 (1 never fitted); the loss and accuracy fit()
      reports, the weights and every slot are numpy's step (harness.golden.train) within FIT_TOLERANCE;
    - the step after the round trip is the never-saved model's step, bit for bit: history, specs and bytes
      (models_test: 'assert that the effect is the same as calling fit() again on the original model')."""

    name = "promise-optimizers"
    hosts = ("browser", "node")
    # and, in part, models_test 'Saving model with metrics' (the map's N15: no multi-output model is fitted)
    UPSTREAM = ((LAYERS_MODELS, "Adam as explicit object"), (NODE_FS, "Save and load model with loss and optimizer"))
    CASES = tuple(o.case for o in train.OPTIMIZERS) + ("adam-never-fitted",)
    ITERATIONS = 3  # the steps the file's optimizer state is as after
    # float64 numpy against TF.js's float32 kernels on one step of the mlp: measured on TF.js 4.22.0's cpu
    # backend (chromium, firefox, webkit and node: the same figures), the largest |actual - expected| over
    # weights and slots was 3.0e-7 for Adadelta (learning rate 1) and at most 3.1e-8 for the others;
    # elementwise |a - e| <= atol + rtol * |e| leaves >= 3x margin on the absolute part alone, and rtol
    # covers values far from 0. The loss: rtol 1e-5.
    FIT_TOLERANCE = {"atol": 1e-6, "rtol": 1e-4}
    LOSS_RTOL = 1e-5

    async def run(self, trip: Trip) -> list[Difference]:
        out = []
        trip.observed["fitAfterLoad"] = {}
        for case in self.CASES:
            out += await self._case(trip, case)
        return out

    def _files(self, trip: Trip, case: str) -> tuple[dict, bytes, list[dict], dict, int]:
        """The variant's model.json and weights, its model weights (float32 arrays by name), the optimizer
        state as written, and the iterations it is as after."""
        g = trip.golden
        optimizer = train.BY_CASE["adam" if case == "adam-never-fitted" else case]
        weights = {s["name"]: np.frombuffer(b, "<f4").reshape(s["shape"]) for s, b in decode.held(g.weight_specs, g.weight_data)}
        rng = np.random.default_rng(20261203 + self.CASES.index(case))
        fitted = case != "adam-never-fitted"
        iterations = self.ITERATIONS if fitted else 0
        state = train.initial_state(optimizer, weights, rng, iterations) if fitted else {}
        specs = [dict(s) for s in g.weight_specs]
        data = g.weight_data
        if fitted:
            specs.append({"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"})
            data += np.array(iterations, "<i4").tobytes()
            for name in train.slot_names(optimizer, list(weights))[1:]:
                specs.append({"name": name, "shape": list(state[name].shape), "dtype": "float32", "group": "optimizer"})
                data += state[name].astype("<f4").tobytes()
        model_json = {**g.model_json, "trainingConfig": {
            "loss": "categorical_crossentropy", "metrics": ["accuracy"],
            "optimizer_config": {"class_name": optimizer.class_name, "config": dict(optimizer.config)}},
            "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}]}
        return model_json, data, weights, state, iterations

    async def _case(self, trip: Trip, case: str) -> list[Difference]:
        g = trip.golden
        model_json, data, weights, state, iterations = self._files(trip, case)
        optimizer = train.BY_CASE["adam" if case == "adam-never-fitted" else case]
        source = trip.server.open_upload()
        source.publish({"model.json": json.dumps(model_json).encode(), "weights.bin": data})
        x = g.inputs[0].astype(np.float32)
        y = np.eye(4, dtype=np.float32)[np.random.default_rng(20261204).integers(0, 4, x.shape[0])]
        saves = self._saves(trip, case)
        reply = await trip.step("fitAfterLoad", {
            "fixture": f"{trip.server.url}/uploads/{source.token}/model.json", "deadline": _deadline(),
            "x": x.ravel().tolist(), "xShape": list(x.shape), "y": y.ravel().tolist(), "yShape": list(y.shape),
            "saveLoaded": saves["loaded"].url, "reload": saves["loaded"].model_url,
            "saveFitted": saves["fitted"].url, "saveNeverSaved": saves["never-saved"].url})
        trip.observed["fitAfterLoad"][case] = reply
        if optimizer.class_name == "Adadelta":  # the step expected is upstream's (harness.golden.train.step)
            trip.hazard("adadelta-divides-by-previous-accumulator", case, "fitted",
                        "Adadelta's step divides by the squared-gradient accumulator from before the step, as "
                        "adadelta_optimizer_test asserts; Zeiler's Adadelta and TF's ApplyAdadelta use the updated one")
        out = []
        if _error(reply["saveLoaded"]):
            return [Difference(case, "load-and-save", f"loading the file and saving it with its optimizer failed: "
                                                      f"{_error(reply['saveLoaded'])}")]
        if reply["saveLoaded"]["value"]["optimizer"] != optimizer.class_name:
            out.append(Difference(case, "optimizer", "the loaded model's optimizer is not the trainingConfig's",
                                  expected=optimizer.class_name, actual=reply["saveLoaded"]["value"]["optimizer"]))
        # 1. the first save is the file
        want_specs, want_data = model_json["weightsManifest"][0]["weights"], data
        if case == "adam-never-fitted":
            want_specs = want_specs + [{"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"}]
            want_data = data + np.array(0, "<i4").tobytes()
        expected_json = ExpectedSave.of(dataclasses.replace(g, model_json=model_json), trip.tfjs_version).model_json
        out += self._check_saved(case, "saved", saves["loaded"].read(), expected_json, want_specs, want_data)
        # 2. the step after the round trip is numpy's
        step = train.step(optimizer, g.model_json["modelTopology"]["config"]["layers"], weights, state, iterations, x, y)
        fitted = reply.get("fitReloaded") or {"error": {"name": "Skipped", "message": "the first save failed"}}
        if _error(fitted):
            out.append(Difference(case, "fit", f"fit() after the round trip failed: {_error(fitted)}"))
        else:
            out += self._check_step(trip, case, fitted["value"], saves["fitted"].read(), model_json, optimizer, step)
        # 3. ... and the never-saved model's, bit for bit
        never = reply["fitNeverSaved"]
        if _error(never):
            out.append(Difference(case, "fit-never-saved", f"fit() on the model never saved failed: {_error(never)}"))
        elif not _error(fitted):
            out += diff_json(never["value"], fitted["value"], f"{case}.history-after-round-trip")
            a, b = saves["never-saved"].read(), saves["fitted"].read()
            if a is None or b is None:
                out.append(Difference(case, "fitted-saves", "a save after fit() wrote no model.json"))
            else:  # names are judged against numpy's above; a fresh slot's may differ between two loads
                specs = _manifest_specs(a[0])
                out += diff_json(_unnamed(specs), _unnamed(_manifest_specs(b[0])),
                                 f"{case}.fitted-after-round-trip.weightsManifest")
                out += diff_weights(specs, a[1], b[1], f"{case}.fitted-after-round-trip")
        return out

    def _saves(self, trip: Trip, case: str) -> dict:
        """Where the three saves go: http upload slots in a browser, file:// folders in Node."""
        if trip.driver.spec.host == "node":
            return {label: _FolderSave(trip.tmp / "optimizers" / case / label) for label in ("loaded", "fitted", "never-saved")}
        return {label: _SlotSave(trip.server) for label in ("loaded", "fitted", "never-saved")}

    @staticmethod
    def _check_saved(case: str, what: str, saved, model_json: dict, specs: list[dict], data: bytes) -> list[Difference]:
        if saved is None:
            return [Difference(case, what, "the save wrote no model.json")]
        sent, got = saved
        out = diff_json(model_json["modelTopology"], sent.get("modelTopology"), f"{case}.{what}.modelTopology")
        out += diff_json(model_json["trainingConfig"], sent.get("trainingConfig"), f"{case}.{what}.trainingConfig")
        out += diff_json(specs, _manifest_specs(sent), f"{case}.{what}.weightSpecs")
        return out or diff_weights(specs, data, got, f"{case}.{what}.weightData")

    def _check_step(self, trip: Trip, case: str, fitted: dict, saved, model_json: dict, optimizer, step) -> list[Difference]:
        out = []
        history = fitted.get("history") or {}
        loss, acc = (history.get("loss") or [None])[0], (history.get("acc") or [None])[0]
        if loss is None or abs(loss - step.loss) > self.LOSS_RTOL * abs(step.loss):
            out.append(Difference(case, "history.loss", f"fit() reported loss {loss}; numpy's is {step.loss:.8g} "
                                                        f"(rtol {self.LOSS_RTOL})", expected=step.loss, actual=loss))
        if acc != float(np.float32(step.acc)):  # a float32 mean, as TF.js computes it
            out.append(Difference(case, "history.acc", "fit() reported another accuracy", expected=step.acc, actual=acc))
        if fitted.get("iterations") != step.iterations:
            out.append(Difference(case, "optimizer.iterations", "the optimizer's iterations after one step",
                                  expected=step.iterations, actual=fitted.get("iterations")))
        if saved is None:
            return out + [Difference(case, "fitted", "the save after fit() wrote no model.json")]
        sent, got = saved
        names = list(step.weights) + train.slot_names(optimizer, list(step.weights))
        specs = [s for s in model_json["weightsManifest"][0]["weights"] if "group" not in s]
        specs += [{"name": n, "shape": [] if n == "iter" else list(step.weights[n.rsplit("/", 1)[0]].shape),
                   "dtype": "int32" if n == "iter" else "float32", "group": "optimizer"} for n in names[len(specs):]]
        saved_specs = _manifest_specs(sent)
        out += diff_json(specs, saved_specs, f"{case}.fitted.weightSpecs")
        if _unnamed(specs) != _unnamed(saved_specs):
            return out  # the layout differs: the values cannot be read by name
        expected = {**step.weights, **step.state}
        worst = trip.observed.setdefault("fitMaxAbsError", {})
        for spec, offset, n in weight_layout(specs, got):
            raw = got[offset:offset + n]
            if spec["name"] == "iter":
                value = int(np.frombuffer(raw, "<i4")[0]) if len(raw) == 4 else None
                if value != step.iterations:
                    out.append(Difference(case, "fitted.iter", "the saved iter after one step",
                                          expected=step.iterations, actual=value))
                continue
            actual = np.frombuffer(raw, "<f4").astype(np.float64)
            want = expected[spec["name"]].ravel()
            if actual.size != want.size:
                out.append(Difference(case, f"fitted.{spec['name']}", "short weight data",
                                      expected=want.size, actual=actual.size))
                continue
            error = np.abs(actual - want)
            worst[f"{case}/{spec['name']}"] = float(error.max())
            bad = error > self.FIT_TOLERANCE["atol"] + self.FIT_TOLERANCE["rtol"] * np.abs(want)
            if bad.any():
                i = int(np.argmax(bad))
                out.append(Difference(case, f"fitted.{spec['name']}[{i}]", f"after one step: {float(actual[i])!r}, numpy's step "
                                      f"{float(want[i])!r} ({int(bad.sum())} of {bad.size} values outside {self.FIT_TOLERANCE})",
                                      expected=float(want[i]), actual=float(actual[i])))
        return out


# -- promise-graph-metadata ------------------------------------------------------------------------------

CONVERTER_METADATA = {"metadata1": {"a": 1}, "metadata2": {"label1": 0, "label2": 1},  # e2e metadata.ts's
                      "labels": {"names": ["chat", "chien", "犬"], "nested": [[1.5, None], {"ü": True}]}}


class GraphMetadata(PromiseScheme):
    """A graph model's `userDefinedMetadata` (what `tensorflowjs_converter --metadata` writes) is
    `model.metadata` after `tf.loadGraphModel(url)` (e2e metadata.ts 'can load metadata.': upstream's own
    metadata1 / metadata2, plus unicode and nesting), and stays so through every medium the model is saved to
    and loaded back from: localStorage, IndexedDB and http in a browser, file:// in Node; the model.json an
    http or file:// save writes carries it as the file did."""

    name = "promise-graph-metadata"
    hosts = ("browser", "node")
    models = ("graph",)
    UPSTREAM = (("e2e/integration_tests/metadata.ts", "can load metadata."),)

    async def run(self, trip: Trip) -> list[Difference]:
        files = trip.golden.files()
        model_json = {**json.loads(files["model.json"]), "userDefinedMetadata": CONVERTER_METADATA}
        return await self.copies(trip, model_json, files, {"metadata": CONVERTER_METADATA}, ("userDefinedMetadata",))

    async def copies(self, trip: Trip, model_json: dict, files: dict, want: dict, fields: tuple[str, ...],
                     execute: dict | None = None) -> list[Difference]:
        """Load `model_json` (beside `files`) over http, save it to every medium and load each copy: each load
        must give `want` (probes.js graphMetadata: {metadata} and, with `execute`, {outputs}); the model.json an
        http or file:// save writes must carry `fields` as the file did."""
        source = trip.server.open_upload()
        source.publish({**files, "model.json": json.dumps(model_json).encode()})
        p = self.path(trip)
        if trip.driver.spec.host == "node":
            media = {"file": _FolderSave(trip.tmp / "graph-metadata")}
        else:
            media = {"localstorage": f"localstorage://{p}", "indexeddb": f"indexeddb://{p}", "http": _SlotSave(trip.server)}
        saves = [m.url if not isinstance(m, str) else m for m in media.values()]
        loads = [m.model_url if not isinstance(m, str) else m for m in media.values()]
        reply = await trip.step("graphMetadata", {"fixture": f"{trip.server.url}/uploads/{source.token}/model.json",
                                                  "saves": saves, "loads": loads, "deadline": _deadline(),
                                                  **({"feed": execute} if execute else {})})
        trip.observed["graphMetadata"] = reply
        if _error(reply["load"]):
            return [Difference("http", "load", f"tf.loadGraphModel failed: {_error(reply['load'])}")]
        out = diff_json(want, reply["load"]["value"], "loaded.metadata")
        for (medium, target), url in zip(media.items(), saves):
            saved = reply["saves"].get(url) or {}
            if _error(saved):
                out.append(Difference(medium, "save", f"model.save({url}) failed: {_error(saved)}"))
                continue
            if not isinstance(target, str):
                written = target.read()
                for field in fields:
                    out += diff_json(model_json[field], (written or ({},))[0].get(field), f"{medium}.model.json.{field}")
            loaded = reply["loads"].get(url) or {}
            if _error(loaded):
                out.append(Difference(medium, "load", f"tf.loadGraphModel of the copy failed: {_error(loaded)}"))
                continue
            out += diff_json(want, loaded["value"], f"{medium}.metadata")
        return out


# -- promise-graph-hash-table ----------------------------------------------------------------------------

HASH_KEYS, HASH_VALUES, HASH_DEFAULT = ("chat", "chien", "犬"), (7, -3, 2**31 - 1), -1
HASH_QUERY = ("chien", "loup", "犬", "chat", "")


def _const(name: str, dtype: str, shape: list[int]) -> dict:
    dims = {"dim": [{"size": str(d)} for d in shape]} if shape else {}
    return {"name": name, "op": "Const", "attr": {"value": {"tensor": {"dtype": dtype, "tensorShape": dims}},
                                                   "dtype": {"type": dtype}}}


def hash_table_model() -> tuple[dict, bytes]:
    """A graph model as tensorflowjs_converter writes one holding a tf.lookup.StaticHashTable (upstream's
    HASH_TABLE_MODEL_V2 in tfjs-converter's graph_model_test, its control-flow NoOps left out): the table is
    built and filled by `modelInitializer` (HashTableV2, LookupTableImportV2 of two Consts), handed to the
    main graph by `initializerSignature` / `signature` resourceId 66, and looked up by LookupTableFindV2 with
    a default; its model.json and weights, written here."""
    topology = {"node": [
        _const("unknown_0", "DT_INT32", []),
        {"name": "input", "op": "Placeholder",
         "attr": {"shape": {"shape": {"dim": [{"size": "-1"}]}}, "dtype": {"type": "DT_STRING"}}},
        {"name": "unknown", "op": "Placeholder", "attr": {"shape": {"shape": {}}, "dtype": {"type": "DT_RESOURCE"}}},
        {"name": "lookup/LookupTableFindV2", "op": "LookupTableFindV2", "input": ["unknown", "input", "unknown_0"],
         "attr": {"Tout": {"type": "DT_INT32"}, "Tin": {"type": "DT_STRING"}}},
        {"name": "Identity", "op": "Identity", "input": ["lookup/LookupTableFindV2"], "attr": {"T": {"type": "DT_INT32"}}},
    ], "library": {}, "versions": {"producer": 1240}}
    initializer = {"node": [
        _const("keys", "DT_STRING", [len(HASH_KEYS)]),
        _const("values", "DT_INT32", [len(HASH_VALUES)]),
        {"name": "hash_table", "op": "HashTableV2", "attr": {
            "container": {"s": ""}, "use_node_name_sharing": {"b": True}, "shared_name": {"s": "aGFzaF90YWJsZQ=="},
            "value_dtype": {"type": "DT_INT32"}, "key_dtype": {"type": "DT_STRING"}}},
        {"name": "key_value_init/LookupTableImportV2", "op": "LookupTableImportV2", "input": ["hash_table", "keys", "values"],
         "attr": {"Tout": {"type": "DT_INT32"}, "Tin": {"type": "DT_STRING"}}},
        {"name": "Identity", "op": "Identity", "input": ["hash_table", "^key_value_init/LookupTableImportV2"],
         "attr": {"T": {"type": "DT_RESOURCE"}}},
    ], "versions": {"producer": 1240}}
    specs = [{"name": "unknown_0", "shape": [], "dtype": "int32"},
             {"name": "keys", "shape": [len(HASH_KEYS)], "dtype": "string"},
             {"name": "values", "shape": [len(HASH_VALUES)], "dtype": "int32"}]
    data = np.array(HASH_DEFAULT, "<i4").tobytes() + _strings(*HASH_KEYS) + np.array(HASH_VALUES, "<i4").tobytes()
    resource = {"dtype": "DT_RESOURCE", "tensorShape": {}, "resourceId": 66}
    model_json = {
        "format": "graph-model", "generatedBy": "2.11.0", "convertedBy": "harness.schemes.promises",
        "modelTopology": topology,
        "signature": {"inputs": {"input": {"name": "input:0", "dtype": "DT_STRING",
                                           "tensorShape": {"dim": [{"size": "-1"}]}},
                                 "unknown:0": {"name": "unknown:0", **resource}},
                      "outputs": {"output_0": {"name": "Identity:0", "dtype": "DT_INT32",
                                               "tensorShape": {"dim": [{"size": "-1"}]}}}},
        "modelInitializer": initializer,
        "initializerSignature": {"outputs": {"Identity:0": {"name": "Identity:0", **resource}}},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
    }
    return model_json, data


class GraphHashTable(GraphMetadata):
    """A graph model holding a hash table (hash_table_model): loaded over http, its modelInitializer fills the
    table and `executeAsync({input: [...]})` gives each key's value, the default for a key the table lacks
    (Python's dict lookup of the keys and values it wrote); and so after it is saved to and loaded back from
    every medium (localStorage, IndexedDB, http; file:// in Node), whose model.json carries modelInitializer,
    initializerSignature and signature as the file did."""

    name = "promise-graph-hash-table"
    UPSTREAM = ((LS, "Save-load round trip succeeds"),)  # the map's A4: modelInitializer through every medium

    async def run(self, trip: Trip) -> list[Difference]:
        model_json, data = hash_table_model()
        table = dict(zip(HASH_KEYS, HASH_VALUES))
        want = {"undefined": True, "outputs": [{"dtype": "int32", "shape": [len(HASH_QUERY)],
                                                "values": [table.get(k, HASH_DEFAULT) for k in HASH_QUERY]}]}
        execute = {"inputs": {"input": {"values": list(HASH_QUERY), "dtype": "string", "shape": [len(HASH_QUERY)]}},
                   "outputs": ["Identity:0"]}
        return await self.copies(trip, model_json, {"weights.bin": data}, want,
                                 ("modelInitializer", "initializerSignature", "signature"), execute)


class _Save:
    """Where a save went (`url`, and `model_url` to load it back), and `read()`: the model.json written and
    the weight files its manifest names, joined (the ones present), or None when no model.json was written."""

    url: str
    model_url: str

    def file(self, name: str) -> bytes | None:
        raise NotImplementedError

    def read(self) -> tuple[dict, bytes] | None:
        written = self.file("model.json")
        if written is None:
            return None
        sent = json.loads(written)
        paths = [p.removeprefix("./") for grp in sent.get("weightsManifest") or [] for p in grp["paths"]]
        return sent, b"".join(data for data in map(self.file, paths) if data is not None)


class _SlotSave(_Save):
    """A browser's save target: an upload slot (the model.json TF.js POSTs and its weights)."""

    def __init__(self, server):
        self.slot = server.open_upload()
        self.url = f"{server.url}/uploads/{self.slot.token}"
        self.model_url = f"{self.url}/model.json"

    def file(self, name: str) -> bytes | None:
        part = self.slot.parts.get(name)
        return None if part is None else part.data


class _FolderSave(_Save):
    """Node's save target: a file:// folder (tfjs-node writes model.json and weights.bin)."""

    def __init__(self, folder):
        folder.parent.mkdir(parents=True, exist_ok=True)  # tfjs-node makes the last folder only
        self.folder = folder
        self.url = f"file://{folder}"
        self.model_url = f"file://{folder}/model.json"

    def file(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.exists() else None


def _manifest_specs(model_json: dict) -> list[dict]:
    """Every weight spec of a model.json's weightsManifest, in order."""
    return [w for grp in model_json.get("weightsManifest") or [] for w in grp["weights"]]


def _unnamed(specs: list[dict]) -> list[dict]:
    """The specs without their names (the layout alone: shapes, dtypes, groups)."""
    return [{k: v for k, v in spec.items() if k != "name"} for spec in specs]


def _zeros_initialized(topology: dict) -> set[str]:
    """Weight names ('<layer>/bias') whose initializer is Zeros in the topology (Dense layers' use_bias)."""
    out = set()
    for layer in topology["config"]["layers"]:
        config = layer["config"]
        for weight in ("bias", "kernel"):
            init = config.get(f"{weight}_initializer") or {}
            if init.get("class_name") == "Zeros" and (weight != "bias" or config.get("use_bias", True)):
                out.add(f"{config['name']}/{weight}")
    return out


HAZARDS = ("adadelta-divides-by-previous-accumulator",)  # the hazard ids these rows can report (expectations.toml)

PROMISES: list[Scheme] = [DecodeWeights(), HandlerArtifacts(), Downloads(), FromMemoryLegacy(), LoadRouters(),
                          FileSystemBinary(), LoadMemory(), UserMetadata(), LayersLoad(), Optimizers(),
                          GraphMetadata(), GraphHashTable()]
