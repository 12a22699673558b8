"""Backend rows end to end, in real engines: the engine record says what each backend really was, a save
after a predict reads the weights back from the backend (the page counts them on textures only), float32
textures keep every byte, and float16 textures change them: the row fails on the exact bytes, and the
known finding is what turns it xfailed, nothing looser."""

from __future__ import annotations

import json
import shutil

import pytest

from harness.paths import REPO


def _run(pytester: pytest.Pytester, tmp_path, *args: str, expectations: str | None = None) -> dict:
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    extra = ["--expectations", expectations] if expectations else []
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--context", "window", "--results-dir", str(tmp_path),
                                           *extra, *args,
                                           "test_roundtrip.py", timeout=300)
    doc = json.loads((tmp_path / "conformance.json").read_text())
    doc["_stdout"] = result.stdout.str()
    return doc


def test_chromium_webgl_keeps_every_byte_and_f16_textures_round_them(harness_ini: pytest.Pytester, tmp_path):
    empty = tmp_path / "none.toml"
    empty.write_text("")
    doc = _run(harness_ini, tmp_path / "run", "--engine", "chromium", "--tfjs-backend", "webgl", "--tfjs-backend",
               "webgl-f16", "-k", "indexeddb-mlp or indexeddb-special-floats", expectations=str(empty))
    rows = {(r["model"], r["backend"]): r for r in doc["results"]}
    assert set(rows) == {(m, b) for m in ("mlp", "special-floats") for b in ("webgl", "webgl-f16")}, doc["_stdout"]
    for model in ("mlp", "special-floats"):
        assert rows[model, "webgl"]["outcome"] == "passed", rows[model, "webgl"]["detail"]
    # what save() wrote came back through the GPU: every weight lived on a texture only
    assert rows["mlp", "webgl"]["observed"]["resident"] == {"weights": 4, "onTextureOnly": 4}
    f16 = rows["mlp", "webgl-f16"]
    assert f16["outcome"] == "failed" and not f16["findings"]
    first = next(d for d in f16["differences"] if d["what"] == "storage.weightData")
    assert first["path"] == "dense_1/kernel" and "expected 0x3db9df3a" in first["message"]
    assert "got 0x3db9e000" in first["message"]  # SwiftShader rounds to the nearest float16
    nan = next(d for d in rows["special-floats", "webgl-f16"]["differences"] if d["what"] == "storage.weightData")
    assert "expected 0x7fc00000 (nan), got 0x7fffe000 (nan)" in nan["message"]
    [engine] = doc["engines"]
    assert "SwiftShader" in engine["backends"]["webgl"]["webgl"]["renderer"]
    assert engine["backends"]["webgl"]["WEBGL_RENDER_FLOAT32_ENABLED"] is True
    assert engine["backends"]["webgl-f16"]["WEBGL_RENDER_FLOAT32_ENABLED"] is False
    assert engine["backends"]["webgl-f16"]["WEBGL_FORCE_F16_TEXTURES"] is True


def test_the_known_finding_explains_exactly_the_f16_rows(harness_ini: pytest.Pytester, tmp_path):
    doc = _run(harness_ini, tmp_path / "run", "--engine", "chromium", "--tfjs-backend", "webgl-f16",
               "-k", "indexeddb-mlp or save-result-mlp")
    rows = {r["scheme"]: r for r in doc["results"]}
    assert rows["indexeddb"]["outcome"] == "xfailed", rows["indexeddb"]["detail"]
    assert rows["indexeddb"]["findings"] == ["webgl-f16-save-rounds-weights"]
    assert rows["save-result"]["outcome"] == "passed"  # it reads no weights back: the finding does not apply


def test_node_runs_wasm_and_says_which_binary(harness_ini: pytest.Pytester, tmp_path):
    doc = _run(harness_ini, tmp_path / "run", "--engine", "node", "--tfjs-backend", "wasm", "--tfjs-backend", "webgl",
               "-k", "http-mlp or file-node-mlp")
    rows = {(r["scheme"], r["backend"]): r for r in doc["results"]}
    assert rows["http", "wasm"]["outcome"] == rows["file-node", "wasm"]["outcome"] == "passed", doc["_stdout"]
    assert rows["http", "webgl"]["outcome"] == "skipped"
    assert "Node has no WebGL" in rows["http", "webgl"]["differences"][0]["message"]
    wasm = doc["engines"][0]["backends"]["wasm"]
    assert wasm["backend"] == "wasm" and wasm["WASM_HAS_SIMD_SUPPORT"] is True and wasm["binary"].endswith(".wasm")
