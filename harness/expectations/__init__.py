"""Known findings: rows expected to fail because TF.js or an engine breaks its promise.

`scenarios/expectations.toml` lists them, each with the reason and a link. A matching row is run
as a strict xfail: it is reported `xfailed` with its evidence while it fails, and the run goes red
as soon as it passes (a stale expectation must be noticed and removed), unless it is marked
`intermittent` (then a pass is reported as passed).

    [[finding]]
    scheme = "browser-http-request"  # a scheme, a list of schemes, or "*": every scheme
    except_schemes = ["save-result"]  # optional, with "*"
    engines = ["chromium"]          # optional: every engine when absent
    models = ["mlp"]                # optional: every model when absent
    formats = ["graph-model"]       # optional: models of these model.json formats (zoo or --model)
    tfjs = ["4.22.0"]               # optional: every TF.js version when absent
    intermittent = true             # optional: it fails only sometimes, so a pass is not an error
    differences = ["$.signature"]   # optional: text every difference must contain (any of them);
                                    # a difference outside this list fails the row as usual
    reason = "what breaks, and why"
    link = "https://github.com/tensorflow/tfjs/issues/..."
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from harness.paths import EXPECTATIONS

DEFAULT = EXPECTATIONS
_KEYS = {"scheme", "except_schemes", "formats", "engines", "models", "tfjs", "intermittent", "differences", "reason", "link"}


class KnownFinding(AssertionError):
    """Only the differences a known finding explains: the row is xfailed with this evidence."""


@dataclasses.dataclass(frozen=True)
class Finding:
    scheme: tuple[str, ...]  # ("*",) for every scheme
    reason: str
    link: str
    engines: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tfjs: tuple[str, ...] = ()
    intermittent: bool = False
    differences: tuple[str, ...] = ()
    except_schemes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()

    def covers(self, difference) -> bool:
        return not self.differences or any(text in str(difference) for text in self.differences)

    def matches(self, scheme: str, engine: str, model: str, tfjs: str, format: str = "") -> bool:
        return (
            (not self.formats or format in self.formats)
            and
            ("*" in self.scheme or scheme in self.scheme)
            and scheme not in self.except_schemes
            and (not self.engines or engine in self.engines)
            and (not self.models or model in self.models)
            and (not self.tfjs or tfjs in self.tfjs)
        )

    def describe(self) -> str:
        return f"known finding: {self.reason} ({self.link})"


def load(path: Path = DEFAULT) -> list[Finding]:
    if not path.exists():
        return []
    with open(path, "rb") as f:
        entries = tomllib.load(f).get("finding", [])
    findings = []
    for i, entry in enumerate(entries):
        unknown = set(entry) - _KEYS
        missing = {"scheme", "reason", "link"} - set(entry)
        if unknown or missing:
            raise ValueError(f"{path}: finding #{i + 1}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
        schemes = (entry["scheme"],) if isinstance(entry["scheme"], str) else tuple(entry["scheme"])
        findings.append(Finding(schemes, entry["reason"], entry["link"], tuple(entry.get("engines", ())),
                                tuple(entry.get("models", ())), tuple(entry.get("tfjs", ())),
                                bool(entry.get("intermittent", False)), tuple(entry.get("differences", ())),
                                tuple(entry.get("except_schemes", ())), tuple(entry.get("formats", ()))))
    return findings


def judge(findings: list[Finding], differences: list, summary: str) -> None:
    """Fail the row on any difference, as KnownFinding when the row's findings explain every one."""
    if not differences:
        return
    unexplained = [d for d in differences if not any(f.covers(d) for f in findings)]
    if findings and not unexplained:
        raise KnownFinding(summary)
    if findings:
        summary += "\nnot explained by this row's known findings:\n" + "\n".join(f"  - {d}" for d in unexplained)
    raise AssertionError(summary)


def match(findings: list[Finding], scheme: str, engine: str, model: str, tfjs: str, format: str = "") -> list[Finding]:
    """Every finding that applies to the row."""
    return [f for f in findings if f.matches(scheme, engine, model, tfjs, format)]
