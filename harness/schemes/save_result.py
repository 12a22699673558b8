"""`SaveResult.modelArtifactsInfo` from every save target the host has, in one page. Each target is
on its own: one that TF.js refuses (a model over localStorage's capacity) is a difference, and the
others are still checked. The guide: "The return value of `model.save` is a JSON object that carries
information such as the byte sizes of the model's topology and weights."
"""

from __future__ import annotations

from harness.schemes.base import Scheme
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class SaveResult(Scheme):
    name = "save-result"
    hosts = ("browser", "node")

    def targets(self, trip: Trip) -> dict[str, dict]:
        path = self.path(trip)
        upload = f"{trip.server.url}/uploads/{trip.server.open_upload().token}"
        common = {
            "http": {"kind": "url", "url": upload},
            "custom": {"kind": "custom", "key": path},
            "withSaveHandler": {"kind": "withSaveHandler", "key": path},
        }
        if trip.driver.spec.host == "node":
            return {"file": {"kind": "url", "url": (trip.tmp / path).as_uri()}, **common}
        targets = {
            "localstorage": {"kind": "url", "url": f"localstorage://{path}"},
            "indexeddb": {"kind": "url", "url": f"indexeddb://{path}"},
            **common,
            # Last, and not waited for: what the browser does with the files is the downloads row's business.
            "downloads": {"kind": "url", "url": f"downloads://{path}"},
        }
        media = ("localstorage", "indexeddb", "downloads")
        kept = self.media_in(trip, media)  # what the context lacks: the refusal rows' business
        return {k: v for k, v in targets.items() if k not in media or k in kept}

    async def run(self, trip: Trip) -> list[Difference]:
        out, targets = [], self.targets(trip)
        trip.observed["targets"] = list(targets)
        for label, target in targets.items():
            _, diffs = await trip.save_and_check(target, f"save-result[{label}]")
            out += diffs
        return out
