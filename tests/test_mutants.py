"""The mutation-testing catalogue and runner (harness.measure.mutants), without running any engine: every
patch applies exactly once to the installed pristine tf.js, the catalogue covers the fault kinds,
the pytest command, the verdict on a run's rows and the report's format."""

import argparse
import json
from pathlib import Path

import pytest

from harness import golden
from harness.__main__ import main as cli
from harness.measure import mutants
from harness.schemes import SCHEMES
from harness.schemes.promises import PROMISES


@pytest.fixture(scope="module")
def pristine() -> str:
    return mutants.pristine_bundle().read_text("utf-8")


@pytest.mark.parametrize("mutant", mutants.CATALOGUE, ids=lambda m: m.name)
def test_every_patch_applies_exactly_once_and_changes_the_bundle(pristine, mutant):
    assert pristine.count(mutant.original) == 1, f"{mutant.name}: snippet moved in this TF.js: update the catalogue"
    mutated = mutants.apply(pristine, mutant)
    assert mutated != pristine
    assert mutant.replacement in mutated
    assert len(mutated) - len(pristine) == len(mutant.replacement) - len(mutant.original)  # one replacement only


def test_the_catalogue_covers_the_fault_kinds_with_unique_names():
    names = [m.name for m in mutants.CATALOGUE]
    assert len(names) == len(set(names))
    assert all(n == n.lower() and " " not in n for n in names)
    kinds = {m.kind for m in mutants.CATALOGUE}
    assert set(mutants.REQUIRED_KINDS) <= kinds, f"missing kinds: {set(mutants.REQUIRED_KINDS) - kinds}"
    # 30 since the promise rows' six; `make mutants` runs each on every row it names, so the catalogue stays
    # a list a maintainer reads, not a generator of every possible edit
    assert 10 <= len(mutants.CATALOGUE) <= 40
    assert all(m.breaks and m.catch for m in mutants.CATALOGUE)


def test_a_stale_or_ambiguous_snippet_fails_loudly_naming_the_mutant():
    m = mutants.Mutant("demo-mutant", "weight-bytes", "x", "a = 1;", "a = 2;", "y")
    with pytest.raises(mutants.MutantError, match="demo-mutant.*not found"):
        mutants.apply("b = 1;", m)
    with pytest.raises(mutants.MutantError, match="demo-mutant.*found 2 times"):
        mutants.apply("a = 1; a = 1;", m)
    with pytest.raises(mutants.MutantError, match="equals the original"):
        mutants.apply("a = 1;", mutants.Mutant("same", "k", "x", "a = 1;", "a = 1;", "y"))
    assert mutants.apply("x; a = 1; y", m) == "x; a = 2; y"


