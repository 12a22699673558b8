"""A scheme in a context that lacks what its medium needs (harness.contexts): `localstorage://` and
`downloads://` in a worker. TF.js cannot work there; the row checks that it **refuses clearly**:

- each call (save, and load where the scheme loads by URL) must reject, within a deadline;
- its error must say why: that the environment does not support the medium, or that no handler takes the
  URL (`CLEAR`); a bare ReferenceError or TypeError ("window is not defined", tensorflow/tfjs#2643), a
  hang, or a save that resolves are differences;
- nothing may be left behind: the context's storage holds no key or record afterwards.

The promise: the issue's sentence "Where TF.js cannot work in a context (localStorage and downloads in
workers), the row checks that TF.js refuses clearly", and TF.js's own messages for it (local_storage.ts:
"The current environment does not support local storage."; browser_files.ts: "Browser downloads are not
supported in this environment since `document` is not present").
"""

from __future__ import annotations

import re

from harness.schemes.base import Scheme
from harness.trip.compare import Difference
from harness.trip.roundtrip import TfjsError, Trip

# What a clear refusal says: the environment lacks the medium, or no handler takes the URL.
# The engine's own refusal of storage counts: "Access is denied for this document" (localStorage),
# "The user denied permission to access the database" (IndexedDB), as Chromium words them in a third party.
CLEAR = re.compile(r"not supported|does not support|not present|is not a browser|not available|"
                   r"cannot find any (save|load) handlers|access is denied|denied permission", re.IGNORECASE)
UNCLEAR_NAMES = ("ReferenceError", "TypeError", "DeadlineExceeded")
DEADLINE_S = 10  # a refusal is immediate; a call unsettled after this long hangs


def clear(error: dict) -> bool:
    return error.get("name") not in UNCLEAR_NAMES and bool(CLEAR.search(str(error.get("message", ""))))


class Refusal(Scheme):
    """`scheme` run where its context lacks `lacked` (API -> why)."""

    def __init__(self, scheme: Scheme, lacked: dict[str, str]):
        self.scheme, self.lacked = scheme, lacked
        self.name = scheme.name

    async def run(self, trip: Trip) -> list[Difference]:
        trip.observed["refusal"] = {"lacks": self.lacked}
        out = []
        for op, descriptor in self.scheme.refusal_calls(trip):
            try:
                if op == "save":
                    result = await trip.save(descriptor, deadline=DEADLINE_S)
                else:
                    trip.state["predict"] = False
                    result = await trip.load(descriptor, deadline=DEADLINE_S)
            except TfjsError as e:
                error = {"name": e.error.get("name"), "message": e.error.get("message"), "phase": e.error.get("phase")}
                error["clear"] = clear(error)
                trip.observed["refusal"][op] = error
                if not error["clear"]:
                    out.append(Difference("refusal", op, f"TF.js's {op} in the {trip.context.name} context failed without saying "
                                          f"why ({'; '.join(self.lacked.values())}): {error['name']}: {error['message']}",
                                          actual=error))
                continue
            trip.observed["refusal"][op] = {"resolved": True}
            out.append(Difference("refusal", op, f"TF.js's {op} through {self.name} resolved in the {trip.context.name} context, "
                                  f"which lacks {', '.join(self.lacked)}: {str(result)[:200]}"))
        keys = await trip.step("storageKeys", {})
        left = [*keys["localStorage"], *[k for ks in keys["indexeddb"].values() for k in ks]]
        if left:
            out.append(Difference("storage", "after the refusals", f"the {trip.context.name}'s storage holds {left}",
                                  expected=[], actual=left))
        return out
