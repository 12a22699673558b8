"""Reads `playwright.config`, the engine matrix (TOML): which builds to try per engine, extra args."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "playwright.config"
JS_DIR = REPO / "harness" / "js"  # page-side and Node-side JavaScript


@dataclasses.dataclass(frozen=True)
class EngineEntry:
    name: str
    builds: tuple[str, ...]
    args: tuple[str, ...] = ()
    executable: str | None = None  # overrides the system build's executable


def load_matrix(path: Path = DEFAULT_CONFIG) -> dict[str, EngineEntry]:
    """The engines declared in the config, in file order. Unknown keys are an error, not ignored."""
    from harness.engines import ENGINES

    with open(path, "rb") as f:
        data = tomllib.load(f)
    entries = {}
    for name, table in data.get("engines", {}).items():
        if name not in ENGINES:
            raise ValueError(f"{path}: unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
        unknown = set(table) - {"builds", "args", "executable"}
        if unknown:
            raise ValueError(
                f"{path}: [engines.{name}] has unknown keys {sorted(unknown)}; allowed: builds, args, executable"
            )
        builds = tuple(table.get("builds", ENGINES[name].builds))
        bad = [b for b in builds if b not in ENGINES[name].builds]
        if bad:
            raise ValueError(f"{path}: [engines.{name}] builds {bad} unknown; {name} has {list(ENGINES[name].builds)}")
        entries[name] = EngineEntry(name, builds, tuple(table.get("args", ())), table.get("executable"))
    return entries
