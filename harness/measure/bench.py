"""`python -m harness bench`: how long TF.js takes to save and load a model, beside the raw medium
holding the same bytes, per engine x scheme x size. Figures only: nothing here passes or fails.

    python -m harness bench [--engine chromium ...] [--sizes 1MB,16MB,128MB] [--repeat 3]
                            [--results-dir test-results] [--transfer-size 64MB] [--scheme http ...]
                            [--backend cpu --backend webgl ...] [--context window --context dedicated-worker ...]

Every cell (engine, backend, context, scheme, size) runs in ONE fresh page (Node: one host process): the golden
`harness.golden.sized(N)` model (exactly N weight bytes, N rounded down to a multiple of 1024) is saved
and loaded `--repeat` times by TF.js and the same weight bytes stored and read back `--repeat` times
with the medium's own API, the two interleaved (even runs TF.js first, odd runs raw first). Reported:
the median of each.

* TF.js times are the page's own timings from steps.js: the `save` step's 'save' phase (model.save(),
  the model already built) and the `fingerprint` step's 'load' phase (tf.loadLayersModel(): reading the
  medium AND building the model). Each load is checked: SHA-256 of the loaded weights == the golden's.
* raw times come from harness/js/bench.js (`benchRaw`): the weights as one ArrayBuffer (the golden's
  shards joined, SHA-256 checked), set-up untimed, then one timed operation (see NOTES), on
  performance.now() (0.1 ms steps in Chromium, 1 ms in Firefox and WebKit: a raw time of 0 means under
  a millisecond, and gets no ratio).

Schemes: localstorage, indexeddb, http, downloads (browsers), file-node (node); http runs in both.
Plus one row per engine: the harness's own page -> Python transfer (`env.post` of one artifact, scheme
"transfer", op "post"), timed in the page.

A context other than window (harness.contexts: a worker or frame) runs both sides there, as a row's steps
run there; a scheme whose medium it lacks (localStorage or downloads in a worker) is skipped, saying why.

Pages are opened as the conformance tests open them, without Playwright's per-page trace (which
records the network; the conformance run's --tracing is off by default too).

A failure (a rejected or hung save, e.g. Chromium's IndexedDB refusing one value over 127 MiB) is
recorded in its row (`tfjs_error` / `raw_error`) and the run goes on; every in-page call has a deadline
(`harness.trip.timeouts.for_weight_bytes`) and every step a timeout. Output: a table on stdout and
`RESULTS_DIR/bench.json`, a list of rows {"engine", "backend", "scheme", "op", "bytes", "tfjs_s", "raw_s", "ratio",
"tfjs_runs", "raw_runs", "tfjs_error", "raw_error", "skipped", "note", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Awaitable, Callable

from harness import backends, contexts, golden, quota
from harness.golden.models import SIZED_ROW_BYTES
from harness.schemes import SCHEMES as REGISTRY
from harness.trip import timeouts

# The conformance schemes the benchmark times (their hosts come from the scheme registry, harness.schemes).
SCHEMES: tuple[str, ...] = ("localstorage", "indexeddb", "http", "downloads", "file-node")
HOSTS: dict[str, tuple[str, ...]] = {name: REGISTRY[name].hosts for name in SCHEMES}
OPS: dict[str, tuple[str, ...]] = {
    "localstorage": ("save", "load"),
    "indexeddb": ("save", "load"),
    "http": ("save", "load"),
    "downloads": ("save",),  # loading downloaded files means a user choosing them: not timed here
    "file-node": ("save", "load"),
}
# localStorage holds about 5 Mi characters per origin (keys + values); TF.js stores the weights as base64
# (4 characters per 3 bytes) next to four small keys: 3,926,016 weight bytes is the most that fits, in every
# engine (the capacity probe, harness.measure.capacity; README "Storage quota").
LOCALSTORAGE_MAX_WEIGHT_BYTES = 3_926_016
DEFAULT_SIZES = "1MB,16MB,128MB"
DEFAULT_REPEAT = 3
DEFAULT_TRANSFER = "64MB"

NOTES: dict[tuple[str, str], str] = {
    ("localstorage", "save"): "raw: localStorage.setItem of the weights' base64 string (encoded beforehand, untimed); "
                              "TF.js's save includes its own base64 encoding and four small keys",
    ("localstorage", "load"): "raw: localStorage.getItem of that string (not decoded); TF.js's load includes decoding "
                              "it and building the model",
    ("indexeddb", "save"): "raw: put of one ArrayBuffer in a database of its own (connection opened beforehand), "
                           "transaction complete awaited; TF.js opens its database on every save",
    ("indexeddb", "load"): "raw: get of that ArrayBuffer, transaction complete awaited; TF.js's load includes opening "
                           "its database and building the model",
    ("http", "save"): "raw: fetch POST of a multipart FormData with one Blob (the weights) to a second upload slot of "
                      "the harness server; TF.js's body also carries model.json",
    ("http", "load"): "raw: fetch GET of the uploaded weights file, arrayBuffer(); TF.js's load fetches model.json, "
                      "then the weights, and builds the model",
    ("downloads", "save"): "both: time until the second <a download> click returns (blob URLs made, each click after "
                           "a setTimeout, as TF.js does); the browser writes the files afterwards, so this is not the "
                           "time to disk. The driver waits for both files after every save (downloads_delivered)",
    ("file-node", "save"): "raw: fs.promises.writeFile of the weights; TF.js writes model.json + weights.bin",
    ("file-node", "load"): "raw: fs.promises.readFile of the weights (the page cache is warm, as for TF.js); TF.js's "
                           "load includes building the model",
    ("transfer", "post"): "the harness's own page -> Python transfer: env.post of one artifact to "
                          "/results/<token>/<name> (a Blob body in browsers, the bytes in Node), timed in the page; "
                          "no TF.js involved (raw_s is its time)",
}
RAW_KEY = "harness-bench-raw"
# Chromium drops downloads a page starts in quick succession: back to back (each save's two files waited for),
# saves 1-5 of one page delivered both files, save 6 none, saves 7-8 both again; with a 1 s pause after each
# save all 8 arrived. The pause is not timed.
DOWNLOAD_PAUSE_S = 1.0
TFJS_PATH = "harness-bench"


class SideError(Exception):
    """One side (TF.js or raw) of a cell failed: recorded in the row, the cell goes on without that side."""


# -- figures ---------------------------------------------------------------------------------------------
def weight_bytes(requested: int) -> int:
    """A sized model's weight bytes for a requested size: rounded down to a whole kernel row (1024 bytes)."""
    return max(SIZED_ROW_BYTES, requested // SIZED_ROW_BYTES * SIZED_ROW_BYTES)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'1MB,4MiB' -> [(1000000, 999424), (4194304, 4194304)]: (requested, weight bytes) per size, in the
    order given; a size whose weight bytes an earlier one already has is dropped. ValueError on a bad size."""
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        requested = quota.parse_size(part.strip())
        if all(weight_bytes(requested) != n for _, n in out):
            out.append((requested, weight_bytes(requested)))
    if not out:
        raise ValueError(f"no sizes in {text!r}")
    return out


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(tfjs_s: float | None, raw_s: float | None) -> float | None:
    """TF.js time / raw time; None when either is missing or the raw time is 0 (below the clock's resolution)."""
    if tfjs_s is None or raw_s is None or raw_s <= 0:
        return None
    return tfjs_s / raw_s


def mb_per_s(n_bytes: int | None, seconds: float | None) -> float | None:
    if n_bytes is None or seconds is None or seconds <= 0:
        return None
    return n_bytes / 1e6 / seconds


def skip_reason(host: str, scheme: str, n_bytes: int | None = None, context: str = "window") -> str | None:
    """Why `scheme` cannot run on an engine of `host` (at this size, in this context), or None."""
    if host not in HOSTS[scheme]:
        where = " and ".join(HOSTS[scheme])
        return f"{scheme} runs on {where} engines only (this engine's host: {host})"
    lacked = contexts.get(context).lacks_any(REGISTRY[scheme].needs)
    if lacked:
        return f"a {context} lacks what {scheme} needs: {'; '.join(lacked.values())}"
    if scheme == "localstorage" and n_bytes is not None and n_bytes > LOCALSTORAGE_MAX_WEIGHT_BYTES:
        return (f"{n_bytes:,} weight bytes do not fit in localStorage (about 5 Mi characters per origin: at most "
                f"~{LOCALSTORAGE_MAX_WEIGHT_BYTES / 1e6:.1f} MB of weights as base64)")
    return None


def context_reason(build, host: str, context: str, backend: str = "cpu") -> str | None:
    """Why an engine of `host` on `build` cannot open `context` (harness.contexts) for pages on `backend`, or None."""
    if context not in contexts.CONTEXTS:
        return f"unknown context {context!r}"
    if not contexts.runs_on(context, host):
        return f"no {context} on a {host} engine"
    return build.lacks_context(context, (backends.get(backend).base,)) or None


def make_row(engine: str, scheme: str, op: str | None, n_bytes: int | None, *, tfjs_runs: list[float] | None = None,
             raw_runs: list[float] | None = None, **extra: Any) -> dict:
    tfjs_s, raw_s = median(tfjs_runs or []), median(raw_runs or [])
    row = {"engine": engine, "scheme": scheme, "op": op, "bytes": n_bytes, "tfjs_s": tfjs_s, "raw_s": raw_s,
           "ratio": ratio(tfjs_s, raw_s), "tfjs_runs": list(tfjs_runs or []), "raw_runs": list(raw_runs or []),
           "tfjs_error": None, "raw_error": None, "skipped": None, "note": NOTES.get((scheme, op or ""))}
    row.update(extra)
    return row


def _seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return "<0.001" if s < 0.0005 else f"{s:.3f}"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


COLUMNS = ("engine", "backend", "context", "scheme", "op", "MB", "TF.js s", "raw s", "TF.js MB/s", "raw MB/s", "ratio TF.js/raw")


def table(rows: list[dict]) -> str:
    """The rows as a plain-text table; skipped and failed cells are listed under it."""
    lines, notes = [], []
    for r in rows:
        if r.get("skipped"):
            notes.append(f"{_who(r)} {r['scheme']}{_size_label(r)}: skipped: {r['skipped']}")
            continue
        mb = None if r["bytes"] is None else r["bytes"] / 1e6
        lines.append((r["engine"], r.get("backend", "cpu"), r.get("context", "window"), r["scheme"], r["op"] or "-",
                      _num(mb, ".1f"),
                      _seconds(r["tfjs_s"]), _seconds(r["raw_s"]), _num(mb_per_s(r["bytes"], r["tfjs_s"]), ".1f"),
                      _num(mb_per_s(r["bytes"], r["raw_s"]), ".1f"), _num(r["ratio"], ".2f")))
        short = r.get("downloads_short") or {}
        if any(short.values()):
            notes.append(f"{_who(r)} {r['scheme']} {r['op']}{_size_label(r)}: fewer than both files arrived after "
                         f"{short.get('tfjs', 0)} of {len(r['tfjs_runs'])} TF.js and {short.get('raw', 0)} of "
                         f"{len(r['raw_runs'])} raw saves (downloads_delivered)")
        for side in ("tfjs", "raw"):
            if r.get(f"{side}_error"):
                who = "TF.js" if side == "tfjs" else "raw"
                notes.append(f"{_who(r)} {r['scheme']} {r['op']}{_size_label(r)}: {who} failed "
                             f"({len(r[f'{side}_runs'])} runs done): {_one_line(r[f'{side}_error'])}")
    widths = [max(len(c), *(len(line[i]) for line in lines)) if lines else len(c) for i, c in enumerate(COLUMNS)]
    numeric = set(range(5, len(COLUMNS)))

    def fmt(cells) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [fmt(COLUMNS), fmt("-" * w for w in widths), *(fmt(line) for line in lines)]
    if any("<0.001" in line for line in lines):
        notes.append("<0.001: under a millisecond, where the page's clock may read 0 (Firefox and WebKit round "
                     "performance.now() to 1 ms here): no MB/s or ratio from a 0")
    if notes:
        out += ["", *dict.fromkeys(notes)]  # a size skipped for both ops: one note
    return "\n".join(out)


def _who(r: dict) -> str:
    """The engine of a row, and its backend and context when they are not cpu and window."""
    extra = [x for x in (r.get("backend", "cpu"), r.get("context", "window")) if x not in ("cpu", "window")]
    return r["engine"] if not extra else f"{r['engine']} ({', '.join(extra)})"


def _size_label(r: dict) -> str:
    return "" if r.get("bytes") is None else f" {r['bytes'] / 1e6:.1f} MB"


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_json(results_dir: Path, rows: list[dict]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "bench.json"
    path.write_text(json.dumps(rows, indent=2) + "\n")
    return path


# -- measuring ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Size:
    requested: int
    bytes: int
    fixture: str  # model.json URL on the harness server
    sha256: str  # of the weight bytes
    inputs: tuple = ()  # the golden inputs ({name, url, dtype, shape}): a save on a non-cpu backend predicts first


@dataclasses.dataclass
class Side:
    runs: dict[str, list[float]]
    error: str | None = None
    failed_op: str | None = None  # the op that failed (None: the cell itself, e.g. the engine)

    def error_for(self, op: str, ops: tuple[str, ...]) -> str | None:
        """The error to report in `op`'s row: its own failure, or why it has fewer runs or none."""
        if self.error is None:
            return None
        if self.failed_op is None or self.failed_op == op:
            return self.error
        if ops.index(op) < ops.index(self.failed_op):
            return f"no more runs after run {len(self.runs[op])}: the {self.failed_op} failed: {self.error}"
        return f"not measured after the failed {self.failed_op}: {self.error}"


def _reply(reply: dict, what: str) -> dict:
    if reply.get("status") != "ok":
        err = reply.get("error") or {}
        phase = f" ({err['phase']})" if err.get("phase") else ""
        raise SideError(f"{what} failed{phase}: {err.get('name')}: {err.get('message')}")
    return reply["result"]


class Cell:
    """One engine x scheme x size in one page: TF.js and raw runs, interleaved."""

    def __init__(self, bench: "Bench", engine: str, host: str, scheme: str, size: Size, page):
        self.bench, self.engine, self.host, self.scheme, self.size, self.page = bench, engine, host, scheme, size, page
        self.server = bench.server
        self.deadline = timeouts.for_weight_bytes(size.bytes)
        self.sides = {"tfjs": Side({op: [] for op in OPS[scheme]}), "raw": Side({op: [] for op in OPS[scheme]})}
        self.extra: dict[str, Any] = {}
        self.tmp: str | None = None
        self.current_op: str | None = None  # the op being measured, for the error's row

    async def measure(self, runs: dict[str, list[float]], op: str, seconds: Awaitable[float]) -> None:
        self.current_op = op
        runs[op].append(await seconds)

    async def step(self, name: str, args: dict, timeout: float | None = None) -> dict:
        return _reply(await self.page.run_step(name, args, timeout or 3 * self.deadline + 30), name)

    async def run(self, repeat: int) -> None:
        if self.scheme == "file-node":
            self.tmp = tempfile.mkdtemp(prefix="harness-bench-")
        try:
            prepared = await self.step("benchPrepare", {"fixture": self.size.fixture, "deadline": self.deadline,
                                                        "base64": self.scheme == "localstorage"})
            if prepared["sha256"] != self.size.sha256 or prepared["bytes"] != self.size.bytes:
                raise SideError(f"the page read {prepared['bytes']} weight bytes with sha256 "
                                f"{prepared['sha256'][:16]}..., expected {self.size.bytes} with sha256 "
                                f"{self.size.sha256[:16]}...")
            for i in range(repeat):
                for side in (("tfjs", "raw") if i % 2 == 0 else ("raw", "tfjs")):
                    state = self.sides[side]
                    if state.error is not None:
                        continue  # a failure repeats (and may cost a deadline): not tried again
                    self.current_op = None
                    try:
                        await (self.tfjs_run if side == "tfjs" else self.raw_run)(i, state.runs)
                    except SideError as e:
                        state.error, state.failed_op = str(e), self.current_op
                    freed = await self.step("benchFree", {"clearLocalStorage": self.scheme == "localstorage",
                                                          "key": RAW_KEY}, 60)
                    # what TF.js still holds between runs (0: nothing leaks from one run into the next)
                    self.extra["tensor_bytes_between_runs"] = max(self.extra.get("tensor_bytes_between_runs", 0),
                                                                  freed["tensorBytes"])
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def fail_all(self, error: str) -> None:
        for state in self.sides.values():
            if state.error is None:
                state.error = error

    # -- TF.js: the conformance steps themselves (steps.js), their in-page timings --------------------
    def _common(self) -> dict:
        return {"format": "layers-model", "deadline": self.deadline, "token": "", "server": self.server.url}

    async def tfjs_save(self, target: dict) -> float:
        """model.save() alone; on a backend other than cpu the model is used first (untimed), as in the
        conformance rows, so that save() reads its weights back from the backend."""
        warm = list(self.size.inputs) if self.bench.backend != "cpu" else None
        result = await self.step("save", {**self._common(), "fixture": self.size.fixture, "target": target, "warm": warm})
        return result["timings"]["save"]

    async def tfjs_load(self, url: str) -> float:
        result = await self.step("fingerprint", {**self._common(), "source": {"kind": "url", "url": url}})
        if result["sha256"] != self.size.sha256 or result["weightBytes"] != self.size.bytes:
            raise SideError(f"TF.js loaded {result['weightBytes']} weight bytes with sha256 {result['sha256'][:16]}..., "
                            f"expected {self.size.bytes} with sha256 {self.size.sha256[:16]}...")
        return result["timings"]["load"]

    async def tfjs_run(self, i: int, runs: dict[str, list[float]]) -> None:
        s = self.scheme
        if s in ("localstorage", "indexeddb"):
            url = f"{s}://{TFJS_PATH}"
            await self.measure(runs, "save", self.tfjs_save({"kind": "url", "url": url}))
            await self.step("benchFree", {}, 60)  # the save step's model: freed before the load builds another
            await self.measure(runs, "load", self.tfjs_load(url))
        elif s == "http":
            upload = self.server.open_upload()
            url = f"{self.server.url}/uploads/{upload.token}"
            try:
                await self.measure(runs, "save", self.tfjs_save({"kind": "url", "url": url}))
                self._check_upload(upload, "TF.js's")
                await self.step("benchFree", {}, 60)
                await self.measure(runs, "load", self.tfjs_load(f"{url}/model.json"))
            finally:
                self.server.uploads.close(upload.token)
        elif s == "downloads":
            await self.measure(runs, "save", self.tfjs_save({"kind": "url", "url": f"downloads://{TFJS_PATH}"}))
            await self._downloads("tfjs")
        elif s == "file-node":
            url = f"file://{self.tmp}/tfjs"
            await self.measure(runs, "save", self.tfjs_save({"kind": "url", "url": url}))
            await self.step("benchFree", {}, 60)
            await self.measure(runs, "load", self.tfjs_load(f"{url}/model.json"))
        else:
            raise ValueError(f"no TF.js run for scheme {s}")

    # -- raw: harness/js/bench.js ------------------------------------------------------------------------
    async def raw(self, medium: str, op: str, **args: Any) -> float:
        result = await self.step("benchRaw", {"medium": medium, "op": op, "deadline": self.deadline, **args},
                                 2 * self.deadline + 30)
        return round(result["seconds"], 6)

    async def raw_run(self, i: int, runs: dict[str, list[float]]) -> None:
        s = self.scheme
        if s in ("localstorage", "indexeddb"):
            await self.measure(runs, "save", self.raw(s, "save", key=RAW_KEY))
            await self.measure(runs, "load", self.raw(s, "load", key=RAW_KEY))
        elif s == "http":
            upload = self.server.open_upload()
            url = f"{self.server.url}/uploads/{upload.token}"
            try:
                await self.measure(runs, "save", self.raw("http", "save", url=url))
                self._check_upload(upload, "the raw")
                await self.measure(runs, "load", self.raw("http", "load", url=f"{url}/model.weights.bin"))
            finally:
                self.server.uploads.close(upload.token)
        elif s == "downloads":
            await self.measure(runs, "save", self.raw("downloads", "save", key=RAW_KEY))
            await self._downloads("raw")
        elif s == "file-node":
            path = os.path.join(self.tmp, "raw", "weights.bin")
            await self.measure(runs, "save", self.raw("file", "save", path=path))
            await self.measure(runs, "load", self.raw("file", "load", path=path))
        else:
            raise ValueError(f"no raw run for scheme {s}")

    def _check_upload(self, upload, whose: str) -> None:
        got = len(upload.files.get("model.weights.bin", b""))
        if got != self.size.bytes:
            raise SideError(f"{whose} upload carried {got} weight bytes, expected {self.size.bytes} "
                            f"(files: {sorted(upload.files)})")

    async def _downloads(self, side: str) -> None:
        """Wait until this save's two files are complete (not timed), then forget them: how many arrived
        goes to `downloads_delivered` (WebKitGTK is known to drop one of two back-to-back downloads)."""
        delivered = self.extra.setdefault("downloads_delivered", {"tfjs": [], "raw": []})[side]
        try:
            files = await self.page.downloads(2, self.deadline)
            delivered.append(sorted(f"{name} ({len(data)} B)" for name, data in files.items()))
        except Exception as e:  # StepTimeout: fewer than two arrived; the figure stands, the delivery is noted
            delivered.append(f"{type(e).__name__}: {_one_line(str(e), 200)}")
        await self.page.forget_downloads()
        await asyncio.sleep(DOWNLOAD_PAUSE_S)

    def rows(self) -> list[dict]:
        delivered = self.extra.get("downloads_delivered")
        if delivered is not None:  # saves after which fewer than both files arrived, per side
            self.extra["downloads_short"] = {side: sum(1 for d in runs if not isinstance(d, list) or len(d) < 2)
                                             for side, runs in delivered.items()}
        out = []
        for op in OPS[self.scheme]:
            row = make_row(self.engine, self.scheme, op, self.size.bytes, tfjs_runs=self.sides["tfjs"].runs[op],
                           raw_runs=self.sides["raw"].runs[op], **self.bench.row_info(self.engine), **self.extra)
            row["requested_bytes"] = self.size.requested
            row["tfjs_error"] = self.sides["tfjs"].error_for(op, OPS[self.scheme])
            row["raw_error"] = self.sides["raw"].error_for(op, OPS[self.scheme])
            out.append(row)
        return out


class Bench:
    def __init__(self, pool, server, tfjs_build, *, backend: str = "cpu", context: str = "window",
                 progress: Callable[[str], None] | None = None):
        self.pool, self.server, self.tfjs, self.backend, self.context = pool, server, tfjs_build, backend, context
        self.progress = progress or (lambda text: print(text, file=sys.stderr, flush=True))
        self.versions: dict[str, str | None] = {}

    def row_info(self, engine: str) -> dict:
        return {"engine_version": self.versions.get(engine), "tfjs_version": self.tfjs.version, "backend": self.backend,
                "context": self.context}

    @property
    def page_url(self) -> str:
        return self.server.page_url(self.tfjs.version, self.backend, self.context)

    async def _with_page(self, engine: str, what: str, body: Callable[[Any], Awaitable[None]],
                         on_error: Callable[[str], None]) -> None:
        """Open a fresh page of `engine`, run `body(page)`, close it. An engine failure (launch, crash,
        step timeout) goes to `on_error`; a dead browser is dropped so the next cell starts a new one."""
        from harness.engines.base import EngineError

        page = driver = None
        try:
            driver = await self.pool.get(engine)
            self.versions[engine] = driver.info.version if driver.info else None
            page = await driver.open(self.page_url, timeout=timeouts.scaled(2 * timeouts.PAGE_OPEN_S))
            await body(page)
        except Exception as e:  # EngineError, StepTimeout, or a harness bug: this cell's record, then go on
            kind = "" if isinstance(e, EngineError) else " (harness error)"
            on_error(f"{type(e).__name__}{kind}: {e}")
            self.progress(f"  {engine} {what}: {type(e).__name__}{kind}: {_one_line(str(e), 200)}")
        finally:
            if page is not None:
                try:
                    await page.close()
                except Exception:
                    pass
            if driver is not None and not driver.alive:
                await self.pool.restart(engine)

    async def cell(self, engine: str, host: str, scheme: str, size: Size, repeat: int) -> list[dict]:
        what = f"{scheme} {size.bytes / 1e6:.1f} MB"
        self.progress(f"{engine} {what} x{repeat}")
        holder: dict[str, Cell] = {}

        async def body(page) -> None:
            holder["cell"] = Cell(self, engine, host, scheme, size, page)
            try:
                await holder["cell"].run(repeat)
            except SideError as e:  # the set-up itself failed (reading the golden): nothing measured
                holder["cell"].fail_all(str(e))

        def on_error(error: str) -> None:
            holder.setdefault("cell", Cell(self, engine, host, scheme, size, None)).fail_all(error)

        await self._with_page(engine, what, body, on_error)
        return holder["cell"].rows()

    async def transfer(self, engine: str, n_bytes: int, repeat: int) -> dict:
        self.progress(f"{engine} transfer {n_bytes / 1e6:.1f} MB x{repeat}")
        runs: list[float] = []
        error: list[str] = []
        deadline = timeouts.for_weight_bytes(n_bytes)

        async def body(page) -> None:
            for _ in range(repeat):
                token = self.server.expect()
                try:
                    reply = await page.run_step("benchPost", {"bytes": n_bytes, "token": token, "name": "transfer.bin",
                                                              "server": self.server.url, "deadline": deadline},
                                                2 * deadline + 30)
                    result = _reply(reply, "benchPost")
                finally:
                    got = len(self.server.take(token).get("transfer.bin", b""))
                if got != n_bytes:
                    raise SideError(f"the harness received {got} bytes of {n_bytes}")
                runs.append(result["seconds"])

        async def guarded(page) -> None:
            try:
                await body(page)
            except SideError as e:
                error.append(str(e))

        await self._with_page(engine, "transfer", guarded, error.append)
        row = make_row(engine, "transfer", "post", n_bytes, raw_runs=runs, **self.row_info(engine))
        row["raw_error"] = error[0] if error else None
        return row

    async def run(self, engines: list[str], sizes: list[Size], repeat: int, transfer_bytes: int | None,
                  schemes: tuple[str, ...] = SCHEMES, rows: list[dict] | None = None) -> list[dict]:
        """Measure; rows are appended to `rows` (if given) as cells finish, so an interrupted run keeps them."""
        rows = [] if rows is None else rows
        first = len(rows)
        try:
            await self._run(engines, sizes, repeat, transfer_bytes, schemes, rows)
        finally:
            for r in rows[first:]:
                r.setdefault("backend", self.backend)
                r.setdefault("context", self.context)
        return rows

    async def _run(self, engines: list[str], sizes: list[Size], repeat: int, transfer_bytes: int | None,
                   schemes: tuple[str, ...], rows: list[dict]) -> None:
        for engine in engines:
            missing = self.pool.missing(engine)
            if missing is not None or engine not in self.pool.found:
                reason = missing.reason if missing is not None else f"{engine} is not in the engine matrix"
                rows.append(make_row(engine, "*", None, None, skipped=f"engine not available: {reason}"))
                continue
            host = self.pool.found[engine].spec.host
            lacks = self.pool.found[engine].build.lacks(backends.get(self.backend).base) or self.tfjs.lacks(
                backends.get(self.backend).base, host)
            if lacks:
                rows.append(make_row(engine, "*", None, None, skipped=f"no {self.backend} backend: {lacks}",
                                     backend=self.backend))
                continue
            lacks = context_reason(self.pool.found[engine].build, host, self.context, self.backend)
            if lacks:
                rows.append(make_row(engine, "*", None, None, skipped=lacks))
                continue
            for scheme in schemes:
                reason = skip_reason(host, scheme, context=self.context)
                if reason:
                    rows.append(make_row(engine, scheme, None, None, skipped=reason))
                    continue
                for size in sizes:
                    reason = skip_reason(host, scheme, size.bytes)
                    if reason:
                        rows += [make_row(engine, scheme, op, size.bytes, skipped=reason, requested_bytes=size.requested)
                                 for op in OPS[scheme]]
                        continue
                    rows += await self.cell(engine, host, scheme, size, repeat)
            if transfer_bytes:
                rows.append(await self.transfer(engine, transfer_bytes, repeat))
            await self.pool.restart(engine)  # done with it: free its memory before the next engine


def prepare_sizes(sizes: list[tuple[int, int]], server) -> list[Size]:
    """Write (on first use) the sized goldens and note their fixture URLs and weight digests."""
    out = []
    for requested, n in sizes:
        g = golden.sized(n)
        inputs = tuple({"name": spec["name"], "url": server.fixture_url(g, spec["path"]), "dtype": spec["dtype"],
                        "shape": spec["shape"]} for spec in g.examples["inputs"])
        out.append(Size(requested, n, server.fixture_url(g), hashlib.sha256(g.weight_data).hexdigest(), inputs))
    return out


async def run_bench(engines: list[str] | None, sizes: list[tuple[int, int]], repeat: int, *,
                    transfer_bytes: int | None, schemes: tuple[str, ...] = SCHEMES, config: Path | None = None,
                    backend: str = "cpu", backends_: list[str] | None = None, contexts_: list[str] | None = None,
                    progress: Callable[[str], None] | None = None, rows: list[dict] | None = None) -> list[dict]:
    """Start a harness server and the engines (default: every engine found), measure on each backend of
    `backends_` (default: `backend`), stop everything. `sizes`: (requested, weight bytes) pairs as
    `parse_sizes` gives them. Rows also go to `rows` as they come. The transfer row (no TF.js) is measured once."""
    from harness import tfjs
    from harness.config import load_matrix
    from harness.engines.pool import EnginePool
    from harness.paths import DEFAULT_CONFIG
    from harness.server import HarnessServer

    matrix = load_matrix(config or DEFAULT_CONFIG)
    build = tfjs.installed()
    server = await HarnessServer([build]).start()
    pool = None
    try:
        pool = await EnginePool(matrix).discover()
        if not engines:
            from harness.engines.discovery import Found

            engines = [name for name, entry in pool.found.items() if isinstance(entry, Found)]
        prepared = await asyncio.to_thread(prepare_sizes, sizes, server)
        rows = [] if rows is None else rows
        first = True
        for name in backends_ or [backend]:
            for context in contexts_ or ["window"]:
                await Bench(pool, server, build, backend=name, context=context, progress=progress).run(
                    engines, prepared, repeat, transfer_bytes if first else None, schemes, rows)
                first = False
        return rows
    finally:
        if pool is not None:
            await pool.stop_all()
        await server.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m harness bench`, on a parser or subparser (then `main_args(args)` runs it)."""
    from harness.engines import ENGINES

    parser.add_argument("--engine", action="append", default=None, choices=list(ENGINES),
                        help="repeatable (default: every engine found)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, type=_sizes_arg,
                        help=f"comma-separated weight sizes, KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n, rounded down to "
                             f"a multiple of 1024 (default {DEFAULT_SIZES})")
    parser.add_argument("--repeat", type=_positive, default=DEFAULT_REPEAT,
                        help=f"runs per cell and side; the median is reported (default {DEFAULT_REPEAT})")
    parser.add_argument("--results-dir", type=Path, default=Path("test-results"), help="where bench.json goes")
    parser.add_argument("--transfer-size", type=_size_arg, default=quota.parse_size(DEFAULT_TRANSFER),
                        help=f"the artifact of the page -> Python transfer row (default {DEFAULT_TRANSFER}); 0: no such row")
    parser.add_argument("--scheme", action="append", default=None, choices=SCHEMES + ("transfer",),
                        help="only these schemes (repeatable; default: all, and the transfer row)")
    parser.add_argument("--engine-config", type=Path, default=None, help="the engine matrix (default playwright.config)")
    parser.add_argument("--backend", action="append", default=None, choices=list(backends.BACKENDS),
                        help="TF.js backend of the pages (repeatable: one table section per backend; default cpu); on a "
                             "backend other than cpu each save predicts first, untimed, so save() reads the weights back")
    parser.add_argument("--context", action="append", default=None, choices=[c for c in _contexts() if "->" not in c],
                        help="where both sides run (harness.contexts; repeatable: one section per context; default window)")


def _contexts() -> list[str]:
    return [c for c in contexts.CONTEXTS if c != "top-level-cross-site"]


def _sizes_arg(text: str) -> list[tuple[int, int]]:
    try:
        return parse_sizes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _size_arg(text: str) -> int:
    if text.strip() == "0":
        return 0
    try:
        return quota.parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    """`python -m harness bench ARGS`: measure, print the table, write RESULTS_DIR/bench.json. Exit status 0
    whatever the figures (130 when interrupted, after writing the rows measured so far)."""
    return main_args(parse_args(argv))


def main_args(args: argparse.Namespace) -> int:
    schemes = tuple(s for s in SCHEMES if not args.scheme or s in args.scheme)
    transfer = args.transfer_size if not args.scheme or "transfer" in args.scheme else 0
    rows: list[dict] = []
    try:
        asyncio.run(run_bench(args.engine, args.sizes, args.repeat, transfer_bytes=transfer or None,
                              config=args.engine_config, schemes=schemes, rows=rows,
                              backends_=list(dict.fromkeys(args.backend or ["cpu"])),
                              contexts_=list(dict.fromkeys(args.context or ["window"]))))
    except KeyboardInterrupt:
        path = write_json(args.results_dir, rows)
        print(f"interrupted: the {len(rows)} rows measured so far are in {path}", file=sys.stderr)
        return 130
    print(table(rows))
    path = write_json(args.results_dir, rows)
    print(f"\n{len(rows)} rows written to {path} (medians of {args.repeat} run(s) per side)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
