"""A private Xvfb X server on a free display, for engines that need a display.

    with Xvfb() as x:                 # or: x = Xvfb().start(); ...; x.stop()
        env = {**os.environ, "DISPLAY": x.display}

Xvfb picks the display number itself (``-displayfd``), so parallel sessions never
collide on a fixed ``:99``. ``start()`` blocks for ~0.1 s; from asyncio call it
through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time


class XvfbError(RuntimeError):
    """Xvfb could not be started."""


class Xvfb:
    """One Xvfb process started by us; ``display`` is ``":N"`` once started."""

    def __init__(self, screen: str = "1280x1024x24", *, start_timeout: float = 10.0):
        self.screen = screen
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.display: str | None = None
        self._log = None  # Xvfb's stderr; a file, since a pipe nobody reads could fill and block it

    def start(self) -> "Xvfb":
        """Start Xvfb and wait until it reports the display it listens on."""
        read_fd, write_fd = os.pipe()
        self._log = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", self.screen, "-nolisten", "tcp"],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
                start_new_session=True,  # a terminal's Ctrl-C must not kill it before we clean up
            )
            os.close(write_fd)
            write_fd = -1
            number = self._read_display_number(read_fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.display = f":{number}"
        return self

    def _read_display_number(self, read_fd: int) -> int:
        """Xvfb writes ``N\\n`` to the displayfd once it accepts connections; EOF means it died."""
        deadline = time.monotonic() + self.start_timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                raise XvfbError(f"Xvfb reported no display within {self.start_timeout} s")
            chunk = os.read(read_fd, 32)
            if not chunk:
                raise XvfbError(f"Xvfb exited before reporting a display: {self._stderr_tail()}")
            data += chunk
        return int(data)

    def _stderr_tail(self) -> str:
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "(still running)"
        self._log.seek(0)
        err = self._log.read().decode(errors="replace")
        return f"exit {self.process.returncode}: {err[-500:].strip()}"

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate Xvfb and wait for it; SIGKILL if it does not exit in ``timeout`` s."""
        process, self.process = self.process, None
        log, self._log = self._log, None
        self.display = None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is not None:
            log.close()

    def __enter__(self) -> "Xvfb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
