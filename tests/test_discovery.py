"""Tests for harness.config (the engine matrix) and harness.engines.discovery, and an end-to-end
run of the plugin where the only configured build is missing: rows skip and say why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import config, golden
from harness.config import EngineEntry, load_matrix
from harness.engines import ENGINES
from harness.engines.discovery import Found, Missing, discover
from harness.schemes import SCHEMES

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engines.toml"
    path.write_text(text)
    return path


# --- config.load_matrix ---


def test_repo_config_loads():
    matrix = load_matrix(config.DEFAULT_CONFIG)
    assert list(matrix) == ["chromium", "firefox", "webkit", "node"]
    assert matrix["node"] == EngineEntry("node", ("system",), (), None)
    assert matrix["chromium"] == EngineEntry("chromium", ("playwright", "system"), (), None)


def test_load_matrix_reads_entries_in_file_order(tmp_path):
    cfg = write(tmp_path, """
[engines.webkit]
builds = ["system"]

[engines.chromium]
builds = ["system", "playwright"]
args = ["--foo"]
executable = "/opt/chromium/chrome"
""")
    assert load_matrix(cfg) == {
        "webkit": EngineEntry("webkit", ("system",), (), None),
        "chromium": EngineEntry("chromium", ("system", "playwright"), ("--foo",), "/opt/chromium/chrome"),
    }
    assert list(load_matrix(cfg)) == ["webkit", "chromium"]


def test_load_matrix_defaults_builds_to_the_engine_preference(tmp_path):
    cfg = write(tmp_path, "[engines.firefox]\n")
    assert load_matrix(cfg)["firefox"].builds == tuple(ENGINES["firefox"].builds)


def test_load_matrix_rejects_unknown_engine(tmp_path):
    cfg = write(tmp_path, '[engines.chromium]\nbuilds = ["system"]\n\n[engines.edge]\nbuilds = ["system"]\n')
    with pytest.raises(ValueError, match=r"unknown engine 'edge'; known engines: chromium, firefox, webkit, node$"):
        load_matrix(cfg)


@pytest.mark.parametrize("key", ["executable_path", "build", "Args"])
def test_load_matrix_rejects_unknown_keys(tmp_path, key):
    cfg = write(tmp_path, f'[engines.firefox]\nbuilds = ["system"]\n{key} = "x"\n')
    with pytest.raises(ValueError, match=rf"\[engines.firefox\] has unknown keys \['{key}'\]"):
        load_matrix(cfg)


@pytest.mark.parametrize("builds", ['["snap"]', '["system", "flatpak"]', '["Playwright"]'])
def test_load_matrix_rejects_unknown_build_kinds(tmp_path, builds):
    cfg = write(tmp_path, f"[engines.webkit]\nbuilds = {builds}\n")
    with pytest.raises(ValueError, match=r"\[engines.webkit\] builds \[.*\] unknown; webkit has \['playwright', 'system'\]"):
        load_matrix(cfg)


def test_load_matrix_error_names_the_file(tmp_path):
    cfg = write(tmp_path, "[engines.nope]\n")
    with pytest.raises(ValueError, match="engines.toml"):
        load_matrix(cfg)


# --- discovery.discover ---


def test_missing_system_executable():
    matrix = {"chromium": EngineEntry("chromium", ("system",), executable="/nonexistent/chromium")}
    (result,) = discover(matrix, {}).values()
    assert isinstance(result, Missing)
    assert result.spec is ENGINES["chromium"]
    assert "/nonexistent/chromium" in result.reason
    assert result.apt_packages == ("chromium",)


def test_missing_playwright_build(tmp_path):
    gone = str(tmp_path / "ms-playwright" / "chromium-0000" / "chrome")
    matrix = {"chromium": EngineEntry("chromium", ("playwright",))}
    (result,) = discover(matrix, {"chromium": gone, "firefox": "/x", "webkit": "/y"}).values()
    assert isinstance(result, Missing)
    assert gone in result.reason and "Playwright" in result.reason
    assert result.apt_packages == ()


def test_missing_reason_lists_every_build_tried(tmp_path):
    gone = str(tmp_path / "no-chrome")
    matrix = {"chromium": EngineEntry("chromium", ("playwright", "system"), executable="/nonexistent/chromium")}
    result = discover(matrix, {"chromium": gone})["chromium"]
    assert isinstance(result, Missing)
    assert result.reason.index(gone) < result.reason.index("/nonexistent/chromium")
    assert result.apt_packages == ("chromium",)


def test_found_system_build_uses_the_configured_executable_and_args():
    sh = shutil.which("sh")
    matrix = {"chromium": EngineEntry("chromium", ("system",), args=("--extra",), executable=sh)}
    result = discover(matrix, {})["chromium"]
    assert isinstance(result, Found)
    assert result.build.kind == "system" and result.build.executable == sh
    assert result.build.args == (*ENGINES["chromium"].builds["system"].args, "--extra")


def test_first_present_build_wins(tmp_path):
    chrome = tmp_path / "chrome"
    chrome.write_text("")
    matrix = {"chromium": EngineEntry("chromium", ("system", "playwright"), executable="/nonexistent/chromium")}
    result = discover(matrix, {"chromium": str(chrome)})["chromium"]
    assert isinstance(result, Found) and result.build.kind == "playwright"


def test_discover_keeps_matrix_order_and_reports_each_engine(tmp_path):
    matrix = {
        "webkit": EngineEntry("webkit", ("playwright",)),
        "chromium": EngineEntry("chromium", ("system",), executable="/nonexistent/chromium"),
    }
    result = discover(matrix, {"webkit": str(tmp_path / "none")})
    assert list(result) == ["webkit", "chromium"]
    assert all(isinstance(r, Missing) for r in result.values())


# --- end to end: the plugin with a missing engine ---

MISSING_CHROMIUM = """
[engines.chromium]
builds = ["system"]
executable = "/nonexistent/chromium"
"""



def test_end_to_end_missing_engine_skips_rows_with_reason(harness_ini: pytest.Pytester):
    pytester = harness_ini
    shutil.copy(REPO / "scenarios" / "test_roundtrip.py", pytester.path / "test_roundtrip.py")
    cfg = pytester.path / "engines.toml"
    cfg.write_text(MISSING_CHROMIUM)
    results = pytester.path / "results"

    run = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rs", "--missing-engines", "skip",  # skipping is the point (CI=true fails them)
        "--engine-config", str(cfg), "--engine", "chromium", "--context", "window", "--results-dir", str(results),
        "test_roundtrip.py",
        timeout=300,
    )

    browser_schemes = [s for s in SCHEMES.values() if "browser" in s.hosts]  # chromium runs no Node-only scheme
    # every core zoo model (the default --zoo; or the scheme's own subset of it) x one engine
    n = sum(len([m for m in s.models or golden.MODELS if m in golden.CORE]) for s in browser_schemes)
    assert run.ret == pytest.ExitCode.OK, run.stdout.str() + run.stderr.str()
    run.assert_outcomes(skipped=n)

    doc = json.loads((results / "conformance.json").read_text())
    assert doc["schema"] == 3
    assert len(doc["results"]) == n
    assert {r["scheme"] for r in doc["results"]} == {str(s) for s in browser_schemes}
    for r in doc["results"]:
        assert r["engine"] == "chromium" and r["model"] in golden.CORE
        assert r["outcome"] == "skipped", r
        assert "/nonexistent/chromium" in r["detail"], r
        assert "apt-get install -y chromium" in r["detail"], r

    (engine,) = doc["engines"]
    assert engine["engine"] == "chromium" and engine["version"] is None
    assert "/nonexistent/chromium" in engine["missing"]

    out = run.stdout.str()
    assert "conformance matrix (scheme x engine)" in out
    skipped_cell = f"{len(golden.CORE)} skip"  # a scheme over the whole core zoo: every model skipped
    assert skipped_cell in out
    assert f"{n} skipped ({n} rows)" in out
    assert str(results / "conformance.json") in out


# --- remote entries (harness.engines.remote) ---


def test_a_remote_entry_is_found_without_looking_for_a_local_build(tmp_path):
    cfg = write(tmp_path, """
