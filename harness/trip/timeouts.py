"""Every deadline of the harness, in one place, scaled by one multiplier (wptrunner's
`--timeout-multiplier`): a loaded CI machine or a remote grid gets more time without a code change.

    timeouts.set_multiplier(2.0)       # pytest_configure, from --timeout-multiplier
    timeouts.scaled(timeouts.STEP_S)   # 120.0

The figures are the unscaled defaults, measured on a 2-core machine (see README, "Stability and
where the time goes").
"""

from __future__ import annotations

LAUNCH_S = 30.0  # starting a WebDriver session (the browser with it)
PAGE_OPEN_S = 60.0  # opening the harness page: navigation, TF.js ready, storage reset
STEP_S = 60.0  # one page step (a save, a load with its prediction and capture)
STEP_GRACE_S = 15.0  # beyond the drivers' own deadlines (timeout + 5 s): only a stuck driver reaches it
TFJS_CALL_S = 10.0  # one TF.js call that must settle (a refused save or load, a copy, a move): else "hang"
DOWNLOAD_S = 5.0  # both files of a downloads:// save (a few MB land within 0.3 s; 10 MB under 1 s)
LARGE_BASE_S = 10.0  # a save or load of a sized model: this ...
LARGE_BYTES_PER_S = 20e6  # ... plus its weight bytes at this rate

_multiplier = 1.0


def set_multiplier(value: float) -> None:
    global _multiplier
    if not value > 0:
        raise ValueError(f"timeout multiplier must be positive, got {value!r}")
    _multiplier = float(value)


def multiplier() -> float:
    return _multiplier


def scaled(seconds: float) -> float:
    """`seconds` times the run's multiplier."""
    return seconds * _multiplier


def for_weight_bytes(weight_bytes: int) -> float:
    """Seconds a save or load of this many weight bytes gets to settle before it counts as a hang
    (10 s + 20 MB/s, scaled; the large rows' measured times are in README, "Storage quota")."""
    return round(scaled(LARGE_BASE_S + weight_bytes / LARGE_BYTES_PER_S), 1)
