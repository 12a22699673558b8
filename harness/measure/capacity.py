"""Capacity probe: the largest model (weight bytes) that round-trips through a storage medium.

Sizes are bisected: each try opens a fresh page (with the quota, if any; in a persistent-window, a browser on
a new on-disk profile: harness.contexts.WINDOWS), saves the sized model
(harness.golden.models.sized) to the medium with a deadline, loads it back and compares the SHA-256
of its weights and its topology with the golden's. The upper bound is tried first: if it fits, the
medium holds at least that much (``max_weight_bytes`` = the bound, ``error_at_next_step`` null).

Only a save that TF.js REJECTS means "does not fit". Any other failure of a try is a finding, not a
capacity, and each try records which it was (``kind``, KINDS): ``hang`` (save or load never settled),
``lost`` (the save resolved, then nothing could be loaded: data loss), ``corrupt`` (it loaded, with
other weights or topology), ``broke`` (the load failed otherwise). Bisection still moves below a try
that did not fit, whatever its kind; the row's ``findings`` list every try that was not a clean fit or
a clean refusal, and the table says which the boundary was.

Results go to ``test-results/capacity.json``
(``[{"engine", "scheme", "quota_bytes", "max_weight_bytes", "error_at_next_step", ...}]``) and a
Markdown table beside it (``capacity.md``).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Awaitable, Callable

from harness import contexts, golden, quota
from harness.engines.base import Driver
from harness.golden.models import SIZED_ROW_BYTES  # noqa: F401 (used by scenarios)
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_json
from harness.trip.roundtrip import ExpectedSave

KINDS = ("fits", "rejected", "hang", "lost", "corrupt", "broke")
CLEAN = ("fits", "rejected")  # the two outcomes that say something about capacity; the rest are findings
MAX_LOCALSTORAGE = 6 * 2**20  # above every engine's ~5 Mi characters, even before base64
MAX_INDEXEDDB = 512 * 2**20  # without a quota: "holds at least this much"
MARGIN = 64 * 1024


def _round(n: int) -> int:
    return max(SIZED_ROW_BYTES, n // SIZED_ROW_BYTES * SIZED_ROW_BYTES)


def upper_bound(medium: str, quota_bytes: int | None) -> int:
    if quota_bytes is not None:
        return _round(quota_bytes + MARGIN)
    return MAX_LOCALSTORAGE if medium == "localstorage" else MAX_INDEXEDDB


async def bisect(fits: Callable[[int], Awaitable[tuple[bool, str | None]]], hi: int, resolution: int,
                 start: int | None = None) -> dict:
    """The largest size (a multiple of SIZED_ROW_BYTES, within `resolution`) for which `fits` says yes,
    up to `hi`. Tries `hi` first; with `start`, doubles from `start` up to `hi` instead (cheaper when
    a failed try costs a deadline and the limit is likely far below `hi`)."""
    lo, bad, bad_error = 0, None, None
    for size in _ladder(hi, start):
        ok, error = await fits(size)
        if not ok:
            bad, bad_error = size, error
            break
        lo = size
    if bad is None:
        return {"max_weight_bytes": lo, "failing_weight_bytes": None, "error_at_next_step": None}
    while bad - lo > resolution:
        mid = max(_round((lo + bad) // 2), lo + SIZED_ROW_BYTES)
        if mid >= bad:
            break
        ok, error = await fits(mid)
        if ok:
            lo = mid
        else:
            bad, bad_error = mid, error
    return {"max_weight_bytes": lo, "failing_weight_bytes": bad, "error_at_next_step": bad_error}


def boundary_kind(probe: "Probe", found: dict) -> str | None:
    """What the try at the failing size was: "rejected" (a capacity) or a finding's kind."""
    return next((t["kind"] for t in probe.tries if t["weight_bytes"] == found["failing_weight_bytes"]), None)


def _ladder(hi: int, start: int | None) -> list[int]:
    if start is None or start >= hi:
        return [hi]
    sizes = [start]
    while sizes[-1] * 2 < hi:
        sizes.append(sizes[-1] * 2)
    return sizes + [hi]


