"""The row clock (harness.trip.clock): the engine's page opens and waits, apart from the harness's time."""

import asyncio

import pytest

from harness.engines.base import Driver, Page
from harness.trip import clock


def test_a_timed_call_inside_another_of_its_kind_counts_once():
    clock.reset()
    with clock.timed("open"):
        with clock.timed("open"):
            pass
        with clock.timed("wait"):
            pass
    spent = clock.spent()
    assert set(spent) == {"open", "wait"} and spent["open"] >= spent["wait"] >= 0
    with pytest.raises(ValueError, match="unknown kind"):
        with clock.timed("lunch"):
            pass
    clock.reset()
    assert clock.spent() == {"open": 0.0, "wait": 0.0}


async def test_every_driver_and_page_is_clocked_by_what_it_does():
    class SlowPage(Page):
        async def run_step(self, name, args, timeout):
            await asyncio.sleep(0.05)  # in-page time: the page's own clock says so, not this one
            return {}

        async def close(self):
            await asyncio.sleep(0.02)

        async def reload(self, timeout):
            await asyncio.sleep(0.05)

    class SlowDriver(Driver):
        alive = True

        async def start(self):
            return None

        async def open(self, url, *, timeout, quota=None, backends=()):
            await asyncio.sleep(0.1)
            return SlowPage()

        async def stop(self):
            return None

    clock.reset()
    page = await SlowDriver(None, None).open("x", timeout=1)
    await page.run_step("info", {}, 1)
    await page.reload(1)
    await page.close()
    spent = clock.spent()
    assert 0.12 <= spent["open"] < 0.3 and 0.05 <= spent["wait"] < 0.15, spent
