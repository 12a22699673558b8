"""The upstream io coverage map (scenarios/upstream-coverage.toml, harness.upstream): every behaviour of
TF.js's own io tests names the rows that exercise it, and those rows exist in the collected matrix (every
engine, --zoo full, --run-large: what `make test` runs); README states the figure the map computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness import upstream
from harness.paths import REPO

ENGINES = ("chromium", "firefox", "webkit", "node")


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> set[tuple[str, str]]:
    out = tmp_path_factory.mktemp("rows") / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.support.collected_rows", "--zoo", "full", "--run-large",
                           *(a for e in ENGINES for a in ("--engine", e))],
                          capture_output=True, text=True, cwd=REPO, timeout=300, env={**os.environ, "COLLECTED_ROWS": str(out)})
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return {(r["scheme"], r["model"]) for r in json.loads(out.read_text())}


def test_every_mapped_row_is_in_the_collected_matrix(collected):
    behaviours = upstream.load()
    assert collected, "no conformance rows were collected"
    gone = [(b.id, scheme, model) for b in behaviours for scheme, model in b.rows if (scheme, model) not in collected]
    assert not gone, f"mapped rows that the matrix no longer has: {gone}"


def test_readme_states_the_figure_the_map_computes():
    figure = upstream.figure(upstream.load())
    assert figure in (REPO / "README.md").read_text(), f"README should state: {figure}"


def _write(tmp_path, text: str):
    path = tmp_path / "map.toml"
    path.write_text(text)
    return path


_ENTRY = '''[[behaviour]]
id = "A1"
file = "tfjs-core/src/io/local_storage_test.ts"
test = "Save artifacts succeeds"
what = "five keys"
'''


@pytest.mark.parametrize(("tail", "says"), [
    ('coverage = "real"\n', "needs rows"),
    ('coverage = "none"\nrows = [{scheme = "localstorage", model = "mlp"}]\n', "with rows"),
    ('coverage = "partial"\nrows = [{scheme = "localstorage", model = "mlp"}]\n', "needs `missing`"),
    ('coverage = "not-applicable"\n', "needs `why`"),
    ('coverage = "mostly"\n', "is not one of"),
    ('coverage = "real"\nrows = [{scheme = "localstorage"}]\n', "a row is"),
    ('coverage = "real"\nrows = [{scheme = "localstorage", model = "mlp"}]\nnote = "x"\n', "unknown keys"),
])
def test_a_malformed_entry_is_refused_with_what_is_wrong(tmp_path, tail, says):
    with pytest.raises(upstream.CoverageError, match=says):
        upstream.load(_write(tmp_path, _ENTRY + tail))


def test_an_entry_without_its_upstream_test_or_twice_is_refused(tmp_path):
    with pytest.raises(upstream.CoverageError, match="test missing"):
        upstream.load(_write(tmp_path, _ENTRY.replace('test = "Save artifacts succeeds"\n', "") + 'coverage = "none"\n'))
    with pytest.raises(upstream.CoverageError, match="appears twice"):
        upstream.load(_write(tmp_path, (_ENTRY + 'coverage = "none"\n') * 2))


def test_the_figure_counts_real_rows_over_the_applicable_behaviours():
    b = [upstream.Behaviour(f"A{i}", "f", "t", "w", c, (("s", "m"),) if c in ("real", "partial") else ())
         for i, c in enumerate(["real", "real", "partial", "none", "not-applicable"])]
    assert upstream.figure(b) == ("2 of 4 upstream io behaviours covered for real (50%), 1 partly, 1 not at all "
                                  "(1 not applicable)")
