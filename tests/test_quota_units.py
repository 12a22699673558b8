"""The pieces of the quota work that need no browser: sizes, bisection, sized models, Firefox's limit."""

import asyncio

import numpy as np
import pytest

from harness import golden
from harness.engines.firefox import fixed_limit_kib, group_limit
from harness.golden import models
from harness.measure import capacity
from harness.quota import format_size, parse_size


@pytest.mark.parametrize(("text", "value"), [("4MB", 4_000_000), ("512KiB", 524_288), ("1500", 1500), ("2 GiB", 2**31),
                                             ("1.5MB", 1_500_000), (7, 7)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "MB", "-1MB", "0", "1.5B", "4 TB", "four"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_format_size():
    assert [format_size(n) for n in (4_000_000, 524_288, 1234, None)] == ["4 MB", "512 KiB", "1234 B", "-"]


@pytest.mark.parametrize("limit", [1024, 3_907_584, 5_000_000, 6 * 2**20])
def test_bisect_finds_the_largest_size_that_fits(limit):
    tried = []

    async def fits(n):
        tried.append(n)
        return n <= limit, None if n <= limit else f"{n} too big"

    found = asyncio.run(capacity.bisect(fits, 6 * 2**20 + 1024 if limit == 6 * 2**20 else 6 * 2**20, 6 * 1024))
    assert found["max_weight_bytes"] <= limit < found["failing_weight_bytes"]
    assert found["failing_weight_bytes"] - found["max_weight_bytes"] <= 6 * 1024
    assert found["error_at_next_step"] == f"{found['failing_weight_bytes']} too big"
    assert all(n % models.SIZED_ROW_BYTES == 0 for n in tried)


def test_bisect_doubles_from_start():
    tried = []

    async def fits(n):
        tried.append(n)
        return n <= 125 * 2**20, "too big"

    found = asyncio.run(capacity.bisect(fits, 512 * 2**20, 8 * 2**20, start=64 * 2**20))
    assert tried[:2] == [64 * 2**20, 128 * 2**20]
    assert found["max_weight_bytes"] == 120 * 2**20 and found["failing_weight_bytes"] == 128 * 2**20


def test_bisect_reports_an_upper_bound_that_fits():
    async def fits(n):
        return True, None

    assert asyncio.run(capacity.bisect(fits, 512 * 2**20, 8 * 2**20)) == {
        "max_weight_bytes": 512 * 2**20, "failing_weight_bytes": None, "error_at_next_step": None}


def test_sized_model_has_exactly_its_weight_bytes_and_exact_outputs(tmp_path):
    g = golden.sized(3 * 1024, tmp_path)
    assert g.name == "sized-3KiB" and len(g.weight_data) == 3 * 1024
    kernel = np.frombuffer(g.weight_data, "<f4").reshape(3, 256)
    assert np.array_equal(g.outputs[0], kernel[[0, 2]])  # one-hot rows pick kernel rows, bit for bit
    assert models.sized_bytes(g.name) == 3 * 1024
    with pytest.raises(ValueError):
        models.sized(1000)


@pytest.mark.parametrize(("quota", "group"), [(4_000_000, 3_999_744), (2**20, 2**20), (16 * 2**20, 16 * 2**20)])
def test_firefox_fixed_limit_gives_the_group_the_quota(quota, group):
    assert group_limit(fixed_limit_kib(quota)) == group
