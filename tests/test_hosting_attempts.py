"""The hosting rows' judgement (harness.schemes.hosting): how an attempt's outcome is classed, that a
host serving other bytes with status 200 is caught as such on a real engine, and the error-attribution
table the reports draw from the rows (harness.report.hosting)."""

from __future__ import annotations

import json

import pytest

from harness import expectations
from harness.report import hosting as attribution
from harness.report import html
from harness.schemes.hosting import Expect, Hosted, classify, names_url
from harness.server.hosting import Rule

SHARD = "http://127.0.0.1:9/hosted/abc/f/group1-shard1of1.bin"


def rejected(message: str, phase: str = "load", name: str = "Error") -> dict:
    return {"outcome": "rejected", "error": {"name": name, "message": message, "phase": phase}}


@pytest.mark.parametrize("message, status, want", [
    (f"Request to {SHARD} failed with status code 404", 404, "clear"),
    (f"Request to {SHARD}?token=x failed with status code 404", 404, "clear"),  # the query is not the URL's point
    (f"Request to {SHARD} failed", 404, "partial"),  # the URL, not the status
    ("Request failed with status code 404", 404, "partial"),  # the status, not the URL
    ("byte length of Float32Array should be a multiple of 4", 404, "vague"),
    ("port 404 of 127.0.0.1:9404", 404, "vague"),  # a 404 that is not named as a status
    (f"Failed to fetch {SHARD}", None, "clear"),  # no status reached the page: the URL is what it can name
    ("Failed to fetch", None, "vague"),
    ("Request to http://127.0.0.1:9/hosted/abc/f/model.json failed with status code 404", 404, "partial"),  # another file
])
def test_a_rejection_is_classed_by_what_it_names(message, status, want):
    assert classify(rejected(message), [SHARD], status, differs=False) == want


def test_a_resolved_load_is_exact_or_silent_corruption_and_a_later_failure_is_corruption():
    assert classify({"outcome": "resolved", "value": {}}, [SHARD], 404, differs=False) == "exact"
    assert classify({"outcome": "resolved", "value": {}}, [SHARD], 404, differs=True) == "silent-corruption"
    assert classify(rejected(f"axis out of range {SHARD} 404", phase="predict"), [SHARD], 404, False) == "silent-corruption"
    assert classify({"outcome": "hang", "error": {"name": "DeadlineExceeded", "message": "", "phase": "load"}},
                    [SHARD], 404, False) == "hang"


def test_names_url_needs_the_path_not_only_the_host():
    assert names_url("GET http://127.0.0.1:9/hosted/abc/f/group1-shard1of1.bin -> 404", [SHARD])
    assert not names_url("GET http://127.0.0.1:9/ -> 404", [SHARD])
    assert not names_url("anything", [])


@pytest.mark.hosts("browser", "node")
async def test_a_shard_served_with_other_bytes_is_caught_by_the_comparison(engine_name, make_trip):
    """A host answering 200 with one byte changed: the load 'works', and only the golden says it is wrong."""
    trip = make_trip("graph")
    files = trip.golden.files()
    shard = json.loads(files["model.json"])["weightsManifest"][0]["paths"][0]
    changed = bytearray(files[shard])
    changed[3] ^= 0x10
    slot = trip.server.hosting.open(files)
    slot.rules[shard] = Rule(status=200, body=bytes(changed), content_type="application/octet-stream")
    hosted = Hosted(trip, slot, trip.server.cdn_url)
    try:
        as_load = await hosted.attempt("as-load", "one byte changed", {"kind": "url", "url": hosted.url("model.json")},
                                       Expect.load())
        as_reject = await hosted.attempt("as-reject", "one byte changed", {"kind": "url", "url": hosted.url("model.json")},
                                         Expect.reject(shard, 404))
    finally:
        trip.close()
    assert any("weight" in d.what.lower() or "tensors" in d.what for d in as_load), as_load
    assert [d.what for d in as_reject] == ["silent-corruption"]
    assert trip.observed["hosting"]["as-reject"]["class"] == "silent-corruption"
    assert [r["status"] for r in trip.observed["hosting"]["as-load"]["requests"]] == [200, 200]


def row(engine, profile, model, attempts, outcome="xfailed"):
    return {"engine": engine, "scheme": "http-hosted", "model": model, "hosting": profile, "outcome": outcome,
            "differences": [], "observed": {"hosting": attempts}}


def seen(kind, cls, message=None):
    return {"expect": {"kind": kind}, "class": cls, **({"error": {"name": "TypeError", "message": message}} if message else {})}


def test_the_attribution_table_has_a_line_per_attempt_and_says_what_each_engine_did():
    results = [
        {"engine": "chromium", "scheme": "indexeddb", "model": "mlp", "outcome": "passed"},  # not a hosting row
        row("chromium", "truncated", "sharded", {"connection-closed": seen("reject", "vague", "Failed to fetch")}),
        row("chromium", "truncated", "graph", {"connection-closed": seen("reject", "vague", "Failed to fetch")}),
        row("node", "truncated", "sharded", {"connection-closed": seen("reject", "vague", "terminated")}),
        row("node", "cors-partial", "sharded", {"shards-without-cors": seen("load", "exact")}, "passed"),
        row("chromium", "cors-partial", "sharded", {"shards-without-cors": seen("reject", "vague", "Failed to fetch")}),
        row("node", "service-worker-cache", "graph", {}, "skipped") | {"differences": [{"message": "no service worker"}]},
    ]
    table = attribution.attribution(results)
    assert table.engines == ["chromium", "node"]
    text = attribution.markdown(table)
    assert "| truncated | connection-closed | reject | **vague**: `TypeError: Failed to fetch` | **vague**: " \
           "`TypeError: terminated` |" in text
    assert "| cors-partial | shards-without-cors | reject (node: load) | **vague**" in text
    assert "service-worker-cache on node: skipped (no service worker)" in text
    assert attribution.attribution(results[:1]) is None


def test_report_html_shows_the_attribution_table_and_a_matrix_line_per_profile(tmp_path):
    doc = {"schema": 3, "results": [
        {**row("chromium", "redirect", "graph", {"same-origin": seen("load", "exact")}, "passed"),
         "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0", "findings": [], "hazards": [],
         "detail": "", "test": "t1"},
        {**row("chromium", "truncated", "graph", {"connection-closed": seen("reject", "vague", "Failed to fetch")}),
         "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0", "findings": [], "hazards": [],
         "detail": "", "test": "t2"},
    ]}
    page = html.render(doc, tmp_path)
    assert '<section id="hosting">' in page and "connection-closed" in page and "Failed to fetch" in page
    assert "http-hosted · redirect" in page and "http-hosted · truncated" in page


def test_a_finding_can_be_narrowed_to_hosting_profiles():
    finding = expectations.Finding("x", "tfjs-bug", "t", "p", "l", "r", where=expectations.When(
        scheme=("http-hosted",), hostings=("truncated",)), explains=(expectations.Explains("vague", "*"),))
    key = dict(scheme="http-hosted", engine="node", model="graph", tfjs="4.22.0")
    assert finding.applies(expectations.Row(**key, hosting="truncated"))
    assert not finding.applies(expectations.Row(**key, hosting="redirect"))
    assert not finding.applies(expectations.Row(**key))  # plain
