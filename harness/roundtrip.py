"""The one generic round trip every scenario runs, and the comparison of what came back.

    golden (fixtures/) --http--> page: load, save through the scheme, load back, predict,
    capture with tf.io.withSaveHandler --POST--> harness server --> compare with the golden
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from harness.compare import Difference, diff_arrays, diff_json, diff_weights
from harness.engines.base import Page
from harness.golden import Golden
from harness.golden.writer import js_json_bytes
from harness.rewrites import expected_after_save
from harness.schemes import Scheme
from harness.schemes.base import ExpectedSave
from harness.server import HarnessServer

STEP_TIMEOUT_S = 60.0


class TfjsError(AssertionError):
    """TF.js threw (or rejected) during a round trip: a finding, reported with its phase."""


@dataclasses.dataclass
class RoundTrip:
    scheme: Scheme
    golden: Golden
    path: str
    reply: dict
    parts: dict[str, bytes]
    differences: list[Difference]

    def summary(self) -> str:
        lines = [f"{len(self.differences)} difference(s) after {self.scheme.url(self.path)}:"]
        lines += [f"  - {d}" for d in self.differences]
        return "\n".join(lines)


def expected_save(golden: Golden, tfjs_version: str) -> ExpectedSave:
    model_json = expected_after_save(golden.model_json, tfjs_version)
    save_info = {
        "modelTopologyType": "JSON",
        "modelTopologyBytes": len(js_json_bytes(model_json["modelTopology"])),
        "weightSpecsBytes": len(js_json_bytes(golden.weight_specs)),
        "weightDataBytes": len(golden.weight_data),
    }
    return ExpectedSave(model_json, golden.weight_specs, golden.weight_data, save_info)


async def run(
    page: Page,
    server: HarnessServer,
    scheme: Scheme,
    golden: Golden,
    *,
    tfjs_version: str,
    flip_bit: dict | None = None,
    timeout: float = STEP_TIMEOUT_S,
) -> RoundTrip:
    """Run the page's `roundtrip` step and compare everything it posted back with the golden."""
    path = f"{golden.name}-{scheme.name}"
    token = server.expect()
    fixture = f"{server.url}/fixtures/{golden.name}"
    args = {
        "token": token,
        "fixture": f"{fixture}/model.json",
        "saveUrl": scheme.url(path),
        "loadUrl": scheme.url(path),
        "inspect": scheme.inspect(path),
        "inputs": [
            {"url": f"{fixture}/{spec['path']}", "dtype": spec["dtype"], "shape": spec["shape"]}
            for spec in golden.examples["inputs"]
        ],
        "flipBit": flip_bit,
    }
    try:
        reply = await page.run_step("roundtrip", args, timeout)
    finally:
        parts = server.take(token)
    if reply.get("status") != "ok":
        err = reply.get("error") or {}
        raise TfjsError(
            f"{scheme.name}: TF.js failed in phase {err.get('phase')!r} of the round trip through "
            f"{scheme.url(path)}: {err.get('name')}: {err.get('message')}"
        )
    differences = compare(reply["result"], parts, scheme, path, golden, expected_save(golden, tfjs_version))
    return RoundTrip(scheme, golden, path, reply, parts, differences)


def compare(result: dict, parts: dict[str, bytes], scheme: Scheme, path: str, golden: Golden, want: ExpectedSave) -> list[Difference]:
    out: list[Difference] = []
    # What save() resolved to.
    info = (result.get("saveResult") or {}).get("modelArtifactsInfo") or {}
    out += diff_json(want.save_info, {k: info.get(k) for k in want.save_info}, "save-result.modelArtifactsInfo")
    # What the storage holds.
    out += scheme.check_storage(path, parts, want)
    # What the model loaded back through the scheme would save.
    loaded = json.loads(parts["loaded.json"])
    out += diff_json(
        {k: v for k, v in want.model_json.items()},
        {k: loaded.get(k) for k in want.model_json},
        "loaded",
    )
    out += diff_json(want.weight_specs, loaded.get("weightSpecs"), "loaded.weightSpecs")
    out += diff_weights(want.weight_specs, want.weight_data, parts["loaded.weights.bin"], "loaded.weightData")
    # What it predicts on the golden inputs.
    tol = golden.tolerance
    for p in result.get("predictions", []):
        actual = np.frombuffer(parts[p["part"]], "<f4").reshape(p["shape"])
        expected = golden.outputs[p["output"]] if p["output"] < len(golden.outputs) else np.zeros(0)
        out += diff_arrays(expected, actual, tol["rtol"], tol["atol"], "predictions", f"output{p['output']}")
    if len(result.get("predictions", [])) != len(golden.outputs):
        out.append(Difference("predictions", "$", f"expected {len(golden.outputs)} outputs, got {len(result.get('predictions', []))}"))
    return out
