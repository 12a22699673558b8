"""Engines: one declarative module each, one driver per protocol, discovery that says what it found.

Browsers (chromium, firefox, webkit) and Node (`node`, host="node": TF.js in Node, no page)."""

from harness.engines import chromium, firefox, node, webkit
from harness.engines.base import Build, Driver, EngineError, EngineInfo, EngineSpec, Page, StepTimeout

ENGINES: dict[str, EngineSpec] = {e.name: e for e in (chromium.ENGINE, firefox.ENGINE, webkit.ENGINE, node.ENGINE)}

__all__ = ["ENGINES", "Build", "Driver", "EngineError", "EngineInfo", "EngineSpec", "Page", "StepTimeout"]
