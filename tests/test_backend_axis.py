"""The backend axis as data: harness.backends (names, pairs, tolerances), what each engine build declares
it can run (Build.lacks, measured reasons), the TF.js builds' backend packages, the float16 range of the
zoo (harness.golden.fit), and how the matrix parametrises and reports rows per backend."""

from __future__ import annotations

import pytest

from harness import backends, golden, tfjs
from harness.engines import ENGINES
from harness.golden import fit
from harness.report import text

# -- harness.backends ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cpu", "webgl", "webgl-f16", "wasm", "webgl->cpu", "wasm->webgl"])
def test_row_backends_accepted(name):
    assert backends.check(name) == name


@pytest.mark.parametrize("bad", ["gpu", "webgl->webgl", "cpu->wasm->webgl", "", "webgl->"])
def test_bad_row_backends_refused_naming_the_known_ones(bad):
    with pytest.raises(ValueError) as e:
        backends.check(bad)
    assert "webgl" in str(e.value)


def test_every_backend_but_cpu_widens_to_upstreams_epsilon_and_says_why():
    golden_tol = {"rtol": 1e-5, "atol": 1e-6, "why": "numpy"}
    assert backends.get("cpu").tolerance_for(golden_tol) == golden_tol
    for name in ("webgl", "webgl-nopack", "wasm", "webgpu"):
        tol = backends.get(name).tolerance_for(golden_tol)
        assert (tol["rtol"], tol["atol"]) == (1e-5, 1e-3) and "TEST_EPSILON_FLOAT32" in tol["why"], name
    f16 = backends.get("webgl-f16").tolerance_for(golden_tol)
    assert f16["atol"] == 0.1 and "TEST_EPSILON_FLOAT16" in f16["why"] and "numpy" in f16["why"]
    # a golden looser than the backend keeps its own bound
    assert backends.get("webgl").tolerance_for({"rtol": 0.5, "atol": 0.5})["atol"] == 0.5


def test_f16_emulation_flags_are_the_mobile_gpus():
    assert dict(backends.get("webgl-f16").flags) == {"WEBGL_FORCE_F16_TEXTURES": True,
                                                     "WEBGL_RENDER_FLOAT32_ENABLED": False}
    assert dict(backends.get("webgl-nopack").flags) == {"WEBGL_PACK": False}
    assert {b.base for b in backends.BACKENDS.values()} == {"cpu", "webgl", "wasm", "webgpu"}


# -- what the builds declare ---------------------------------------------------------------------------


def test_builds_declare_each_backend_with_a_measured_reason():
    node = ENGINES["node"].builds["system"]
    assert "Node has no WebGL" in node.lacks("webgl") and "navigator.gpu" in node.lacks("webgpu")
    assert node.lacks("wasm") == "" and node.lacks("cpu") == ""
    firefox = ENGINES["firefox"].builds["system"]
    assert firefox.webgl == "headed" and firefox.lacks("webgl") == ""  # a headed browser under Xvfb gives it
    assert "absent in Firefox ESR" in firefox.lacks("webgpu")
    chromium = ENGINES["chromium"].builds["system"]
    assert chromium.lacks("webgpu") == "" and chromium.webgpu_args == ("--enable-unsafe-webgpu",)
    assert "WebKitGTK" in ENGINES["webkit"].builds["system"].lacks("webgpu")
    with pytest.raises(ValueError):
        node.lacks("webgl2")


def test_each_served_tfjs_version_has_its_own_wasm_package():
    available = tfjs.available()
    for version in ("3.21.0", "4.0.0", "4.22.0"):
        dist = available[version].backend_dist("wasm")
        assert dist is not None and (dist / "tfjs-backend-wasm-simd.wasm").is_file(), version
        assert available[version].lacks("wasm") == ""
    rc = available["4.23.0-rc.0"]
    assert rc.backend_dist("wasm") is None and "no @tensorflow/tfjs-backend-wasm@4.23.0-rc.0" in rc.lacks("wasm")
    assert available["4.22.0"].backend_dist("webgpu") is not None and "webgpu" in available["4.0.0"].lacks("webgpu")
    assert available["4.22.0"].lacks("webgl") == ""  # webgl is in tf.min.js itself
    # Node requires the wasm backend next to the main TF.js only
    assert available["4.22.0"].lacks("wasm", "node") == ""
    assert "registers on the" in available["3.21.0"].lacks("wasm", "node")


# -- float16's range ---------------------------------------------------------------------------------------


def test_only_models_with_values_over_65504_exceed_float16():
    assert "float16" in fit.exceeds(golden.load("special-floats"))  # +-3.4e38 weights
    for name in ("mlp", "graph", "cnn", "sharded"):  # sharded has weights under 6e-8: they flush, nothing overflows
        assert "float16" not in fit.exceeds(golden.load(name)), name
    assert fit.outside_float16([[65504.0, -65504.0, float("inf"), float("nan")]]) is False
    assert fit.outside_float16([[0.0, -65505.0]]) is True


# -- reports per backend ------------------------------------------------------------------------------------


