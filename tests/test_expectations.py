"""Known findings: which rows they apply to, exactly which differences they explain (by field, never
by searching text), the verdicts, and the checked-in expectations file itself."""

import dataclasses

import pytest

from harness import expectations
from harness.expectations import Explains, Row
from harness.schemes.negative import HAZARDS
from harness.schemes.promises import HAZARDS as PROMISE_HAZARDS
from harness.trip.compare import Difference

TOML = '''
[[finding]]
id = "file-node-graph-weights"
kind = "tfjs-bug"
title = "file:// writes one byte of a graph model's weights"
promise = "types.ts: weightData may be an Array of ArrayBuffers"
link = "https://example.invalid/1"
reason = "evidence"
scheme = ["file-node", "node-to-browser"]
formats = ["graph-model"]
explains = [
  {what = "tfjs-error", path = "load", message = "multiple of 4"},
  {what = "file.weightData", path = "*", message = "^truncated: 0 of"},
]

[[finding]]
id = "download-drop"
kind = "engine-bug"
title = "the first of two downloads is lost"
promise = "the guide: Two files will be produced"
link = "https://example.invalid/2"
reason = "evidence"
scheme = ["downloads", "browser-to-node"]
engines = ["webkit"]
builds = ["system"]
intermittent = true
explains = [{what = "downloads", path = "files", message = "^only the weights file .*\\\\.weights\\\\.bin arrived"}]

[[finding]]
id = "embedding-dtype-added"
kind = "tfjs-bug"
title = "an Embedding gains dtype on its second save"
promise = "model_save_test 'Save-load round trips'"
link = "https://example.invalid/3"
reason = "evidence"
scheme = "*"
except_schemes = ["save-result"]
models = ["embedding"]
explains = [{what = "*loaded", path = "$.modelTopology.config.layers[0].config.dtype"}]

[[finding]]
id = "browser-files-topology-only"
kind = "hazard"
title = "browserFiles([model.json]) loads the topology only"
promise = "browser_files_test 'Upload model topology only'"
link = "https://example.invalid/4"
reason = "evidence"
'''


@pytest.fixture
def findings(tmp_path):
    path = tmp_path / "expectations.toml"
    path.write_text(TOML)
    return expectations.load(path)


def row(scheme="indexeddb", engine="chromium", model="mlp", fmt="layers-model", build="system", **kw):
    return Row(scheme=scheme, engine=engine, model=model, tfjs="4.22.0", format=fmt, build=build, **kw)


def by_id(findings, fid):
    return next(f for f in findings if f.id == fid)


# -- which rows --------------------------------------------------------------------------------------


def test_a_finding_applies_by_scheme_engine_build_model_and_format(findings):
    assert [f.id for f in expectations.match(findings, row("file-node", "node", "graph", "graph-model"))] == [
        "file-node-graph-weights"]
    assert expectations.match(findings, row("file-node", "node", "mlp")) == []  # a layers model
    assert [f.id for f in expectations.match(findings, row("downloads", "webkit"))] == ["download-drop"]
    assert expectations.match(findings, row("downloads", "webkit", build="playwright")) == []  # Playwright's WebKit
    assert expectations.match(findings, row("downloads", "firefox")) == []
    assert [f.id for f in expectations.match(findings, row("http", model="embedding"))] == ["embedding-dtype-added"]
    assert expectations.match(findings, row("save-result", model="embedding")) == []


def test_a_hazard_never_applies_to_rows(findings):
    hazard = by_id(findings, "browser-files-topology-only")
    assert not any(hazard.applies(row(s)) for s in ("negative-browser-files", "browser-files", "http"))