def test_write_bundles_applies_every_patch_before_writing(tmp_path):
    source = tmp_path / "tf.js"
    source.write_text("one(); two();")
    ok = mutants.Mutant("ok", "k", "x", "one();", "uno();", "y")
    stale = mutants.Mutant("stale", "k", "x", "three();", "tres();", "y")
    with pytest.raises(mutants.MutantError, match="stale"):
        mutants.write_bundles(source, [ok, stale], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    paths = mutants.write_bundles(source, [ok], tmp_path / "out")
    assert paths["pristine"].read_text() == "one(); two();"
    assert paths["ok"].read_text() == "uno(); two();"


def _selected(test_id: str, expression: str) -> bool:
    return any(term in test_id for term in expression.split(" or "))


def test_the_row_selection_exercises_every_scheme_and_the_features_the_mutants_break():
    assert set(mutants.MODELS) <= set(golden.MODELS)
    assert {"mlp", "sharded", "metadata", "quantized-uint8", "quantized-float16", "graph", "edge"} <= set(mutants.MODELS)
    assert {scheme for scheme, _, _ in mutants.ROWS} <= {"*", *SCHEMES, *(p.name for p in PROMISES)}
    k = mutants.keyword(["chromium", "node"])
    assert not k.startswith("-")
    ids = [f"test_roundtrip[{s}-{m}-{e}]" for s, scheme in SCHEMES.items() for m in golden.MODELS
           for e in ("chromium", "node") if ("node" if e == "node" else "browser") in scheme.hosts]
    ids += [f"test_quota[{s}-mlp-chromium]" for s in ("quota-localstorage", "quota-indexeddb")]
    chosen = [i for i in ids if _selected(i, k)]
    # every scheme, on every engine that hosts it, and both quota scenarios
    assert {i.split("[")[1].rsplit("-mlp-", 1)[0] for i in chosen if "-mlp-" in i} == {*SCHEMES, "quota-localstorage",
                                                                                       "quota-indexeddb"}
    assert "test_roundtrip[http-mlp-node]" in chosen and "test_roundtrip[http-mlp-chromium]" in chosen
    # the extra rows: one per feature, on Node where the scheme runs there
    extra = sorted(i for i in chosen if "-mlp-" not in i)
    assert extra == sorted(["test_roundtrip[localstorage-metadata-chromium]", "test_roundtrip[http-metadata-node]",
                            "test_roundtrip[http-quantized-uint8-node]", "test_roundtrip[http-quantized-float16-node]",
                            "test_roundtrip[http-graph-node]", "test_roundtrip[save-result-edge-node]",
                            "test_roundtrip[http-sharded-node]", "test_roundtrip[browser-files-sharded-chromium]"])
    # a promise row on the graph model (not an mlp row): on Node
    assert _selected("test_contract[promise-graph-metadata-graph-node]", k)
    assert _selected("test_contract[promise-graph-hash-table-graph-node]", k)
    assert not _selected("test_contract[promise-graph-metadata-graph-chromium]", k)
    # without Node, the cheap rows go to the first browser
    assert "http-graph-firefox" in mutants.keyword(["firefox", "webkit"])


def test_the_pytest_command():
    cmd = mutants.command(Path("/b/tf.js"), Path("/r"), ["chromium", "node"])
    assert cmd[1:3] == ["-m", "pytest"]
    assert "scenarios/test_roundtrip.py" in cmd and "scenarios/test_quota.py" in cmd
    assert cmd[cmd.index("--tfjs-bundle") + 1] == "/b/tf.js"
    assert cmd[cmd.index("--results-dir") + 1] == "/r"
    assert [cmd[i + 1] for i, c in enumerate(cmd) if c == "--engine"] == ["chromium", "node"]
    assert cmd[cmd.index("-n") + 1] == "2" and cmd[cmd.index("--dist") + 1] == "worksteal"
    assert cmd[cmd.index("-k") + 1] == mutants.keyword(["chromium", "node"])


def _diff(what, path, message, finding=None):
    d = {"what": what, "path": path, "expected": None, "actual": None, "message": message}
    if finding:
        d["finding"] = finding
    return d


def _row(scheme, model, engine, outcome, *differences, findings=(), **extra):
    """A schema-2 row (the fields mutants reads); a row that did not pass gets a difference if none is given."""
    if not differences and outcome != "passed":
        differences = (_diff("loaded", "$.format", "expected 'layers-model', got None"),)
    return {"engine": engine, "build": "playwright", "context": "window", "backend": "cpu", "tfjs": "4.22.0",
            "scheme": scheme, "model": model, "outcome": outcome, "differences": list(differences),
            "findings": list(findings), "hazards": [], "detail": "", "test": "t", **extra}


def _run(rows, rc=0, name="m"):
    return mutants.Run(name, rows, 12.3, rc, "log tail", Path("/tmp/x"))


FLIP = _diff("storage.weightData", "dense_1/kernel", "float32 [8, 16]: first difference at element 0, byte 0")


def _trial(rows, again=None, rc=0, mutant=mutants.CATALOGUE[0]):
    trial = mutants.Trial(mutant, _run(rows, rc))
    if again is not None:
        trial.confirm = _run(again)
    return trial


def test_a_row_catches_a_mutant_when_it_fails_twice_and_never_on_the_pristine_bundle():
    idb, http = ("indexeddb", "mlp", "chromium"), ("http", "mlp", "node")
    failed = [_row(*idb, "failed", FLIP), _row(*http, "passed")]
    rec = mutants.result_record(_trial(failed, again=[_row(*idb, "failed", FLIP)]), {}, keep=False)
    assert rec["status"] == "caught" and rec["caught"] and rec["failed_rows"] == 1 and rec["rows"] == 2
    assert rec["confirmed_rows"] == ["indexeddb/mlp/chromium"] and rec["flaky_rows"] == []
    assert rec["first_failures"] == [{"row": "indexeddb/mlp/chromium", "outcome": "failed", "test": "t",
                                      "difference": "storage.weightData dense_1/kernel: float32 [8, 16]: first "
                                                    "difference at element 0, byte 0",
                                      "confirmed": True, "note": ""}]
    assert "results_dir" not in rec
    # an errored row counts; so does a strict finding that went stale (xpassed, marked by read_rows)
    stale = _diff("expectation", "quota-known", "finding quota-known applies to this row but nothing it explains "
                  "happened", finding="quota-known")
    xpass = [_row("quota-localstorage", "mlp", "chromium", "xpassed", stale, findings=["quota-known"], strict_xpass=True)]
    rec = mutants.result_record(_trial(xpass, again=xpass), {}, False)
    assert rec["caught"] and rec["first_failures"][0]["outcome"] == "xpassed"
    assert rec["first_failures"][0]["difference"].startswith("expectation quota-known: finding quota-known applies")
    # an intermittent finding that did not happen this time: not a failure
    lucky = [dict(xpass[0], strict_xpass=False)]
    assert mutants.result_record(_trial(lucky, again=lucky), {}, False)["status"] == "survived"
    errored = [_row(*http, "error", _diff("error", "call", "StepTimeout: ..."))]
    assert mutants.result_record(_trial(errored, again=errored), {}, False)["caught"]
    # failed once only: not a catch
    rec = mutants.result_record(_trial(failed, again=[_row(*idb, "passed")]), {}, False)
    assert rec["status"] == "unconfirmed" and not rec["caught"]
    assert rec["first_failures"][0]["note"] == " (did not fail again)"
    # fails on the pristine bundle too (control run): a flake, not a catch
    rec = mutants.result_record(_trial(failed, again=failed), {idb: "failed: x"}, False)
    assert rec["status"] == "unconfirmed" and rec["flaky_rows"] == ["indexeddb/mlp/chromium"]
    assert rec["first_failures"][0]["note"] == " (flaky: fails on the pristine bundle too)"
    # nothing failed
    assert mutants.result_record(_trial([_row(*http, "passed"), _row(*idb, "xfailed")]), {}, False)["status"] == "survived"
    assert mutants.result_record(_trial([], rc=4), {}, False)["status"] == "broken"
    assert mutants.result_record(_trial([], rc=None), {}, False)["broken"] == "pytest did not finish in time"


def _write_doc(path: Path, rows, findings) -> Path:
    path.write_text(json.dumps({"schema": 2, "engines": [], "tfjs": [], "findings": findings, "results": rows}))
    return path


def test_read_rows_marks_xpassed_rows_whose_finding_is_strict(tmp_path):
    table = {"strict-one": {"kind": "tfjs-bug", "title": "t", "promise": "p", "link": "", "intermittent": False},
             "sometimes": {"kind": "engine-bug", "title": "t", "promise": "p", "link": "", "intermittent": True}}
    rows = [_row("a", "mlp", "chromium", "xpassed", findings=["strict-one"]),
            _row("b", "mlp", "chromium", "xpassed", findings=["sometimes"]),
            _row("c", "mlp", "chromium", "xpassed", findings=["sometimes", "strict-one"]),
            _row("d", "mlp", "chromium", "xpassed", findings=["not-in-the-table"]),
            _row("e", "mlp", "chromium", "xfailed", findings=["strict-one"]),
            _row("f", "mlp", "chromium", "passed")]
    got = mutants.read_rows(_write_doc(tmp_path / "conformance.json", rows, table))
    assert [(r["scheme"], r.get("strict_xpass")) for r in got] == [
        ("a", True), ("b", False), ("c", True), ("d", True), ("e", None), ("f", None)]
    assert [r["scheme"] for r in got if mutants.is_bad(r)] == ["a", "c", "d"]
    assert [r["scheme"] for r in _run(got).bad_rows] == ["a", "c", "d"]
    assert mutants.read_rows(tmp_path / "missing.json") == []
    (tmp_path / "bad.json").write_text("{not json")
    assert mutants.read_rows(tmp_path / "bad.json") == []
    (tmp_path / "rows.json").write_text('{"rows": []}')
    assert mutants.read_rows(tmp_path / "rows.json") == []


@pytest.mark.parametrize(("outcome", "bad"), [("passed", False), ("xfailed", False), ("skipped", False),
                                              ("xpassed", False), ("failed", True), ("error", True)])
def test_is_bad(outcome, bad):
    assert mutants.is_bad(_row("s", "m", "e", outcome, findings=["f"] if outcome.startswith("x") else ())) is bad


def test_only_the_first_failing_rows_are_run_again_and_flaky_rows_come_from_the_control_run():
    rows = [_row("s", f"m{i}", "chromium", "failed") for i in range(5)]
    trial = _trial(rows, again=rows[1:2])
    assert trial.candidates == [("s", f"m{i}", "chromium") for i in range(mutants.CONFIRM_ROWS)]
    assert trial.confirmed() == [("s", "m1", "chromium")]
    control = _run([_row("s", "m1", "chromium", "passed"),
                    _row("s", "m1", "chromium", "failed", _diff("upload", "parts", "boom")),
                    _row("s", "m1", "chromium", "error", _diff("error", "call", "later"))])
    assert mutants.flaky_rows(control) == {("s", "m1", "chromium"): "failed: upload parts: boom"}
    assert mutants.flaky_rows(None) == {}
    assert mutants.trial_engines([("s", "m", "node")], ["chromium", "node"]) == ["node"]


def test_a_broken_confirm_run_is_reported_not_taken_for_a_survivor():
    idb = ("indexeddb", "mlp", "chromium")
    trial = _trial([_row(*idb, "failed", FLIP)])
    trial.confirm = mutants.Run("m", [], 1.0, 3, "INTERNALERROR> E   FileNotFoundError: x\nno tests ran", Path("/x"))
    rec = mutants.result_record(trial, {}, False)
    assert rec["status"] == "broken" and not rec["caught"]
    assert "confirm run broke" in rec["broken"] and "FileNotFoundError: x" in rec["broken"]


def test_scenario_files_follow_the_engines_and_rows():
    both = list(mutants.SCENARIOS)
    assert mutants.scenarios_for(["chromium", "node"]) == both
    assert mutants.scenarios_for(["node"]) == ["scenarios/test_roundtrip.py", "scenarios/test_contract.py"]  # quota: browsers
    assert mutants.scenarios_for(["chromium"], [("contract-empty-path", "mlp", "chromium")]) == ["scenarios/test_contract.py"]
    assert mutants.scenarios_for(["node"], [("promise-optimizers", "mlp", "node")]) == ["scenarios/test_contract.py"]
    assert mutants.scenarios_for(["node"], [("http", "graph", "node")]) == ["scenarios/test_roundtrip.py"]
    assert mutants.scenarios_for(["chromium"], [("quota-indexeddb", "mlp", "chromium")]) == ["scenarios/test_quota.py"]
    assert mutants.scenarios_for(["chromium", "node"], [("quota-indexeddb", "mlp", "chromium"),
                                                        ("http", "mlp", "node")]) == both[:2]
    cmd = mutants.command(Path("/b"), Path("/r"), ["node"], k="[http-graph-node]", keys=[("http", "graph", "node")])
    assert "scenarios/test_quota.py" not in cmd and cmd[cmd.index("-n") + 1] == "1"


def test_rows_keyword_selects_exact_rows():
    k = mutants.rows_keyword([("localstorage", "mlp", "chromium"), ("http", "graph", "node")])
    assert k == "[localstorage-mlp-chromium] or [http-graph-node]"  # not quota-localstorage-mlp-chromium
    assert mutants.rows_keyword([("http", "graph", "node")], repeated=True) == "[http-graph-node-r"
    cmd = mutants.command(Path("/b"), Path("/r"), ["node"], k="[http-graph-node-r", repeat=2)
    assert cmd[cmd.index("-k") + 1] == "[http-graph-node-r" and cmd[cmd.index("--repeat") + 1] == "2"
    assert "--repeat" not in mutants.command(Path("/b"), Path("/r"), ["node"])


def test_the_pristine_run_must_be_green_on_every_engine():
    green = _run([_row("http", "mlp", "chromium", "passed"), _row("http", "mlp", "node", "xfailed", findings=["f"])])
    mutants.check_pristine(green, ["chromium", "node"])
    # an intermittent finding that did not happen: the row ran, and is not a failure
    lucky = _run([_row("http", "mlp", "chromium", "passed"),
                  _row("http", "mlp", "node", "xpassed", findings=["f"], strict_xpass=False)])
    mutants.check_pristine(lucky, ["chromium", "node"])
    red = _run([_row("http", "mlp", "chromium", "failed", _diff("loaded", "$.x", "known", finding="f"),
                     _diff("upload", "parts", "missing")),
                _row("http", "mlp", "node", "passed")])
    with pytest.raises(mutants.PristineNotGreen, match=r"\(1 row\(s\) failed or errored\)") as e:
        mutants.check_pristine(red, ["chromium", "node"])
    assert str(e.value).splitlines()[-1] == "  FAILED http/mlp/chromium: upload parts: missing"
    stale = _run([_row("http", "mlp", "chromium", "passed"),
                  _row("http", "mlp", "node", "xpassed", _diff("expectation", "f", "stale", finding="f"), findings=["f"],
                       strict_xpass=True)])
    with pytest.raises(mutants.PristineNotGreen) as e:
        mutants.check_pristine(stale, ["chromium", "node"])
    assert str(e.value).splitlines()[-1] == "  XPASSED http/mlp/node: expectation f: stale"
    with pytest.raises(mutants.PristineNotGreen, match="no row ran on node"):
        mutants.check_pristine(_run([_row("http", "mlp", "chromium", "passed"), _row("http", "mlp", "node", "skipped")]),
                               ["chromium", "node"])
    with pytest.raises(mutants.PristineNotGreen, match="broke"):
        mutants.check_pristine(_run([], rc=None), ["chromium"])


def test_the_report_table_score_and_survivors():
    m1, m2 = mutants.CATALOGUE[0], mutants.CATALOGUE[1]
    failed = [_row("indexeddb", "mlp", "chromium", "failed", _diff("storage.weightData", "dense_1/kernel", "byte 0"))]
    caught = mutants.result_record(_trial(failed, again=failed, mutant=m1), {}, False)
    survived = mutants.result_record(_trial([_row("http", "mlp", "node", "passed")], mutant=m2), {}, True)
    pristine = {"bundle": "/n/tf.js", "rows": 10, "xfailed": 2, "duration_s": 50.0}
    text = mutants.format_report([caught, survived], pristine, wall_s=600, flaky={"q/mlp/chromium": "failed: boom"})
    lines = text.splitlines()
    header = next(ln for ln in lines if ln.startswith("mutant"))
    assert all(h in header for h in ("kind", "result", "failed rows", "time", "first failing row"))
    assert any(ln.startswith(m1.name) and "caught" in ln and "1/1" in ln
               and ln.endswith("indexeddb/mlp/chromium: storage.weightData dense_1/kernel: byte 0") for ln in lines)
    assert any(ln.startswith(m2.name) and "survived" in ln for ln in lines)
    assert f"{m1.name}: caught by 1 row(s) (1 confirmed), e.g." in text
    assert f"{m2.name}: SURVIVED (no row failed)" in text and m2.catch in text
    assert "pristine /n/tf.js: green (10 rows, 2 xfailed)" in text
    assert "    q/mlp/chromium: failed: boom" in text
    assert lines[-1] == "mutation score: 1/2 caught (wall time 10.0 min)"
    doc = mutants.document([caught, survived], pristine, ["chromium"], 600, {"q/mlp/chromium": "failed: boom"})
    assert doc["score"] == {"caught": 1, "total": 2} and doc["flaky"] == {"q/mlp/chromium": "failed: boom"}
    assert survived["results_dir"] == "/tmp/x"
    json.dumps(doc)


def test_first_difference_reads_the_rows_differences():
    assert mutants.first_difference(_row("s", "m", "e", "failed", _diff("a", "b", "c"), _diff("d", "e", "f"))) == "a b: c"
    assert mutants.first_difference(_row("s", "m", "e", "passed")) == ""
    assert mutants.first_difference({"detail": "AssertionError: 1 difference(s)\n  - a: b"}) == ""  # text is not parsed
    # a row with known findings: the difference they do not explain is the one the mutant made
    row = _row("localstorage", "metadata", "chromium", "failed",
               _diff("loaded", "$.signature", "expected {...}, got None", finding="signature-dropped"),
               _diff("loaded", "$.userDefinedMetadata", "expected {...}, got None"))
    assert mutants.first_difference(row) == "loaded $.userDefinedMetadata: expected {...}, got None"
    # every difference explained (a stale strict finding's record): the first one
    stale = _row("s", "m", "e", "xpassed", _diff("expectation", "f", "nothing happened", finding="f"), findings=["f"])
    assert mutants.first_difference(stale) == "expectation f: nothing happened"


def test_the_command_line_keeps_engines_and_diff(capsys, tmp_path):
    assert cli(["mutants", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(m.name in listed for m in mutants.CATALOGUE)
    assert cli(["mutants", "--only", "no-such-mutant"]) == 2
    assert "no-such-mutant" in capsys.readouterr().err
    assert cli(["mutants", "--only", mutants.CATALOGUE[0].name, "--list"]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    assert cli(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2  # unreadable: still the diff command
    with pytest.raises(SystemExit):
        cli(["engines", "--no-such-flag"])


def test_mutants_arguments():
    parser = argparse.ArgumentParser()
    mutants.add_arguments(parser)
    args = parser.parse_args(["--engine", "chromium", "--engine", "firefox", "--only", "a", "--keep", "/k"])
    assert args.engine == ["chromium", "firefox"] and args.only == ["a"] and args.keep == "/k" and not args.list
