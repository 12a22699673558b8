"""`--shard K/N`: a deterministic slice of the tests, so that N CI jobs run the matrix once between them.

A test belongs to shard ``crc32(test id) % N + 1``: the same test lands in the same shard on every
machine and in every job, whatever else that job collected (an engine missing on one runner moves no
other test), and the N shards are disjoint and cover every test. Their conformance.json files carry
``"shard": "K/N"``; ``python -m harness merge`` joins them (harness.report.merge).
"""

from __future__ import annotations

import re
import zlib

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse(text: str) -> tuple[int, int]:
    """"K/N" -> (K, N), 1 <= K <= N; ValueError otherwise."""
    match = _SPEC.match(text)
    if not match:
        raise ValueError(f"{text!r}: expected K/N, e.g. 1/2")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"{text!r}: K must be between 1 and N")
    return k, n


def label(k: int, n: int) -> str:
    return f"{k}/{n}"


def of(test_id: str, n: int) -> int:
    """The shard (1..n) a test id belongs to."""
    return zlib.crc32(test_id.encode("utf-8")) % n + 1


def split(items: list, k: int, n: int) -> tuple[list, list]:
    """(the items of shard k, the others), each in collection order."""
    kept, dropped = [], []
    for item in items:
        (kept if of(item.nodeid, n) == k else dropped).append(item)
    return kept, dropped
