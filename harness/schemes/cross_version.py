"""`cross-version-<scheme>`: a model saved with TF.js A and loaded with TF.js B, for every scheme
that keeps a model between visits (localstorage, indexeddb, downloads -> browserFiles, http,
file-node). "Will the models my users saved last year still load after the upgrade?"

The row runs the scheme itself: the save (and the checks of what the medium holds) on a page of
build A; then every load on a page of build B on the same storage (Driver.open_sibling: same
browser context, the same WebDriver window navigated, another Node host), judged as B saves it.
The row's `tfjs` is "A->B".
"""

from __future__ import annotations

from harness.schemes.base import Scheme, Unsupported
from harness.schemes.files import Downloads
from harness.schemes.http import Http
from harness.schemes.node import FileNode
from harness.schemes.storage import IndexedDB, LocalStorage
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class CrossVersion(Scheme):
    def __init__(self, inner: Scheme):
        self.inner = inner
        self.name = f"cross-version-{inner.name}"
        self.hosts = inner.hosts

    def path(self, trip: Trip) -> str:
        return self.inner.path(trip)

    async def run(self, trip: Trip) -> list[Difference]:
        if trip.load_with is None:
            raise Unsupported("a cross-version row needs two TF.js builds (its tfjs is A->B)")
        return await self.inner.run(trip)


CROSS_VERSION: list[Scheme] = [CrossVersion(s) for s in (LocalStorage(), IndexedDB(), Downloads(), Http(), FileNode())]
