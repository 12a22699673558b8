"""`tf.io.listModels`, `copyModel`, `moveModel`, `removeModel` within and across localstorage://
and indexeddb:// (tfjs-core/src/io/model_management.ts); after each call the storage itself is read."""

from __future__ import annotations

from harness.trip.compare import Difference, diff_json
from harness.trip.roundtrip import TfjsError, Trip
from harness.schemes.base import Scheme
from harness.schemes.storage import IDB_INFO, IDB_MODELS, LS_PREFIX, LS_SUFFIXES


class ModelManagement(Scheme):
    name = "model-management"

    async def run(self, trip: Trip) -> list[Difference]:
        p = self.path(trip)
        a, b = f"localstorage://{p}-a", f"indexeddb://{p}-b"
        out = []
        for url in (a, b):
            out += trip.check_save_result(await trip.save({"kind": "url", "url": url}), f"save[{url}]")
        out += await self._expect(trip, "after two saves", {a, b})

        c = f"indexeddb://{p}-c"  # copy across media
        await self._manage(trip, "copyModel", a, c)
        out += await self._expect(trip, "after copyModel(a, c)", {a, b, c})
        out += await trip.load_and_check({"kind": "url", "url": c}, prefix="copy.")

        d = f"localstorage://{p}-d"  # move across media
        await self._manage(trip, "moveModel", b, d)
        out += await self._expect(trip, "after moveModel(b, d)", {a, c, d})
        out += await trip.load_and_check({"kind": "url", "url": d}, prefix="move.")
        out += await self._load_fails(trip, b)

        e = f"localstorage://{p}-e"  # copy within one medium
        await self._manage(trip, "copyModel", d, e)
        out += await self._expect(trip, "after copyModel(d, e)", {a, c, d, e})

        for url in (a, c, d, e):
            await self._manage(trip, "removeModel", url)
        out += await self._expect(trip, "after removing every model", set())
        return out

    @staticmethod
    async def _manage(trip: Trip, op: str, *args: str):
        reply = await trip.step("manage", {"op": op, "args": list(args)})
        if "error" in reply:
            raise TfjsError(f"tf.io.{op}({', '.join(args)}) failed: {reply['error']['name']}: {reply['error']['message']}",
                            reply["error"])
        return reply.get("value")

    async def _expect(self, trip: Trip, when: str, urls: set[str]) -> list[Difference]:
        """listModels and the storage itself must both hold exactly `urls`, with the golden's byte counts."""
        listed = await self._manage(trip, "listModels") or {}
        out = []
        if set(listed) != urls:
            out.append(Difference("listModels", when, f"expected {sorted(urls)}, got {sorted(listed)}"))
        for url, info in listed.items():
            out += diff_json(trip.want.save_info, {k: info.get(k) for k in trip.want.save_info}, f"listModels[{url}]")
        keys = await trip.step("storageKeys", {})
        ls_paths = sorted(u.split("://", 1)[1] for u in urls if u.startswith("localstorage://"))
        want_ls = sorted(f"{LS_PREFIX}/{path}/{s}" for path in ls_paths for s in LS_SUFFIXES)
        if keys["localStorage"] != want_ls:
            out.append(Difference("storage", f"localStorage keys {when}", f"expected {want_ls}, got {keys['localStorage']}"))
        idb_paths = sorted(u.split("://", 1)[1] for u in urls if u.startswith("indexeddb://"))
        for store in (IDB_MODELS, IDB_INFO):
            got = keys["indexeddb"].get(store, [])
            if got != idb_paths:
                out.append(Difference("storage", f"IndexedDB {store} {when}", f"expected {idb_paths}, got {got}"))
        return out

    @staticmethod
    async def _load_fails(trip: Trip, url: str) -> list[Difference]:
        try:
            await trip.load({"kind": "url", "url": url}, prefix="moved-away.")
        except TfjsError:
            return []
        return [Difference("moveModel", url, "the source still loads after the move")]
