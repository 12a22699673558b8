"""`quota-localstorage`, `quota-indexeddb`: what a save that does not fit does to the storage.

The page is opened with a storage quota (harness.quota: the engine's quota emulation for
IndexedDB, filling for localStorage). Then, in that medium:

1. the golden is saved (`-kept`), and a second copy in the other medium (`-other`);
2. a sized model bigger than the quota (harness.golden.models.sized) is saved: save() must reject
   within timeouts.TFJS_CALL_S (a save that never settles is reported as "hang"), its error kept verbatim;
3. nothing of it may remain: no `tensorflowjs_models/<path>/*` key, no IndexedDB record,
   `tf.io.listModels()` must not list it, and loading it must reject;
4. the model saved before still loads and matches the golden;
5. the medium is filled up with the storage API itself, then `tf.io.copyModel(kept, ...)`,
   `tf.io.moveModel(other, ...)` (across media) and `tf.io.moveModel(kept, ...)` into it must
   reject, leave nothing behind, and leave their source loading and matching the golden. A medium
   that cannot be filled skips the row with the reason (when nothing failed before: else the row keeps
   its differences and says which checks did not run), never a silent pass.

`observed.quota` holds every outcome, the errors and `navigator.storage.estimate()` before and after.
"""

from __future__ import annotations

from harness import golden as goldens
from harness.golden import models
from harness.schemes.base import Scheme, Unsupported
from harness.schemes.storage import IDB_INFO, IDB_MODELS, LS_PREFIX
from harness.trip import timeouts
from harness.trip.compare import Difference
from harness.trip.outcomes import error_text, settle
from harness.trip.roundtrip import TfjsError, Trip


def _deadline() -> float:
    return timeouts.scaled(timeouts.TFJS_CALL_S)  # measured saves of these sizes take < 1 s

OVERSIZE_MARGIN = 64 * 1024  # the oversize model is this much bigger than the quota (in weight bytes)
FULL_QUOTA = 1024  # an engine whose quota caps single writes is "full" when its quota drops to this


