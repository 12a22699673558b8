"""A model saved to localStorage and IndexedDB must still load after a page reload
(`reload-persistence`) and after the browser is closed and relaunched on the same profile
(`restart-persistence`). The guide: "This will persist between refreshes" (local storage) and "Like
local storage it persists between refreshes" (IndexedDB).

Each medium is on its own: a save TF.js refuses in one (a model over localStorage's capacity) is a
difference, that medium is not loaded back (nothing was saved), and the other medium is still checked.
"""

from __future__ import annotations

from harness.schemes.base import Scheme, Unsupported, require, save_to_each
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip

MEDIA = ("localstorage", "indexeddb")


class _Persistence(Scheme):
    async def _save_all(self, trip: Trip, page) -> tuple[list[str], list[Difference]]:
        """Save to every medium; the media whose save resolved, and the differences."""
        media = self.media_in(trip, MEDIA)
        if not media:
            raise Unsupported(f"no medium in the {trip.context.name} context here: {trip.observed['media_left_out']} "
                              f"(the refusal is the storage rows' check)")
        saved_in, out = await save_to_each(trip, media, self.path(trip), page)
        skipped = [m for m in media if m not in saved_in]
        if skipped:
            trip.observed["not_loaded"] = {m: "its save was refused" for m in skipped}
        return saved_in, out

    async def _load_all(self, trip: Trip, page, media: list[str]) -> list[Difference]:
        out = []
        for medium in media:
            out += await trip.load_and_check({"kind": "url", "url": f"{medium}://{self.path(trip)}"},
                                             prefix=f"{medium}.", page=page)
        return out


class ReloadPersistence(_Persistence):
    name = "reload-persistence"

    async def run(self, trip: Trip) -> list[Difference]:
        media, out = await self._save_all(trip, trip.page)
        await trip.page.reload(trip.timeout)
        return out + await self._load_all(trip, trip.page, media)


class RestartPersistence(_Persistence):
    name = "restart-persistence"
    in_contexts = False  # two browser launches a row; the contexts are reload-persistence's
    # Two browser launches per row (Firefox: 6-7 CPU-seconds each): what survives a restart is the
    # storage, not the model, so two models cover it: small (one shard) and sharded (10 MB: over
    # localStorage's capacity). What each model's artifacts look like in storage is checked by
    # reload-persistence (every model, same storage, no restart) and the storage schemes.
    models = ("mlp", "sharded")

    async def run(self, trip: Trip) -> list[Difference]:
        require(trip, "persistent-profile")
        profile = trip.tmp / "profile"
        profile.mkdir()
        url = trip.page_url
        modes = trip.observed["storage_modes"] = {"ephemeral": await trip.step("storageFacts", {})}
        page = await trip.driver.open_persistent(url, str(profile), timeout=trip.timeout)
        try:
            modes["persistent"] = await trip.step("storageFacts", {}, page)
            media, out = await self._save_all(trip, page)
        finally:
            await page.close()
        out += _storage_mode_checks(modes)
        page = await trip.driver.open_persistent(url, str(profile), timeout=trip.timeout)
        try:
            return out + await self._load_all(trip, page, media)
        finally:
            await page.close()


def _storage_mode_checks(modes: dict) -> list[Difference]:
    """What the StorageManager says must hold together, per mode: persist() granting means persisted() says so
    after, and an estimate's usage is within its quota."""
    out = []
    for mode, facts in modes.items():
        if facts.get("persist") is True and facts.get("persistedAfter") is not True:
            out.append(Difference("storage-mode", mode, f"persist() resolved true and persisted() then said "
                                  f"{facts.get('persistedAfter')}", actual=facts))
        estimate = facts.get("estimate") or {}
        if isinstance(estimate.get("usage"), (int, float)) and isinstance(estimate.get("quota"), (int, float)) \
                and estimate["usage"] > estimate["quota"]:
            out.append(Difference("storage-mode", mode, f"estimate() usage {estimate['usage']} over its quota "
                                  f"{estimate['quota']}", actual=estimate))
    return out
