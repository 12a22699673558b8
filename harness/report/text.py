"""The terminal's view of a conformance document (harness.report.document): the findings first, then
the scheme x engine matrix, whose cells count passes and failures and name the findings that explain
their xfailed rows, then the engines, and "where the time went".
"""

from __future__ import annotations

import collections

from harness.report.document import OUTCOMES

_CELL = {"passed": "pass", "failed": "FAIL", "xfailed": "xfail", "capacity": "capacity", "xpassed": "XPASS", "skipped": "skip",
         "error": "ERROR"}
_WORST_FIRST = ("error", "failed", "xpassed", "skipped", "xfailed", "capacity", "passed")


def findings(doc: dict) -> str:
    """The distinct findings the rows name: id, kind, title, engines, rows, link; then the hazards."""
    table, results = doc.get("findings") or {}, doc["results"]
    named: dict[str, list[dict]] = collections.defaultdict(list)
    for r in results:
        for fid in r.get("findings") or []:
            named[fid].append(r)
        for h in r.get("hazards") or []:
            named[h["id"]].append(r)
    if not named:
        return "(no known finding applies to this run's rows)"
    head = ["id", "kind", "rows", "engines", "title"]
    order = sorted(named, key=lambda fid: (_KIND_ORDER.get((table.get(fid) or {}).get("kind"), 9), fid))
    rows = []
    for fid in order:
        f = table.get(fid) or {}
        engines = ", ".join(dict.fromkeys(r["engine"] for r in named[fid]))
        kind = f.get("kind", "?") + (" (intermittent)" if f.get("intermittent") else "")
        rows.append([fid, kind, len(named[fid]), engines, _cut(f.get("title", ""), 90)])
    lines = _columns(head, rows, rule=True)
    lines.append("links: " + "; ".join(f"{fid} {(table.get(fid) or {}).get('link') or '-'}" for fid in order))
    return "\n".join(lines)


