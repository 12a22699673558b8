"""Where a row's time goes outside its page steps, measured where it is spent: the engine opening pages
(`open`: a navigation with TF.js executing there, the storage reset and its check, a context started, a
browser launched on a profile) and the engine being waited for between steps (`wait`: downloads arriving,
a reload). What is left of a row's test time, beside these and its in-page time, is the harness's own:
pytest, Python's checks and records, the driver's round trips (harness.report.text.timing).

One clock per process, reset when a test's setup starts (harness.pytest.rows): a pytest process runs one
test at a time, and a row's pages may be opened by fixtures and by the test itself, so the clock is not
handed along but found here.
"""

from __future__ import annotations

import contextlib
import time

KINDS = ("open", "wait")
_spent = dict.fromkeys(KINDS, 0.0)
_depth = dict.fromkeys(KINDS, 0)


def reset() -> None:
    for kind in KINDS:
        _spent[kind] = 0.0


def spent() -> dict[str, float]:
    """Seconds of each kind since the last reset."""
    return dict(_spent)


@contextlib.contextmanager
def timed(kind: str):
    """Count the time inside as `kind` (once: a timed call inside another of its kind is not counted twice)."""
    if kind not in _spent:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    _depth[kind] += 1
    started = time.monotonic()
    try:
        yield
    finally:
        _depth[kind] -= 1
        if _depth[kind] == 0:
            _spent[kind] += time.monotonic() - started
