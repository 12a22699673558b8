"""The one generic round trip every scenario runs, and the comparison of what came back.

    golden (fixtures/) --http--> page step `save` (through the scheme's target)
        -> whatever a user does in between (the scheme: capture downloads, choose files, reload...)
        -> page step `load` (through the scheme's source), predict, capture with withSaveHandler
        --POST--> harness server --> compared with the golden, field by field and bit for bit

A `Trip` is one such run on one page: schemes call `save`, `load` and the checks below, and return
the differences they found. Scenarios never see drivers or page steps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np

from harness.trip.compare import Difference, diff_arrays, diff_json, diff_weights
from harness.engines.base import Driver, EngineError, Page, StepTimeout
from harness.golden import Golden
from harness.golden.writer import js_json_bytes
from harness.trip.rewrites import expected_after_save
from harness.server import HarnessServer

STEP_TIMEOUT_S = 60.0
STEP_GRACE_S = 15.0  # beyond the drivers' own deadlines (timeout + 5 s): only a stuck driver reaches it


class TfjsError(AssertionError):
    """TF.js threw (or rejected) in a page step: a finding, reported with its phase."""

    def __init__(self, message: str, error: dict):
        super().__init__(message)
        self.error = error


@dataclasses.dataclass(frozen=True)
class ExpectedSave:
    """What a save of the golden must produce: model JSON (after TF.js's own rewrites), specs, bytes."""

    model_json: dict
    weight_specs: list[dict]
    weight_data: bytes
    save_info: dict  # modelArtifactsInfo byte counts

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
        return cls(model_json, golden.after_load_specs, golden.after_load_data, info)

    def metadata(self) -> dict:
        return {k: self.model_json.get(k) for k in ("format", "generatedBy", "convertedBy")}

    def check_artifacts(self, what: str, topology: Any, specs: Any, weights: bytes | None) -> list[Difference]:
        """A stored or downloaded copy of the model: topology, weight specs and weight bytes."""
        out = diff_json(self.model_json["modelTopology"], topology, f"{what}.modelTopology")
        out += diff_json(self.weight_specs, specs, f"{what}.weightSpecs")
        if weights is None:
            out.append(Difference(what, "weightData", "no weight data"))
        else:
            out += diff_weights(self.weight_specs, self.weight_data, weights, f"{what}.weightData")
        return out

    def check_model_json(self, what: str, model_json: dict, weights: bytes | None, paths: list[str]) -> list[Difference]:
        """A model.json file as written by TF.js (downloads, http, file): manifest paths included."""
        manifest = model_json.get("weightsManifest") or [{}]
        out = diff_json(self.metadata(), {k: model_json.get(k) for k in self.metadata()}, what)
        out += diff_json([{"paths": paths, "weights": self.weight_specs}], manifest, f"{what}.weightsManifest")
        specs = [w for group in manifest for w in group.get("weights", [])]
        return out + self.check_artifacts(what, model_json.get("modelTopology"), specs, weights)


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
    timeout: float = STEP_TIMEOUT_S
    flip_bit: dict | None = None  # harness self-test only: corrupt one weight bit before the first save
    quota: int | None = None  # the storage quota the page was opened with (harness.quota), if any
    # Cross-version: loads run on a page of this TF.js build (harness.tfjs.TfjsBuild) on the same storage,
    # opened by `open_sibling(build id)` at the first load; the loaded model is then judged as that build saves it.
    load_with: Any = None
    open_sibling: Callable[[str], Awaitable[Page]] | None = None

    def __post_init__(self):
        self.token = self.server.expect()
        self.want = ExpectedSave.of(self.golden, self.tfjs_version)
        self.observed: dict[str, Any] = {}  # JSON facts the row reports beside its differences
        self.state: dict[str, Any] = {}  # a scheme's scratch space
        self.page_s = 0.0  # time spent inside page steps, as the page measured it (the row's "page_s")
        # A model with a training config is saved as a user who wants it back saves it.
        self.save_config = {"includeOptimizer": True} if "trainingConfig" in self.golden.model_json else None

    # -- steps -----------------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return self.golden.model_json.get("format", "layers-model")

    def fixture_url(self, name: str = "model.json") -> str:
        base = self.state.get("fixture_base")  # a bring-your-own model, served from an upload slot
        return f"{base}/{name}" if base else self.server.fixture_url(self.golden, name)

    def inputs(self) -> list[dict]:
        return [
            {"name": spec["name"], "url": self.fixture_url(spec["path"]), "dtype": spec["dtype"], "shape": spec["shape"]}
            for spec in self.golden.examples["inputs"]
        ]

    async def step(self, name: str, args: dict, page: Page | None = None) -> dict:
        """Run a page step; a TF.js error becomes TfjsError (a finding) naming the phase. The engine
        failing (EngineError, StepTimeout) is re-raised as the same type naming engine, model and step;
        a page whose own deadline never fires is cut off STEP_GRACE_S after `timeout` (StepTimeout)."""
        page = page or self.page
        owner = getattr(getattr(page, "_driver", None), "spec", None) or self.driver.spec  # the page's own engine
        where = f"{owner.name} / {self.golden.name} / step {name!r}"
        try:
            reply = await asyncio.wait_for(page.run_step(
                name,
                {"token": self.token, "server": self.server.url, "format": self.format, "saveConfig": self.save_config, **args},
                self.timeout,
            ), self.timeout + STEP_GRACE_S)
        except asyncio.TimeoutError:
            raise StepTimeout(f"{where}: gave no answer within {self.timeout:g} s (and the driver's own deadline "
                              f"did not fire)") from None
        except EngineError as e:
            raise type(e)(f"{where}: {str(e).removeprefix(f'{owner.name}: ')}") from e
        self.page_s += float(reply.get("elapsed_ms") or 0) / 1000  # page.js / node_host.js time the step
        if reply.get("status") != "ok":
            err = reply.get("error") or {}
            raise TfjsError(f"TF.js failed in step {name!r}, phase {err.get('phase')!r}: {err.get('name')}: "
                            f"{err.get('message')}", err)
        return reply["result"]

    async def prepare(self) -> None:
        """A bring-your-own golden (harness.golden.byo) is completed on the page, before the round trip:
        the user's files are served, inputs derived from the model's own input specs, and what TF.js
        holds and predicts after loading the files becomes the expectation."""
        if not self.golden.examples.get("derive"):
            return
        from harness.golden import byo

        g = self.golden
        model_file = g.examples["model_file"]
        files = {model_file: (g.dir / model_file).read_bytes()}
        files.update({p: (g.dir / p).read_bytes() for group in g.model_json.get("weightsManifest", []) for p in group["paths"]})
        upload = self.server.open_upload()
        upload.publish(files)
        self.state["fixture_base"] = f"{self.server.url}/uploads/{upload.token}"
        described = await self.step("describe", {"fixture": self.fixture_url(model_file)})
        inputs = byo.derive_inputs(g.name, described["inputs"])
        upload.publish({f"input{i}.bin": x.tobytes() for i, x in enumerate(inputs)})
        examples = {**g.examples, "inputs": [
            {"name": spec["name"], "dtype": spec["dtype"], "shape": list(x.shape), "path": f"input{i}.bin"}
            for i, (spec, x) in enumerate(zip(described["inputs"], inputs))
        ]}
        self.golden = dataclasses.replace(g, inputs=inputs, examples=examples)
        result = await self.load({"kind": "url", "url": self.fixture_url(model_file)}, prefix="reference.", page=self.page)
        parts = self.parts()
        reference = json.loads(parts["reference.loaded.json"])
        self.golden = dataclasses.replace(
            self.golden,
            model_json={k: v for k, v in reference.items() if k != "weightSpecs"},
            weight_specs=reference.get("weightSpecs") or [],
            weight_data=parts["reference.loaded.weights.bin"],
            after_load_specs=reference.get("weightSpecs") or [],
            after_load_data=parts["reference.loaded.weights.bin"],
            outputs=[_array(parts[p["part"]], p) for p in result["predictions"]],
        )
        self.want = ExpectedSave.of(self.golden, self.tfjs_version)
        self.observed["reference"] = {"inputs": examples["inputs"], "weightBytes": len(self.golden.weight_data)}

    async def save(self, target: dict, *, inspect: dict | None = None, page: Page | None = None,
                   fixture: str | None = None, deadline: float | None = None) -> dict:
        """Load the golden (or the model.json at `fixture`) over http and save it to `target`; returns
        the SaveResult. `deadline`: seconds for save() to settle, else TfjsError "DeadlineExceeded"."""
        args = {"fixture": fixture or self.fixture_url(), "target": target, "inspect": inspect,
                "flipBit": self.flip_bit, "deadline": deadline}
        self.flip_bit = None
        reply = await self.step("save", args, page)
        self.state["save_timings"] = reply.get("timings")  # seconds per phase, as the page measured them
        return reply["saveResult"]

    async def loading_page(self) -> Page:
        """The page loads run on: this trip's page, or the load_with build's page on the same storage."""
        if self.load_with is None:
            return self.page
        if "load_page" not in self.state:
            self.state["load_page"] = await self.open_sibling(self.load_with.version)
            self.want = ExpectedSave.of(self.golden, self.load_with.semver)
            self.observed["loaded_with"] = self.load_with.version
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
            return [Difference(f"{prefix}tfjs-error", str(e.error.get("phase")), str(e))]
        return self.check_loaded(result, prefix=prefix)

    def parts(self) -> dict[str, bytes]:
        return self.server.parts(self.token)

    def close(self) -> None:
        """Close the result slot; what the pages posted stays in state["parts"] for the failure's artifacts."""
        self.state["parts"] = self.server.take(self.token)

    # -- checks ------------------------------------------------------------------------------------
    def check_save_result(self, save_result: dict, what: str = "save-result") -> list[Difference]:
        """modelArtifactsInfo: the byte counts the golden implies, a JSON topology, a real date."""
        info = (save_result or {}).get("modelArtifactsInfo") or {}
        out = diff_json(self.want.save_info, {k: info.get(k) for k in self.want.save_info}, f"{what}.modelArtifactsInfo")
        date = info.get("dateSaved")
        try:
            saved = datetime.datetime.fromisoformat(str(date).replace("Z", "+00:00"))
            age = (datetime.datetime.now(datetime.timezone.utc) - saved).total_seconds()
            if not -300 < age < 3600:
                out.append(Difference(what, "modelArtifactsInfo.dateSaved", f"{date!r} is not the time of the save"))
        except ValueError:
            out.append(Difference(what, "modelArtifactsInfo.dateSaved", f"not a date: {date!r}"))
        return out

    def check_loaded(self, result: dict, prefix: str = "") -> list[Difference]:
        """What the loaded model holds and predicts, against the golden."""
        parts, what = self.parts(), f"{prefix}loaded"
        loaded = json.loads(parts[f"{prefix}loaded.json"])
        out = diff_json(self.want.model_json, {k: loaded.get(k) for k in self.want.model_json}, what)
        out += diff_json(self.want.weight_specs, loaded.get("weightSpecs"), f"{what}.weightSpecs")
        out += diff_weights(self.want.weight_specs, self.want.weight_data, parts[f"{prefix}loaded.weights.bin"],
                            f"{what}.weightData")
        return out + self._check_predictions(result, parts, prefix)

    def _check_predictions(self, result: dict, parts: dict[str, bytes], prefix: str) -> list[Difference]:
        tol, outputs = self.golden.tolerance, self.golden.outputs
        predictions = result.get("predictions", [])
        out = []
        if len(predictions) != len(outputs):
            out.append(Difference(f"{prefix}predictions", "$", f"expected {len(outputs)} outputs, got {len(predictions)}"))
        for p, expected in zip(predictions, outputs):
            actual = _array(parts[p["part"]], p)
            out += diff_arrays(expected, actual, tol["rtol"], tol["atol"], f"{prefix}predictions", f"output{p['output']}")
        return out


def _array(data: bytes, spec: dict) -> np.ndarray:
    """A prediction posted by the page: raw little-endian values of spec's dtype and shape; string
    tensors come as JSON (nested lists of strings), returned as an object array of UTF-8 bytes."""
    if spec.get("dtype") == "string":
        values = np.array(json.loads(data), dtype=object).reshape(spec["shape"])
        return np.vectorize(lambda v: v.encode("utf-8"), otypes=[object])(values) if values.size else values
    dtype = {"float32": "<f4", "int32": "<i4", "bool": "|u1"}[spec.get("dtype", "float32")]
    return np.frombuffer(data, dtype).reshape(spec["shape"])


async def run(scheme, trip: Trip) -> list[Difference]:
    """Run `scheme` on `trip`; close the trip's result slot whatever happens. TF.js throwing where
    it must not is reported as a difference (what="tfjs-error") like any other."""
    try:
        await trip.prepare()
        return await scheme.run(trip)
    except TfjsError as e:
        return [Difference("tfjs-error", str(e.error.get("phase")), str(e))]
    finally:
        trip.close()


async def conform(scheme, trip: Trip, findings: list, engine_name: str) -> None:
    """A scenario's body: run the scheme, skip if the engine cannot, else judge the differences
    against the row's known findings (harness.expectations)."""
    import pytest

    from harness import expectations
    from harness.schemes import Unsupported

    try:
        differences = await run(scheme, trip)
    except Unsupported as e:
        pytest.skip(str(e))
    header = f"in {scheme} round trip of {trip.golden.name} on {engine_name}"
    expectations.judge(findings, differences, summary(differences, header))


def summary(differences: list[Difference], header: str) -> str:
    return "\n".join([f"{len(differences)} difference(s) {header}:", *(f"  - {d}" for d in differences)])
