"""`localstorage://` and `indexeddb://`: browser storage, checked with the storage APIs themselves.

localStorage: five keys under `tensorflowjs_models/PATH/` (tfjs-core/src/io/local_storage.ts).
IndexedDB: database `tensorflowjs`, stores `models_store` and `model_info_store` keyed by
`modelPath` (tfjs-core/src/io/indexed_db.ts).
"""

from __future__ import annotations

import json

from harness.trip.compare import Difference, diff_json
from harness.trip.roundtrip import Trip
from harness.schemes.base import Scheme

LS_PREFIX = "tensorflowjs_models"
LS_SUFFIXES = ("info", "model_topology", "weight_specs", "weight_data", "model_metadata")
IDB_DATABASE = "tensorflowjs"
IDB_MODELS = "models_store"
IDB_INFO = "model_info_store"


def storage_report(trip: Trip) -> dict:
    parts = trip.parts()
    return json.loads(parts["storage.json"]) if "storage.json" in parts else {}


class BrowserStorage(Scheme):
    url_scheme: str

    def url(self, path: str) -> str:
        return f"{self.url_scheme}://{path}"

    def save_target(self, trip: Trip) -> dict:
        return {"kind": "url", "url": self.url(self.path(trip))}

    load_source = save_target

    def inspect(self, trip: Trip) -> dict:
        return {"scheme": self.name, "path": self.path(trip)}

    async def after_save(self, trip: Trip, save_result: dict) -> list[Difference]:
        report = storage_report(trip)
        if not report:
            return [Difference("storage", self.name, "the page posted no storage report")]
        return self.check_storage(trip, self.path(trip), report, trip.parts().get("storage.weights.bin"))

    def check_storage(self, trip: Trip, path: str, report: dict, weights: bytes | None) -> list[Difference]:
        raise NotImplementedError


class LocalStorage(BrowserStorage):
    name = url_scheme = "localstorage"

    def check_storage(self, trip, path, report, weights):
        want = {f"{LS_PREFIX}/{path}/{s}" for s in LS_SUFFIXES}
        got = set(report["keys"])
        out = []
        if got != want:
            out.append(Difference("storage", "localStorage keys", f"missing {sorted(want - got)}, unexpected {sorted(got - want)}"))
        out += trip.want.check_artifacts("storage", report["model_topology"], report["weight_specs"], weights)
        meta = trip.want.metadata()
        out += diff_json(meta, {k: (report["model_metadata"] or {}).get(k) for k in meta}, "storage.model_metadata")
        info = report["info"] or {}
        return out + diff_json(trip.want.save_info, {k: info.get(k) for k in trip.want.save_info}, "storage.info")


class IndexedDB(BrowserStorage):
    name = url_scheme = "indexeddb"

    def check_storage(self, trip, path, report, weights):
        if not report.get("database"):
            return [Difference("storage", f"IndexedDB {IDB_DATABASE}", "database does not exist after the save")]
        out = []
        stores = report["stores"]
        if set(stores) != {IDB_MODELS, IDB_INFO}:
            out.append(Difference("storage", "object stores", f"expected {[IDB_MODELS, IDB_INFO]}, got {sorted(stores)}"))
        for store in (IDB_MODELS, IDB_INFO):
            keys = stores.get(store, {}).get("keys")
            if keys != [path]:
                out.append(Difference("storage", f"{store} keys", f"expected [{path!r}], got {keys!r}"))
        record = (report["records"].get(IDB_MODELS) or {}).get("modelArtifacts")
        if record is None:
            return out + [Difference("storage", IDB_MODELS, f"no record for {path!r}")]
        out += trip.want.check_artifacts("storage", record.get("modelTopology"), record.get("weightSpecs"), weights)
        meta = trip.want.metadata()
        out += diff_json(meta, {k: record.get(k) for k in meta}, f"storage.{IDB_MODELS}")
        info = (report["records"].get(IDB_INFO) or {}).get("modelArtifactsInfo") or {}
        return out + diff_json(trip.want.save_info, {k: info.get(k) for k in trip.want.save_info}, f"storage.{IDB_INFO}")
