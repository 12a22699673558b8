"""The TF.js backends a row can run on: a row's `backend` is one of BACKENDS, a backend TF.js sets
(`base`) with the environment flags of the variant (`flags`, set with tf.env().set before the backend).

    cpu            the reference: bit-exact weights and deterministic predictions
    webgl          WebGL 2 where the engine gives it (SwiftShader in headless Chromium, Mesa's llvmpipe
                   in Firefox headed under Xvfb, WebKitGTK under Xvfb)
    webgl-f16      a mobile GPU without float32 render targets: WEBGL_FORCE_F16_TEXTURES=true,
                   WEBGL_RENDER_FLOAT32_ENABLED=false (tensorflow/tfjs#4408: precision lost on iPad)
    webgl-nopack   WEBGL_PACK=false: unpacked textures, the other shader path
    wasm           @tensorflow/tfjs-backend-wasm (XNNPACK), SIMD and threads where the page allows
    webgpu         where an engine exposes navigator.gpu (none here: measured, see harness.engines)

What a row on a backend checks beyond the cpu's: the golden is predicted on the backend before it is
saved (its weights were uploaded to it), so the saved bytes come back through the backend's readback,
and must still equal the golden bit for bit; predictions are compared with the backend's tolerance
(`tolerance`, the larger of it and the golden's own, bound by bound): upstream's own epsilon for the
backend's float precision, as its kernel tests use it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str  # the row's `backend`
    base: str  # what tf.setBackend() is given
    flags: Mapping[str, object] = dataclasses.field(default_factory=dict)  # tf.env().set(name, value) before it
    tolerance: Mapping[str, object] | None = None  # {"rtol", "atol", "why"} for predictions; None: the golden's
    what: str = ""

    @property
    def flags_json(self) -> str:
        return json.dumps(dict(self.flags), sort_keys=True, separators=(",", ":"))

    def tolerance_for(self, golden_tolerance: dict) -> dict:
        """The tolerance a prediction on this backend is compared with: the larger of each bound."""
        if self.tolerance is None:
            return golden_tolerance
        return {"rtol": max(golden_tolerance["rtol"], self.tolerance["rtol"]),
                "atol": max(golden_tolerance["atol"], self.tolerance["atol"]),
                "why": f"{self.name}: {self.tolerance['why']} (the golden's own: {golden_tolerance.get('why', '')})"}


# Upstream's own tolerance for every backend's kernels (tfjs-core/src/test_util.ts, expectArraysClose with
# testEpsilon(): |actual - expected| <= 1e-3 on a float32 backend, 1e-1 where backend.floatPrecision() is 16).
EPSILON_LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-core/src/test_util.ts#L23-L39"
_FLOAT32 = {"rtol": 0.0, "atol": 1e-3,
            "why": f"upstream's TEST_EPSILON_FLOAT32 (testEpsilon() of a float32 backend, {EPSILON_LINK}): a GPU or "
                   "SIMD kernel sums in its own order and GLSL's exp/tanh are not IEEE-exact"}
_FLOAT16 = {"rtol": 0.0, "atol": 1e-1,
            "why": f"upstream's TEST_EPSILON_FLOAT16 (testEpsilon() where floatPrecision() is 16, {EPSILON_LINK}): "
                   "float16 textures keep 11 bits of mantissa"}
BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("cpu", "cpu", what="the reference"),
    Backend("webgl", "webgl", tolerance=_FLOAT32),
    Backend("webgl-f16", "webgl", {"WEBGL_FORCE_F16_TEXTURES": True, "WEBGL_RENDER_FLOAT32_ENABLED": False},
            tolerance=_FLOAT16, what="a mobile GPU without float32 render targets"),
    Backend("webgl-nopack", "webgl", {"WEBGL_PACK": False}, tolerance=_FLOAT32, what="unpacked textures"),
    Backend("wasm", "wasm", tolerance=_FLOAT32),
    Backend("webgpu", "webgpu", tolerance=_FLOAT32),
)}
DEFAULT = "cpu"


def get(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown TF.js backend {name!r}; known: {', '.join(BACKENDS)}") from None


def check(row_backend: str) -> str:
    """A row's backend: one name, or "A->B" (saved on A, loaded on B, two different names)."""
    parts = row_backend.split("->")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] == parts[1]):
        raise ValueError(f"{row_backend!r}: expected a backend name or A->B with two different backends")
    for part in parts:
        get(part)
    return row_backend
