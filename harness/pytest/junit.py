"""JUnit XML (--junitxml) for intermittent rows: Surefire's `flakyFailure`.

pytest's junitxml reports an xfailed row as skipped. A row whose differences are all explained by
intermittent findings failed this time but is known to pass at other times: CI dashboards that read
Surefire's schema (Jenkins, GitLab, Buildkite...) show it as flaky when the testcase carries

    <flakyFailure message="known intermittent finding webkitgtk-download-drop" type="intermittent">
      the row's differences</flakyFailure>
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from _pytest.junitxml import xml_key


def intermittent_failure(row: dict, findings: dict) -> list[str]:
    """The intermittent finding ids behind an xfailed row, when every explaining finding is one ([] otherwise)."""
    ids = row.get("findings") or []
    if row.get("outcome") != "xfailed" or not ids:
        return []
    return ids if all((findings.get(i) or {}).get("intermittent") for i in ids) else []


def add_flaky_failure(config: pytest.Config, report: pytest.TestReport, row: dict, findings: dict) -> bool:
    """Give the row's testcase a flakyFailure element when it is an intermittent failure; True if it did.
    Call it for the teardown report, before junitxml's own hook finalises the testcase."""
    xml = config.stash.get(xml_key, None)
    ids = intermittent_failure(row, findings)
    if xml is None or not ids:
        return False
    element = ET.Element("flakyFailure", message=f"known intermittent finding {', '.join(ids)}", type="intermittent")
    element.text = row.get("detail") or ""
    xml.node_reporter(report).append(element)
    return True
