"""Storage sizes as users write them (`--quota 4MB`, `@pytest.mark.quota("512KiB")`), and back.

KB/MB/GB are powers of 1000 and KiB/MiB/GiB powers of 1024, as browsers' own docs use them;
a bare number is bytes.
"""

from __future__ import annotations

import re

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """'4MB' -> 4000000, '512KiB' -> 524288, '1500' -> 1500. Raises ValueError on anything else."""
    if isinstance(text, int):
        if text <= 0:
            raise ValueError(f"a size must be positive, got {text}")
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (write e.g. 2MB, 512KiB, 1GB or a number of bytes)")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").upper()]
    if value < 1 or value != int(value):
        raise ValueError(f"not a whole, positive number of bytes: {text!r}")
    return int(value)


def format_size(n: int | None) -> str:
    """Bytes for people: 4000000 -> '4 MB', 524288 -> '512 KiB', 1234 -> '1234 B'."""
    if n is None:
        return "-"
    for unit, size in (("GiB", 2**30), ("GB", 10**9), ("MiB", 2**20), ("MB", 10**6), ("KiB", 2**10), ("KB", 10**3)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    if n >= 10**6:
        return f"{n / 2**20:.2f} MiB ({n} B)"
    return f"{n} B"


LOCALSTORAGE_HOW = (
    "localStorage has a fixed limit in every engine (about 5 Mi characters of keys + values per "
    "origin), not set by any quota API: the harness fills it with its own keys (harness-filler/*) "
    "until setItem throws, then frees the requested number of characters"
)


async def limit_page(page, quota: int, timeout: float) -> dict:
    """Limit a freshly opened browser page to `quota`: IndexedDB by the driver (already done by
    `Driver.open(..., quota=)`, reported in `page.quota`), localStorage by filling it so that `quota`
    characters are left, unless the engine's own quota already holds localStorage (then filling it
    would eat the IndexedDB quota too). Returns what was done, for the row's report."""
    applied = page.quota.as_json() if page.quota else None
    if page.quota and page.quota.localstorage:
        return {"bytes": quota, "indexeddb": applied,
                "localstorage": {"how": f"the engine's quota holds localStorage too: {page.quota.how}"}}
    reply = await page.run_step("fillLocalStorage", {"leave": quota}, timeout)
    if reply.get("status") != "ok":
        err = reply.get("error") or {}
        raise RuntimeError(f"filling localStorage to leave {quota} characters failed: {err.get('name')}: {err.get('message')}")
    filled = reply["result"]
    return {
        "bytes": quota,
        "indexeddb": applied,
        "localstorage": {**filled, "how": LOCALSTORAGE_HOW},
    }
