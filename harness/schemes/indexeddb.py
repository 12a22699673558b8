"""`indexeddb://PATH`: database `tensorflowjs`, stores `models_store` and `model_info_store`
keyed by `modelPath` (tfjs-core/src/io/indexed_db.ts)."""

from __future__ import annotations

from harness.compare import Difference, diff_json
from harness.schemes.base import ExpectedSave, Scheme, storage_report

DATABASE = "tensorflowjs"
MODELS_STORE = "models_store"
INFO_STORE = "model_info_store"


class IndexedDB(Scheme):
    name = "indexeddb"
    url_template = "indexeddb://{path}"

    def check_storage(self, path: str, parts: dict[str, bytes], expected: ExpectedSave) -> list[Difference]:
        report = storage_report(parts)
        if not report.get("database"):
            return [Difference("storage", f"IndexedDB {DATABASE}", "database does not exist after the save")]
        out = []
        stores = report["stores"]
        if set(stores) != {MODELS_STORE, INFO_STORE}:
            out.append(Difference("storage", "object stores", f"expected {[MODELS_STORE, INFO_STORE]}, got {sorted(stores)}"))
        for store in (MODELS_STORE, INFO_STORE):
            keys = stores.get(store, {}).get("keys")
            if keys != [path]:
                out.append(Difference("storage", f"{store} keys", f"expected [{path!r}], got {keys!r}"))
        record = (report["records"].get(MODELS_STORE) or {}).get("modelArtifacts")
        if record is None:
            return out + [Difference("storage", MODELS_STORE, f"no record for {path!r}")]
        out += expected.check("storage", record.get("modelTopology"), record.get("weightSpecs"), parts.get("storage.weights.bin"))
        meta = {k: expected.model_json.get(k) for k in ("format", "generatedBy", "convertedBy")}
        out += diff_json(meta, {k: record.get(k) for k in meta}, f"storage.{MODELS_STORE}")
        info = (report["records"].get(INFO_STORE) or {}).get("modelArtifactsInfo") or {}
        out += diff_json(expected.save_info, {k: info.get(k) for k in expected.save_info}, f"storage.{INFO_STORE}")
        return out
