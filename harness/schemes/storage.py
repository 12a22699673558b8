"""`localstorage://` and `indexeddb://`: browser storage, checked with the storage APIs themselves.

localStorage: five keys under `tensorflowjs_models/PATH/` (tfjs-core/src/io/local_storage.ts): `info`
(the ModelArtifactsInfo), `model_topology` and `weight_specs` (JSON), `weight_data` (base64) and
`model_metadata` (every other model.json field: format, generatedBy, convertedBy, and the optional
ones TF.js was given, e.g. userDefinedMetadata, trainingConfig).
IndexedDB: database `tensorflowjs`, stores `models_store` ({modelPath, modelArtifacts,
modelArtifactsInfo}: the whole artifacts, weights joined into one buffer) and `model_info_store`
({modelPath, modelArtifactsInfo}), keyed by `modelPath` (tfjs-core/src/io/indexed_db.ts).
Every record is compared whole: a missing or an added field is a difference.
"""

from __future__ import annotations

import json

from harness.schemes.base import Scheme
from harness.trip.compare import Difference, diff_json
from harness.trip.roundtrip import Trip

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
    crosses_contexts = True

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
    needs = ("localStorage",)

    def check_storage(self, trip, path, report, weights):
        want = {f"{LS_PREFIX}/{path}/{s}" for s in LS_SUFFIXES}
        got = set(report["keys"])
        out = []
        if got != want:
            out.append(Difference("storage", "localStorage keys",
                                  f"missing {sorted(want - got)}, unexpected {sorted(got - want)}",
                                  expected=sorted(want), actual=sorted(got)))
        out += trip.want.check_artifacts("storage", report["model_topology"], report["weight_specs"], weights)
        out += diff_json(trip.want.metadata(), report["model_metadata"], "storage.model_metadata")
        return out + trip.want.check_info("storage.info", report["info"])


class IndexedDB(BrowserStorage):
    name = url_scheme = "indexeddb"
    needs = ("indexedDB",)

    def check_storage(self, trip, path, report, weights):
        if not report.get("database"):
            return [Difference("storage", f"IndexedDB {IDB_DATABASE}", "database does not exist after the save")]
        out = []
        stores = report["stores"]
        if set(stores) != {IDB_MODELS, IDB_INFO}:
            out.append(Difference("storage", "object stores", f"expected {[IDB_MODELS, IDB_INFO]}, got {sorted(stores)}",
                                  expected=[IDB_MODELS, IDB_INFO], actual=sorted(stores)))
        for store in (IDB_MODELS, IDB_INFO):
            keys = stores.get(store, {}).get("keys")
            if keys != [path]:
                out.append(Difference("storage", f"{store} keys", f"expected [{path!r}], got {keys!r}",
                                      expected=[path], actual=keys))
        record = report["records"].get(IDB_MODELS)
        if not isinstance(record, dict) or not isinstance(record.get("modelArtifacts"), dict):
            return out + [Difference("storage", IDB_MODELS, f"no record for {path!r}")]
        what = f"storage.{IDB_MODELS}"
        out += diff_json({"modelPath": path}, {k: v for k, v in record.items()
                                               if k not in ("modelArtifacts", "modelArtifactsInfo", "weightDataType")}, what)
        artifacts = record["modelArtifacts"]
        rest = {k: v for k, v in artifacts.items() if k not in ("modelTopology", "weightSpecs")}
        out += diff_json(trip.want.metadata(), rest, f"{what}.modelArtifacts")
        out += trip.want.check_artifacts("storage", artifacts.get("modelTopology"), artifacts.get("weightSpecs"), weights)
        out += trip.want.check_info(f"{what}.modelArtifactsInfo", record.get("modelArtifactsInfo"))
        info = report["records"].get(IDB_INFO)
        if not isinstance(info, dict):
            return out + [Difference("storage", IDB_INFO, f"no record for {path!r}")]
        out += diff_json({"modelPath": path}, {k: v for k, v in info.items() if k != "modelArtifactsInfo"}, f"storage.{IDB_INFO}")
        return out + trip.want.check_info(f"storage.{IDB_INFO}.modelArtifactsInfo", info.get("modelArtifactsInfo"))
