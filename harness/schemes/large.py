"""`large-indexeddb`: a model of hundreds of MiB saved to IndexedDB and loaded back, with the
time of each and the peak memory of the browser's processes (harness.engines.memory).

The model is too big to post back to the harness, so the page reports the SHA-256 of the weights
the loaded model holds (steps.js `fingerprint`) and the comparison is against the golden's digest,
its byte count and its topology: still bit for bit.
"""

from __future__ import annotations

import hashlib

from harness.engines.memory import PeakMemory
from harness.schemes.base import Scheme
from harness.trip import timeouts
from harness.trip.compare import Difference, diff_json
from harness.trip.roundtrip import Trip


class LargeIndexedDB(Scheme):
    name = "large-indexeddb"

    async def run(self, trip: Trip) -> list[Difference]:
        deadline = timeouts.for_weight_bytes(len(trip.want.weight_data))
        trip.timeout = 3 * deadline  # the step also fetches the model / digests it
        url = f"indexeddb://{self.path(trip)}"
        seen = trip.observed["large"] = {"weight_bytes": len(trip.want.weight_data), "deadline_s": deadline}
        async with PeakMemory(trip.driver.spec.name) as memory:
            try:
                saved = await trip.save({"kind": "url", "url": url}, deadline=deadline)
                seen["save_s"] = (trip.state.get("save_timings") or {}).get("save")
                got = await trip.step("fingerprint", {"source": {"kind": "url", "url": url}, "deadline": deadline})
                seen["load_s"], seen["digest_s"] = got["timings"].get("load"), got["timings"].get("digest")
            finally:
                seen["memory"] = memory.as_json()  # also when TF.js failed or hung
        want = trip.want
        out = trip.check_save_result(saved)
        specs, data = want.in_order_of(got["weightSpecs"])  # a user's layers model: in TF.js's order, by name
        digest = hashlib.sha256(data).hexdigest()
        if got["weightBytes"] != len(data) or got["sha256"] != digest:
            out.append(Difference("loaded", "weightData", f"{got['weightBytes']} bytes with sha256 {got['sha256']}, "
                                                          f"expected {len(data)} bytes with sha256 {digest}"))
        out += diff_json(specs, got["weightSpecs"], "loaded.weightSpecs")
        return out + diff_json(want.model_json["modelTopology"], got["modelTopology"], "loaded.modelTopology")
