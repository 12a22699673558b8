"""JUnit XML: an xfailed row whose findings are all intermittent carries Surefire's flakyFailure; a row
xfailed by a strict finding does not; and the rows' data never leaks into the XML as properties."""

import xml.etree.ElementTree as ET

SCENARIO = '''
import pytest
from harness.trip import roundtrip
from harness.trip.compare import Difference


class Fake:
    hosts, models = ("node",), None

    def __init__(self, name):
        self.name = name

    async def run(self, trip):
        return [Difference("fake", "x", "documented")]

    def __str__(self):
        return self.name


@pytest.mark.conformance(schemes=[Fake("fake-intermittent"), Fake("fake-strict")], models=["mlp"])
async def test_fake(scheme, model, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme, make_trip(model), known_findings, engine_name)
'''
FINDINGS = '''
[[finding]]
id = "sometimes"
kind = "engine-bug"
title = "t"
promise = "p"
link = "https://example.invalid/1"
reason = "r"
scheme = "fake-intermittent"
intermittent = true
explains = [{what = "fake", path = "x"}]

[[finding]]
id = "always"
kind = "tfjs-bug"
title = "t"
promise = "p"
link = "https://example.invalid/2"
reason = "r"
scheme = "fake-strict"
explains = [{what = "fake", path = "x"}]
'''


def test_an_intermittent_xfail_is_a_flaky_failure_in_junit(harness_ini, tmp_path):
    harness_ini.makepyfile(test_fake=SCENARIO)
    findings = tmp_path / "e.toml"
    findings.write_text(FINDINGS)
    junit = tmp_path / "junit.xml"
    result = harness_ini.runpytest_subprocess("-p", "no:cacheprovider", "test_fake.py", "--engine", "node",
                                              "--expectations", str(findings), "--results-dir", str(tmp_path / "r"),
                                              f"--junitxml={junit}", timeout=300)
    result.assert_outcomes(xfailed=2)
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    flaky = cases["test_fake[fake-intermittent-mlp-node]"].findall("flakyFailure")
    assert len(flaky) == 1
    assert flaky[0].get("message") == "known intermittent finding sometimes" and flaky[0].get("type") == "intermittent"
    assert "fake x: documented" in flaky[0].text
    assert cases["test_fake[fake-strict-mlp-node]"].findall("flakyFailure") == []
    names = [p.get("name") for c in cases.values() for p in c.iter("property")]
    assert "conformance_row" not in names