class Probe:
    """Round trips of sized models through `medium` on fresh pages of one engine."""

    def __init__(self, driver: Driver, server, page_url: str, tfjs_version: str, medium: str, quota_bytes: int | None):
        self.driver, self.server, self.page_url = driver, server, page_url
        self.tfjs_version, self.medium, self.quota = tfjs_version, medium, quota_bytes
        self.tries: list[dict] = []

    async def fits(self, weight_bytes: int) -> tuple[bool, str | None]:
        g = golden.sized(weight_bytes)
        want = ExpectedSave.of(g, self.tfjs_version)
        url = f"{self.medium}://capacity-probe"
        started = time.monotonic()
        opened = timeouts.scaled(timeouts.PAGE_OPEN_S)
        page = await self.driver.open(self.page_url, timeout=opened, quota=self.quota)
        try:
            if self.quota is not None:
                await quota.limit_page(page, self.quota, opened)
            kind, error = await self._round_trip(page, g, want, url)
        finally:
            await page.close()
        self.tries.append({"weight_bytes": weight_bytes, "ok": kind == "fits", "kind": kind, "error": error,
                           "seconds": round(time.monotonic() - started, 2)})
        return kind == "fits", error

    async def _round_trip(self, page, g, want: ExpectedSave, url: str) -> tuple[str, str | None]:
        """(kind, error): see KINDS."""
        deadline = timeouts.for_weight_bytes(len(want.weight_data))
        common = {"format": "layers-model", "deadline": deadline, "token": "", "server": self.server.url}
        save = await page.run_step("save", {**common, "fixture": self.server.fixture_url(g),
                                            "target": {"kind": "url", "url": url}}, deadline * 3)
        if save.get("status") != "ok":
            return _failure(save, "save", "rejected")
        loaded = await page.run_step("fingerprint", {**common, "source": {"kind": "url", "url": url}}, deadline * 3)
        if loaded.get("status") != "ok":
            kind, error = _failure(loaded, "load", "broke")
            if kind == "broke" and (loaded.get("error") or {}).get("phase") == "load":
                kind = "lost"  # the save said it had saved; the medium gives nothing back
            return kind, f"save resolved, then {error}"
        got = loaded["result"]
        if got["sha256"] != hashlib.sha256(want.weight_data).hexdigest() or got["weightBytes"] != len(want.weight_data):
            return "corrupt", (f"save and load resolved but the weights differ: {got['weightBytes']} bytes, sha256 "
                               f"{got['sha256'][:16]}..., expected {len(want.weight_data)} bytes, sha256 "
                               f"{hashlib.sha256(want.weight_data).hexdigest()[:16]}...")
        differences = diff_json(want.model_json["modelTopology"], got["modelTopology"], "modelTopology")
        return ("corrupt", f"the topology differs: {differences[0]}") if differences else ("fits", None)

    def findings(self) -> list[Difference]:
        """Every try that was neither a clean fit nor a clean refusal, as a difference (harness.expectations
        judges them: what = "capacity.<kind>", path = the weight bytes tried)."""
        return [Difference(f"capacity.{t['kind']}", str(t["weight_bytes"]), t["error"] or t["kind"], actual=t["kind"])
                for t in self.tries if t["kind"] not in CLEAN]


def _failure(reply: dict, what: str, otherwise: str) -> tuple[str, str]:
    """A failed step's kind ("hang" when its deadline passed, else `otherwise`) and its error."""
    err = reply.get("error") or {}
    kind = "hang" if err.get("name") == "DeadlineExceeded" else otherwise
    return kind, f"{what} failed ({err.get('phase')}): {err.get('name')}: {err.get('message')}"


def row(engine: str, medium: str, quota_bytes: int | None, found: dict, probe: Probe, resolution: int, hi: int,
        context: str = contexts.DEFAULT) -> dict:
    """`context`: the window's storage mode (harness.contexts.WINDOWS) the probe's pages opened in."""
    out = {"engine": engine, "context": context, "scheme": medium, "quota_bytes": quota_bytes, **found,
           "failure_kind": boundary_kind(probe, found), "upper_bound_bytes": hi, "resolution_bytes": resolution,
           "tries": probe.tries, "findings": [d.as_json() for d in probe.findings()]}
    if medium == "localstorage" and found["max_weight_bytes"]:
        out["base64_chars_at_max"] = 4 * -(-found["max_weight_bytes"] // 3)  # what TF.js writes for the weights
    return out


def write(results_dir: Path, rows: list[dict]) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=_order)
    j = results_dir / "capacity.json"
    j.write_text(json.dumps(rows, indent=2) + "\n")
    m = results_dir / "capacity.md"
    m.write_text(table(rows) + "\n")
    return j, m


def _order(r: dict) -> tuple:
    """Engine, medium, quota, then the window's storage mode in harness.contexts.WINDOWS' order (ephemeral first)."""
    return r["engine"], r["scheme"], r["quota_bytes"] or 0, contexts.WINDOWS.index(r.get("context", contexts.DEFAULT))


def table(rows: list[dict]) -> str:
    lines = ["| engine | window | scheme | quota | largest model that round-trips (weight bytes) | next size tried "
             "| what the next size did | error at the next size |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=_order):
        q = quota.format_size(r["quota_bytes"]) if r["quota_bytes"] else "engine's own"
        biggest = f"{r['max_weight_bytes']:,}"
        if r["failing_weight_bytes"] is None:
            biggest = f">= {biggest} (the largest size tried)"
        elif "base64_chars_at_max" in r:
            biggest += f" (base64: {r['base64_chars_at_max']:,} chars)"
        nxt = f"{r['failing_weight_bytes']:,}" if r["failing_weight_bytes"] else "-"
        err = (r["error_at_next_step"] or "-").replace("|", "\\|").replace("\n", " ")[:200]
        kind = r.get("failure_kind") or "-"
        if kind not in ("-",) + CLEAN:
            kind = f"**{kind}** (a finding, not a capacity)"
        window = r.get("context", contexts.DEFAULT)
        lines.append(f"| {r['engine']} | {window} | {r['scheme']} | {q} | {biggest} | {nxt} | {kind} | {err} |")
    return "\n".join(lines)