class QuotaScheme(Scheme):
    medium: str  # "localstorage" | "indexeddb"
    other: str

    def url(self, trip: Trip, suffix: str, medium: str | None = None) -> str:
        return f"{medium or self.medium}://{self.path(trip)}-{suffix}"

    async def run(self, trip: Trip) -> list[Difference]:
        if trip.quota is None:
            raise Unsupported(f"{self.name} needs a quota: @pytest.mark.quota(SIZE) or --quota SIZE")
        info = trip.want.save_info  # what one copy of the model takes (localStorage: weights as base64)
        footprint = -(-info["weightDataBytes"] * 4 // 3) + info["modelTopologyBytes"] + info["weightSpecsBytes"]
        if 4 * footprint > trip.quota:
            raise Unsupported(f"{trip.golden.name} takes about {footprint} bytes per copy; the two copies saved before "
                              f"the oversize one must fit well under the {trip.quota}-byte quota: use a larger --quota")
        page_quota = trip.page.quota
        if self.medium == "indexeddb" and (page_quota is None or page_quota.effective is None):
            raise Unsupported(f"no IndexedDB quota emulation on {trip.driver.spec.name}: "
                              f"{page_quota.how if page_quota else 'the driver applied none'}")
        seen = trip.observed["quota"] = {"estimate_before": await trip.step("estimate", {})}
        kept, other = self.url(trip, "kept"), self.url(trip, "other", self.other)
        out = []
        for url in (kept, other):
            saved, diffs = await trip.save_and_check({"kind": "url", "url": url}, f"save[{url}]")
            out += diffs
            if saved is None:  # the golden itself does not save under the quota: nothing else can be checked
                seen["not_checked"] = "the oversize save, the copies and the moves: the golden's own save was refused"
                return out

        # A model that cannot fit: rejected, and nothing of it left.
        big_url = self.url(trip, "oversize")
        big_bytes = -(-(trip.quota + OVERSIZE_MARGIN) // models.SIZED_ROW_BYTES) * models.SIZED_ROW_BYTES
        fixture = _serve_sized(trip, big_bytes)
        seen["oversize"] = {"weight_bytes": big_bytes,
                            "save": await settle(trip.save({"kind": "url", "url": big_url}, fixture=fixture,
                                                           deadline=_deadline()))}
        out += _must_reject(seen["oversize"]["save"], f"save of {big_bytes} weight bytes", big_url)
        if self.medium == "localstorage":
            out += _says_local_storage_refused(seen["oversize"]["save"], big_url)
        out += await self._nothing_of(trip, big_url, "after the refused save")
        seen["oversize"]["load"] = await settle(trip.load({"kind": "url", "url": big_url}, prefix="oversize.",
                                                          deadline=_deadline()))
        out += _must_reject(seen["oversize"]["load"], "load of the refused model", big_url)
        out += await trip.load_and_check({"kind": "url", "url": kept}, prefix="kept.")

        # A full medium: copy and move into it must either fail and keep their source, or succeed for real.
        seen["fill"] = await self._fill(trip)
        if not seen["fill"]["full"]:
            why = f"copyModel / moveModel into a full {self.medium} not checked: the medium could not be filled ({seen['fill']})"
            seen["copy_move"] = why
            if not out:
                raise Unsupported(why)
            out.append(Difference("not-checked", "copy-move", why))
        else:
            moves = (("copyModel", kept, "copy"), ("moveModel", other, "moved-across"), ("moveModel", kept, "moved"))
            for op, source, suffix in moves:
                dest = self.url(trip, suffix)
                seen[f"{op}({source}, {dest})"] = outcome = await settle(_manage(trip, op, source, dest))
                out += await self._after_clone(trip, op, source, dest, outcome, suffix)
        seen["estimate_after"] = await trip.step("estimate", {})
        return out

    async def _after_clone(self, trip: Trip, op: str, source: str, dest: str, outcome: dict, suffix: str) -> list[Difference]:
        """Nothing lost: a refused copy/move leaves no trace of `dest` and `source` intact; one that
        resolved (a same-medium move frees its source first, so it may fit) must have really
        written `dest`, and a move must have removed `source`."""
        out = []
        if outcome["outcome"] == "hang":
            out.append(Difference("hang", dest, f"tf.io.{op}({source}, {dest}): {error_text(outcome)}"))
        moved = op == "moveModel" and outcome["outcome"] == "resolved"
        if outcome["outcome"] == "resolved":
            out += [d.where("", f"{dest} after tf.io.{op} resolved: {d.message}")
                    for d in await trip.load_and_check({"kind": "url", "url": dest}, prefix=f"{suffix}-dest.")]
        else:
            out += await self._nothing_of(trip, dest, f"after the refused tf.io.{op}")
        if moved:
            out += _must_reject(await settle(trip.load({"kind": "url", "url": source}, prefix=f"{suffix}-gone.",
                                                        deadline=_deadline())), "load of a moved model's source", source)
        else:
            out += [d.where("", f"source {source} after tf.io.{op} into a full medium ({outcome['outcome']}): {d.message}")
                    for d in await trip.load_and_check({"kind": "url", "url": source}, prefix=f"{suffix}-source.")]
        return out

    async def _fill(self, trip: Trip) -> dict:
        """Fill the medium with the storage API; an engine whose quota caps each write (so the
        medium never fills) gets its quota lowered to FULL_QUOTA instead, where the driver can."""
        if self.medium == "localstorage":
            return await trip.step("fillLocalStorage", {"leave": 0})
        fill = await trip.step("fillIndexedDB", {"limit": 2 * trip.quota, "deadline": _deadline()})
        if not fill["full"]:
            try:
                applied = await trip.page.set_quota(FULL_QUOTA, trip.timeout)
            except NotImplementedError:
                return fill
            fill = {**fill, "full": True, "how": f"{2 * trip.quota} bytes went in without a refusal (the quota caps single "
                                                 f"transactions, not the total), so the quota was lowered: {applied.how}"}
        return fill

    async def _nothing_of(self, trip: Trip, url: str, when: str) -> list[Difference]:
        """No key or record of `url` in the storage, and listModels does not list it."""
        path = url.split("://", 1)[1]
        keys = await trip.step("storageKeys", {})
        out = []
        if self.medium == "localstorage":
            partial = [k for k in keys["localStorage"] if k.startswith(f"{LS_PREFIX}/{path}/")]
            if partial:
                out.append(Difference("storage", f"localStorage {when}", f"keys of {url} remain: {partial}"))
        else:
            for store in (IDB_MODELS, IDB_INFO):
                if path in keys["indexeddb"].get(store, []):
                    out.append(Difference("storage", f"IndexedDB {store} {when}", f"a record of {url} remains"))
        listed = await settle(_manage(trip, "listModels"))
        if listed["outcome"] != "resolved":
            out.append(Difference("listModels", when, f"did not resolve: {listed}"))
        elif url in (listed["value"] or {}):
            out.append(Difference("listModels", when, f"lists {url}: {listed['value'][url]}"))
        return out


class QuotaLocalStorage(QuotaScheme):
    name, medium, other = "quota-localstorage", "localstorage", "indexeddb"


class QuotaIndexedDB(QuotaScheme):
    name, medium, other = "quota-indexeddb", "indexeddb", "localstorage"


def _serve_sized(trip: Trip, weight_bytes: int) -> str:
    """The sized model (written by numpy into fixtures/generated/, served from there): its model.json URL."""
    return trip.server.fixture_url(goldens.sized(weight_bytes))


async def _manage(trip: Trip, op: str, *args: str):
    reply = await trip.step("manage", {"op": op, "args": list(args), "deadline": _deadline()})
    if "error" in reply:
        raise TfjsError(f"tf.io.{op} failed: {reply['error']['name']}: {reply['error']['message']}", reply["error"])
    return reply.get("value")


def _says_local_storage_refused(outcome: dict, url: str) -> list[Difference]:
    """local_storage_test.ts 'Data size too large leads to error thrown': the message starts with
    "Failed to save model '<path>' to local storage" (indexOf(...) === 0)."""
    if outcome["outcome"] != "rejected":
        return []  # _must_reject says so
    want = f"Failed to save model '{url.split('://', 1)[1]}' to local storage"
    message = str(outcome["error"].get("message"))
    if message.startswith(want):
        return []
    return [Difference("quota-message", url, f"the refused save's message does not start with {want!r} "
                                             f"(local_storage_test.ts 'Data size too large leads to error thrown'): "
                                             f"{message!r}", expected=want, actual=message)]


def _must_reject(outcome: dict, what: str, url: str) -> list[Difference]:
    phase = (outcome.get("error") or {}).get("phase")
    if outcome["outcome"] == "rejected" and phase in (None, "save", "load"):
        return []
    if outcome["outcome"] == "rejected":  # e.g. a load that worked, then failed to predict
        return [Difference("quota", url, f"{what} failed in phase {phase!r}, not in save/load itself: "
                                         f"{error_text(outcome)}")]
    if outcome["outcome"] == "hang":
        return [Difference("hang", url, f"{what}: {error_text(outcome)}")]
    return [Difference("quota", url, f"{what} resolved; it must reject (the medium cannot hold it)")]
