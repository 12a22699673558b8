"""`python -m harness engines [--install]`: what engines this machine has; install the missing ones.

Playwright's own builds are used where `playwright install` put them. Otherwise, as root on Debian,
`--install` apt-gets the system packages; as anyone else it prints the exact command to run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from harness.config import load_matrix
from harness.engines.discovery import Found, Missing, discover, playwright_executables
from harness.paths import DEFAULT_CONFIG

_VERSION = re.compile(r"\d+(?:\.\d+)+")


def probe_version(command: list[str]) -> str:
    """The version a command prints (e.g. `chromium --version`), without starting a browser."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e.__class__.__name__})"
    match = _VERSION.search(out)
    return match.group(0) if match else f"unknown ({out.strip()[:60]!r})"


def table(found: dict[str, Found | Missing], pw_paths: dict[str, str]) -> str:
    lines = []
    for name, entry in found.items():
        if isinstance(entry, Missing):
            lines.append(f"  {name:<9} MISSING  {entry.reason}")
            continue
        b = entry.build
        if b.endpoint:  # a remote build: nothing here to ask for a version
            lines.append(f"  {name:<9} {'remote':<16} driver={b.driver:<10} build={b.kind:<10} {b.endpoint}")
            continue
        exe = b.executable or pw_paths[b.browser_type]
        version = probe_version(list(b.version_command) or [exe, "--version"])
        lines.append(f"  {name:<9} {version:<16} driver={b.driver:<10} build={b.kind:<10} {exe}")
    return "\n".join(lines)


def main(install: bool = False, config=DEFAULT_CONFIG) -> int:
    matrix = load_matrix(config)
    pw_paths = playwright_executables()
    found = discover(matrix, pw_paths)
    missing = [m for m in found.values() if isinstance(m, Missing)]
    packages = sorted({p for m in missing for p in m.apt_packages})
    if missing and install and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing engines: apt-get install -y {' '.join(packages)}", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
        found = discover(matrix, pw_paths)
        missing = [m for m in found.values() if isinstance(m, Missing)]
    print("engines:")
    print(table(found, pw_paths))
    if missing:
        print(
            "\nSome engines are missing; their rows will be skipped. To install them, either\n"
            f"  sudo apt-get install -y {' '.join(packages)}    (Debian/Ubuntu system builds)\n"
            "or\n  .venv/bin/playwright install --with-deps            (Playwright's own builds)"
        )
    return 0
