"""Known findings: rows expected to fail because TF.js or an engine breaks its promise.

`scenarios/expectations.toml` lists them, each with the reason and a link. A matching row is run
as a strict xfail: it is reported `xfailed` with its evidence while it fails, and the run goes red
as soon as it passes (a stale expectation must be noticed and removed).

    [[finding]]
    scheme = "browser-http-request"
    engines = ["chromium"]          # optional: every engine when absent
    models = ["mlp"]                # optional: every model when absent
    tfjs = ["4.22.0"]               # optional: every TF.js version when absent
    reason = "what breaks, and why"
    link = "https://github.com/tensorflow/tfjs/issues/..."
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from harness.config import REPO

DEFAULT = REPO / "scenarios" / "expectations.toml"
_KEYS = {"scheme", "engines", "models", "tfjs", "reason", "link"}


@dataclasses.dataclass(frozen=True)
class Finding:
    scheme: str
    reason: str
    link: str
    engines: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tfjs: tuple[str, ...] = ()

    def matches(self, scheme: str, engine: str, model: str, tfjs: str) -> bool:
        return (
            scheme == self.scheme
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
        findings.append(Finding(entry["scheme"], entry["reason"], entry["link"], tuple(entry.get("engines", ())),
                                tuple(entry.get("models", ())), tuple(entry.get("tfjs", ()))))
    return findings


def match(findings: list[Finding], scheme: str, engine: str, model: str, tfjs: str) -> Finding | None:
    return next((f for f in findings if f.matches(scheme, engine, model, tfjs)), None)