def test_exceeds_applies_only_to_models_over_the_medium(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(TOML.split("[[finding]]")[0] + '''[[finding]]
id = "over-capacity"
kind = "capacity"
title = "t"
promise = "p"
link = ""
reason = "r"
scheme = "localstorage"
exceeds = ["localstorage"]
explains = [{what = "save-result.tfjs-error", path = "save"}]
''')
    (f,) = expectations.load(path)
    assert f.applies(row("localstorage", model="big", exceeds=("localstorage",)))
    assert not f.applies(row("localstorage", model="mlp"))
    # a capacity finding that would apply whatever the model's size is refused: it must say which medium
    path.write_text(path.read_text().replace('exceeds = ["localstorage"]\n', ""))
    with pytest.raises(expectations.FindingsError, match="capacity finding applies by the media"):
        expectations.load(path)
    path.write_text(path.read_text().replace('scheme = "localstorage"', 'when = [{scheme = "localstorage", exceeds = '
                                             '["localstorage"]}, {scheme = "model-management"}]'))
    with pytest.raises(expectations.FindingsError, match="needs exceeds"):
        expectations.load(path)


# -- which differences: by field, exactly --------------------------------------------------------


def test_an_exact_path_does_not_explain_a_longer_one(findings):
    f = by_id(findings, "file-node-graph-weights")
    assert f.covers(Difference("tfjs-error", "load", "RangeError: byte length of Float32Array should be a multiple of 4"))
    # the golden itself failing to load is another failure (the old substring match explained it)
    assert not f.covers(Difference("tfjs-error", "load-golden", "RangeError: byte length ... multiple of 4"))
    assert not f.covers(Difference("copy.tfjs-error", "load", "RangeError: multiple of 4"))


def test_the_message_regex_must_match_too(findings):
    f = by_id(findings, "file-node-graph-weights")
    assert f.covers(Difference("file.weightData", "dense/kernel", "truncated: 0 of 32 bytes present at byte 0"))
    assert not f.covers(Difference("file.weightData", "dense/kernel", "float32 [2, 4]: first difference at element 3"))


def test_brackets_and_dots_in_a_path_are_literal(findings):
    f = by_id(findings, "embedding-dtype-added")
    assert f.covers(Difference("loaded", "$.modelTopology.config.layers[0].config.dtype", "missing"))
    assert f.covers(Difference("copy.loaded", "$.modelTopology.config.layers[0].config.dtype", "missing"))
    # a dtype change on any other layer is another failure (the old "config.dtype" text explained it)
    assert not f.covers(Difference("loaded", "$.modelTopology.config.layers[1].config.dtype", "expected 'float32'"))
    assert not f.covers(Difference("loaded", "$.modelTopology.config.layers0.config.dtype", "missing"))
    assert not f.covers(Difference("loaded.weightData", "embedding/embeddings", "config.dtype"))


def test_a_finding_pinned_to_what_it_documents_explains_nothing_else(findings):
    drop = by_id(findings, "download-drop")
    assert drop.covers(Difference("downloads", "files", "only the weights file m.weights.bin arrived; m.json missing"))
    # 0 of 2, or the other file alone: not what the finding documents
    assert not drop.covers(Difference("downloads", "files", "neither m.json nor m.weights.bin arrived"))
    assert not drop.covers(Difference("downloads", "files", "only the model file m.json arrived; m.weights.bin missing"))


def test_words_in_a_message_or_a_url_explain_nothing():
    """The old entries matched "quota", "localstorage" and "hang" anywhere in the difference's text."""
    quota = Explains("save-result.tfjs-error", "save", "size quota being exceeded")
    corrupt = Difference("storage.weightData", "dense/kernel", "weights of localstorage://mlp-quota differ (quota test)")
    assert not quota.covers(corrupt)
    assert not Explains("hang", "*").covers(Difference("loaded", "$.format", "the format changed"))


@pytest.mark.parametrize("pattern, value, matches", [
    ("load", "load", True), ("load", "load-golden", False), ("*loaded", "copy.loaded", True),
    ("*loaded", "loaded.weightData", False), ("listModels[*]", "listModels[localstorage://a]", True),
    ("a.b", "aXb", False), ("$.x[0]", "$.x[0]", True), ("$.x[0]", "$.x0", False),
])
def test_patterns(pattern, value, matches):
    assert Explains(pattern, "*").covers(Difference(value, "p", "m")) is matches


# -- verdicts --------------------------------------------------------------------------------------


def test_verdicts(findings):
    f = [by_id(findings, "file-node-graph-weights")]
    known = Difference("tfjs-error", "load", "RangeError: multiple of 4")
    other = Difference("loaded", "$.format", "expected 'graph-model', got None")
    assert expectations.judge([], []).outcome == "passed"
    assert expectations.judge([], [other]).outcome == "failed"
    xfailed = expectations.judge(f, [known])
    assert xfailed.outcome == "xfailed" and xfailed.records()[0]["finding"] == "file-node-graph-weights"
    mixed = expectations.judge(f, [known, other])
    assert mixed.outcome == "failed" and mixed.unexplained() == [other]
    assert [r.get("finding") for r in mixed.records()] == ["file-node-graph-weights", None]
    stale = expectations.judge(f, [])
    assert stale.outcome == "xpassed" and stale.strict_stale


def test_a_row_explained_by_capacity_alone_is_a_capacity_verdict(findings):
    capacity = dataclasses.replace(by_id(findings, "file-node-graph-weights"), id="too-big", kind="capacity",
                                   explains=(Explains("save.tfjs-error", "save"),))
    refused = Difference("save.tfjs-error", "save", "QuotaExceededError")
    known = Difference("tfjs-error", "load", "RangeError: multiple of 4")
    other = Difference("loaded", "$.format", "expected 'graph-model', got None")
    verdict = expectations.judge([capacity, by_id(findings, "file-node-graph-weights")], [refused])
    assert verdict.outcome == "capacity" and [f.id for f in verdict.explaining] == ["too-big"]
    # a bug explains part of it: the row is a known finding, not a capacity verdict
    assert expectations.judge([capacity, by_id(findings, "file-node-graph-weights")], [refused, known]).outcome == "xfailed"
    assert expectations.judge([capacity], [refused, other]).outcome == "failed"  # it does not fit, and something else broke
    assert expectations.judge([capacity], []).outcome == "xpassed"  # the model fitted after all: stale


def test_an_intermittent_finding_that_does_not_happen_is_not_stale(findings):
    verdict = expectations.judge([by_id(findings, "download-drop")], [])
    assert verdict.outcome == "xpassed" and not verdict.strict_stale


# -- the file --------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, error", [
    ('enigne = ["chromium"]', "enigne"),
    ('kind = "bug"', "kind"),
    ('id = "Not An Id"', "id must be"),
])
def test_malformed_entries_are_refused(tmp_path, change, error):
    entry = TOML.split("[[finding]]")[1]
    key = change.split(" = ")[0]
    lines = [ln for ln in entry.splitlines() if not ln.startswith(f"{key} =")] if key in ("kind", "id") else entry.splitlines()
    path = tmp_path / "e.toml"
    path.write_text("[[finding]]\n" + "\n".join([change, *lines]) + "\n")
    with pytest.raises(expectations.FindingsError, match=error):
        expectations.load(path)


