"""Where a row's artifacts live: `test-results/<test_dir_name(nodeid)>/` (diff.txt, trace.zip, *.json, *.bin).

The plugin writes a failing row's files there and the reports (harness.report.html) link to them, so
both sides name the directory with `test_dir_name` and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

MAX_NAME = 150  # the longest directory name test_dir_name returns
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def test_dir_name(nodeid: str) -> str:
    """A filesystem-safe, deterministic, readable directory name for a pytest node id.

    Every run of characters outside [A-Za-z0-9._-] becomes one "_", runs of "_" collapse, and "." and
    "_" are stripped from both ends (no hidden directory, no "." or ".."). A name longer than MAX_NAME
    is cut to MAX_NAME - 9 characters plus "-" and the first 8 hex digits of the node id's SHA-1, so it
    never exceeds MAX_NAME and two long ids sharing a prefix stay apart:

        scenarios/test_roundtrip.py::test_roundtrip[indexeddb-mlp-chromium]
        -> scenarios_test_roundtrip.py_test_roundtrip_indexeddb-mlp-chromium
    """
    name = re.sub(r"_{2,}", "_", _UNSAFE.sub("_", nodeid)).strip("._")
    if not name:
        return "test-" + _digest(nodeid)
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME - 9].rstrip("._") + "-" + _digest(nodeid)
    return name


# Not a test, although pytest would collect a module-level test_* function imported into a test module.
test_dir_name.__test__ = False  # type: ignore[attr-defined]


def test_dir(results_dir: Path, nodeid: str) -> Path:
    """The directory holding the artifacts of test `nodeid` (not created)."""
    return Path(results_dir) / test_dir_name(nodeid)


test_dir.__test__ = False  # type: ignore[attr-defined]


def files(results_dir: Path, nodeid: str) -> list[Path]:
    """Every file under test `nodeid`'s artifact directory, as paths relative to that directory,
    sorted; [] when the directory does not exist."""
    root = test_dir(results_dir, nodeid)
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