def _row(engine, backend, outcome="passed", scheme="indexeddb", model="mlp", save=0.01, load=0.02):
    return {"engine": engine, "build": "system", "context": "window", "backend": backend, "tfjs": "4.22.0",
            "scheme": scheme, "model": model, "outcome": outcome, "differences": [], "findings": [], "hazards": [],
            "test": f"t[{scheme}-{model}-{engine}-{backend}]", "test_s": 1.0, "page_s": 0.5,
            "phase_s": {"save": save, "load": load}}


def test_matrix_has_a_table_per_backend_and_says_what_each_backend_was():
    rows = [_row("chromium", "cpu"), _row("chromium", "webgl-f16", "failed")]
    doc = {"results": rows, "engines": [{"engine": "chromium", "version": "156", "driver": "playwright", "build": "system",
                                         "backends": {"webgl-f16": {"backend": "webgl", "flags": {"WEBGL_PACK": False},
                                                                    "webgl": {"version": "WebGL 2.0", "renderer": "llvmpipe"},
                                                                    "WEBGL_RENDER_FLOAT32_ENABLED": False}}}]}
    lines = text.matrix(doc).splitlines()
    cpu, f16 = lines.index("TF.js 4.22.0, backend cpu:"), lines.index("TF.js 4.22.0, backend webgl-f16:")
    assert lines[cpu + 3].split() == ["indexeddb", "1", "pass"] and lines[f16 + 3].split() == ["indexeddb", "1", "FAIL"]
    assert "  webgl-f16: WEBGL_PACK=False; WebGL 2.0 on 'llvmpipe', float32 render targets off" in lines


def test_timing_per_backend_is_a_ratio_to_the_same_row_on_cpu():
    rows = [_row("chromium", "cpu", save=0.010, load=0.020), _row("chromium", "webgl", save=0.030, load=0.020),
            _row("chromium", "webgl", model="graph", save=0.5),  # no cpu row of graph: summed, not in the ratio
            _row("chromium", "wasm", "skipped", save=9.0)]  # a skipped row times nothing
    t = text.timing(rows)
    by = {b["backend"]: b for b in t["backends"]}
    assert set(by) == {"cpu", "webgl"}
    assert by["webgl"]["rows"] == 2 and by["webgl"]["save_s"] == 0.53
    assert (by["webgl"]["save_vs_cpu"], by["webgl"]["save_pairs"]) == (3.0, 1)
    assert by["webgl"]["load_vs_cpu"] == 1.0 and by["cpu"]["save_vs_cpu"] is None
    table = text.timing_table(t)
    assert "TF.js save() and load per backend" in table and "3.00 (n=1)" in table
    assert "backends" not in text.timing([_row("chromium", "cpu")])  # one backend: no such table


def test_a_step_that_failed_on_a_lost_webgpu_device_says_so():
    from harness.trip.roundtrip import TfjsError

    error = {"name": "AbortError", "message": "Failed to execute 'mapAsync' on 'GPUBuffer'", "phase": "predict",
             "deviceLost": {"reason": "destroyed", "message": "Device was destroyed."}}
    d = TfjsError("TF.js failed in step 'load', phase 'predict': AbortError: ...", error).difference()
    assert (d.what, d.path, d.actual) == ("tfjs-error", "predict", "AbortError")
    assert d.message.endswith("(the webgpu GPUDevice was lost before it: 'destroyed', 'Device was destroyed.')")
    del error["deviceLost"]
    assert "GPUDevice" not in TfjsError("x", error).difference().message


def _collected(*args: str, engine: str = "chromium") -> list[str]:
    import subprocess
    import sys

    from harness.paths import REPO

    out = subprocess.run([sys.executable, "-m", "pytest", "scenarios/test_backends.py", "--collect-only", "-q",
                          "-p", "no:cacheprovider", "--engine", engine, *args],
                         capture_output=True, text=True, cwd=REPO, timeout=120).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "::test_backends[" in line]


def test_the_default_matrix_meets_every_backend_with_every_scheme_and_every_model_once():
    from scenarios.test_backends import BACKENDS

    core, full = _collected(), _collected("--zoo", "full")
    models, schemes = ("mlp", "special-floats", "graph"), ("indexeddb", "http")  # chromium has no file-node
    assert len(full) == len(BACKENDS) * len(schemes) * len(models)
    assert len(core) == len(BACKENDS) * len(schemes) and set(core) < set(full)

    def parts(row_id, engine="chromium"):
        scheme = next(s for s in ("indexeddb", "http", "file-node") if row_id.startswith(s + "-"))
        rest = row_id[len(scheme) + 1:]
        model = next(m for m in models if rest.startswith(m + "-"))
        return scheme, model, rest[len(f"{model}-{engine}-"):]

    rows = [parts(r) for r in core]
    assert {(s, b) for s, _, b in rows} == {(s, b) for s in schemes for b in BACKENDS}
    for b in BACKENDS:  # a browser's two schemes: each backend meets two of the three models, in turn
        assert len({m for _, m, bb in rows if bb == b}) == len(schemes)
    # Node's schemes (http, file-node) are the square's other two columns: with them, every model meets
    # every backend
    node = [parts(r, "node") for r in _collected(engine="node")]
    assert {(m, b) for _, m, b in rows + node} == {(m, b) for m in models for b in BACKENDS}
