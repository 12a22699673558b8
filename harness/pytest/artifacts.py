"""A failed row's evidence, in one place: `test-results/<test dir>/` (harness.report.artifacts names it).

Like pytest-playwright's ArtifactsRecorder, one recorder per test follows the pages it opened; when
the row did not pass it keeps each page's trace (before the page closes) and, once the row is finished,
writes:

    row.json              the row as conformance.json has it (differences included)
    diff.txt              the row's detail, rendered from its differences
    <part>                every artifact the pages posted (loaded.json, loaded.weights.bin, storage.json, ...)
    files/                what the scheme wrote or captured (downloads, file:// saves, chosen files)
    trace.zip, trace-N.zip  the Playwright trace of each page (actions, console, network; --tracing)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.report import artifacts


class ArtifactsRecorder:
    def __init__(self, results_dir: Path, nodeid: str):
        self.dir = artifacts.test_dir(results_dir, nodeid)
        self.keep = False  # set by harness.pytest.rows once the call phase did not pass
        self.trip = None  # the test's harness.trip.roundtrip.Trip, when it made one
        self._traces = 0
        self.tracebacks: list[str] = []  # of an `error` row's failed phases (written as traceback.txt)

    async def page_closing(self, page) -> None:
        """Keep `page`'s trace if the row did not pass; the page is about to close."""
        if not self.keep:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        name = "trace.zip" if self._traces == 0 else f"trace-{self._traces}.zip"
        if await page.save_trace(str(self.dir / name)):
            self._traces += 1

    def row_finished(self, row: dict, detail: str) -> None:
        """Write the row and what its pages posted and its scheme handled, if it did not pass."""
        if not (self.keep or row["outcome"] in ("failed", "error")):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "diff.txt").write_text(detail + "\n")
        (self.dir / "row.json").write_text(json.dumps(row, indent=2, default=str) + "\n")
        if self.tracebacks:
            (self.dir / "traceback.txt").write_text("\n\n".join(self.tracebacks) + "\n")
        if self.trip is None:
            return
        for name, data in (self.trip.state.get("parts") or {}).items():
            (self.dir / name).write_bytes(data)
        tmp = self.trip.tmp
        if tmp.is_dir() and any(tmp.iterdir()):
            try:  # a browser profile's lock is a dangling symlink; the profile itself is no evidence
                shutil.copytree(tmp, self.dir / "files", symlinks=True, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("profile"))
            except (OSError, shutil.Error) as e:  # evidence is best effort: never a reason to lose the row
                (self.dir / "files-not-copied.txt").write_text(f"{e}\n")
