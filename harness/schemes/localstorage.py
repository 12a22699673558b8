"""`localstorage://PATH`: five keys under `tensorflowjs_models/PATH/` (tfjs-core/src/io/local_storage.ts)."""

from __future__ import annotations

from harness.compare import Difference, diff_json
from harness.schemes.base import ExpectedSave, Scheme, storage_report

KEY_PREFIX = "tensorflowjs_models"
KEY_SUFFIXES = ("info", "model_topology", "weight_specs", "weight_data", "model_metadata")


class LocalStorage(Scheme):
    name = "localstorage"
    url_template = "localstorage://{path}"

    def check_storage(self, path: str, parts: dict[str, bytes], expected: ExpectedSave) -> list[Difference]:
        report = storage_report(parts)
        if not report:
            return [Difference("storage", "localStorage", "the page posted no storage report")]
        want = {f"{KEY_PREFIX}/{path}/{s}" for s in KEY_SUFFIXES}
        got = set(report["keys"])
        out = []
        if got != want:
            out.append(
                Difference("storage", "localStorage keys", f"missing {sorted(want - got)}, unexpected {sorted(got - want)}")
            )
        out += expected.check("storage", report["model_topology"], report["weight_specs"], parts.get("storage.weights.bin"))
        meta = {k: expected.model_json.get(k) for k in ("format", "generatedBy", "convertedBy")}
        out += diff_json(meta, {k: (report["model_metadata"] or {}).get(k) for k in meta}, "storage.model_metadata")
        info = report["info"] or {}
        out += diff_json(expected.save_info, {k: info.get(k) for k in expected.save_info}, "storage.info")
        return out
