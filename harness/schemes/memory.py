"""IOHandler objects kept in memory: a user's own `{save, load}`, `tf.io.withSaveHandler` and
`tf.io.fromMemory` (tfjs-core/src/io/passthrough.ts)."""

from __future__ import annotations

from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip
from harness.schemes.base import Scheme


class CustomHandler(Scheme):
    name = "custom-handler"
    hosts = ("browser", "node")

    async def run(self, trip: Trip) -> list[Difference]:
        key = self.path(trip)
        out = trip.check_save_result(await trip.save({"kind": "custom", "key": key}))
        out += await trip.load_and_check({"kind": "custom", "key": key})
        saved = await trip.save({"kind": "withSaveHandler", "key": f"{key}-passthrough"})
        out += trip.check_save_result(saved, "withSaveHandler")
        return out + await trip.load_and_check({"kind": "fromMemory", "key": f"{key}-passthrough"}, prefix="fromMemory.")