[engines.chromium]
builds = ["system"]
executable = "/nonexistent/chromium"
connect = "ws://10.0.0.5:3000/"
launch_options = {executablePath = "/usr/bin/chromium"}

[engines.firefox]
connect = "ws://10.0.0.5:3000/"
launch_options = {channel = "moz-firefox"}

[engines.webkit]
webdriver = "http://mac.local:4444"
capabilities = {browserName = "safari"}
""")
    found = discover(load_matrix(cfg), {})
    chromium, firefox, webkit = (found[e].build for e in ("chromium", "firefox", "webkit"))
    assert (chromium.kind, chromium.driver, chromium.endpoint, chromium.quota) == (
        "remote", "playwright", "ws://10.0.0.5:3000/", "cdp")
    assert chromium.launch_options == {"executablePath": "/usr/bin/chromium"} and chromium.downloads == "event"
    assert firefox.downloads == "" and "BiDi" in firefox.no_downloads  # Firefox over BiDi reports no downloads
    assert (webkit.driver, webkit.endpoint, webkit.capabilities) == (
        "webdriver", "http://mac.local:4444", {"browserName": "safari"})
    assert webkit.downloads == "" and webkit.no_downloads


@pytest.mark.parametrize("text, message", [
    ('[engines.chromium]\nconnect = "ws://a/"\nwebdriver = "http://a"\n', "both"),
    ('[engines.chromium]\nconnect = "http://a/"\n', "ws://"),
    ('[engines.webkit]\nwebdriver = "ws://a"\n', "http://"),
    ('[engines.webkit]\nwebdriver = "http://a"\nlaunch_options = {args = []}\n', "launch_options"),
    ('[engines.node]\nwebdriver = "http://a"\n', "only browser engines"),
    ('[engines.chromium]\nendpoint = "ws://a/"\n', "unknown keys"),
])
def test_a_bad_remote_entry_is_refused(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_matrix(write(tmp_path, text))


def test_command_line_endpoints_win_over_the_file_and_keep_the_entry_options(tmp_path):
    matrix = load_matrix(write(tmp_path, '[engines.chromium]\nlaunch_options = {args = ["--x"]}\n[engines.webkit]\n'
                                        'webdriver = "http://old:1"\ncapabilities = {browserName = "safari"}\n'))
    out = config.with_endpoints(matrix, {"chromium": "ws://h:1/", "webkit": "ws://h:2/"}, {})
    assert out["chromium"].connect == "ws://h:1/" and out["chromium"].launch_options == {"args": ["--x"]}
    assert out["webkit"].connect == "ws://h:2/" and out["webkit"].webdriver is None and out["webkit"].capabilities is None
    with pytest.raises(ValueError, match="unknown engine"):
        config.with_endpoints(matrix, {}, {"safari": "http://mac:4444"})