def test_a_hazard_with_explains_and_two_entries_with_one_id_are_refused(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(TOML + '\nexplains = [{what = "x", path = "y"}]\n')  # appended to the hazard entry
    with pytest.raises(expectations.FindingsError, match="hazard"):
        expectations.load(path)
    path.write_text(TOML + TOML.split("\n[[finding]]")[1].join(["\n[[finding]]", ""]))
    with pytest.raises(expectations.FindingsError, match="used twice"):
        expectations.load(path)


CHECKED_IN = expectations.load()


def test_the_checked_in_expectations_load_and_say_what_they_break():
    assert CHECKED_IN
    for f in CHECKED_IN:
        assert f.kind in expectations.KINDS
        assert f.promise.strip() and not f.promise.startswith("(to be written"), f.id
        assert f.link.startswith("https://"), f"{f.id}: every finding links to its promise or evidence"
        assert f.title and len(f.title) <= 160, f.id


def test_every_hazard_a_scheme_reports_is_described():
    described = {f.id for f in CHECKED_IN if f.kind == "hazard"}
    assert set(HAZARDS) | set(PROMISE_HAZARDS) <= described


def _variants(pattern: str) -> list[str]:
    """Values one step away from what `pattern` names: a suffix added (unless it ends in *), a prefix
    added (unless it starts with *)."""
    concrete = pattern.replace("*", "x")
    return ([f"{concrete}-golden"] if not pattern.endswith("*") else []) + (
        [f"other-{concrete}"] if not pattern.startswith("*") else [])


@pytest.mark.parametrize("finding", [f for f in CHECKED_IN if f.kind != "hazard"], ids=lambda f: f.id)
def test_every_checked_in_finding_explains_no_near_miss(finding):
    """Each entry explains only what it documents: its `what` and `path` do not match a value one step
    away from what they name, and its message regex (if any) does not match an unrelated message that
    has every word the old substring entries matched on."""
    for e in finding.explains:
        where = Explains(e.what, e.path)  # the message aside: what and path alone must be exact
        concrete_what, concrete_path = e.what.replace("*", "x"), e.path.replace("*", "x")
        for what in _variants(e.what):
            assert not where.covers(Difference(what, concrete_path, "m")), f"{finding.id}: {e} explains what={what!r}"
        for path in _variants(e.path):
            assert not where.covers(Difference(concrete_what, path, "m")), f"{finding.id}: {e} explains path={path!r}"
        if e.message is not None:
            unrelated = Difference(concrete_what, concrete_path, "localstorage quota hang changed load did not deliver "
                                                               "both files config.dtype tfjs-error load")
            assert not e.covers(unrelated), f"{finding.id}: {e} explains an unrelated message"
        assert e.path != "*" or e.message is not None, f"{finding.id}: {e}: a path of * needs a message regex"
