"""`eviction`: the origin's storage cleared between save and load, as the engine itself leaves it when it
evicts a site (Safari's 7-day eviction wipes both media) or when the site's server sends
`Clear-Site-Data: "storage"` (the mechanism used here, in every engine: a response of the harness server,
harness.server `/clear-site-data`; `observed.eviction.mechanism`).

The golden is saved to both media (those the context has); the storage is cleared; then:

- the storage itself (read with the storage APIs, not TF.js) must hold no key or record of it: else the
  engine did not clear it (a difference naming what it kept);
- `tf.io.listModels()` must be empty, with no stale `model_info_store` record behind it;
- loading each model must reject with TF.js's "not found" error (IndexedDB: "Cannot find model with path";
  localStorage: "there is no model with name"), never resolve with stale data, never fail unclearly.

The promise: the issue's "the load must reject with a clear 'not found' error, listModels must be empty, and
no stale model_info_store record may remain", and indexed_db_test.ts / local_storage_test.ts 'Loading
nonexistent model fails' (the messages above).
"""

from __future__ import annotations

from harness.schemes.base import Scheme, Unsupported, save_to_each
from harness.schemes.partitioning import NOT_FOUND
from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip

MEDIA = ("localstorage", "indexeddb")
MECHANISM = 'a response with Clear-Site-Data: "storage" from the page\'s own origin (GET /clear-site-data)'


class Eviction(Scheme):
    name = "eviction"
    models = ("mlp",)
    in_contexts = False

    async def run(self, trip: Trip) -> list[Difference]:
        media = self.media_in(trip, MEDIA)
        if not media:
            raise Unsupported(f"no medium in the {trip.context.name} context: {trip.observed['media_left_out']}")
        path = self.path(trip)
        saved, out = await save_to_each(trip, media, path)
        before = await trip.step("storageKeys", {})
        cleared = await trip.step("clearSiteData", {})
        after = await trip.step("storageKeys", {})
        kept = [*after["localStorage"], *[f"{store}/{k}" for store, keys in after["indexeddb"].items() for k in keys]]
        trip.observed["eviction"] = {"mechanism": MECHANISM, "response": cleared,
                                     "before": _held(before), "after": _held(after)}
        if kept:
            out.append(Difference("eviction", "storage", f"the engine kept {kept} after {MECHANISM}",
                                  expected=[], actual=kept))
        reply = await trip.step("manage", {"op": "listModels", "args": []})
        listed = reply.get("value") or {}
        if "error" in reply or listed:
            what = f"{reply['error']['name']}: {reply['error']['message']}" if "error" in reply else sorted(listed)
            out.append(Difference("listModels", "after eviction", f"expected no model, got {what}", expected={},
                                  actual=what))
        trip.state["predict"] = False
        for medium in saved:
            url = f"{medium}://{path}"
            try:
                await trip.load({"kind": "url", "url": url}, prefix=f"{medium}.")
            except TfjsError as e:
                message = f"{e.error.get('name')}: {e.error.get('message')}"
                trip.observed["eviction"].setdefault("load", {})[medium] = message
                if not NOT_FOUND.search(message):
                    out.append(Difference("load", url, f"after eviction the load fails without saying the model is "
                                          f"not there: {message}", actual=message))
                continue
            out.append(Difference("load", url, "after eviction the model still loads (stale data)"))
        return out


def _held(keys: dict) -> dict:
    return {"localStorage": len(keys["localStorage"]),
            "indexeddb": {store: len(k) for store, k in keys["indexeddb"].items()}}
