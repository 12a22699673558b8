"""The interface every scheme implements, and the default round trip most of them use."""

from __future__ import annotations

from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class Unsupported(Exception):
    """This engine cannot do what the scheme needs; the row is skipped with this (measured) reason."""


class Scheme:
    """A way TF.js saves and loads a model. Subclasses give targets and checks, or a whole `run`."""

    name: str  # the `scheme` value in conformance.json
    hosts: tuple[str, ...] = ("browser",)  # where it runs: EngineSpec.host values
    # The golden models it runs over (None: the whole zoo). For a scheme whose subject does not depend
    # on the model and whose rows are costly; a user's --model always runs.
    models: tuple[str, ...] | None = None

    def path(self, trip: Trip) -> str:
        return f"{trip.golden.name}-{self.name}"

    def save_target(self, trip: Trip) -> dict:
        raise NotImplementedError

    def load_source(self, trip: Trip) -> dict:
        raise NotImplementedError

    def inspect(self, trip: Trip) -> dict | None:
        """What the page's storage inspector should post after the save (None: nothing)."""
        return None

    async def after_save(self, trip: Trip, save_result: dict) -> list[Difference]:
        """What a user (or the medium) does between save and load, and what it must show."""
        return []

    async def run(self, trip: Trip) -> list[Difference]:
        """Save the golden through the scheme, check what the medium holds, load it back, compare."""
        saved = await trip.save(self.save_target(trip), inspect=self.inspect(trip))
        out = trip.check_save_result(saved)
        out += await self.after_save(trip, saved)
        return out + await trip.load_and_check(self.load_source(trip))

    def __str__(self) -> str:
        return self.name
