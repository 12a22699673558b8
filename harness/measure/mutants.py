"""Mutation testing of the suite: does it catch a realistic bug in TF.js's save/load code?

Each mutant is a copy of the pristine TF.js UMD bundle (`@tensorflow/tfjs/dist/tf.js`, the
unminified one the TF.js repo builds) with ONE plausible one-line fault in its io code, made by an
exact string replacement that must match exactly once. The runner runs a slice of the conformance
suite on the pristine bundle (it must be green: no failed or errored row), then on every mutant
through `--tfjs-bundle`, and reports which mutants the suite caught:

    python -m harness mutants [--engine E ...] [--only NAME ...] [--keep DIR] [--list]

A row catches a mutant when it is `failed`, `error` or `xpassed` under a strict finding (the mutant
changed a known behaviour, which counts), fails again when re-run
with the mutant, and never fails on the pristine bundle (a "control" run of those rows, twice): an
engine's flake is not a catch. Results: a table, "mutation score: K/N caught", and
`test-results/mutants.json`. Exit status: 0 every mutant caught, 1 some not, 2 the pristine bundle is
not green or a patch does not apply (the harness must not blame TF.js for its own problems).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.paths import REPO

# The fault kinds the catalogue must cover (tests/test_mutants.py checks it).
REQUIRED_KINDS = ("weight-bytes", "metadata", "byte-counts", "shard-order", "partial-data", "quantization")

# The rows each run covers. Every scheme runs on mlp (one shard, float32) on every engine chosen, and
# scenarios/test_quota.py runs on mlp; then one cheap row per feature a mutant breaks: metadata
# (userDefinedMetadata, trainingConfig, optimizer weights with a scalar), both quantizations, a graph
# model (int32/bool/string and scalar weights, kept as a list of buffers), a non-ASCII model name (edge),
# three shards (sharded). `where`: "any" = every chosen engine the scheme runs on, "cheap" = only Node
# if chosen (its rows are the fastest), else the first browser chosen.
# Measured on an idle machine (2 cores): every scheme on each of these 7 models takes ~9.5 min a run
# (sharded alone ~4 min: 10 MB through every scheme); this selection (28 rows) 30-60 s.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("*", "mlp", "any"),
    ("localstorage", "metadata", "any"),
    ("http", "metadata", "cheap"),
    ("http", "quantized-uint8", "cheap"),
    ("http", "quantized-float16", "cheap"),
    ("http", "graph", "cheap"),
    ("promise-graph-metadata", "graph", "cheap"),
    ("promise-graph-hash-table", "graph", "cheap"),
    ("save-result", "edge", "cheap"),
    ("http", "sharded", "cheap"),
    ("browser-files", "sharded", "any"),
)
MODELS = tuple(dict.fromkeys(model for _, model, _ in ROWS))
SCENARIOS = ("scenarios/test_roundtrip.py", "scenarios/test_quota.py", "scenarios/test_contract.py")
DEFAULT_ENGINES = ("chromium", "node")
RUN_TIMEOUT_S = 900.0  # one pytest run; the step timeouts end a stuck row long before this
BAD = ("failed", "error")  # and "xpassed" under a strict finding: see is_bad
LIST_ROWS = 3  # failing rows listed per mutant in the report


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    kind: str  # one of REQUIRED_KINDS, or another fault kind
    breaks: str  # what the fault does, as a bug report would say it
    original: str  # exact text in the pristine tf.js (must occur exactly once)
    replacement: str
    catch: str  # where the suite should see it (what to look at if it survives)


class MutantError(ValueError):
    """A mutant's patch does not apply to this bundle (its snippet is missing or not unique)."""


