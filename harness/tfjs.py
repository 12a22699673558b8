"""The TF.js builds the harness can serve to a page: npm packages installed in node_modules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from harness.config import REPO

NODE_MODULES = REPO / "node_modules"


@dataclasses.dataclass(frozen=True)
class TfjsBuild:
    version: str  # what reports call it, e.g. "4.22.0"
    source: str  # where it came from, e.g. "npm:@tensorflow/tfjs@4.22.0"
    dist: Path  # the folder holding tf.min.js

    @property
    def bundle(self) -> Path:
        return self.dist / "tf.min.js"

    def as_row(self) -> dict:
        return {"version": self.version, "source": self.source}


def installed(node_modules: Path = NODE_MODULES) -> TfjsBuild:
    """The TF.js union package installed by `npm ci`, or a clear error saying how to get it."""
    pkg = node_modules / "@tensorflow" / "tfjs"
    try:
        meta = json.loads((pkg / "package.json").read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"TF.js is not installed: {pkg}/package.json is missing; run `npm ci` (or `make setup`)")
    build = TfjsBuild(meta["version"], f"npm:{meta['name']}@{meta['version']}", pkg / "dist")
    if not build.bundle.exists():
        raise FileNotFoundError(f"TF.js {build.version} has no UMD bundle at {build.bundle}")
    return build
