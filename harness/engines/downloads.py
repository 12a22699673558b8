"""Downloads that a browser writes into a directory: wait until they are complete, then read them.

Used by drivers whose build declares ``downloads="directory"`` (see ``Build.downloads``): Firefox ESR
over WebDriver BiDi (Playwright's ``downloads_path``; Playwright reports no download events there) and
WebKitGTK (the XDG download dir). The caller owns the directory and empties it when a page opens, so
what is in it is that page's downloads, under the names the browser gave them.

A file counts as complete when it is not a browser's partial file (``*.part``, ``*.crdownload``, ...),
no partial file of the same name sits next to it, and its size and mtime did not change between two
polls. Empty files are placeholders while a download is being written (Firefox creates ``NAME`` and
``NAME.part`` together), so an empty file counts only after it stayed empty and alone for a while.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time

from harness.engines.base import DownloadsIncomplete

PARTIAL_SUFFIXES = (".part", ".crdownload", ".download", ".wkdownload", ".tmp")
POLL_S = 0.1
EMPTY_SETTLE_S = 1.0  # an empty file must stay empty this long to count as a real empty download


def empty_directory(directory: str) -> None:
    """Create ``directory`` or remove everything in it."""
    os.makedirs(directory, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass


def _is_partial(name: str) -> bool:
    return name.startswith(".") or name.endswith(PARTIAL_SUFFIXES)


def _snapshot(directory: str) -> dict[str, tuple[int, int]]:
    """Regular files in ``directory``: name -> (size, mtime_ns)."""
    out = {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return out
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                out[entry.name] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass  # renamed away between listing and stat (a partial file becoming final)
    return out


async def wait_for_files(directory: str, count: int, timeout: float, *, who: str) -> dict[str, bytes]:
    """The complete files in ``directory`` by name, once at least ``count`` are complete.

    Raises DownloadsIncomplete after ``timeout`` seconds, with the complete files and the partial ones seen.
    """
    deadline = time.monotonic() + timeout
    previous: dict[str, tuple[int, int]] = {}
    empty_since: dict[str, float] = {}
    while True:
        now = time.monotonic()
        current = _snapshot(directory)
        partial_stems = {n.rsplit(".", 1)[0] for n in current if _is_partial(n)}
        complete = []
        for name, state in current.items():
            if _is_partial(name) or name in partial_stems or previous.get(name) != state:
                empty_since.pop(name, None)
                continue
            if state[0] == 0:
                if now - empty_since.setdefault(name, now) < EMPTY_SETTLE_S:
                    continue
            complete.append(name)
        if len(complete) >= count:
            files = {}
            for name in sorted(complete):
                with open(os.path.join(directory, name), "rb") as f:
                    files[name] = f.read()
            return files
        if now >= deadline:
            seen = ", ".join(f"{n} ({current[n][0]} bytes)" for n in sorted(complete)) or "none"
            unfinished = sorted(set(current) - set(complete))
            more = f"; unfinished: {', '.join(unfinished)}" if unfinished else ""
            arrived = {}
            for name in sorted(complete):
                with open(os.path.join(directory, name), "rb") as f:
                    arrived[name] = f.read()
            raise DownloadsIncomplete(
                f"{who}: {len(complete)} of {count} expected downloads arrived within {timeout:g} s "
                f"in {directory}: complete: {seen}{more}", arrived, unfinished)
        previous = current
        await asyncio.sleep(POLL_S)
