"""Save/load schemes: one module per kind of medium, one class per scheme, behind one interface
(`harness.schemes.base.Scheme`), like TF.js's own io handlers. Each is a `scheme` value in
conformance.json; `hosts` says where it runs (browser engines, Node)."""

from __future__ import annotations

from harness.schemes.base import Scheme, Unsupported
from harness.schemes.files import BrowserFiles, Downloads
from harness.schemes.http import BrowserHTTPRequest, Http, HttpQuery, Https
from harness.schemes.load_options import LoadOptions, LoadWeights, RelativeUrl
from harness.schemes.management import ModelManagement, NestedModelManagement
from harness.schemes.memory import CustomHandler
from harness.schemes.node import BrowserToNode, FileNode, NodeToBrowser
from harness.schemes.persistence import ReloadPersistence, RestartPersistence
from harness.schemes.save_result import SaveResult
from harness.schemes.storage import IndexedDB, LocalStorage

SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        LocalStorage(), IndexedDB(), Downloads(), Http(), HttpQuery(), Https(), BrowserHTTPRequest(), LoadOptions(),
        RelativeUrl(), LoadWeights(), BrowserFiles(),
        CustomHandler(), FileNode(), NodeToBrowser(), BrowserToNode(), ModelManagement(), NestedModelManagement(),
        ReloadPersistence(), RestartPersistence(), SaveResult(),
    )
}

__all__ = ["SCHEMES", "Scheme", "Unsupported"]
