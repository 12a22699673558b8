"""`tf.io.listModels`, `copyModel`, `moveModel`, `removeModel` within and across localstorage://
and indexeddb:// (tfjs-core/src/io/model_management.ts); after each call the storage itself is read.

The sequence: save a (localStorage) and b (IndexedDB); copy a -> c (across media); move b -> d (across);
copy d -> e (within localStorage); remove everything. A call TF.js refuses is a difference, and the
row goes on: the storage must then show the call left nothing behind and kept its source (the expected
state follows what each call did), and a later call whose source was never made is not attempted
(`observed.skipped` says which and why), so a model too big for one medium (its localStorage save
refused: a capacity limit) still runs the copies and moves of the other.
"""

from __future__ import annotations

from harness.schemes.base import Scheme, Unsupported
from harness.schemes.storage import IDB_INFO, IDB_MODELS, LS_PREFIX, LS_SUFFIXES
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class ModelManagement(Scheme):
    name = "model-management"

    def urls(self, p: str) -> tuple[str, str, str, str, str]:
        """a (localStorage), b (IndexedDB), then the copy, move and copy-within destinations c, d, e."""
        return (f"localstorage://{p}-a", f"indexeddb://{p}-b", f"indexeddb://{p}-c", f"localstorage://{p}-d",
                f"localstorage://{p}-e")

    async def run(self, trip: Trip) -> list[Difference]:
        a, b, c, d, e = self.in_context(trip, self.urls(self.path(trip)))
        held: set[str] = set()  # the models that must exist now
        out = []
        for url in (a, b):
            saved, diffs = await trip.save_and_check({"kind": "url", "url": url}, f"save[{url}]")
            out += diffs
            if saved is not None:
                held.add(url)
        out += await self._expect(trip, "after two saves", held)
        for op, source, dest, label in (("copyModel", a, c, "copy"), ("moveModel", b, d, "move"),
                                        ("copyModel", d, e, "copy-within")):
            out += await self._clone(trip, op, source, dest, label, held)
        for url in sorted(held):
            error = await self._manage(trip, "removeModel", url)
            if error:
                out.append(Difference("removeModel", url, f"tf.io.removeModel({url}) failed: {error}", actual=error))
            else:
                held.discard(url)
        return out + await self._expect(trip, "after removing every model", held)

    def in_context(self, trip: Trip, urls: tuple[str, ...]) -> tuple[str, ...]:
        """The sequence in a context with one medium of the two (a worker has no localStorage): every model
        in that one, so the copies and moves are within it (`observed.media_left_out` says why)."""
        media = self.media_in(trip, ("localstorage", "indexeddb"))
        if len(media) == 2:
            return urls
        if not media:
            raise Unsupported(f"no medium in the {trip.context.name} context here: {trip.observed['media_left_out']} "
                              f"(the refusal is the storage rows' check)")
        other = "indexeddb" if media == ["localstorage"] else "localstorage"
        return tuple(u.replace(f"{other}://", f"{media[0]}://", 1) for u in urls)

    async def _clone(self, trip: Trip, op: str, source: str, dest: str, label: str, held: set[str]) -> list[Difference]:
        """copyModel / moveModel: on success the destination loads as the golden (and a move's source is
        gone); on a refusal the source is kept and the destination absent. Either way the storage must
        hold exactly the models that should exist."""
        call = f"tf.io.{op}({source}, {dest})"
        if source not in held:
            trip.observed.setdefault("skipped", []).append(f"{call}: {source} was not saved")
            return []
        error = await self._manage(trip, op, source, dest)
        out = []
        if error:
            out.append(Difference(op, f"{source} -> {dest}", f"{call} failed: {error}", actual=error))
        else:
            held.add(dest)
            if op == "moveModel":
                held.discard(source)
        out += await self._expect(trip, f"after {call}", held)
        if not error:
            out += await trip.load_and_check({"kind": "url", "url": dest}, prefix=f"{label}.")
        if op == "moveModel" and not error:
            out += await self._load_fails(trip, source)
        elif source in held:  # a copy, or a refused move: the source must still load
            kept = await trip.load_and_check({"kind": "url", "url": source}, prefix=f"{label}-source.")
            out += kept
            if any(d.what == f"{label}-source.tfjs-error" for d in kept):
                held.discard(source)  # lost, and reported: later checks must not report it again
        return out

    @staticmethod
    async def _manage(trip: Trip, op: str, *args: str):
        """Run one tf.io call; its error as "Name: message", or "" when it resolved (the value is in
        trip.state["managed"])."""
        reply = await trip.step("manage", {"op": op, "args": list(args)})
        if "error" in reply:
            return f"{reply['error']['name']}: {reply['error']['message']}"
        trip.state["managed"] = reply.get("value")
        return ""

    async def _expect(self, trip: Trip, when: str, urls: set[str]) -> list[Difference]:
        """listModels and the storage itself must both hold exactly `urls`, with the golden's byte counts."""
        error = await self._manage(trip, "listModels")
        if error:
            return [Difference("listModels", when, f"tf.io.listModels() failed: {error}", actual=error)]
        listed = trip.state["managed"] or {}
        out = []
        if set(listed) != urls:
            out.append(Difference("listModels", when, f"expected {sorted(urls)}, got {sorted(listed)}",
                                  expected=sorted(urls), actual=sorted(listed)))
        for url, info in listed.items():
            out += trip.want.check_info(f"listModels[{url}]", info)
        keys = await trip.step("storageKeys", {})
        ls_paths = sorted(u.split("://", 1)[1] for u in urls if u.startswith("localstorage://"))
        want_ls = sorted(f"{LS_PREFIX}/{path}/{s}" for path in ls_paths for s in LS_SUFFIXES)
        if keys["localStorage"] != want_ls:
            out.append(Difference("storage", f"localStorage keys {when}", f"expected {want_ls}, got {keys['localStorage']}",
                                  expected=want_ls, actual=keys["localStorage"]))
        idb_paths = sorted(u.split("://", 1)[1] for u in urls if u.startswith("indexeddb://"))
        for store in (IDB_MODELS, IDB_INFO):
            got = keys["indexeddb"].get(store, [])
            if got != idb_paths:
                out.append(Difference("storage", f"IndexedDB {store} {when}", f"expected {idb_paths}, got {got}",
                                      expected=idb_paths, actual=got))
        return out

    @staticmethod
    async def _load_fails(trip: Trip, url: str) -> list[Difference]:
        from harness.trip.roundtrip import TfjsError

        try:
            await trip.load({"kind": "url", "url": url}, prefix="moved-away.")
        except TfjsError:
            return []
        return [Difference("moveModel", url, "the source still loads after the move")]


class NestedModelManagement(ModelManagement):
    """The same sequence under storage paths that contain `/`, as upstream's own tests name theirs
    (local_storage_test.ts and indexed_db_test.ts: 'foo/FooModel', 'baz/QuxModel', 'repeat/QuxModel'):
    localStorage keys `tensorflowjs_models/<a/b>/info` etc., IndexedDB keys and listModels names with the
    slashes kept, and a path that another one starts with. Its subject is the path, not the model: mlp
    and the graph model."""

    name = "model-management-nested"
    models = ("mlp", "graph")

    def urls(self, p: str) -> tuple[str, str, str, str, str]:
        return (f"localstorage://app/{p}/a", f"indexeddb://app/{p}/a/b/c", f"indexeddb://repeat/{p}/c",
                f"localstorage://app/{p}/a/d", f"localstorage://repeat/{p}/e")
