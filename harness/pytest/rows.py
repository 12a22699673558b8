"""One conformance row per test, built from its phases (setup, call, teardown) as data.

The row's outcome comes from the row's own verdict (harness.expectations.Verdict, left on the trip by
harness.trip.roundtrip.conform), never from pytest's text:

    setup     skipped (the reason) | error (the engine, the page, the harness failed: its exception)
    call      the verdict: passed | failed | xfailed | capacity | xpassed; or skipped (the engine cannot, with the
              measured reason) | error (an exception that is not a verdict: the harness or the engine)
    teardown  an error here makes the row `error`, whatever came before; the earlier differences stay

A row that is not `passed` always has `differences`: the comparator's, or one record saying why it was
skipped or broke ({what: "skipped" | "error", path: the phase, actual: the exception type, message}).
Rows travel with the teardown report (to the xdist controller, if any) and are collected there.
"""

from __future__ import annotations

import pytest

from harness.engines import remote
from harness.pytest import fixtures, junit
from harness.pytest.matrix import model_format, row_params, state
from harness.report import document
from harness.trip import clock
from harness.trip.compare import jsonable


class RowRecorder:
    """The run's rows (registered as a plugin object: its hooks keep their state on it)."""

    name = "tfjs-conformance-rows"

    def __init__(self, config: pytest.Config):
        self.config = config
        self.building: dict[str, dict] = {}  # nodeid -> row, while its phases run
        self.rows: dict[str, dict] = {}  # nodeid -> finished row (from this process or workers)
        self.capacity: list[dict] = []  # capacity probe rows (harness.measure.capacity)
        self.worker_engines: list[dict] = []  # engine records sent by xdist workers

    # -- building ----------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        clock.reset()  # the row's page opens and engine waits, from its setup on (harness.trip.clock)

    def _new_row(self, item: pytest.Item, params: dict) -> dict:
        run = state(self.config)
        return {
            "engine": params["engine_name"],
            "build": None,
            "context": params.get("tfjs_context") or document.DEFAULT_CONTEXT,
            "backend": params.get("tfjs_backend") or run.backends[0],
            "tfjs": params.get("tfjs_version") or (run.builds[0].version if run.builds else None),
            "scheme": str(params["scheme"]),
            "model": str(params["model"]),
            "hosting": params.get("hosting") or document.DEFAULT_HOSTING,
            "format": model_format(self.config, str(params["model"])),
            "outcome": "passed",
            "differences": [],
            "findings": [],
            "hazards": [],
            "detail": "",
            "test": item.nodeid,
            "duration_s": 0.0,
            "test_s": 0.0,
            "host": remote.host(run.matrix.get(params["engine_name"])),
            **({"repeat": params["repeat_index"]} if "repeat_index" in params else {}),
        }

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        rep = yield
        params = row_params(item)
        if params is None:
            return rep
        row = self.building.setdefault(item.nodeid, self._new_row(item, params))
        row["test_s"] = round(row["test_s"] + rep.duration, 3)  # setup + call + teardown: page open and close too
        if fixtures.BUILD in item.stash:
            row["build"] = item.stash[fixtures.BUILD]
        recorder = item.stash.get(fixtures.ARTIFACTS, None)
        trip = recorder.trip if recorder is not None else None
        if rep.when == "call":
            row["duration_s"] = round(rep.duration, 3)
            self._call(row, call, trip)
            if fixtures.QUOTA in item.stash:
                row["quota"] = item.stash[fixtures.QUOTA]
        elif rep.failed:  # setup or teardown raised
            row["outcome"] = "error"
            row["differences"].append(_error(rep.when, call))
        elif rep.skipped and row["outcome"] == "passed":
            row["outcome"] = "skipped"
            row["differences"].append(_skipped(rep.when, call))
        if recorder is not None and rep.failed and row["outcome"] == "error":
            recorder.tracebacks.append(f"{rep.when}:\n{rep.longreprtext}")  # a harness bug: where it broke
        verdict = getattr(trip, "verdict", None)
        if recorder is not None and (row["outcome"] in ("failed", "error") or (verdict is not None and verdict.strict_stale)):
            recorder.keep = True  # an intermittent finding that did not happen this time leaves no evidence to keep
        if rep.when == "teardown":
            row.update({f"{kind}_s": round(seconds, 3) for kind, seconds in clock.spent().items()})
            row["detail"] = document.detail(row)
            if recorder is not None:
                try:
                    recorder.row_finished(row, row["detail"])
                except OSError as e:  # the evidence could not be written: say so, keep the row
                    row.setdefault("observed", {})["artifacts_error"] = f"{type(e).__name__}: {e}"
            if trip is not None:
                trip.state.pop("parts", None)  # what the pages posted: written above if the row did not pass
            rep.user_properties.append(("conformance_row", self.building.pop(item.nodeid)))
        return rep

    def _call(self, row: dict, call: pytest.CallInfo, trip) -> None:
        if trip is not None:
            row["page_s"] = round(trip.page_s, 3)
            if trip.phase_s:
                row["phase_s"] = {phase: round(seconds, 4) for phase, seconds in trip.phase_s.items()}
            if trip.observed:  # as JSON has it: a NaN a scheme measured (a mutant's step) is "NaN"
                row["observed"] = jsonable(trip.observed)
            row["hazards"] = list(trip.hazards)
        verdict = getattr(trip, "verdict", None) if trip is not None else None
        if verdict is not None:
            row["outcome"] = verdict.outcome
            row["differences"] = verdict.records()
            row["findings"] = [f.id for f in verdict.explaining]
            if verdict.outcome == "xpassed":
                row["differences"] = [_stale(f) for f in verdict.findings]
            if call.excinfo is not None and not _is_verdict(call.excinfo):
                row["outcome"] = "error"  # something broke after the verdict was given
                row["differences"].append(_error("call", call))
            return
        if call.excinfo is None:
            return
        if call.excinfo.errisinstance(pytest.skip.Exception):
            row["outcome"] = "skipped"
            row["differences"].append(_skipped("call", call))
        else:
            row["outcome"] = "error"
            row["differences"].append(_error("call", call))

    # -- collecting ---------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)  # before junitxml's: the row leaves the report's properties
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(self.config, "workerinput"):  # an xdist worker: the row travels on to the controller
            return
        for key, value in list(report.user_properties):
            if key == "conformance_row":
                self.rows[report.nodeid] = value
                # data for the report, not a JUnit property (under xdist the pairs arrive as lists)
                report.user_properties[:] = [p for p in report.user_properties if p[0] != "conformance_row"]
                junit.add_flaky_failure(self.config, report, value,
                                        {f.id: f.record() for f in state(self.config).findings})
            elif key == "capacity_row" and report.when == "call":
                self.capacity.append(value)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """xdist: a worker finished; keep the engines it ran."""
        out = getattr(node, "workeroutput", {}).get("conformance")
        if out:
            self.worker_engines.extend(out["engines"])

    def engine_records(self) -> list[dict]:
        """One record per engine that has rows: the one with a version when several processes ran it."""
        pool = state(self.config).pool
        seen = (pool.infos() if pool else []) + self.worker_engines
        out = []
        for name in dict.fromkeys(r["engine"] for r in self.rows.values()):
            records = [e for e in seen if e["engine"] == name]
            record = dict(next((e for e in records if e.get("version")), records[0] if records else
                               {"engine": name, "version": None, "driver": None, "build": None}))
            described = {b: facts for e in records for b, facts in (e.get("backends") or {}).items()}
            if described:  # each worker describes the backends its own pages ran
                record["backends"] = dict(sorted(described.items()))
            out.append(record)
        return out


def _is_verdict(excinfo) -> bool:
    from harness.trip.roundtrip import RowFailed

    return excinfo.errisinstance((RowFailed, pytest.xfail.Exception))


def _message(call: pytest.CallInfo, limit: int = 4000) -> str:
    value = call.excinfo.value if call.excinfo is not None else None
    text = getattr(value, "msg", None) or str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error(phase: str, call: pytest.CallInfo) -> dict:
    """Why a row broke: the exception of a phase (the harness's or the engine's, never TF.js's verdict)."""
    kind = call.excinfo.typename if call.excinfo is not None else "unknown"
    return {"what": "error", "path": phase, "expected": None, "actual": kind, "message": f"{kind}: {_message(call)}"}


def _skipped(phase: str, call: pytest.CallInfo) -> dict:
    return {"what": "skipped", "path": phase, "expected": None, "actual": None, "message": _message(call)}


def _stale(finding) -> dict:
    strict = "" if finding.intermittent else " (not intermittent: the expectation is stale, remove or narrow it)"
    return {"what": "expectation", "path": finding.id, "expected": "a difference it explains", "actual": None,
            "message": f"finding {finding.id} applies to this row but nothing it explains happened{strict}",
            "finding": finding.id}
