"""The interface every scheme implements."""

from __future__ import annotations

import abc
import json

from harness.compare import Difference, diff_json, diff_weights


class Scheme(abc.ABC):
    name: str  # the `scheme` value in conformance.json
    url_template: str  # e.g. "localstorage://{path}"

    def url(self, path: str) -> str:
        return self.url_template.format(path=path)

    def inspect(self, path: str) -> dict | None:
        """What the page's storage inspector should read after the save (None: nothing to read)."""
        return {"scheme": self.name, "path": path}

    @abc.abstractmethod
    def check_storage(self, path: str, parts: dict[str, bytes], expected: "ExpectedSave") -> list[Difference]:
        """What the storage holds after the save, against what TF.js must have written."""

    def __str__(self) -> str:
        return self.name


class ExpectedSave:
    """What a save of the golden must write: model JSON (after TF.js's rewrites), specs, bytes."""

    def __init__(self, model_json: dict, weight_specs: list[dict], weight_data: bytes, save_info: dict):
        self.model_json = model_json
        self.weight_specs = weight_specs
        self.weight_data = weight_data
        self.save_info = save_info  # modelArtifactsInfo byte counts

    def check(self, what: str, topology, specs, weights: bytes | None) -> list[Difference]:
        out = diff_json(self.model_json["modelTopology"], topology, f"{what}.modelTopology")
        out += diff_json(self.weight_specs, specs, f"{what}.weightSpecs")
        if weights is None:
            out.append(Difference(what, "weightData", "no weight data stored"))
        else:
            out += diff_weights(self.weight_specs, self.weight_data, weights, f"{what}.weightData")
        return out


def storage_report(parts: dict[str, bytes]) -> dict:
    return json.loads(parts["storage.json"]) if "storage.json" in parts else {}