CATALOGUE: tuple[Mutant, ...] = (
    Mutant(
        "indexeddb-save-flips-weight-byte", "weight-bytes",
        "BrowserIndexedDB.save stores the weights with the first byte's low bit flipped",
        "modelArtifacts.weightData = CompositeArrayBuffer.join(modelArtifacts.weightData);",
        "modelArtifacts.weightData = (function (b) { new Uint8Array(b)[0] ^= 1; return b; })"
        "(CompositeArrayBuffer.join(modelArtifacts.weightData));",
        "indexeddb rows: the stored record's weight bytes and the loaded weights",
    ),
    Mutant(
        "localstorage-save-drops-user-metadata", "metadata",
        "BrowserLocalStorage.save writes signature where userDefinedMetadata belongs (copy-paste): "
        "userDefinedMetadata is not saved",
        "userDefinedMetadata: modelArtifacts.userDefinedMetadata != null ? modelArtifacts.userDefinedMetadata : undefined,",
        "userDefinedMetadata: modelArtifacts.userDefinedMetadata != null ? modelArtifacts.signature : undefined,",
        "localstorage / reload-persistence / model-management rows of model metadata: the loaded model.json",
    ),
    Mutant(
        "model-json-drops-training-config", "metadata",
        "getModelJSONForModelArtifacts (the model.json of downloads:// and http:// saves) tests "
        "artifacts.trainingconfig (typo): trainingConfig is never written",
        "if (artifacts.trainingConfig != null) {",
        "if (artifacts.trainingconfig != null) {",
        "http / https / downloads / browser-to-node rows of model metadata: the loaded model",
    ),
    Mutant(
        "save-info-weight-specs-bytes-copy-paste", "byte-counts",
        "getModelArtifactsInfoForJSON measures weightSpecsBytes on the topology (copy-paste of the line above)",
        "weightSpecsBytes: modelArtifacts.weightSpecs == null ? 0 : "
        "stringByteLength(JSON.stringify(modelArtifacts.weightSpecs)),",
        "weightSpecsBytes: modelArtifacts.weightSpecs == null ? 0 : "
        "stringByteLength(JSON.stringify(modelArtifacts.modelTopology)),",
        "every SaveResult check (save-result rows, and each scheme's save) and the stored info records",
    ),
    Mutant(
        "save-info-topology-bytes-counts-chars", "byte-counts",
        "getModelArtifactsInfoForJSON counts modelTopologyBytes in UTF-16 code units (.length), not "
        "UTF-8 bytes: wrong for any non-ASCII name",
        "modelTopologyBytes: modelArtifacts.modelTopology == null ? 0 : "
        "stringByteLength(JSON.stringify(modelArtifacts.modelTopology)),",
        "modelTopologyBytes: modelArtifacts.modelTopology == null ? 0 : JSON.stringify(modelArtifacts.modelTopology).length,",
        "SaveResult checks of model edge (its model name is non-ASCII)",
    ),
    Mutant(
        "http-load-shards-reversed", "shard-order",
        "HTTPRequest.getWeightUrls unshifts instead of pushing: the shards of a group are fetched and "
        "concatenated in reverse order",
        "fetchURLs.push(pathPrefix + path + suffix);",
        "fetchURLs.unshift(pathPrefix + path + suffix);",
        "every row of model sharded (the golden itself is loaded over http)",
    ),
    Mutant(
        "localstorage-failed-save-leaves-keys", "partial-data",
        "BrowserLocalStorage.save, when setItem throws (quota), removes only the info key: the topology "
        "and weight-specs keys it already wrote stay behind (listModels looks clean)",
        "removeItems(this.keys);",
        "removeItems({info: this.keys.info});",
        "quota-localstorage: no tensorflowjs_models/<path>/* key may remain after the refused save",
    ),
    Mutant(
        "uint8-dequantize-min-before-scale", "quantization",
        "decodeWeight dequantizes uint8/uint16 as (q + min) * scale instead of q * scale + min",
        "values[i] = v * quantization.scale + quantization.min;",
        "values[i] = (v + quantization.min) * quantization.scale;",
        "every row of model quantized-uint8 (examples.json after_load: the dequantized float32 weights)",
    ),
    Mutant(
        "float16-decode-drops-mantissa-bit", "quantization",
        "the float16 decoder masks the mantissa with 0x1ff instead of 0x3ff (drops its top bit)",
        "var float32Bits = mantisaTable[offsetTable[float16Bits >> 10] + (float16Bits & 0x3ff)] + "
        "exponentTable[float16Bits >> 10];",
        "var float32Bits = mantisaTable[offsetTable[float16Bits >> 10] + (float16Bits & 0x1ff)] + "
        "exponentTable[float16Bits >> 10];",
        "every row of model quantized-float16",
    ),
    Mutant(
        "downloads-weights-file-default-name", "file-naming",
        "BrowserDownloads names the weights file with the default prefix: downloads://NAME gives "
        "NAME.json + model.weights.bin (and the manifest points there)",
        "this.weightDataFileName = fileNamePrefix + DEFAULT_WEIGHT_DATA_EXTENSION_NAME;",
        "this.weightDataFileName = DEFAULT_FILE_NAME_PREFIX + DEFAULT_WEIGHT_DATA_EXTENSION_NAME;",
        "downloads and browser-to-node rows: the two downloaded file names and the manifest path",
    ),
    Mutant(
        "browser-files-pick-by-manifest-index", "file-choice",
        "BrowserFiles maps each manifest path to the chosen file at the path's position in the manifest "
        "(basenames.indexOf) instead of the file with that name (fileNames.indexOf): shards chosen in "
        "another order than the manifest's are read as the wrong shard",
        "pathToFile[path] = _this3.weightsFiles[fileNames.indexOf(pathBasename)];",
        "pathToFile[path] = _this3.weightsFiles[basenames.indexOf(pathBasename)];",
        "browser-files of model sharded, if the files were chosen in another order than the manifest's",
    ),
    Mutant(
        "http-save-drops-weights-part-of-weight-list", "multipart",
        "HTTPRequest.save appends the model.weights.bin part only when weightData is one ArrayBuffer: "
        "a model holding its weights as a list (a graph model, one buffer per shard) is uploaded without it",
        "if (modelArtifacts.weightData != null) {\n",
        "if (modelArtifacts.weightData instanceof ArrayBuffer) {\n",
        "http / https rows of model graph: the upload's multipart parts",
    ),
    Mutant(
        "copy-model-deletes-source", "model-management",
        "tf.io.copyModel passes deleteSource = true to cloneModelInternal: a copy removes its source",
        "deleteSource = false;",
        "deleteSource = true;",
        "model-management: listModels and the storage keys after copyModel",
    ),
    Mutant(
        "graph-executor-tensor-off-by-one-ulp", "held-tensors",
        "GraphModel.convertTensorMapToTensorsMap keeps dense/bias with its first element one ulp off: the model "
        "executes with other weights than the artifacts it saves (predictions move ~1e-7, inside the tolerance)",
        "newMap[key] = [map[key]];",
        "newMap[key] = [key === 'dense/bias' ? (function (t) { var v = t.dataSync().slice(); "
        "new Uint32Array(v.buffer)[0] ^= 1; return tensor(v, t.shape, t.dtype); })(map[key]) : map[key]];",
        "http rows of model graph: the executor tensors (loaded.tensors) against numpy's decoding of the files",
    ),
    Mutant(
        "scalar-weight-spec-shape-1", "weight-specs",
        "encodeWeights writes a scalar weight's shape as [1] instead of []",
        "shape: t.shape,\n",
        "shape: t.shape.length === 0 ? [1] : t.shape,\n",
        "rows of models metadata (optimizer iter) and graph (gather/axis): weightSpecs",
    ),
    # The refusals upstream's own tests assert (scenarios/test_contract.py, harness.schemes.contract)
    Mutant(
        "copy-model-identical-paths-unchecked", "contract",
        "cloneModelInternal no longer checks that the old and new paths differ (model_management_test "
        "'copyModel: Identical oldPath and newPath leads to Error')",
        "assert$1(sourceURL !== destURL, function () {",
        "assert$1(true, function () {",
        "contract-model-management: copy-identical and move-identical reject with another message",
    ),
    Mutant(
        "copy-model-accepts-no-save-handler", "contract",
        "cloneModelInternal checks saveHandlers.length >= 0 (off by one): a destination no router takes "
        "is not refused up front; a move then removes its source before failing",
        "assert$1(saveHandlers.length > 0, function () {",
        "assert$1(saveHandlers.length >= 0, function () {",
        "contract-model-management: copy/move-invalid-destination's message, and the source listed after the move",
    ),
    Mutant(
        "localstorage-load-missing-weight-data-unchecked", "contract",
        "BrowserLocalStorage.load tests the weight_data item against undefined (getItem gives null): a model "
        "whose weight data is gone decodes the text 'null' as its weights",
        "if (!(weightDataBase64 == null)) {",
        "if (!(weightDataBase64 === undefined)) {",
        "contract-corrupt-localstorage: load-weight_data rejects (or loads) with another message",
    ),
    Mutant(
        "http-accepts-string-body", "contract",
        "HTTPRequest refuses a pre-existing requestInit.body only when it is FormData: a string body is kept "
        "and replaced on save",
        "if (loadOptions.requestInit != null && loadOptions.requestInit.body != null) {",
        "if (loadOptions.requestInit != null && loadOptions.requestInit.body instanceof FormData) {",
        "contract-http-arguments: http-existing-body resolves",
    ),
    Mutant(
        "browser-files-accepts-empty-list", "contract",
        "BrowserFiles refuses only a null file list: browserFiles([]) makes a handler with no model.json",
        "if (files == null || files.length < 1) {",
        "if (files == null) {",
        "contract-browser-files: files-empty resolves",
    ),
    Mutant(
        "http-weight-urls-drop-query", "query-string",
        "HTTPRequest.getWeightUrls forgets the model URL's suffix: signed or cache-busted links lose their "
        "query on every weight URL (http_test 'should parse url with suffix')",
        "fetchURLs.push(pathPrefix + path + suffix);",
        "fetchURLs.push(pathPrefix + path);",
        "http-query rows: the weight requests answer 403 without the query",
    ),
    # LoadOptions as users pass them (harness.schemes.load_options)
    Mutant(
        "weights-fetch-ignores-fetchfunc", "load-options",
        "loadWeightsAsArrayBuffer fetches the weights with the platform's fetch, not the LoadOptions' fetchFunc "
        "(http_test 'Overriding BrowserHTTPRequest fetchFunc'; tensorflow/tfjs#3271)",
        "fetchFunc = loadOptions.fetchFunc == null ? env().platform.fetch : loadOptions.fetchFunc; "
        "// Create the requests for all of the weights in parallel.",
        "fetchFunc = env().platform.fetch; // Create the requests for all of the weights in parallel.",
        "load-options rows: the fetchFunc given sees model.json only",
    ),
    Mutant(
        "weights-fetch-drops-request-init", "load-options",
        "loadWeightsAsArrayBuffer fetches each weight file without the LoadOptions' requestInit: headers and "
        "credentials reach model.json only",
        "return fetchFunc(fetchURL, loadOptions.requestInit, {",
        "return fetchFunc(fetchURL, undefined, {",
        "load-options and browser-http-request rows: the weight requests answer 401 without the header",
    ),
    Mutant(
        "progress-fetch-range-to-one", "load-options",
        "loadWeightsAsArrayBuffer reports the fetches over [0, 1] instead of [0, 0.5]: onProgress reaches 1 "
        "before the weights are read, then goes back",
        "fetchEndFraction = 0.5;",
        "fetchEndFraction = 1;",
        "load-options rows: onProgress against upstream's evenly spaced fractions",
    ),
    # What upstream asserts of the exported io API (harness.schemes.promises)
    Mutant(
        "float16-infinity-decodes-finite", "quantization",
        "the float16 decoder's exponent table maps exponent 31 (Inf and NaN) to a finite float32 exponent: "
        "float16 +-Infinity and NaN weights load as +-32768 and finite values (io_utils_test 'decodes NaN to "
        "float32 NaN')",
        "exponentTable[31] = 0x47800000;",
        "exponentTable[31] = 0x47000000;",
        "promise-decode-weights rows: the float16 specials against numpy's widening",
    ),
    Mutant(
        "quantized-int32-floors", "quantization",
        "quantized int32 weights are dequantized with Math.floor, not Math.round: 24.5 loads as 24 "
        "(weights_loader_test 'quantized weights (uint16)')",
        "values[_i] = Math.round(_v * quantization.scale + quantization.min);",
        "values[_i] = Math.floor(_v * quantization.scale + quantization.min);",
        "promise-decode-weights rows: the int32 targets, whose halves round up",
    ),
    Mutant(
        "localstorage-drops-model-initializer", "metadata",
        "BrowserLocalStorage.save leaves modelInitializer out of the model_metadata key (local_storage_test "
        "'Save-load round trip succeeds')",
        "modelInitializer: modelArtifacts.modelInitializer != null ? modelArtifacts.modelInitializer : undefined,",
        "modelInitializer: undefined,",
        "promise-handler-artifacts rows: the localStorage copy of every ModelArtifacts field",
    ),
    Mutant(
        "from-memory-legacy-drops-specs", "partial-data",
        "fromMemory(topology, specs, data), the legacy signature, forgets the weight specs (passthrough_test "
        "'load topology and weights: legacy signature')",
        "modelTopology: modelArtifacts,\n\t      weightSpecs: weightSpecs,",
        "modelTopology: modelArtifacts,\n\t      weightSpecs: undefined,",
        "promise-from-memory-legacy rows: the legacy handlers' weightSpecs",
    ),
    Mutant(
        "user-metadata-unchecked", "metadata",
        "LayersModel.setUserDefinedMetadata accepts what is not a JSON object (user_defined_metadata_test "
        "'Invalid user metadata leads to error')",
        "checkUserDefinedMetadata(userDefinedMetadata, this.name);\n\t      this.userDefinedMetadata = userDefinedMetadata;",
        "this.userDefinedMetadata = userDefinedMetadata;",
        "promise-user-metadata rows: every invalid value must throw",
    ),
    Mutant(
        "load-drops-optimizer-state", "training",
        "tf.loadLayersModel compiles the model from its trainingConfig but never gives the optimizer the state the "
        "file holds (models_test 'Adam as explicit object': the optimizer's weights after the load equal the saved ones)",
        "return model.optimizer.setWeights(optimizerWeights);",
        "return null;",
        "promise-optimizers rows: the first save must be the file, slots included",
    ),
    Mutant(
        "adam-resumed-bias-correction-off-by-one", "training",
        "AdamOptimizer.setWeights restores the bias-correction powers one step behind the iterations loaded, so "
        "training resumed after a load takes another step than the model never saved",
        "_this3.accBeta1.assign(pow$3(_this3.beta1, _this3.iterations_ + 1));",
        "_this3.accBeta1.assign(pow$3(_this3.beta1, _this3.iterations_));",
        "promise-optimizers rows: the adam case's step is numpy's",
    ),
    Mutant(
        "graph-model-metadata-undefined", "metadata",
        "GraphModel.metadata is undefined although the model.json has userDefinedMetadata (e2e metadata.ts "
        "'can load metadata.')",
        "return this.artifacts.userDefinedMetadata;",
        "return undefined;",
        "promise-graph-metadata rows: model.metadata after every load",
    ),
    Mutant(
        "load-routing-takes-save-only-routers", "contract",
        "tf.io.getLoadHandlers also asks the routers registered for saving only (downloads://, a user's "
        "registerSaveRouter), so a save-only scheme gets a load handler (router_registry_test 'getSaveHandler "
        "succeeds' and 'getLoadHandler succeeds' keep the two apart)",
        "var routers = handlerType === 'load' ? IORouterRegistry.getInstance().loadRouters : "
        "IORouterRegistry.getInstance().saveRouters;",
        "var routers = handlerType === 'load' ? IORouterRegistry.getInstance().loadRouters.concat("
        "IORouterRegistry.getInstance().saveRouters.filter(function (r) { return "
        "IORouterRegistry.getInstance().loadRouters.indexOf(r) < 0; })) : IORouterRegistry.getInstance().saveRouters;",
        "promise-load-routers rows: load-downloads and load-users must get no handler",
    ),
    Mutant(
        "model-json-load-drops-model-initializer", "metadata",
        "getModelArtifactsForJSON leaves a model.json's modelInitializer out of the artifacts, so a hash-table graph "
        "loaded over http has no table (local_storage_test 'Save-load round trip succeeds': modelInitializer back)",
        "modelArtifacts.modelInitializer = modelJSON.modelInitializer;",
        "modelArtifacts.modelInitializerDropped = modelJSON.modelInitializer;",
        "promise-graph-hash-table rows: the lookups after the http load",
    ),
    Mutant(
        "save-ignores-trainable-only", "partial-data",
        "LayersModel.save writes every weight when asked for {trainableOnly: true} (model_save_test 'Saving only "
        "trainable weights succeeds')",
        "return encodeWeights(this.getNamedWeights(config));",
        "return encodeWeights(this.getNamedWeights());",
        "promise-layers-load rows: the trainable-only save's manifest",
    ),
)


