"""A model saved to localStorage and IndexedDB must still load after a page reload
(`reload-persistence`) and after the browser is closed and relaunched on the same profile
(`restart-persistence`)."""

from __future__ import annotations

from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip
from harness.schemes.base import Scheme, Unsupported

MEDIA = ("localstorage", "indexeddb")


class _Persistence(Scheme):
    async def _save_all(self, trip: Trip, page) -> list[Difference]:
        out = []
        for medium in MEDIA:
            saved = await trip.save({"kind": "url", "url": f"{medium}://{self.path(trip)}"}, page=page)
            out += trip.check_save_result(saved, f"save[{medium}]")
        return out

    async def _load_all(self, trip: Trip, page) -> list[Difference]:
        out = []
        for medium in MEDIA:
            out += await trip.load_and_check({"kind": "url", "url": f"{medium}://{self.path(trip)}"},
                                             prefix=f"{medium}.", page=page)
        return out


class ReloadPersistence(_Persistence):
    name = "reload-persistence"

    async def run(self, trip: Trip) -> list[Difference]:
        out = await self._save_all(trip, trip.page)
        await trip.page.reload(trip.timeout)
        return out + await self._load_all(trip, trip.page)


class RestartPersistence(_Persistence):
    name = "restart-persistence"
    # Two browser launches per row (Firefox: 6-7 CPU-seconds each, 15-23 s a row in a parallel run): what
    # survives a restart is the storage, not the model, so two models cover it: small (one shard) and
    # sharded (10 MB: localStorage's capacity finding). What each model's artifacts look like in storage
    # is checked by reload-persistence (every model, same storage, no restart) and the storage schemes.
    models = ("mlp", "sharded")

    async def run(self, trip: Trip) -> list[Difference]:
        profile = trip.tmp / "profile"
        profile.mkdir()
        url = trip.page_url
        try:
            page = await trip.driver.open_persistent(url, str(profile), timeout=trip.timeout)
        except NotImplementedError as e:
            raise Unsupported(str(e)) from e
        try:
            out = await self._save_all(trip, page)
        finally:
            await page.close()
        page = await trip.driver.open_persistent(url, str(profile), timeout=trip.timeout)
        try:
            return out + await self._load_all(trip, page)
        finally:
            await page.close()
