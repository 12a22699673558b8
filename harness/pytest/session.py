"""The end of the run: conformance.json, report.html, the Markdown step summary, the terminal's
findings list, matrix and timing table, --baseline and --update-expectations. Under xdist only the
controller writes; workers send their engine records."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest

from harness.pytest.matrix import state, user_models
from harness.pytest.rows import RowRecorder
from harness.report import baseline, document, html, markdown, shard, text

_RECORDER = pytest.StashKey[RowRecorder]()
_NOTES = pytest.StashKey[list]()  # lines for the terminal summary
_BASELINE = pytest.StashKey[object]()  # (the --baseline document, its diff once the run is over)


def recorder(config: pytest.Config) -> RowRecorder:
    return config.stash[_RECORDER]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    rows = config.stash[_RECORDER] = RowRecorder(config)
    config.pluginmanager.register(rows, RowRecorder.name)
    config.stash[_NOTES] = []
    if config.getoption("baseline"):
        try:
            config.stash[_BASELINE] = [document.read(Path(config.getoption("baseline"))), None]
        except document.DocumentError as e:
            raise pytest.UsageError(f"--baseline: {e}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if _RECORDER in config.stash:
        config.pluginmanager.unregister(config.stash[_RECORDER])


def _in_order(config: pytest.Config, rows: list[dict]) -> list[dict]:
    """Rows in one order whatever the workers' schedule: scenario file, then scheme, model and engine in
    their declared orders (harness.schemes.SCHEMES, the zoo, the run's engines), then build and repeat."""
    from harness import golden
    from harness.schemes import SCHEMES

    def position(seq, x) -> int:
        return seq.index(x) if x in seq else len(seq)

    schemes, models, engines = list(SCHEMES), list(golden.MODELS), state(config).engines
    return sorted(rows, key=lambda r: (r["test"].split("::")[0], position(schemes, r["scheme"]), r["scheme"],
                                       position(models, r["model"]), r["model"], position(engines, r["engine"]),
                                       r["engine"], str(r.get("tfjs")), r.get("repeat", 0)))


def conformance_document(config: pytest.Config) -> dict:
    run, rows = state(config), recorder(config)
    table = {f.id: f.record() for f in run.findings}
    engines = rows.engine_records()
    builds = {e["engine"]: e.get("build") for e in engines}
    results = [r if r.get("build") else {**r, "build": builds.get(r["engine"])}  # skipped before the engine started
               for r in rows.rows.values()]
    doc = document.build(engines, run.tfjs, _in_order(config, results), table)
    doc["timing"] = text.timing(doc["results"], time.monotonic() - run.started)
    doc["zoo"] = "user" if user_models(config) else config.getoption("zoo")  # which models the round trips ran
    if config.getoption("shard"):
        doc["shard"] = shard.label(*config.getoption("shard"))
        doc["selection"] = {"engines": run.engines}  # which run this is a shard of (harness.report.merge)
    return doc


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _RECORDER not in config.stash:
        return
    run, rows, notes = state(config), recorder(config), config.stash[_NOTES]
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the report
        config.workeroutput["conformance"] = {"engines": run.pool.infos() if run.pool else [], "tfjs": run.tfjs}
        return
    if rows.rows:
        doc = conformance_document(config)
        document.write(run.results_dir / "conformance.json", doc)
        html.write(doc, run.results_dir)
        notes.append(f"written: {run.results_dir / 'report.html'}")
        if _BASELINE in config.stash:
            old = config.stash[_BASELINE]
            old[1] = baseline.diff(old[0], doc)
            if baseline.regressed(old[1]) and session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if markdown.write_step_summary(markdown.markdown(doc, config.stash[_BASELINE][1] if _BASELINE in config.stash else None)):
            notes.append("written: $GITHUB_STEP_SUMMARY")
        if config.getoption("update_expectations"):
            notes.append(_update_expectations(config, doc))
    if rows.capacity:
        from harness.measure import capacity

        capacity.write(run.results_dir, rows.capacity)


def _update_expectations(config: pytest.Config, doc: dict) -> str:
    from harness.expectations import update

    path = Path(config.getoption("expectations"))
    try:
        return update.update(path, doc["results"], state(config).findings,
                             today=datetime.date.today().isoformat()).format()
    except update.UpdateError as e:
        return f"expectations not updated: {e}"


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _RECORDER not in config.stash:
        return
    rows = recorder(config)
    run = state(config)
    if rows.capacity:
        from harness.measure import capacity

        terminalreporter.section("storage capacity (largest model that round-trips)")
        terminalreporter.write_line(capacity.table(rows.capacity))
        terminalreporter.write_line(f"written: {run.results_dir / 'capacity.json'}, {run.results_dir / 'capacity.md'}")
    if not rows.rows:
        return
    doc = conformance_document(config)
    terminalreporter.section("findings")
    terminalreporter.write_line(text.findings(doc))
    terminalreporter.section("conformance matrix (scheme x engine)")
    terminalreporter.write_line(text.matrix(doc))
    terminalreporter.section("where the time went")
    terminalreporter.write_line(text.timing_table(doc["timing"]))
    terminalreporter.write_line(f"written: {run.results_dir / 'conformance.json'}")
    for note in config.stash[_NOTES]:
        terminalreporter.write_line(note)
    if _BASELINE in config.stash and config.stash[_BASELINE][1] is not None:
        terminalreporter.section(f"baseline: {config.getoption('baseline')}")
        terminalreporter.write_line(baseline.format(config.stash[_BASELINE][1]))
