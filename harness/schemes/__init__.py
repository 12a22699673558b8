"""Save/load schemes: one module per scheme behind one interface (like TF.js's io routers).

A scheme says which URLs a round trip saves to and loads from, which storage inspector the page
runs after the save, and what that storage must then hold (`check_storage`).
"""

from __future__ import annotations

from harness.schemes.base import Scheme
from harness.schemes.indexeddb import IndexedDB
from harness.schemes.localstorage import LocalStorage

SCHEMES: dict[str, Scheme] = {s.name: s for s in (LocalStorage(), IndexedDB())}

__all__ = ["SCHEMES", "Scheme"]
