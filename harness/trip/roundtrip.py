"""The one generic round trip every scenario runs, and the comparison of what came back.

    golden (fixtures/) --http--> page step `save` (through the scheme's target)
        -> whatever a user does in between (the scheme: capture downloads, choose files, reload...)
        -> page step `load` (through the scheme's source), predict, capture with withSaveHandler
        --POST--> harness server --> compared with the golden, field by field and bit for bit

A `Trip` is one such run on one page: schemes call `save`, `load` and the checks below, and return
the differences they found. A TF.js error in one save or load is one difference (`<prefix>tfjs-error`,
path = the phase it failed in); the scheme goes on with its other media and checks. Scenarios never
see drivers or page steps: they call `conform`, which judges the differences against the row's known
findings and leaves the verdict on the trip for the row recorder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np

from harness import backends, contexts, expectations
from harness.engines.base import Driver, EngineError, Page, StepTimeout
from harness.golden import Golden, decode, fit, graph, writer
from harness.golden.writer import js_json_bytes
from harness.report import document
from harness.server import HarnessServer
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_arrays, diff_json, diff_weights, max_errors
from harness.trip.rewrites import expected_after_save

INFO_KEYS = ("modelTopologyType", "modelTopologyBytes", "weightSpecsBytes", "weightDataBytes")
PREDICTION_DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "|b1"}  # as harness.golden.writer decodes them


class TfjsError(AssertionError):
    """TF.js threw (or rejected) in a page step: a finding, reported with its phase."""

    def __init__(self, message: str, error: dict):
        super().__init__(message)
        self.error = error

    def difference(self, prefix: str = "") -> Difference:
        """This error as the difference `<prefix>tfjs-error` at the phase it failed in (and, on webgpu, the
        engine's word that the GPUDevice was lost before it, when it was)."""
        lost = self.error.get("deviceLost")
        said = f" (the webgpu GPUDevice was lost before it: {lost.get('reason')!r}, {lost.get('message')!r})" if lost else ""
        return Difference(f"{prefix}tfjs-error", str(self.error.get("phase")), f"{self}{said}",
                          actual=self.error.get("name"))


class RowFailed(AssertionError):
    """The row's verdict fails it: a difference no known finding explains, or a stale expectation."""


@dataclasses.dataclass(frozen=True)
class ExpectedSave:
    """What a save of the golden must produce: model JSON (after TF.js's own rewrites), specs, bytes.

    `by_name`: the weights are compared as a mapping name -> (spec, bytes), not in manifest order (a
    user's layers model: TF.js saves its weights in its own order, trainable ones first)."""

    model_json: dict
    weight_specs: list[dict]
    weight_data: bytes
    save_info: dict  # modelArtifactsInfo byte counts
    by_name: bool = False

    @classmethod
    def of(cls, golden: Golden, tfjs_version: str) -> "ExpectedSave":
        # What a loaded model saves: a quantized layers model holds (and saves) dequantized float32.
        model_json = expected_after_save(golden.model_json, tfjs_version)
        info = {
            "modelTopologyType": "JSON",
            "modelTopologyBytes": len(js_json_bytes(model_json["modelTopology"])),
            "weightSpecsBytes": len(js_json_bytes(golden.after_load_specs)),
            "weightDataBytes": len(golden.after_load_data),
        }
        by_name = bool(golden.examples.get("derive")) and golden.format != "graph-model"
        return cls(model_json, golden.after_load_specs, golden.after_load_data, info, by_name)

    def metadata(self) -> dict:
        """Every model.json field but the topology (and manifest): what localStorage's model_metadata key
        and a written model.json carry beside them."""
        return {k: v for k, v in self.model_json.items() if k != "modelTopology"}

    def in_order_of(self, got_specs: Any) -> tuple[list[dict], bytes]:
        """The expected specs and bytes, in the order of the weights TF.js gave (`got_specs`) when they
        are compared by name and it gave the same names (a digest of the bytes is then comparable);
        else as they are."""
        names = [s.get("name") for s in got_specs] if isinstance(got_specs, list) and all(
            isinstance(s, dict) for s in got_specs) else None
        own = _named(self.weight_specs, self.weight_data)
        if not self.by_name or names is None or sorted(names) != sorted(own):
            return self.weight_specs, self.weight_data
        return [own[n][0] for n in names], b"".join(own[n][1] for n in names)

    def check_weights(self, what: str, specs: Any, weights: bytes | None) -> list[Difference]:
        """Weight specs and weight bytes, bit for bit."""
        if weights is None:
            return diff_json(self.weight_specs, specs, f"{what}.weightSpecs") + [
                Difference(what, "weightData", "no weight data", expected=len(self.weight_data))]
        if not self.by_name:
            return (diff_json(self.weight_specs, specs, f"{what}.weightSpecs")
                    + diff_weights(self.weight_specs, self.weight_data, weights, f"{what}.weightData"))
        return _diff_by_name(self.weight_specs, self.weight_data, specs, weights, what)

    def check_artifacts(self, what: str, topology: Any, specs: Any, weights: bytes | None) -> list[Difference]:
        """A stored or downloaded copy of the model: topology, weight specs and weight bytes."""
        return diff_json(self.model_json["modelTopology"], topology, f"{what}.modelTopology") + self.check_weights(
            what, specs, weights)

    def check_model_json(self, what: str, model_json: Any, weights: bytes | None, paths: list[str]) -> list[Difference]:
        """A model.json file as written by TF.js (downloads, http, file): the whole document, its one
        manifest group naming `paths`, and the weights."""
        if not isinstance(model_json, dict):
            return [Difference(what, "$", f"not a JSON object: {type(model_json).__name__}")]
        manifest = model_json.get("weightsManifest")
        got = {k: v for k, v in model_json.items() if k not in ("modelTopology", "weightsManifest")}
        out = diff_json(self.metadata(), got, what)
        if not (isinstance(manifest, list) and len(manifest) == 1 and isinstance(manifest[0], dict)):
            return out + [Difference(what, "$.weightsManifest", f"expected one group, got {manifest!r}"[:300],
                                     expected=1, actual=manifest)]
        group = {k: v for k, v in manifest[0].items() if k != "weights"}
        out += diff_json({"paths": paths}, group, f"{what}.weightsManifest[0]")
        return out + self.check_artifacts(what, model_json.get("modelTopology"), manifest[0].get("weights"), weights)

    def check_info(self, what: str, info: Any) -> list[Difference]:
        """A ModelArtifactsInfo (a SaveResult's, a stored info record, a listModels entry): exactly the
        byte counts the golden implies, a JSON topology, and a dateSaved that is the time of the save."""
        if not isinstance(info, dict):
            return [Difference(what, "$", f"expected a ModelArtifactsInfo object, got {info!r}"[:300], actual=info)]
        out = diff_json(self.save_info, {k: v for k, v in info.items() if k != "dateSaved"}, what)
        date = info.get("dateSaved")
        try:
            saved = datetime.datetime.fromisoformat(str(date).replace("Z", "+00:00"))
            age = (datetime.datetime.now(datetime.timezone.utc) - saved).total_seconds()
            if not -300 < age < 3600:
                out.append(Difference(what, "$.dateSaved", f"{date!r} is not the time of the save", actual=date))
        except ValueError:
            out.append(Difference(what, "$.dateSaved", f"not a date: {date!r}", actual=date))
        return out


def _diff_by_name(specs: list[dict], data: bytes, got_specs: Any, got: bytes, what: str) -> list[Difference]:
    """Weights as a mapping: the same names, each with the same spec and bytes (order not compared)."""
    if not isinstance(got_specs, list):
        return [Difference(f"{what}.weightSpecs", "$", f"expected a list of weight specs, got {got_specs!r}"[:300])]
    want = _named(specs, data)
    have = {s.get("name"): (s, b) for s, b in zip(got_specs, _split(got_specs, got))}
    out = [Difference(f"{what}.weightSpecs", name, "missing", expected=want[name][0]) for name in want if name not in have]
    out += [Difference(f"{what}.weightSpecs", str(name), "unexpected weight", actual=have[name][0])
            for name in have if name not in want]
    for name in (n for n in want if n in have):
        (spec, expected), (got_spec, actual) = want[name], have[name]
        out += diff_json(spec, got_spec, f"{what}.weightSpecs[{name}]")
        out += diff_weights([spec], expected, actual, f"{what}.weightData")
    return out


def _named(specs: list[dict], data: bytes) -> dict[str, tuple[dict, bytes]]:
    """Expected weights as name -> (spec, bytes)."""
    return {s["name"]: (s, b) for s, b in zip(specs, _split(specs, data))}


def _split(specs: list[dict], data: bytes) -> list[bytes]:
    from harness.trip.compare import weight_layout

    try:
        return [data[o:o + n] for _, o, n in weight_layout(specs, data)]
    except (KeyError, TypeError, ValueError):
        return [b"" for _ in specs]


@dataclasses.dataclass
class Trip:
    """One round trip on one page: the golden, where artifacts go, and what came back."""

    page: Page
    driver: Driver
    server: HarnessServer
    golden: Golden
    tfjs_version: str
    tmp: Path
    page_url: str = ""  # the harness page this trip's page was opened on
    open_page: Callable[[str], Awaitable[Page]] | None = None  # a page on another engine (e.g. node)
    timeout: float = dataclasses.field(default_factory=lambda: timeouts.scaled(timeouts.STEP_S))
    flip_bit: dict | None = None  # harness self-test only: corrupt one weight bit before the first save
    quota: int | None = None  # the storage quota the page was opened with (harness.quota), if any
    # Cross-version: loads run on a page of this TF.js build (harness.tfjs.TfjsBuild) on the same storage,
    # opened by `open_sibling(build id)` at the first load; the loaded model is then judged as that build saves it.
    load_with: Any = None
    open_sibling: Callable[[str | None, str | None], Awaitable[Page]] | None = None
    # The backend the page saves on (harness.backends.Backend; None: cpu), and, for a cross-backend row, the
    # one loads run on: a sibling page on the same storage, opened by `open_sibling(None, name)`.
    backend: Any = None
    load_backend: Any = None
    # The context the steps run in (harness.contexts.Context; None: window), and, for a cross-context row,
    # the one loads run in: a sibling page on the same storage, opened by `open_sibling(None, None, name)`.
    context: Any = None
    load_context: Any = None

    def __post_init__(self):
        self.token = self.server.expect()
        self.want = ExpectedSave.of(self.golden, self.tfjs_version)
        self.observed: dict[str, Any] = {}  # JSON facts the row reports beside its differences
        self.state: dict[str, Any] = {}  # a scheme's scratch space
        self.hazards: list[dict] = []  # upstream-intended behaviours by which a user can lose data (Trip.hazard)
        self.verdict: expectations.Verdict | None = None  # set by conform
        self.page_s = 0.0  # time spent inside page steps, as the page measured it (the row's "page_s")
        self.phase_s: dict[str, float] = {}  # seconds per phase of those steps (the row's "phase_s")
        if self.backend is None:
            self.backend = backends.get(backends.DEFAULT)
        if self.context is None:
            self.context = contexts.get(contexts.DEFAULT)
        # A model with a training config is saved as a user who wants it back saves it.
        self.save_config = {"includeOptimizer": True} if "trainingConfig" in self.golden.model_json else None
        if self.execute == "executeAsync":  # say so: a graph TF.js refuses to execute() synchronously
            self.observed["execute"] = {"with": "executeAsync", "ops": graph.async_ops(self.golden.model_json)}

    # -- steps -----------------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return self.golden.model_json.get("format", "layers-model")

    @property
    def execute(self) -> str:
        """How the model is run, as its user runs it: predict (layers), execute, or executeAsync for a graph
        with ops TF.js refuses to execute synchronously (harness.golden.graph)."""
        return graph.execute_with(self.golden.model_json)

    def fixture_url(self, name: str | None = None) -> str:
        """A file of the golden as the page fetches it; by default its model.json (a user's model keeps
        its own file name: blazeface.json)."""
        name = name or self.golden.examples.get("model_file", "model.json")
        base = self.state.get("fixture_base")  # a bring-your-own model, served from an upload slot
        return f"{base}/{name}" if base else self.server.fixture_url(self.golden, name)

    def inputs(self) -> list[dict] | None:
        """The golden inputs as the page fetches them; None when the row checks no predictions."""
        if self.state.get("predict") is False:
            return None
        return [
            {"name": spec["name"], "url": self.fixture_url(spec["path"]), "dtype": spec["dtype"], "shape": spec["shape"]}
            for spec in self.golden.examples["inputs"]
        ]

    def hazard(self, finding_id: str, what: str, path: str, message: str) -> None:
        """Record that TF.js did what upstream intends (its tests assert it) and by which a user can
        lose data: the row passes, and its `hazards` name the expectations entry `finding_id`."""
        self.hazards.append({"id": finding_id, "what": what, "path": path, "message": message})

    async def step(self, name: str, args: dict, page: Page | None = None) -> dict:
        """Run a page step; a TF.js error becomes TfjsError (a finding) naming the phase. The engine
        failing (EngineError, StepTimeout) is re-raised as the same type naming engine, model and step;
        a page whose own deadline never fires is cut off STEP_GRACE_S after `timeout` (StepTimeout)."""
        page = page or self.page
        owner = page.engine or self.driver.spec  # the page's own engine
        where = f"{owner.name} / {self.golden.name} / step {name!r}"
        try:
            reply = await asyncio.wait_for(page.run_step(
                name,
                {"token": self.token, "server": self.server.url, "format": self.format, "execute": self.execute,
                 "saveConfig": self.save_config, **args},
                self.timeout,
            ), self.timeout + timeouts.scaled(timeouts.STEP_GRACE_S))
        except asyncio.TimeoutError:
            raise StepTimeout(f"{where}: gave no answer within {self.timeout:g} s (and the driver's own deadline "
                              f"did not fire)") from None
        except EngineError as e:
            raise type(e)(f"{where}: {str(e).removeprefix(f'{owner.name}: ')}") from e
        self.page_s += float(reply.get("elapsed_ms") or 0) / 1000  # page.js / node_host.js time the step
        timings = (reply.get("result") or {}).get("timings") if isinstance(reply.get("result"), dict) else None
        for phase, seconds in (timings or {}).items():  # TF.js's own phases (save, load...), as the page timed them
            if isinstance(seconds, (int, float)):
                self.phase_s[phase] = self.phase_s.get(phase, 0.0) + seconds
        if reply.get("status") != "ok":
            err = reply.get("error") or {}
            raise TfjsError(f"TF.js failed in step {name!r}, phase {err.get('phase')!r}: {err.get('name')}: "
                            f"{err.get('message')}", err)
        return reply["result"]

    async def prepare(self) -> None:
        """A bring-your-own golden (harness.golden.byo) is completed on the page, before the round trip:
        the user's files are served, and inputs are derived from the model's own input specs. Its
        weights and topology were read by Python (byo.load_user_model); what the page gives is only the
        inputs' shapes and the predictions of the model freshly loaded from the user's files (taken again on
        a cross-backend row's load backend when its page opens: `_reference_on_load_backend`)."""
        if not self.golden.examples.get("derive"):
            return
        from harness.golden import byo

        g = self.golden
        self.observed["fit"] = fit.numbers(g)  # whether it fits each medium, computed before it runs
        model_file = g.examples["model_file"]
        files = {model_file: (g.dir / model_file).read_bytes()}
        files.update({p: (g.dir / p).read_bytes() for group in g.model_json.get("weightsManifest", []) for p in group["paths"]})
        upload = self.server.open_upload()
        upload.publish(files)
        self.state["fixture_base"] = f"{self.server.url}/uploads/{upload.token}"
        described = await self.step("describe", {"fixture": self.fixture_url(model_file)})
        specs, why = byo.input_specs(g, described["inputs"])
        if why:
            return self._unpredicted(why)
        inputs = byo.make_inputs(g, specs)
        upload.publish({f"input{i}.bin": x.tobytes() for i, x in enumerate(inputs)})
        examples = {**g.examples, "inputs": [
            {"name": spec["name"], "dtype": spec["dtype"], "shape": list(x.shape), "path": f"input{i}.bin"}
            for i, (spec, x) in enumerate(zip(specs, inputs))
        ]}
        self.golden = dataclasses.replace(g, inputs=inputs, examples=examples)
        try:
            result = await self.load({"kind": "url", "url": self.fixture_url(model_file)}, prefix="reference.",
                                     page=self.page)
        except TfjsError as e:
            # Inputs the harness made up (not the user's) that the model, fresh from the user's files and before
            # any round trip, cannot run on: no expectation for predictions, and no finding about save/load.
            if e.error.get("phase") == "predict" and not byo.all_given(g, specs):
                made = ", ".join(f"{spec['name']} {list(x.shape)}" for spec, x in zip(specs, inputs))
                return self._unpredicted(f"the model freshly loaded from your files does not run on the inputs the "
                                         f"harness derived ({made}): "
                                         f"{e.error.get('name')}: {str(e.error.get('message'))[:300]}; give them with "
                                         f"--model-inputs")
            raise
        self._use_reference(result, "reference.")
        self.want = ExpectedSave.of(self.golden, self.tfjs_version)
        self.observed["reference"] = {"inputs": examples["inputs"], "outputs": self.golden.examples["outputs"],
                                      "weightBytes": len(self.golden.weight_data), "backend": self.backend.name}

    def _use_reference(self, result: dict, prefix: str) -> None:
        """The reference predictions a load step posted (`prefix`) become the golden's outputs."""
        parts = self.parts()
        self._given_as(result["predictions"], prefix)
        outputs = [_array(parts[p["part"]], p) for p in result["predictions"]]
        self.golden = dataclasses.replace(self.golden, outputs=outputs, examples={
            **self.golden.examples, "outputs": [{"dtype": p["dtype"], "shape": p["shape"]} for p in result["predictions"]]})

    async def _reference_on_load_backend(self, page: Page) -> None:
        """A user's model crossing backends is compared with itself on the backend it is loaded on: its
        predictions there, freshly loaded from the user's files, replace the save backend's (taken in
        `prepare`). Two backends' float32 arithmetic differs (CenterNet: 0.0182 at values near 85, wasm
        against webgl) and only numpy could say which is right, so a backend is never judged by another;
        how far the two references are apart stays in the row (`observed.reference.backends_differ`). The
        bytes the save backend read back are still checked bit for bit against the user's files."""
        if not self.golden.examples.get("derive") or self.state.get("predict") is False:
            return
        saved_on = self.golden.outputs
        result = await self.load({"kind": "url", "url": self.fixture_url(self.golden.examples["model_file"])},
                                 prefix=f"reference-{self.load_backend.name}.", page=page)
        self._use_reference(result, f"reference-{self.load_backend.name}.")
        self.observed["reference"]["backend"] = self.load_backend.name
        self.observed["reference"]["backends_differ"] = {
            f"output{i}": prediction_error(a, b) for i, (a, b) in enumerate(zip(saved_on, self.golden.outputs))}

    def _unpredicted(self, why: str) -> None:
        """The row checks the artifacts bit for bit and no predictions, saying why (`observed.predictions`)."""
        self.golden = dataclasses.replace(self.golden, inputs=[], outputs=[],
                                          examples={**self.golden.examples, "inputs": [], "outputs": []})
        self.want = ExpectedSave.of(self.golden, self.tfjs_version)
        self.state["predict"] = False
        self.observed["predictions"] = f"not checked: {why}"

    async def save(self, target: dict, *, inspect: dict | None = None, page: Page | None = None,
                   fixture: str | None = None, fixture_format: str = "layers-model",
                   deadline: float | None = None) -> dict:
        """Load the golden (or the model.json at `fixture`, of `fixture_format`) over http and save it to
        `target`; returns the SaveResult. `deadline`: seconds for save() to settle, else TfjsError
        "DeadlineExceeded"."""
        args = {"fixture": fixture or self.fixture_url(), "target": target, "inspect": inspect,
                "flipBit": self.flip_bit, "deadline": deadline,
                # On a backend other than cpu the model is used before it is saved, as an app does: its weights
                # are uploaded (webgl: to textures) and what save() writes comes back through the backend.
                # (Only the golden: another model.json, a scheme's probe, has no inputs of its own here.)
                "warm": self.inputs() if self.backend.base != backends.DEFAULT and fixture is None else None,
                **({"format": fixture_format} if fixture else {})}
        self.flip_bit = None
        reply = await self.step("save", args, page)
        self.state["save_timings"] = reply.get("timings")  # seconds per phase, as the page measured them
        if reply.get("resident") is not None:  # webgl: how many weights lived only in textures when saved
            self.observed["resident"] = reply["resident"]
        return reply["saveResult"]

    async def save_and_check(self, target: dict, what: str, **kwargs) -> tuple[dict | None, list[Difference]]:
        """`save` then `check_save_result`; TF.js failing is one difference (`<what>.tfjs-error`), and the
        SaveResult is None: the caller goes on with its other targets."""
        try:
            saved = await self.save(target, **kwargs)
        except TfjsError as e:
            return None, [e.difference(f"{what}.")]
        return saved, self.check_save_result(saved, what)

    async def loading_page(self) -> Page:
        """The page loads run on: this trip's page, or a page on the same storage with the load_with build
        (cross-version) or the load_backend (cross-backend)."""
        if self.load_with is None and self.load_backend is None and self.load_context is None:
            return self.page
        if "load_page" not in self.state:
            self.state["load_page"] = await self.open_sibling(
                self.load_with.version if self.load_with else None, self.load_backend.name if self.load_backend else None,
                self.load_context.name if self.load_context else None)
            if self.load_context is not None:
                self.observed["loaded_in"] = self.load_context.name
            if self.load_with is not None:
                self.want = ExpectedSave.of(self.golden, self.load_with.semver)
                self.observed["loaded_with"] = self.load_with.version
            if self.load_backend is not None:
                self.observed["loaded_on"] = self.load_backend.name
                await self._reference_on_load_backend(self.state["load_page"])
        return self.state["load_page"]

    async def load(self, source: dict, *, prefix: str = "", page: Page | None = None, deadline: float | None = None) -> dict:
        """Load from `source`, predict, capture; the posted parts are named `<prefix>loaded.json` etc."""
        page = page or await self.loading_page()
        return await self.step("load", {"source": source, "inputs": self.inputs(), "prefix": prefix,
                                        "deadline": deadline}, page)

    async def load_and_check(self, source: dict, *, prefix: str = "", page: Page | None = None) -> list[Difference]:
        """`load` then `check_loaded`; TF.js failing to load is one more difference (the ones found
        before it are kept)."""
        try:
            result = await self.load(source, prefix=prefix, page=page)
        except TfjsError as e:
            return [e.difference(prefix)]
        return self.check_loaded(result, prefix=prefix)

    def parts(self) -> dict[str, bytes]:
        return self.server.parts(self.token)

    def close(self) -> None:
        """Close the result slot; what the pages posted stays in state["parts"] for the failure's artifacts."""
        self.state["parts"] = self.server.take(self.token)

    # -- checks ------------------------------------------------------------------------------------
    def check_save_result(self, save_result: dict, what: str = "save-result") -> list[Difference]:
        """modelArtifactsInfo: the byte counts the golden implies, a JSON topology, a real date."""
        if not isinstance(save_result, dict):
            return [Difference(what, "$", f"save() resolved with {save_result!r}, not a SaveResult", actual=save_result)]
        return self.want.check_info(f"{what}.modelArtifactsInfo", save_result.get("modelArtifactsInfo"))

    def check_loaded(self, result: dict, prefix: str = "", want: ExpectedSave | None = None) -> list[Difference]:
        """What the loaded model holds and predicts, against the golden: the whole of its artifacts as it
        saves them (every model.json field, the weight specs, the weights bit for bit), for a graph model
        also the tensors it executes with, and its predictions (dtype, shape, values). `want`: what its
        artifacts must be, where a scheme served other files than the golden's (default: the golden's)."""
        want = want or self.want
        parts, what = self.parts(), f"{prefix}loaded"
        loaded = json.loads(parts[f"{prefix}loaded.json"])
        got = {k: v for k, v in loaded.items() if k not in ("modelTopology", "weightSpecs")}
        out = diff_json(want.metadata(), got, what)
        out += want.check_artifacts(what, loaded.get("modelTopology"), loaded.get("weightSpecs"),
                                         parts[f"{prefix}loaded.weights.bin"])
        if f"{prefix}loaded.tensors.json" in parts:
            out += self._check_held(parts, prefix)
        return out + self._check_predictions(result, parts, prefix)

    def _check_held(self, parts: dict[str, bytes], prefix: str) -> list[Difference]:
        """A graph model's executor tensors (`model.weights[name][0]`, posted by the page) against the
        golden's files decoded and dequantized by numpy (harness.golden.decode), bit for bit."""
        what = f"{prefix}loaded.tensors"
        posted = json.loads(parts[f"{prefix}loaded.tensors.json"])
        data = parts.get(f"{prefix}loaded.tensors.bin", b"")
        want = decode.held(self.golden.weight_specs, self.golden.weight_data)
        have, offset = {}, 0
        for t in posted:
            have[t["name"]] = (t, data[offset:offset + t["bytes"]])
            offset += t["bytes"]
        out = []
        for spec, expected in want:
            if spec["name"] not in have:
                out.append(Difference(what, spec["name"], "the loaded model holds no tensor of this weight",
                                      expected={k: spec[k] for k in ("shape", "dtype")}))
                continue
            tensor, actual = have[spec["name"]]
            out += diff_json({"shape": spec["shape"], "dtype": spec["dtype"]},
                             {"shape": tensor["shape"], "dtype": tensor["dtype"]},
                             what, f"$[{spec['name']}]")
            out += diff_weights([{k: spec[k] for k in ("name", "shape", "dtype")}], expected, actual, what)
        return out

    def tolerance(self) -> dict:
        """What predictions are compared with: the golden's own tolerance, widened to the backend's (both
        backends' for a cross-backend row), each written down with its reason in harness.backends."""
        tol = self.backend.tolerance_for(self.golden.tolerance)
        return self.load_backend.tolerance_for(tol) if self.load_backend is not None else tol

    def _given_as(self, predictions: list[dict], prefix: str) -> None:
        """Outputs whose data() was another typed array than their dtype's (observed.data_arrays): the page
        posted their values, which the user's code reads, in their dtype's layout."""
        for p in predictions:
            if p.get("givenAs"):
                self.observed.setdefault("data_arrays", {})[f"{prefix}output{p['output']}"] = (
                    f"a {p['dtype']} tensor whose data() gave an {p['givenAs']} (posted as {p['dtype']} values)")

    def _check_predictions(self, result: dict, parts: dict[str, bytes], prefix: str) -> list[Difference]:
        tol, outputs = self.tolerance(), self.golden.outputs
        specs = self.golden.examples.get("outputs") or [{} for _ in outputs]
        predictions = result.get("predictions", [])
        self._given_as(predictions, prefix)
        out = []
        if len(predictions) != len(outputs):
            out.append(Difference(f"{prefix}predictions", "$", f"expected {len(outputs)} outputs, got {len(predictions)}",
                                  expected=len(outputs), actual=len(predictions)))
        for p, expected, spec in zip(predictions, outputs, specs):
            path = f"output{p['output']}"
            if spec.get("dtype") and p.get("dtype") != spec["dtype"]:
                out.append(Difference(f"{prefix}predictions", f"{path}.dtype", f"expected a {spec['dtype']} tensor, "
                                      f"got {p.get('dtype')}", expected=spec["dtype"], actual=p.get("dtype")))
                continue
            actual = _array(parts[p["part"]], p)
            out += diff_arrays(expected, actual, tol["rtol"], tol["atol"], f"{prefix}predictions", path)
            if self.backend.base != backends.DEFAULT or self.load_backend is not None:
                self.observed.setdefault("prediction_error", {})[f"{prefix}{path}"] = prediction_error(expected, actual)
        return out


def prediction_error(expected: np.ndarray, actual: np.ndarray) -> dict:
    """How far a prediction is from numpy's, over the finite pairs: max absolute and relative error (what
    a backend row reports beside its tolerance, to show the margin; relative over the pairs whose expected
    value is not 0)."""
    if expected.dtype == object or expected.dtype.kind in "iub" or expected.shape != actual.shape:
        return {}
    errors = max_errors(expected.astype(np.float64), actual.astype(np.float64))
    if errors is None:
        return {"max_abs": None, "max_rel": None}
    worst, rel = errors
    return {"max_abs": float(f"{worst:.3g}"), "max_rel": float(f"{rel:.3g}") if rel is not None else None}


def _array(data: bytes, spec: dict) -> np.ndarray:
    """A prediction posted by the page: raw little-endian values of spec's dtype and shape (as
    harness.golden.writer decodes the golden's outputs); string tensors come as JSON (nested lists of
    strings), returned as an object array of UTF-8 bytes."""
    if spec.get("dtype") == "string":
        values = np.array(json.loads(data), dtype=object).reshape(spec["shape"])
        return np.vectorize(lambda v: v.encode("utf-8"), otypes=[object])(values) if values.size else values
    return writer.decode_tensor(data, spec.get("dtype", "float32"), spec["shape"])


async def run(scheme, trip: Trip) -> list[Difference]:
    """Run `scheme` on `trip`; close the trip's result slot whatever happens. A TF.js error no scheme
    step caught (the model could not even be loaded for the first save, say) is one difference."""
    try:
        await trip.prepare()
        return await scheme.run(trip)
    except TfjsError as e:
        d = e.difference()
        return [dataclasses.replace(d, message=f"{d.message} (the row's later checks could not run)")]
    finally:
        trip.close()


async def conform(scheme, trip: Trip, findings: list, engine_name: str) -> None:
    """A scenario's body: run the scheme, skip if the engine cannot, else judge the differences
    against the row's known findings (harness.expectations) and enforce the verdict."""
    import pytest

    from harness.schemes import Unsupported
    from harness.schemes.refusal import Refusal

    if trip.context.third_party:  # what the engine denies a third party is measured there, never assumed
        measured = (await trip.step("storageKeys", {}))["denied"]
        trip.observed["engine_denies"] = measured
        trip.context = contexts.denied(trip.context, measured)
    if trip.context.mode != "ephemeral":  # what the StorageManager says of a private or on-disk profile, beside its verdict
        trip.observed["storage_facts"] = await storage_facts(trip)
    lacked = trip.context.lacks_any(getattr(scheme, "needs", ()))
    if lacked:  # localStorage in a worker: TF.js must refuse clearly (harness.schemes.refusal)
        scheme = Refusal(scheme, lacked)
        # Its subject is the refusal, not the model: only a finding that names contexts can explain it.
        findings = [f for f in findings if f.where.contexts or any(w.contexts for w in f.when)]
    failed = getattr(trip.page, "backend_failed", None)
    if failed:  # TF.js's backend never started in the row's context: that is the row's one difference
        differences = [Difference("backend", trip.context.name, f"the {trip.backend.name} backend did not start in this "
                                  f"{trip.context.name}: {failed}", expected=trip.backend.name, actual=failed)]
    else:
        try:
            differences = await run(scheme, trip)
        except Unsupported as e:
            pytest.skip(str(e))
    trip.verdict = verdict = expectations.judge(findings, differences)
    if verdict.outcome == "capacity":  # the numbers the verdict stands on, in the row (a user's model has them already)
        trip.observed.setdefault("fit", fit.numbers(trip.golden))
    enforce(verdict, f"{scheme} / {trip.golden.name} / {engine_name}", trip.observed.get("fit"))


async def storage_facts(trip: Trip) -> dict:
    """The StorageManager's estimate() and persisted() in the row's page; persist() asked in the first row of
    each storage mode of a browser only (the driver keeps its answer): Firefox never answers it on an on-disk
    profile, so every row paid the 3 s the page waits for the prompt (harness/js/storage.js)."""
    answers = trip.driver.persist_answers
    mode = trip.context.mode
    if mode in answers:
        return {**await trip.step("storageFacts", {"persist": False}), "persist": answers[mode],
                "persistAsked": "in an earlier row of this browser"}
    facts = await trip.step("storageFacts", {})
    if "persist" in facts:
        answers[mode] = facts["persist"]
    return facts


def enforce(verdict: expectations.Verdict, where: str, fits: dict | None = None) -> None:
    """The verdict, as pytest sees it: failed -> RowFailed, xfailed and capacity -> pytest.xfail (a
    capacity verdict says what the model does not fit, from `fits`: harness.golden.fit.numbers), a stale
    strict finding -> RowFailed (the run must go red until the entry is narrowed or removed)."""
    import pytest

    text = document.render(verdict.records(), where)
    if verdict.outcome == "failed":
        unexplained = len(verdict.unexplained())
        raise RowFailed(f"{text}\n{unexplained} difference(s) no known finding explains")
    if verdict.outcome == "xfailed":
        pytest.xfail(f"known finding(s) {', '.join(f.id for f in verdict.explaining)}:\n{text}")
    if verdict.outcome == "capacity":
        pytest.xfail(f"capacity: the model does not fit ({fit.describe(fits) if fits else 'see the findings'}); "
                     f"finding(s) {', '.join(f.id for f in verdict.explaining)}:\n{text}")
    if verdict.strict_stale:
        stale = [f.id for f in verdict.findings if not f.intermittent]
        raise RowFailed(f"XPASS(strict) {where}: the finding(s) {', '.join(stale)} apply to this row but nothing "
                        f"they explain happened: the expectation is stale (remove or narrow it)")