def by_name(names: list[str] | tuple[str, ...] | None = None) -> list[Mutant]:
    """The catalogue, or the mutants named (in catalogue order); an unknown name is a ValueError."""
    if not names:
        return list(CATALOGUE)
    known = {m.name for m in CATALOGUE}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown mutant(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [m for m in CATALOGUE if m.name in names]


def pristine_bundle() -> Path:
    """The installed npm TF.js's unminified UMD bundle."""
    from harness import tfjs

    path = tfjs.installed().dist / "tf.js"
    if not path.is_file():
        raise FileNotFoundError(f"no unminified TF.js bundle at {path}; run `npm ci` (or `make setup`)")
    return path


def apply(text: str, mutant: Mutant) -> str:
    """`text` with the mutant's one replacement; MutantError (naming the mutant) unless its original
    snippet occurs exactly once and the replacement changes it."""
    count = text.count(mutant.original)
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times"
        raise MutantError(f"mutant {mutant.name}: its original snippet is {where} in the bundle (it must occur "
                          f"exactly once): {mutant.original.strip()!r}")
    if mutant.replacement == mutant.original:
        raise MutantError(f"mutant {mutant.name}: the replacement equals the original")
    return text.replace(mutant.original, mutant.replacement)


def write_bundles(pristine: Path, mutants: list[Mutant], out: Path) -> dict[str, Path]:
    """out/pristine/tf.js and out/<mutant>/tf.js; every patch is applied before anything runs."""
    text = pristine.read_text("utf-8")
    patched = {m.name: apply(text, m) for m in mutants}  # all or nothing: a stale snippet fails first
    paths = {}
    for name, content in [("pristine", text), *patched.items()]:
        (out / name).mkdir(parents=True, exist_ok=True)
        paths[name] = out / name / "tf.js"
        paths[name].write_text(content, "utf-8")
    return paths


# -- running -----------------------------------------------------------------------------------


def keyword(engines: list[str] | tuple[str, ...] = DEFAULT_ENGINES, rows=ROWS) -> str:
    """The -k expression selecting `rows` on `engines` (ids read <scheme>-<model>-<engine>; no scheme
    name ends with a model's name, and nothing starts with "-", which argparse would take for an option)."""
    browsers = [e for e in engines if e != "node"]
    cheap = "node" if "node" in engines else (browsers[0] if browsers else "node")
    terms = []
    for scheme, model, where in rows:
        stem = f"{model}-" if scheme == "*" else f"{scheme}-{model}-"
        terms.append(stem + cheap if where == "cheap" else stem)
    return " or ".join(dict.fromkeys(terms))


def row_key(row: dict) -> tuple[str, str, str]:
    return (row["scheme"], row["model"], row["engine"])


def rows_keyword(keys, repeated: bool = False) -> str:
    """-k selecting exactly these rows: the id's bracketed part "[scheme-model-engine]" ("-rN]" with --repeat),
    so that e.g. localstorage-mlp-chromium does not also select quota-localstorage-mlp-chromium."""
    return " or ".join(f"[{s}-{m}-{e}" + ("-r" if repeated else "]") for s, m, e in keys)


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def scenarios_for(engines, keys=None) -> list[str]:
    """The scenario files to run: test_quota.py (browsers only) only with a browser engine, and, for given
    rows, only the files holding them. (`pytest scenarios/test_quota.py --engine node` alone does not
    collect: the plugin parametrises an empty row list, and pytest's NOTSET row crashes its collection.)"""
    files = list(SCENARIOS)
    if keys is not None:
        held = {_scenario_of(k[0]) for k in keys}
        files = [f for f in files if f in held]
    if not any(e != "node" for e in engines):
        files = [f for f in files if not f.endswith("test_quota.py")]
    return files


def _scenario_of(scheme: str) -> str:
    """The file of SCENARIOS whose rows have this scheme."""
    for prefix, name in (("quota-", "test_quota.py"), ("contract-", "test_contract.py"), ("promise-", "test_contract.py")):
        if scheme.startswith(prefix):
            return f"scenarios/{name}"
    return "scenarios/test_roundtrip.py"


def command(bundle: Path, results: Path, engines: list[str], k: str | None = None, repeat: int = 1,
            keys=None) -> list[str]:
    """The pytest run of one bundle (pristine or mutant): the selection (`keyword`), or the rows `keys`
    (selected by `k`)."""
    cmd = [python(), "-m", "pytest", *scenarios_for(engines, keys), "-p", "no:cacheprovider", "-q",
           "--tfjs-bundle", str(bundle), "--zoo", "full"]
    for e in engines:
        cmd += ["--engine", e]
    cmd += ["--results-dir", str(results), "-n", str(max(1, len(engines))), "--dist", "worksteal",
            "-k", k or keyword(engines)]
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    return cmd


@dataclasses.dataclass
class Run:
    """One pytest run of one bundle: its rows and how it went."""

    name: str
    rows: list[dict]
    duration_s: float
    returncode: int | None  # None: timed out
    log: str  # the tail of pytest's output
    results_dir: Path

    @property
    def bad_rows(self) -> list[dict]:
        return [r for r in self.rows if is_bad(r)]

    @property
    def broken(self) -> str | None:
        """Why this run says nothing (no report, timeout), else None."""
        if self.returncode is None:
            return "pytest did not finish in time"
        if not self.rows:
            return f"no conformance rows (pytest exit status {self.returncode})"
        return None


def run_pytest(name: str, bundle: Path, results: Path, engines: list[str], timeout: float = RUN_TIMEOUT_S,
               keys=None, repeat: int = 1) -> Run:
    """Run the selection, or exactly the rows `keys` ((scheme, model, engine) tuples) on their engines."""
    results.mkdir(parents=True, exist_ok=True)
    if keys is not None:
        engines = trial_engines(keys, engines)
    k = rows_keyword(keys, repeated=repeat > 1) if keys is not None else None
    cmd = command(bundle, results, engines, k, repeat, keys)
    log_path = results / "pytest.log"
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            rc = None
    duration = time.monotonic() - t0
    return Run(name, read_rows(results / "conformance.json"), duration, rc, _tail(log_path), results)


def read_rows(path: Path) -> list[dict]:
    """The rows of a run's conformance.json, each xpassed row marked `strict_xpass` when a strict
    (not intermittent) finding went stale on it (the plugin fails such a test)."""
    try:
        doc = json.loads(path.read_text())
        rows, table = doc["results"], doc.get("findings") or {}
    except (OSError, ValueError, KeyError, TypeError):
        return []
    for r in rows:
        if r.get("outcome") == "xpassed":
            r["strict_xpass"] = any(not (table.get(fid) or {}).get("intermittent") for fid in r.get("findings") or [])
    return rows


def is_bad(row: dict) -> bool:
    """The row failed: failed, error, or a strict finding went stale on it."""
    return row.get("outcome") in BAD or bool(row.get("strict_xpass"))


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def first_difference(row: dict) -> str:
    """What differed in a row, in one line: its first difference no finding explains (what the mutant
    changed), else its first difference (harness.report.document.first_difference reads the fields)."""
    from harness.report.document import first_difference as first

    d = first(row)
    if d is None:
        return ""
    return f"{d['what']} {d['path']}: {d['message']}"


def row_label(row: dict | tuple) -> str:
    scheme, model, engine = row if isinstance(row, tuple) else row_key(row)
    return f"{scheme}/{model}/{engine}"


class PristineNotGreen(RuntimeError):
    """The pristine bundle fails rows (or its run broke): mutants would be judged against noise."""


def check_pristine(run: Run, engines: list[str]) -> None:
    if run.broken:
        raise PristineNotGreen(f"the pristine run broke: {run.broken}\n{run.log}")
    if run.bad_rows:
        listed = "\n".join(f"  {r['outcome'].upper()} {row_label(r)}: {first_difference(r)}"
                           for r in run.bad_rows)
        raise PristineNotGreen(f"the pristine bundle is not green ({len(run.bad_rows)} row(s) failed or errored); "
                               f"the harness would blame TF.js for its own problems:\n{listed}")
    ran = {r["engine"] for r in run.rows if r.get("outcome") in ("passed", "xfailed", "capacity", "xpassed")}
    missing = [e for e in engines if e not in ran]
    if missing:
        raise PristineNotGreen(f"no row ran on {', '.join(missing)} (engine missing? see `python -m harness engines`): "
                               f"a mutant could only survive there")


# -- verdict -----------------------------------------------------------------------------------
#
# A row that fails once may be a flake of the engine or the harness, not the mutant. So a mutant's
# failing rows (up to CONFIRM_ROWS of them) are run again with the mutant ("confirm" run), and, once
# every mutant has run, all those rows run CONTROL_REPEATS times with the pristine bundle ("control"
# run). A mutant is caught by a row that failed in both of its runs and never in the control run.

CONFIRM_ROWS = 3
CONTROL_REPEATS = 2


@dataclasses.dataclass
class Trial:
    """A mutant's run, and the confirm run of its failing rows (None when none failed)."""

    mutant: Mutant
    run: Run
    confirm: Run | None = None

    @property
    def candidates(self) -> list[tuple]:
        """The failing rows that were run again (the first CONFIRM_ROWS of them)."""
        return list(dict.fromkeys(row_key(r) for r in self.run.bad_rows))[:CONFIRM_ROWS]

    def confirmed(self) -> list[tuple]:
        """Candidates that failed again in the confirm run."""
        again = {row_key(r) for r in (self.confirm.bad_rows if self.confirm else [])}
        return [k for k in self.candidates if k in again]


def trial_engines(keys, engines: list[str]) -> list[str]:
    return [e for e in engines if any(k[2] == e for k in keys)]


def result_record(trial: Trial, flaky: dict[tuple, str], keep: bool) -> dict:
    """One mutant's verdict. `flaky`: rows that failed on the pristine bundle in the control run (why)."""
    run, bad = trial.run, trial.run.bad_rows
    confirmed = trial.confirmed()
    catching = [k for k in confirmed if k not in flaky]
    broken = run.broken if not bad else None
    if trial.confirm is not None and trial.confirm.broken:
        broken = f"the confirm run broke: {trial.confirm.broken}: {_clip(_last_error(trial.confirm.log), 300)}"
    if catching:
        status = "caught"
    elif broken:
        status = "broken"
    elif bad:
        status = "unconfirmed"  # only rows that did not fail again, or fail on the pristine bundle too
    else:
        status = "survived"
    by_key = {row_key(r): r for r in bad}
    order = catching + [row_key(r) for r in bad if row_key(r) not in catching]
    first = []
    for k in list(dict.fromkeys(order))[:LIST_ROWS]:
        r = by_key[k]
        note = ("" if k in catching else " (flaky: fails on the pristine bundle too)" if k in flaky
                else " (did not fail again)" if k in trial.candidates else " (not re-run)")
        first.append({"row": row_label(k), "outcome": r["outcome"], "test": r.get("test"),
                      "difference": first_difference(r), "confirmed": k in catching, "note": note})
    return {
        "name": trial.mutant.name,
        "kind": trial.mutant.kind,
        "breaks": trial.mutant.breaks,
        "catch": trial.mutant.catch,
        "status": status,
        "caught": status == "caught",
        "rows": len(run.rows),
        "failed_rows": len(bad),
        "confirmed_rows": [row_label(k) for k in catching],
        "flaky_rows": [row_label(k) for k in by_key if k in flaky],
        "first_failures": first,
        "broken": broken,
        "duration_s": round(run.duration_s + (trial.confirm.duration_s if trial.confirm else 0), 1),
        **({"results_dir": str(run.results_dir)} if keep else {}),
    }


def _last_error(log: str) -> str:
    """The last line of a pytest log that names an error (else its last line)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "Error" in ln]
    return (errors or lines or [""])[-1]


def flaky_rows(control: Run | None) -> dict[tuple, str]:
    """Rows that failed at least once on the pristine bundle in the control run: key -> first difference."""
    out: dict[tuple, str] = {}
    for r in control.bad_rows if control else []:
        out.setdefault(row_key(r), f"{r['outcome']}: {first_difference(r)}")
    return out


# -- report ------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def table(records: list[dict]) -> str:
    head = ["mutant", "kind", "result", "failed rows", "time", "first failing row"]
    rows = []
    for r in records:
        first = r["first_failures"][0] if r["first_failures"] else None
        where = f"{first['row']}: {first['difference']}" if first else (r.get("broken") or "-")
        rows.append([r["name"], r["kind"], r["status"], f"{r['failed_rows']}/{r['rows']}", f"{r['duration_s']:.0f} s",
                     _clip(where, 110)])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def score_line(records: list[dict]) -> str:
    return f"mutation score: {sum(r['caught'] for r in records)}/{len(records)} caught"


def format_report(records: list[dict], pristine: dict | None = None, wall_s: float | None = None,
                  flaky: dict[str, str] | None = None) -> str:
    out = []
    if pristine:
        out.append(f"pristine {pristine['bundle']}: green ({pristine['rows']} rows, "
                   f"{pristine.get('xfailed', 0)} xfailed) in {pristine['duration_s']:.0f} s")
        out.append("")
    out.append(table(records))
    out.append("")
    for r in records:
        if r["caught"]:
            out.append(f"{r['name']}: caught by {r['failed_rows']} row(s) ({len(r['confirmed_rows'])} confirmed), e.g.")
        elif r["status"] == "unconfirmed":
            out.append(f"{r['name']}: UNCONFIRMED: {r['failed_rows']} row(s) failed once, none failed again with the "
                       f"mutant and never on the pristine bundle; it breaks: {r['breaks']}; expected to be seen by: {r['catch']}")
        else:
            why = f"its run broke: {r['broken']}" if r.get("broken") else "no row failed"
            out.append(f"{r['name']}: {r['status'].upper()} ({why}); it breaks: {r['breaks']}; expected to be seen by: "
                       f"{r['catch']}")
        out += [f"    {f['outcome'].upper()} {f['row']}{f.get('note', '')}: {_clip(f['difference'], 220)}"
                for f in r["first_failures"]]
    if flaky:
        out.append("")
        out.append("flaky on the pristine bundle (control run), not counted as catches:")
        out += [f"    {row}: {_clip(why, 220)}" for row, why in flaky.items()]
    out.append("")
    out.append(score_line(records) + (f" (wall time {wall_s / 60:.1f} min)" if wall_s is not None else ""))
    return "\n".join(out)


def document(records: list[dict], pristine: dict, engines: list[str], wall_s: float,
             flaky: dict[str, str] | None = None) -> dict:
    return {
        "schema": 1,
        "bundle": pristine["bundle"],
        "engines": engines,
        "models": list(MODELS),
        "scenarios": list(SCENARIOS),
        "keyword": keyword(engines),
        "pristine": pristine,
        "flaky": flaky or {},
        "mutants": records,
        "score": {"caught": sum(r["caught"] for r in records), "total": len(records)},
        "wall_s": round(wall_s, 1),
    }


# -- command line ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", action="append", metavar="E",
                        help=f"engine to run (repeatable; default: {' '.join(DEFAULT_ENGINES)})")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this mutant (repeatable)")
    parser.add_argument("--keep", metavar="DIR", help="write the bundles and each run's results here and keep them")
    parser.add_argument("--json", metavar="PATH", default=str(REPO / "test-results" / "mutants.json"),
                        help="where the report goes (default: test-results/mutants.json)")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, help="seconds for one pytest run")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")


def main(args: argparse.Namespace) -> int:
    try:
        mutants = by_name(args.only)
    except ValueError as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 2
    if args.list:
        for m in mutants:
            print(f"{m.name} [{m.kind}]: {m.breaks}")
        return 0
    engines = list(dict.fromkeys(args.engine or DEFAULT_ENGINES))
    keep = args.keep is not None
    work = Path(args.keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="tfjs-mutants-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        try:
            source = pristine_bundle()
            bundles = write_bundles(source, mutants, work / "bundles")
        except (MutantError, FileNotFoundError) as e:
            print(f"mutants: {e}", file=sys.stderr)
            return 2
        print(f"{len(mutants)} mutant(s) of {source}; engines {', '.join(engines)}")
        print("command: " + " ".join(_quote(c) for c in command(Path("BUNDLE"), Path("DIR"), engines)), flush=True)

        results = work / "results"
        base = run_pytest("pristine", bundles["pristine"], results / "pristine", engines, args.timeout)
        try:
            check_pristine(base, engines)
        except PristineNotGreen as e:
            print(f"mutants: aborted: {e}", file=sys.stderr)
            return 2
        pristine = {"bundle": str(source), "rows": len(base.rows), "duration_s": round(base.duration_s, 1),
                    "xfailed": sum(r["outcome"] == "xfailed" for r in base.rows),
                    "skipped": sum(r["outcome"] == "skipped" for r in base.rows)}
        print(f"pristine: green, {len(base.rows)} rows ({pristine['xfailed']} xfailed) in {base.duration_s:.0f} s", flush=True)

        trials = []
        for i, m in enumerate(mutants, 1):
            trial = Trial(m, run_pytest(m.name, bundles[m.name], results / m.name, engines, args.timeout))
            if trial.candidates:
                keys = trial.candidates
                trial.confirm = run_pytest(m.name, bundles[m.name], results / f"{m.name}.confirm", engines,
                                           args.timeout, keys=keys)
            trials.append(trial)
            print(f"[{i}/{len(mutants)}] {m.name}: {len(trial.run.bad_rows)} of {len(trial.run.rows)} rows failed"
                  + (f", {len(trial.confirmed())} of {len(trial.candidates)} again" if trial.candidates else "")
                  + (f" ({trial.run.broken})" if trial.run.broken else "")
                  + (f" (the confirm run broke: {trial.confirm.broken})" if trial.confirm and trial.confirm.broken else "")
                  + f" in {trial.run.duration_s + (trial.confirm.duration_s if trial.confirm else 0):.0f} s", flush=True)

        control = None
        checked = list(dict.fromkeys(k for t in trials for k in t.confirmed()))
        if checked:
            control = run_pytest("control", bundles["pristine"], results / "control", engines, args.timeout,
                                 keys=checked, repeat=CONTROL_REPEATS)
            if control.broken:
                print(f"mutants: aborted: the pristine control run broke: {control.broken}\n{control.log}", file=sys.stderr)
                return 2
            print(f"control: {len(checked)} row(s) x {CONTROL_REPEATS} on the pristine bundle, "
                  f"{len(control.bad_rows)} failed, in {control.duration_s:.0f} s", flush=True)
        flaky = flaky_rows(control)
        records = [result_record(t, flaky, keep) for t in trials]
        flaky_labels = {row_label(k): why for k, why in flaky.items()}
        wall = time.monotonic() - t0
        print()
        print(format_report(records, pristine, wall, flaky_labels))
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document(records, pristine, engines, wall, flaky_labels), indent=2) + "\n")
        print(f"written: {out}" + (f"; bundles and results kept in {work}" if keep else ""))
        return 0 if all(r["caught"] for r in records) else 1
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[-\w./:=@]+", arg) else "'" + arg.replace("'", "'\\''") + "'"
