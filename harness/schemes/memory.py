"""IOHandler objects kept in memory: a user's own `{save, load}`, `tf.io.withSaveHandler` and
`tf.io.fromMemory`, and their synchronous forms `withSaveHandlerSync` / `fromMemorySync`
(tfjs-core/src/io/passthrough.ts)."""

from __future__ import annotations

from harness.schemes.base import Scheme
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class CustomHandler(Scheme):
    name = "custom-handler"
    hosts = ("browser", "node")

    async def run(self, trip: Trip) -> list[Difference]:
        key = self.path(trip)
        saved, out = await trip.save_and_check({"kind": "custom", "key": key}, "save-result")
        if saved is not None:
            out += await trip.load_and_check({"kind": "custom", "key": key})
        saved, diffs = await trip.save_and_check({"kind": "withSaveHandler", "key": f"{key}-passthrough"}, "withSaveHandler")
        out += diffs
        if saved is not None:
            out += await trip.load_and_check({"kind": "fromMemory", "key": f"{key}-passthrough"}, prefix="fromMemory.")
        # the synchronous forms (passthrough_test.ts 'Passthrough Saver Sync' / 'Passthrough Loader Sync')
        saved, diffs = await trip.save_and_check({"kind": "withSaveHandlerSync", "key": f"{key}-sync"}, "withSaveHandlerSync")
        out += diffs
        if saved is not None:
            out += await trip.load_and_check({"kind": "fromMemorySync", "key": f"{key}-sync"}, prefix="fromMemorySync.")
        return out
