"""The interface every scheme implements, and the default round trip most of them use."""

from __future__ import annotations

from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip


class Unsupported(Exception):
    """This engine cannot do what the scheme needs; the row is skipped with this (measured) reason."""


def require(trip: Trip, feature: str, page=None) -> None:
    """Skip the row (Unsupported, with the build's declared reason) when the page's build lacks
    `feature` (harness.engines.base.FEATURES). Only a declared inability skips: a driver that fails
    to do what its build declares is a harness error."""
    reason = (page or trip.page).lacks(feature)
    if reason:
        raise Unsupported(f"{trip.driver.spec.name} cannot do {feature}: {reason}")


async def save_to_each(trip: Trip, media, path: str, page=None) -> tuple[list[str], list[Difference]]:
    """Save the golden to `<medium>://<path>` for each medium: the media whose save resolved, and the
    differences (a refused save is one, `save[<medium>].tfjs-error`)."""
    saved, out = [], []
    for medium in media:
        result, diffs = await trip.save_and_check({"kind": "url", "url": f"{medium}://{path}"}, f"save[{medium}]",
                                                  page=page)
        out += diffs
        if result is not None:
            saved.append(medium)
    return saved, out


class Scheme:
    """A way TF.js saves and loads a model. Subclasses give targets and checks, or a whole `run`."""

    name: str  # the `scheme` value in conformance.json
    hosts: tuple[str, ...] = ("browser",)  # where it runs: EngineSpec.host values
    # The golden models it runs over (None: the whole zoo). For a scheme whose subject does not depend
    # on the model and whose rows are costly; a user's --model always runs.
    models: tuple[str, ...] | None = None
    # The APIs of its context the scheme's medium needs (harness.contexts: "localStorage", "document"). In a
    # context that lacks one, the row checks that TF.js refuses clearly (harness.schemes.refusal).
    needs: tuple[str, ...] = ()
    # Whether a row may save in one context and load in another ("A->B", harness.contexts): a scheme of one
    # save and one load through a medium both contexts reach (storage, http), not one of many steps on one page.
    crosses_contexts: bool = False
    in_contexts: bool = True  # False: its rows run in window only unless --context says otherwise (a costly scheme)

    def path(self, trip: Trip) -> str:
        return f"{trip.golden.name}-{self.name}"

    def save_target(self, trip: Trip) -> dict:
        raise NotImplementedError

    def load_source(self, trip: Trip) -> dict:
        raise NotImplementedError

    def refusal_calls(self, trip: Trip) -> list[tuple[str, dict]]:
        """What a user's code calls through this scheme, where its context lacks what the medium needs
        (harness.schemes.refusal): ("save", target) and ("load", source)."""
        return [("save", self.save_target(trip)), ("load", self.load_source(trip))]

    def inspect(self, trip: Trip) -> dict | None:
        """What the page's storage inspector should post after the save (None: nothing)."""
        return None

    async def after_save(self, trip: Trip, save_result: dict) -> list[Difference]:
        """What a user (or the medium) does between save and load, and what it must show."""
        return []

    async def run(self, trip: Trip) -> list[Difference]:
        """Save the golden through the scheme, check what the medium holds, load it back, compare. A
        save that TF.js refuses is the row's difference: nothing was saved, so nothing is loaded."""
        saved, out = await trip.save_and_check(self.save_target(trip), "save-result", inspect=self.inspect(trip))
        if saved is None:
            return out
        out += await self.after_save(trip, saved)
        return out + await trip.load_and_check(self.load_source(trip))

    @staticmethod
    def media_in(trip: Trip, media) -> list[str]:
        """The media of `media` (scheme names) that the trip's context has; the others are said in the row
        (`observed.media_left_out`), never silently dropped."""
        from harness.contexts import MEDIUM_NEEDS

        kept = []
        for medium in media:
            lacked = trip.context.lacks_any(MEDIUM_NEEDS.get(medium, ()))
            if lacked:
                why = f"in the {trip.context.name} context: {'; '.join(lacked.values())}"
                trip.observed.setdefault("media_left_out", {})[medium] = why
            else:
                kept.append(medium)
        return kept

    def __str__(self) -> str:
        return self.name
