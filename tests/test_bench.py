"""harness.measure.bench: sizes, medians, ratios, skips, the table and bench.json (fast, no engine), plus one tiny
real run (node + chromium, 1 MB, 1 repeat) in a subprocess with a hard timeout: deselect it with
`-k "not real_run"`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.measure import bench

REPO = Path(__file__).resolve().parent.parent
REAL_RUN_TIMEOUT_S = 120  # a hard bound; the run itself takes ~10-15 s here (node ~3 s, chromium ~8 s)


# -- sizes and figures ---------------------------------------------------------------------------------
def test_parse_sizes_rounds_down_to_whole_kernel_rows():
    assert bench.parse_sizes("1MB,16MB,128MB") == [(1_000_000, 999_424), (16_000_000, 16_000_000),
                                                   (128_000_000, 128_000_000)]
    assert bench.parse_sizes("1MiB") == [(2**20, 2**20)]
    assert bench.parse_sizes(" 4KiB , 4KiB,1MiB ") == [(4096, 4096), (2**20, 2**20)]  # duplicates dropped
    assert bench.parse_sizes("3926016,3926017") == [(3926016, 3926016)]  # the same model
    assert bench.parse_sizes("100") == [(100, 1024)]  # at least one row
    for bad in ("", "1XB", "-1MB", "1.5"):
        with pytest.raises(ValueError):
            bench.parse_sizes(bad)


def test_median_ratio_and_throughput():
    assert bench.median([]) is None
    assert bench.median([3.0]) == 3.0
    assert bench.median([0.3, 0.1, 0.2]) == 0.2
    assert bench.median([0.4, 0.1, 0.2, 0.3]) == pytest.approx(0.25)
    assert bench.ratio(0.5, 0.25) == 2.0
    assert bench.ratio(None, 0.25) is None and bench.ratio(0.5, None) is None
    assert bench.ratio(0.5, 0.0) is None  # raw below the clock's resolution: no ratio, not infinity
    assert bench.mb_per_s(16_000_000, 2.0) == 8.0
    assert bench.mb_per_s(16_000_000, 0) is None and bench.mb_per_s(None, 1.0) is None


def test_skip_reasons():
    assert bench.skip_reason("browser", "localstorage", 999_424) is None
    assert bench.skip_reason("browser", "localstorage", bench.LOCALSTORAGE_MAX_WEIGHT_BYTES) is None
    assert "do not fit in localStorage" in bench.skip_reason("browser", "localstorage", 16_000_000)
    assert "node engines only" in bench.skip_reason("browser", "file-node")
    assert "browser engines only" in bench.skip_reason("node", "indexeddb")
    assert bench.skip_reason("node", "http") is None and bench.skip_reason("browser", "http") is None
    assert set(bench.HOSTS) == set(bench.SCHEMES) == set(bench.OPS)


def test_make_row_takes_medians_and_the_ratio():
    row = bench.make_row("chromium", "indexeddb", "save", 999_424, tfjs_runs=[0.3, 0.1, 0.2], raw_runs=[0.1, 0.05, 0.2])
    assert (row["tfjs_s"], row["raw_s"], row["ratio"]) == (0.2, 0.1, 2.0)
    assert row["tfjs_runs"] == [0.3, 0.1, 0.2] and row["note"] == bench.NOTES[("indexeddb", "save")]
    for key in ("engine", "scheme", "op", "bytes", "tfjs_s", "raw_s", "ratio"):
        assert key in row
    skipped = bench.make_row("node", "localstorage", None, None, skipped="browser only")
    assert skipped["tfjs_s"] is None and skipped["ratio"] is None and skipped["skipped"] == "browser only"


def test_a_side_error_names_its_own_op_and_explains_the_others():
    ops = ("save", "load")
    side = bench.Side({"save": [0.1, 0.2], "load": [0.1]}, error="fingerprint failed: boom", failed_op="load")
    assert side.error_for("load", ops) == "fingerprint failed: boom"
    assert side.error_for("save", ops).startswith("no more runs after run 2: the load failed")
    side = bench.Side({"save": [], "load": []}, error="DeadlineExceeded", failed_op="save")
    assert side.error_for("load", ops).startswith("not measured after the failed save")
    cell_wide = bench.Side({"save": [], "load": []}, error="EngineError: gone")
    assert cell_wide.error_for("save", ops) == cell_wide.error_for("load", ops) == "EngineError: gone"
    assert bench.Side({"save": [1.0], "load": [1.0]}).error_for("save", ops) is None


def test_table_columns_numbers_and_notes():
    rows = [
        bench.make_row("chromium", "indexeddb", "save", 16_000_000, tfjs_runs=[2.0], raw_runs=[0.5]),
        bench.make_row("chromium", "localstorage", "load", 1_000_000, tfjs_runs=[0.05], raw_runs=[0.0001]),
        bench.make_row("chromium", "indexeddb", "load", 134_217_728, tfjs_error="save failed: DeadlineExceeded"),
        bench.make_row("node", "localstorage", None, None, skipped="browser only"),
        bench.make_row("webkit", "localstorage", "save", 4_000_000, skipped="too big"),
        bench.make_row("webkit", "localstorage", "load", 4_000_000, skipped="too big"),
        bench.make_row("node", "transfer", "post", 64_000_000, raw_runs=[0.5]),
        bench.make_row("webkit", "downloads", "save", 1_000_000, tfjs_runs=[0.1] * 3, raw_runs=[0.1] * 3,
                       downloads_short={"tfjs": 3, "raw": 0}),
    ]
    text = bench.table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["engine", "backend", "context", "scheme", "op", "MB", "TF.js", "s", "raw", "s", "TF.js", "MB/s",
                                "raw", "MB/s", "ratio", "TF.js/raw"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["chromium", "cpu", "window", "indexeddb", "save", "16.0", "2.000", "0.500", "8.0", "32.0", "4.00"]
    assert lines[3].split() == ["chromium", "cpu", "window", "localstorage", "load", "1.0", "0.050", "<0.001", "20.0", "10000.0",
                                "500.00"]
    assert lines[4].split() == ["chromium", "cpu", "window", "indexeddb", "load", "134.2", "-", "-", "-", "-", "-"]
    assert lines[5].split() == ["node", "cpu", "window", "transfer", "post", "64.0", "-", "0.500", "-", "128.0", "-"]
    assert "node localstorage: skipped: browser only" in text
    assert text.count("webkit localstorage 4.0 MB: skipped: too big") == 1  # one note for both ops
    assert ("webkit downloads save 1.0 MB: fewer than both files arrived after 3 of 3 TF.js and 0 of 3 raw saves"
            in text)
    assert "chromium indexeddb load 134.2 MB: TF.js failed (0 runs done): save failed: DeadlineExceeded" in text
    assert "node localstorage  " not in text.split("\n\n")[0]  # skipped rows are notes, not table lines


def test_write_json(tmp_path):
    rows = [bench.make_row("node", "http", "save", 1024, tfjs_runs=[0.01], raw_runs=[0.005])]
    path = bench.write_json(tmp_path / "out", rows)
    assert path == tmp_path / "out" / "bench.json"
    assert json.loads(path.read_text()) == rows


def test_arguments_and_defaults():
    args = bench.parse_args([])
    assert args.engine is None and args.repeat == 3 and args.results_dir == Path("test-results")
    assert [n for n, _ in args.sizes] == [1_000_000, 16_000_000, 128_000_000]
    assert args.transfer_size == 64_000_000
    args = bench.parse_args(["--engine", "node", "--engine", "chromium", "--sizes", "2MiB", "--repeat", "5",
                             "--transfer-size", "0", "--scheme", "http"])
    assert args.engine == ["node", "chromium"] and args.sizes == [(2**21, 2**21)] and args.repeat == 5
    assert args.transfer_size == 0 and args.scheme == ["http"]
    for bad in (["--repeat", "0"], ["--sizes", "1XB"], ["--engine", "lynx"], ["--scheme", "ftp"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


# -- one tiny real run ----------------------------------------------------------------------------------
def test_real_run_node_and_chromium(tmp_path):
    """`python -m harness.measure.bench` on node and chromium, 1 MB, 1 repeat, a 1 MB transfer: every cell that can
    run on the engine has both figures, every other one is skipped with a reason, and the table says so."""
    command = [sys.executable, "-m", "harness.measure.bench", "--engine", "node", "--engine", "chromium", "--sizes", "1MB",
               "--repeat", "1", "--transfer-size", "1MB", "--results-dir", str(tmp_path)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=REAL_RUN_TIMEOUT_S,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    rows = json.loads((tmp_path / "bench.json").read_text())
    unavailable = [r for r in rows if r["scheme"] == "*"]
    if unavailable:
        pytest.skip("; ".join(r["skipped"] for r in unavailable))
    measured = {(r["engine"], r["scheme"], r["op"]): r for r in rows if not r["skipped"]}
    want = {("node", "http", "save"), ("node", "http", "load"), ("node", "file-node", "save"),
            ("node", "file-node", "load"), ("node", "transfer", "post"), ("chromium", "transfer", "post"),
            *((("chromium", s, op) for s in ("localstorage", "indexeddb", "http") for op in ("save", "load"))),
            ("chromium", "downloads", "save")}
    assert set(measured) == want, done.stdout
    for key, r in measured.items():
        assert r["tfjs_error"] is None and r["raw_error"] is None, (key, r)
        assert r["bytes"] == (1_000_000 if r["scheme"] == "transfer" else 999_424)
        assert r["raw_s"] is not None and r["raw_s"] >= 0 and len(r["raw_runs"]) == 1, (key, r)
        if r["scheme"] == "transfer":
            assert r["tfjs_s"] is None and r["ratio"] is None
        else:
            assert r["tfjs_s"] is not None and r["tfjs_s"] >= 0 and len(r["tfjs_runs"]) == 1, (key, r)
            assert r["ratio"] == (r["tfjs_s"] / r["raw_s"] if r["raw_s"] > 0 else None)
    delivered = measured[("chromium", "downloads", "save")]["downloads_delivered"]
    assert [f.split(" (")[0] for f in delivered["tfjs"][0]] == ["harness-bench.json", "harness-bench.weights.bin"]
    assert "harness-bench-raw.weights.bin (999424 B)" in delivered["raw"][0]
    assert measured[("chromium", "downloads", "save")]["downloads_short"] == {"tfjs": 0, "raw": 0}
    skipped = {(r["engine"], r["scheme"]) for r in rows if r["skipped"]}
    assert skipped == {("node", "localstorage"), ("node", "indexeddb"), ("node", "downloads"), ("chromium", "file-node")}
    assert "chromium  cpu      window   indexeddb" in done.stdout and "chromium file-node: skipped" in done.stdout
    assert {r["backend"] for r in rows} == {"cpu"}
    print(f"real run: {elapsed:.1f} s")


def test_real_run_per_backend(tmp_path):
    """`--backend webgl --backend wasm`: every row names its backend; Node has no webgl (one skipped row with
    the build's reason), wasm runs in Node and both run in Chromium, TF.js's load checked by SHA-256 as on cpu."""
    command = [sys.executable, "-m", "harness.measure.bench", "--engine", "node", "--engine", "chromium", "--sizes", "1MB",
               "--repeat", "1", "--transfer-size", "0", "--scheme", "http", "--backend", "webgl", "--backend", "wasm",
               "--results-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=REAL_RUN_TIMEOUT_S,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    rows = json.loads((tmp_path / "bench.json").read_text())
    measured = {(r["engine"], r["backend"], r["op"]): r for r in rows if not r["skipped"]}
    assert set(measured) == {("node", "wasm", "save"), ("node", "wasm", "load"), *(("chromium", b, op) for b in
                             ("webgl", "wasm") for op in ("save", "load"))}, done.stdout
    for key, r in measured.items():
        assert r["tfjs_error"] is None and r["raw_error"] is None and r["tfjs_s"] is not None, (key, r)
    [node_webgl] = [r for r in rows if r["skipped"]]
    assert (node_webgl["engine"], node_webgl["backend"], node_webgl["scheme"]) == ("node", "webgl", "*")
    assert "Node has no WebGL" in node_webgl["skipped"]
    assert "node (webgl) *: skipped: no webgl backend: Node has no WebGL" in done.stdout


def test_a_context_skips_what_it_lacks_and_what_its_engine_cannot_open():
    from harness.engines import ENGINES

    assert "no localStorage" in bench.skip_reason("browser", "localstorage", context="dedicated-worker")
    assert "no document" in bench.skip_reason("browser", "downloads", context="shared-worker")
    assert bench.skip_reason("browser", "indexeddb", context="dedicated-worker") is None
    assert bench.skip_reason("browser", "localstorage", context="iframe-same-origin") is None
    node = ENGINES["node"].builds["system"]
    assert bench.context_reason(node, "node", "dedicated-worker") == "no dedicated-worker on a node engine"
    assert bench.context_reason(node, "node", "window") is None
    webkitgtk = ENGINES["webkit"].builds["system"]
    assert bench.context_reason(webkitgtk, "browser", "private-window")  # its build's measured reason
    assert bench.context_reason(webkitgtk, "browser", "dedicated-worker") is None
    assert bench.context_reason(webkitgtk, "browser", "dedicated-worker", "webgl") == webkitgtk.no_worker_webgl != ""