_KIND_ORDER = {"tfjs-bug": 0, "engine-bug": 1, "docs": 2, "capacity": 3, "hazard": 4}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def count_outcomes(results: list[dict], key) -> dict[object, collections.Counter]:
    """Outcome counts of `results` grouped by `key(row)` (e.g. `lambda r: (r["scheme"], r["engine"])`);
    a missing group reads as an empty Counter."""
    cells: dict[object, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in results:
        cells[key(r)][r["outcome"]] += 1
    return cells


def cell(counts: collections.Counter) -> str:
    """One cell of outcome counts, worst first ("1 FAIL, 2 xfail, 12 pass"); "-" when there are none."""
    if not counts:
        return "-"
    return ", ".join(f"{counts[o]} {_CELL[o]}" for o in _WORST_FIRST if counts[o])


def finding_cell(rows: list[dict]) -> str:
    """One matrix cell: counts worst first, xfailed and capacity rows named by the findings that explain
    them ("1 FAIL, 3 pass, xfail: embedding-dtype-added x2, capacity: localstorage-capacity")."""
    if not rows:
        return "-"
    counts = collections.Counter(r["outcome"] for r in rows)
    parts = [f"{counts[o]} {_CELL[o]}" for o in _WORST_FIRST if counts[o] and o not in ("xfailed", "capacity")]
    for outcome in ("xfailed", "capacity"):
        ids = collections.Counter(fid for r in rows if r["outcome"] == outcome for fid in (r.get("findings") or ["?"]))
        if ids:
            parts.append(f"{_CELL[outcome]}: " + " ".join(f"{fid}" + (f" x{n}" if n > 1 else "") for fid, n in ids.items()))
    hazards = collections.Counter(h["id"] for r in rows for h in r.get("hazards") or [])
    if hazards:
        parts.append("hazard: " + " ".join(f"{hid}" + (f" x{n}" if n > 1 else "") for hid, n in hazards.items()))
    return ", ".join(parts)


def matrix(doc: dict) -> str:
    """Scheme x engine table (one row per scheme, one column per engine); a cell counts its rows'
    outcomes, worst first (e.g. "1 FAIL, 2 xfail, 12 pass"). One table per TF.js build and backend when
    the run has several. Then a tally, the engines' versions and why any is missing."""
    results = doc["results"]
    if not results:
        return "(no conformance rows in this run)"
    groups = list(dict.fromkeys(_group(r) for r in results))
    lines = []
    for group in groups:
        rows = [r for r in results if _group(r) == group] if len(groups) > 1 else results
        if len(groups) > 1:
            lines.append(f"TF.js {group[0]}, backend {group[1]}:")
        lines += _table(rows)
        if len(groups) > 1:
            lines.append("")
    lines += contexts_table(results)
    tally = collections.Counter(r["outcome"] for r in results)
    lines.append(", ".join(f"{tally[o]} {o}" for o in OUTCOMES if tally[o]) + f" ({len(results)} rows)")
    if "flaky" in doc:
        repeats = max(r.get("repeat", 0) for r in results) + 1
        differ = [f for f in doc["flaky"] if "suspicious" not in f]
        lines.append(f"flaky: {len(differ)} of {len(results) // max(repeats, 1)} rows differ between {repeats} repeats")
        for f in doc["flaky"]:
            label = "SUSPICIOUS" if "suspicious" in f else "FLAKY"
            lines.append(f"  {label} {f['scheme']} / {f['model']} / {f['engine']} (tfjs {f['tfjs']}): "
                         + ", ".join(f"{n} {o}" for o, n in f["outcomes"].items())
                         + (f": {f['suspicious']}" if "suspicious" in f else ""))
    for e in dict.fromkeys(r["engine"] for r in results):
        for entry in [x for x in doc["engines"] if x.get("engine") == e] or [{}]:
            described = describe_engine(entry)
            if described is not None:
                lines.append(f"{e}: {described}")
            for name, facts in shown_backends(entry):
                lines.append(f"  {name}: {describe_backend(facts)}")
    lines += hosts(results)
    if "merged" in doc:
        lines.append("merged from: " + ", ".join(f"{m['file']} ({m.get('shard', 'unsharded')}, {m['rows']} rows)"
                                                 for m in doc["merged"]))
    return "\n".join(lines)


def shown_backends(entry: dict) -> list[tuple[str, dict]]:
    """An engine record's described backends worth a line: every one but cpu ("cpu", "cpu in <context>")."""
    return [(name, facts) for name, facts in (entry.get("backends") or {}).items() if facts.get("backend") != "cpu"]


def describe_backend(facts: dict) -> str:
    """What a backend really was on an engine (its engine record's `backends` entry), in a line."""
    parts = []
    flags = facts.get("flags") or {}
    if flags:
        parts.append(", ".join(f"{k}={v}" for k, v in flags.items()))
    gl = facts.get("webgl")
    if gl:
        parts.append(f"{gl.get('version')} on {gl.get('renderer')!r}, float32 render targets "
                     f"{'enabled' if facts.get('WEBGL_RENDER_FLOAT32_ENABLED') is True else 'off'}")
    if facts.get("backend") == "wasm":
        parts.append(f"SIMD {'on' if facts.get('WASM_HAS_SIMD_SUPPORT') is True else 'off'}, threads "
                     f"{'on' if facts.get('WASM_HAS_MULTITHREAD_SUPPORT') is True else 'off'} "
                     f"(crossOriginIsolated {facts.get('crossOriginIsolated')}): {facts.get('binary')}")
    gpu = facts.get("webgpu")
    if isinstance(gpu, dict):
        adapter = gpu.get("adapter") or {}
        parts.append(f"adapter {adapter.get('vendor')}/{adapter.get('architecture')}" if adapter else
                     f"no adapter {gpu.get('error') or ''}".strip())
    return "; ".join(parts) or str(facts.get("backend"))


def _group(row: dict) -> tuple[str, str]:
    """A row's table in the matrix: its TF.js build and backend."""
    return str(row.get("tfjs")), str(row.get("backend", "cpu"))


def describe_engine(entry: dict, esc=str, detail=str) -> str | None:
    """An engine record as words: "156.0 (playwright, system build)", "not installed: ...", "failed to
    start: ..."; None when it says nothing. `esc` escapes each value, `detail` shortens the reasons."""
    at = f" at {esc(entry['endpoint'])}" if entry.get("endpoint") else ""
    if entry.get("version"):
        return f"{esc(entry['version'])} ({esc(entry.get('driver'))}, {esc(entry.get('build'))} build{at})"
    if "missing" in entry:
        return f"not installed: {esc(detail(entry['missing']))}"
    if "failed" in entry:
        return f"failed to start: {esc(detail(entry['failed']))}"
    return None


def host_label(host: dict | None) -> str:
    """"runner (local)", "runner -> playwright-server ws://..." for a row's `host`."""
    if not host:
        return "unknown host"
    if host.get("endpoint", "local") == "local":
        return f"{host.get('runner')} (local)"
    return f"{host.get('runner')} -> {host['endpoint']} {host.get('url', '')}".rstrip()


def hosts(results: list[dict]) -> list[str]:
    """Where the rows ran, per engine, when that is worth saying: a remote endpoint, or several machines."""
    where = collections.Counter((r["engine"], host_label(r.get("host"))) for r in results if "host" in r)
    if not where or (len({h for _, h in where}) == 1 and all(h.endswith("(local)") for _, h in where)):
        return []
    return ["where the rows ran:"] + [f"  {engine}: {label}: {n} rows" for (engine, label), n in where.items()]


def _table(results: list[dict]) -> list[str]:
    engines = list(dict.fromkeys(r["engine"] for r in results))
    schemes = list(dict.fromkeys(r["scheme"] for r in results))
    cells: dict[tuple, list[dict]] = collections.defaultdict(list)
    for r in results:
        cells[r["scheme"], r["engine"]].append(r)
    head = ["scheme", *engines]
    rows = [[s, *(finding_cell(cells[s, e]) for e in engines)] for s in schemes]
    return _columns(head, rows, rule=True)


def contexts_table(results: list[dict]) -> list[str]:
    """When a run has rows in more than one context: context x engine outcome counts. Then, when it has
    partitioning rows, per engine what they measured of a cross-site frame's storage, per medium:
    "partitioned" (the frame's model not visible top-level), "shared" (visible), "denied" (the engine gave
    the frame none)."""
    lines = []
    contexts = list(dict.fromkeys(r.get("context", "window") for r in results))
    engines = list(dict.fromkeys(r["engine"] for r in results))
    if len(contexts) > 1:
        counts = count_outcomes(results, lambda r: (r.get("context", "window"), r["engine"]))
        lines += ["", *_columns(["context", *engines], [[c, *(cell(counts[c, e]) for e in engines)] for c in contexts],
                                rule=True)]
    partitions = []
    for engine in engines:
        facts: dict[str, str] = {}
        for r in results:
            if r["engine"] != engine or r["scheme"] != "partitioning":
                continue
            observed = r.get("observed") or {}
            for api in observed.get("engine_denies") or {}:
                facts.setdefault({"localStorage": "localstorage", "indexedDB": "indexeddb"}.get(api, api), "denied")
            for medium, fact in ((observed.get("partitioning") or {}).get("media") or {}).items():
                facts.setdefault(medium, "partitioned" if fact.get("partitioned") else "shared")
        if facts:
            partitions.append(f"{engine}: a cross-site frame's storage: "
                              + ", ".join(f"{medium} {what}" for medium, what in sorted(facts.items())))
    if partitions:
        lines += ["", *partitions]
    return [*lines, ""] if lines else []


def _columns(head: list, rows: list[list], rule: bool = False) -> list[str]:
    """Left-aligned text columns, two spaces apart; `rule`: a dashed line under the head."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(head), *([fmt(["-" * w for w in widths])] if rule else []), *map(fmt, rows)]


def timing(results: list[dict], wall_s: float | None = None) -> dict:
    """Where a run's time went, per engine: `test_s` (each row's setup + call + teardown: page open and
    close, the scheme's work in Python, the steps), `page_s` (inside page steps, as the page timed them:
    TF.js and the medium, plus posting artifacts back), and `overhead` = (test_s - page_s) / page_s,
    the harness's time per second of in-page time. Of the rest, measured where it is spent (harness.trip.clock):
    `open_s` (the engine opening and closing pages) and `wait_s` (the engine waited for between steps:
    downloads, reloads); `harness_s` is what is left, the harness's own, and `harness` its ratio to in-page
    time. `wall_s`: the whole session, when known."""
    engines: dict[str, dict] = {}
    for r in results:
        if "test_s" not in r:
            continue
        e = engines.setdefault(r["engine"], {"rows": 0, "test_s": 0.0, "page_s": 0.0, "open_s": 0.0, "wait_s": 0.0})
        e["rows"] += 1
        e["test_s"] += r["test_s"]
        for key in ("page_s", "open_s", "wait_s"):
            e[key] += r.get(key) or 0.0
    for e in engines.values():
        harness = e["test_s"] - e["page_s"] - e["open_s"] - e["wait_s"]
        e["harness_s"] = round(harness, 1)
        e["overhead"] = round((e["test_s"] - e["page_s"]) / e["page_s"], 2) if e["page_s"] else None
        e["harness"] = round(harness / e["page_s"], 2) if e["page_s"] else None
        for key in ("test_s", "page_s", "open_s", "wait_s"):
            e[key] = round(e[key], 1)
    out = {**({"wall_s": round(wall_s, 1)} if wall_s is not None else {}), "engines": engines}
    if len({r.get("backend", "cpu") for r in results}) > 1:
        out["backends"] = backend_timing(results)
    return out


_SPEED_PHASES = ("save", "load")  # TF.js's own model.save() and tf.loadLayersModel()/loadGraphModel(), as timed in the page
_SAME_ROW = ("engine", "build", "context", "tfjs", "scheme", "model")  # a row's key but its backend


def backend_timing(results: list[dict]) -> list[dict]:
    """TF.js's save and load time per engine x backend: the rows' `phase_s` summed (seconds, with the
    rows they come from), and each beside cpu as the median ratio over the rows that ran on both (the
    same engine, scheme, model and TF.js build): timings of one run, compared as ratios."""
    cpu = {tuple(r.get(k) for k in _SAME_ROW): r for r in results if r.get("backend", "cpu") == "cpu" and r.get("phase_s")}
    cells: dict[tuple[str, str], dict] = {}
    for r in results:
        phases = r.get("phase_s") or {}
        if not phases or r.get("outcome") in ("skipped", "error"):
            continue
        c = cells.setdefault((r["engine"], r.get("backend", "cpu")), {"rows": 0, **{f"{p}_s": 0.0 for p in _SPEED_PHASES},
                                                                      "ratios": {p: [] for p in _SPEED_PHASES}})
        c["rows"] += 1
        base = cpu.get(tuple(r.get(k) for k in _SAME_ROW))
        for p in _SPEED_PHASES:
            c[f"{p}_s"] += phases.get(p, 0.0)
            if base is not None and r is not base and phases.get(p) and (base["phase_s"].get(p) or 0) > 0:
                c["ratios"][p].append(phases[p] / base["phase_s"][p])
    out = []
    for (engine, backend), c in cells.items():
        row = {"engine": engine, "backend": backend, "rows": c["rows"]}
        for p in _SPEED_PHASES:
            row[f"{p}_s"] = round(c[f"{p}_s"], 3)
            ratios = sorted(c["ratios"][p])
            row[f"{p}_vs_cpu"] = round(ratios[len(ratios) // 2], 2) if ratios and backend != "cpu" else None
            row[f"{p}_pairs"] = len(ratios)
        out.append(row)
    return sorted(out, key=lambda r: (r["engine"], r["backend"] != "cpu", r["backend"]))


def timing_table(t: dict) -> str:
    head = ["engine", "rows", "test time (s)", "in-page (s)", "overhead / in-page", "page opens (s)", "engine waits (s)",
            "harness (s)", "harness / in-page"]
    ratio = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    keys = ("test_s", "page_s", "open_s", "wait_s", "harness_s")
    rows = [[name, e["rows"], e["test_s"], e["page_s"], ratio(e["overhead"]), e.get("open_s", "-"), e.get("wait_s", "-"),
             e.get("harness_s", "-"), ratio(e.get("harness"))] for name, e in t["engines"].items()]
    total = {k: round(sum(e.get(k) or 0.0 for e in t["engines"].values()), 1) for k in keys}
    page = total["page_s"]
    rows.append(["all", sum(e["rows"] for e in t["engines"].values()), total["test_s"], page,
                 ratio((total["test_s"] - page) / page if page else None), total["open_s"], total["wait_s"],
                 total["harness_s"], ratio(total["harness_s"] / page if page else None)])
    lines = _columns(head, rows)
    if "wall_s" in t:
        count = sum(e["rows"] for e in t["engines"].values())
        rate = f", {count / t['wall_s']:.2f} rows/s" if t["wall_s"] else ""
        lines.insert(0, f"wall time {t['wall_s']} s ({count} rows{rate}); per engine, the sum of its rows' times:")
    if t.get("backends"):
        lines += ["", "TF.js save() and load per backend (seconds summed over the rows; x cpu: median ratio to the same "
                      "row on cpu, over n rows):"]
        head = ["engine", "backend", "rows", "save (s)", "save x cpu", "load (s)", "load x cpu"]

        def vs(b: dict, p: str) -> str:
            return "-" if b[f"{p}_vs_cpu"] is None else f"{b[f'{p}_vs_cpu']:.2f} (n={b[f'{p}_pairs']})"

        lines += _columns(head, [[b["engine"], b["backend"], b["rows"], f"{b['save_s']:.3f}", vs(b, "save"),
                                  f"{b['load_s']:.3f}", vs(b, "load")] for b in t["backends"]])
    return "\n".join(lines)
