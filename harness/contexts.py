"""The execution contexts a row's steps run in: its `context`. A browser row's harness window opens the
context (harness/js/contexts.js) and relays the steps to it; the same steps run there on their own TF.js,
and post their artifacts to the harness server themselves (harness/js/host.js). Node rows run in the
host process, or in a `worker_threads` Worker of it (harness/js/node_host.js).

    window              the harness page itself (every row before contexts existed)
    dedicated-worker    new Worker('/worker.js'): TF.js by importScripts, off the main thread
    shared-worker       new SharedWorker('/worker.js'): one worker for every tab of the origin
    service-worker      navigator.serviceWorker.register('/worker.js'), messaged by the page
    iframe-same-origin  the harness page in a frame of the same origin
    iframe-cross-site   the harness page of another site (127.0.0.2) in a frame: a third party, whose storage
                        the engine may partition by the top-level site
    top-level-cross-site  that site's page opened top-level (the load side of the partitioning rows)
    private-window      the harness page in a private browsing window (Firefox: browser.privatebrowsing.autostart)
    persistent-window   the harness page in a browser on an on-disk profile of its own, as a user's browser is
                        (every other browser context is ephemeral: Playwright's new_context, incognito-like)
    worker-thread       Node: a worker_threads Worker of the host

A context lacks what the platform does not give it (`lacks`: API -> why): no worker has localStorage or a
document to click a download link in. A scheme that needs one (Scheme.needs) is not skipped there: its row
checks that TF.js refuses clearly (harness.schemes.refusal). A scheme that uses several media keeps the ones
the context has (Scheme.media_in).

A row's context may be "A->B": saved in A, loaded in B on the same storage (a sibling page: another tab).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

WORKER_LACKS = {
    "localStorage": "a worker has no localStorage (Window.localStorage is on windows only)",
    "document": "a worker has no document, so no link to click for a download nor a file chooser of its own",
}


@dataclasses.dataclass(frozen=True)
class Context:
    name: str
    host: str  # EngineSpec.host: "browser" or "node"
    lacks: Mapping[str, str] = dataclasses.field(default_factory=dict)
    what: str = ""
    scope: str = ""  # what the steps' global scope says it is (harness/js/host.js scopeName); "": the name
    site: str = "first"  # "second": the harness page of the server's second site (HarnessServer.cross_site_url)
    relayed: bool = True  # False: the steps run in the window itself (no ?context= for the page to open)
    # A third party (a frame of another site): the engine may deny it storage the platform gives. What it
    # denies is measured in the context at the start of each row (`denied`), never declared per build.
    third_party: bool = False
    # The storage mode of a window: "ephemeral" (a Playwright context, incognito-like: every row before modes
    # existed), "private" (a private browsing window: a browser of its own, Build.private_prefs) or
    # "persistent" (a browser on an on-disk profile of its own, Driver.open_persistent). The driver reads it
    # from the page's URL (HarnessServer.page_url).
    mode: str = "ephemeral"

    @property
    def private(self) -> bool:
        return self.mode == "private"

    @property
    def scope_name(self) -> str:
        return self.scope or self.name

    def lacks_any(self, needs: tuple[str, ...]) -> dict[str, str]:
        """The APIs of `needs` this context lacks, with why."""
        return {api: self.lacks[api] for api in needs if api in self.lacks}


CONTEXTS: dict[str, Context] = {c.name: c for c in (
    Context("window", "browser", what="the harness page", relayed=False),
    Context("top-level-cross-site", "browser", what="the second site's harness page opened top-level: a cross-site "
            "frame's own origin as a first party", scope="window", site="second", relayed=False),
    Context("private-window", "browser", what="the harness page in a private browsing window", scope="window",
            relayed=False, mode="private"),
    Context("persistent-window", "browser", what="the harness page in a browser on an on-disk profile", scope="window",
            relayed=False, mode="persistent"),
    Context("dedicated-worker", "browser", WORKER_LACKS, "a dedicated Worker of the page"),
    Context("shared-worker", "browser", WORKER_LACKS, "a SharedWorker of the origin"),
    Context("service-worker", "browser", WORKER_LACKS, "a service worker registered by the page"),
    Context("iframe-same-origin", "browser", what="a same-origin frame", scope="frame"),
    Context("iframe-cross-site", "browser", what="a frame of another site (a third party)", scope="frame",
            third_party=True),
    Context("worker-thread", "node", {"localStorage": "Node has no localStorage"}, "a worker_threads Worker"),
)}
# What each medium a scheme saves to needs of its context (harness.schemes.base.Scheme.needs).
MEDIUM_NEEDS = {"localstorage": ("localStorage",), "indexeddb": ("indexedDB",), "downloads": ("document",)}
DEFAULT = "window"
# A top-level window in each storage mode (Context.mode): where the capacity probe runs (`--context`).
WINDOWS = ("window", "private-window", "persistent-window")
WORKERS = ("dedicated-worker", "shared-worker", "service-worker")
# What the round trips run beside window when no --context is given: one model per scheme x context x engine
# (harness.pytest.matrix); saving in one context and loading in another runs for the schemes that cross.
SAMPLED = ("dedicated-worker", "shared-worker", "service-worker", "iframe-same-origin", "iframe-cross-site",
           "private-window", "persistent-window", "worker-thread", "dedicated-worker->window", "window->dedicated-worker",
           "shared-worker->window", "service-worker->window")


def denied(context: Context, measured: Mapping[str, str]) -> Context:
    """`context` with what the engine denied it, as measured there (harness/js/storage.js keys(): API ->
    the engine's error) joining what the platform lacks: Chromium gives a cross-site frame no storage."""
    if not measured:
        return context
    why = {api: f"the engine denies {context.what} {api} (measured there: {error})" for api, error in measured.items()}
    return dataclasses.replace(context, lacks={**context.lacks, **why})


def reachable(exceeds: tuple[str, ...], row_context: str) -> tuple[str, ...]:
    """The media of harness.golden.fit.exceeds ("localstorage-x2", "indexeddb-value"...) a row in
    `row_context` can use at all: a model cannot be too big for a medium its context lacks (a worker's
    localStorage), so no capacity finding applies to that row. (One the engine denies, measured as the row
    starts, makes it a refusal row, which only findings that name contexts explain: harness.trip.roundtrip.)"""
    lacking = set()
    for context in filter(None, split(row_context)):
        lacking |= set(context.lacks)
    return tuple(m for m in exceeds if not set(MEDIUM_NEEDS.get(m.split("-")[0], ())) & lacking)


def crossable(scheme, row_context: str) -> bool:
    """Whether an "A->B" row of `scheme` means something: one save and one load through a medium that both
    contexts have (a worker's localStorage refusal is the worker's own row)."""
    return getattr(scheme, "crosses_contexts", False) and not any(
        c.lacks_any(getattr(scheme, "needs", ())) for c in split(row_context) if c is not None)


def runs_on(row_context: str, host: str) -> bool:
    """Whether a row of this context can run on an engine of `host`: window on every host (in Node, the
    host's main thread), any other context on its own."""
    return row_context == DEFAULT or split(row_context)[0].host == host


def get(name: str) -> Context:
    try:
        return CONTEXTS[name]
    except KeyError:
        raise ValueError(f"unknown context {name!r}; known: {', '.join(CONTEXTS)}") from None


def split(row_context: str) -> tuple[Context, Context | None]:
    """A row's context: one name, or "A->B" (saved in A, loaded in B: two names on one host)."""
    parts = row_context.split("->")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] == parts[1]):
        raise ValueError(f"{row_context!r}: expected a context name or A->B with two different contexts")
    save = get(parts[0])
    load = get(parts[1]) if len(parts) == 2 else None
    if load is not None and load.host != save.host:
        raise ValueError(f"{row_context!r}: both contexts must be on one host ({save.host} and {load.host})")
    return save, load

