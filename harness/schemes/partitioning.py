"""`partitioning`: whether an engine partitions a third party's storage, measured, never assumed
(harness.contexts: a row of context `iframe-cross-site->top-level-cross-site`).

The golden is saved to each medium inside a cross-site frame (the harness page of the second site, framed
by the first), and `tf.io.listModels()` runs there; then the second site's page is opened top-level on the
same browser storage, where listModels runs again and each model is loaded. The row records, per medium,
whether the frame's model is visible top-level (`observed.partitioning`: not visible is partitioned). Either
answer passes; what must hold is that TF.js behaves consistently inside each partition:

- in the frame, listModels lists every model saved there;
- top-level, a model listModels lists loads bit for bit (against the golden), and one it does not list is
  refused with a "not found" error, never loaded.

A medium the engine denies the frame (Chromium: no storage for third parties, harness.engines.chromium)
cannot be partitioned: with no medium left the row skips, saying so.
"""

from __future__ import annotations

import re

from harness.schemes.base import Scheme, Unsupported, save_to_each
from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip

MEDIA = ("localstorage", "indexeddb")
# TF.js's words for a model that is not there: indexed_db.ts "Cannot find model with path '...' in
# IndexedDB.", local_storage.ts "In local storage, there is no model with name '...'".
NOT_FOUND = re.compile(r"cannot find model|there is no model|not found", re.IGNORECASE)


class Partitioning(Scheme):
    name = "partitioning"
    models = ("mlp",)
    crosses_contexts = True

    async def run(self, trip: Trip) -> list[Difference]:
        media = self.media_in(trip, MEDIA)
        if not media:
            raise Unsupported(f"the engine denies the {trip.context.name} context storage, so nothing can be partitioned: "
                              f"{trip.observed['media_left_out']}")
        path = self.path(trip)
        saved, out = await save_to_each(trip, media, path)
        framed, diffs = await self._list(trip, trip.page, "frame")
        out += diffs
        for medium in saved:
            if f"{medium}://{path}" not in framed:
                out.append(Difference("listModels", "frame", f"{medium}://{path} was saved in the frame, and the "
                                      f"frame's listModels omits it: {sorted(framed)}", actual=sorted(framed)))
        top = await trip.loading_page()
        listed, diffs = await self._list(trip, top, "top-level")
        out += diffs
        facts = {}
        for medium in saved:
            url = f"{medium}://{path}"
            visible = url in listed
            try:
                result = await trip.load({"kind": "url", "url": url}, prefix=f"{medium}.", page=top)
            except TfjsError as e:
                message = f"{e.error.get('name')}: {e.error.get('message')}"
                facts[medium] = {"visible": visible, "loaded": False, "error": message}
                if visible:
                    out.append(Difference("load", f"top-level {url}", f"listModels lists it top-level, and loading it "
                                          f"fails: {message}", actual=message))
                elif not NOT_FOUND.search(message):
                    out.append(Difference("load", f"top-level {url}", f"a model not there is refused without saying "
                                          f"so: {message}", actual=message))
                continue
            facts[medium] = {"visible": visible, "loaded": True}
            if not visible:
                out.append(Difference("listModels", "top-level", f"{url} loads top-level, and listModels there omits it: "
                                      f"{sorted(listed)}", actual=sorted(listed)))
            out += trip.check_loaded(result, prefix=f"{medium}.")
        for fact in facts.values():
            fact["partitioned"] = not fact["visible"] and not fact["loaded"]
        trip.observed["partitioning"] = {"frame_lists": sorted(framed), "top_level_lists": sorted(listed), "media": facts}
        return out

    @staticmethod
    async def _list(trip: Trip, page, where: str) -> tuple[dict, list[Difference]]:
        reply = await trip.step("manage", {"op": "listModels", "args": []}, page)
        if "error" in reply:
            error = f"{reply['error']['name']}: {reply['error']['message']}"
            return {}, [Difference("listModels", where, f"tf.io.listModels() failed: {error}", actual=error)]
        return reply.get("value") or {}, []
