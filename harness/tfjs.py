"""The TF.js builds the harness can serve to a page and run in Node.

* npm: `@tensorflow/tfjs` and the aliases `tfjs-<version>` in package.json (several versions side
  by side, `npm ci`); each has its UMD bundle at dist/tf.min.js and is required by its package name
  in Node. `--tfjs-version V` picks them; by default the newest stable one runs.
* bundles: `--tfjs-bundle PATH`, a local UMD build (tf.js / tf.min.js as the TF.js repo builds it):
  served as it is to the page and required by its path in Node. Its id in reports is the file name
  and the first 12 hex digits of its SHA-256 (`tf.min.js@1a2b3c4d5e6f`); the TF.js version inside it
  (`tf.version.tfjs`, asked of Node) is its `semver`.

A session's builds are registered here (`register`), so every driver can look one up by id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
from pathlib import Path

from harness.paths import REPO

NODE_MODULES = REPO / "node_modules"
MAIN_PACKAGE = "@tensorflow/tfjs"
_ALIAS = re.compile(r"^tfjs-\d")


@dataclasses.dataclass(frozen=True)
class TfjsBuild:
    version: str  # its id in reports and URLs: "4.22.0", or "tf.min.js@1a2b3c4d5e6f" for a bundle
    source: str  # where it came from: "npm:@tensorflow/tfjs@4.22.0", "file:/abs/path/tf.min.js"
    bundle: Path  # the UMD file served to pages
    node_module: str  # what Node requires: a package name or the bundle's absolute path
    semver: str = ""  # the TF.js version inside (what rewrites and expectations use); default: version

    def __post_init__(self):
        if not self.semver:
            object.__setattr__(self, "semver", self.version)

    @property
    def dist(self) -> Path:
        return self.bundle.parent

    @property
    def prerelease(self) -> bool:
        return "-" in self.semver

    def as_row(self) -> dict:
        row = {"version": self.version, "source": self.source}
        if self.semver != self.version:
            row["semver"] = self.semver
        return row


def _npm_build(package_dir: Path, name: str) -> TfjsBuild:
    meta = json.loads((package_dir / "package.json").read_text())
    build = TfjsBuild(meta["version"], f"npm:{meta['name']}@{meta['version']}", package_dir / "dist" / "tf.min.js", name)
    if not build.bundle.exists():
        raise FileNotFoundError(f"TF.js {build.version} has no UMD bundle at {build.bundle}")
    return build


def installed(node_modules: Path = NODE_MODULES) -> TfjsBuild:
    """The main TF.js package (`@tensorflow/tfjs`) installed by `npm ci`, or a clear error saying how to get it."""
    pkg = node_modules / "@tensorflow" / "tfjs"
    if not (pkg / "package.json").exists():
        raise FileNotFoundError(f"TF.js is not installed: {pkg}/package.json is missing; run `npm ci` (or `make setup`)")
    return _npm_build(pkg, MAIN_PACKAGE)


def available(node_modules: Path = NODE_MODULES) -> dict[str, TfjsBuild]:
    """Every npm TF.js version installed: the main package and the `tfjs-<version>` aliases of
    package.json, by version, oldest first."""
    builds = {b.version: b for b in [installed(node_modules)]}
    deps = json.loads((REPO / "package.json").read_text()).get("dependencies", {})
    for alias in deps:
        if _ALIAS.match(alias) and (node_modules / alias / "package.json").exists():
            b = _npm_build(node_modules / alias, alias)
            builds.setdefault(b.version, b)
    return dict(sorted(builds.items(), key=lambda kv: _semver_key(kv[0])))


def newest_stable(builds: dict[str, TfjsBuild]) -> TfjsBuild:
    stable = [b for b in builds.values() if not b.prerelease] or list(builds.values())
    return max(stable, key=lambda b: _semver_key(b.version))


def bundle(path: str | Path, node: str = "node") -> TfjsBuild:
    """A local UMD bundle as a build; Node reads the TF.js version inside it. Raises ValueError
    (with what to do) if it is not a TF.js UMD bundle."""
    p = Path(path).resolve()
    if not p.is_file():
        raise ValueError(f"--tfjs-bundle {path}: no such file")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    script = "const tf = require(process.argv[1]); process.stdout.write(String(tf && tf.version && tf.version.tfjs))"
    try:
        out = subprocess.run([node, "-e", script, str(p)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ValueError(f"--tfjs-bundle {path}: could not ask Node for its TF.js version: {e}") from None
    semver = out.stdout.strip()
    if out.returncode != 0 or not re.match(r"^\d+\.\d+\.\d+", semver):
        raise ValueError(f"--tfjs-bundle {path}: not a TF.js UMD bundle (require() gave tf.version.tfjs = "
                         f"{semver or 'nothing'}; {out.stderr.strip()[-300:]})")
    return TfjsBuild(f"{p.name}@{digest}", f"file:{p}", p, str(p), semver)


_REGISTRY: dict[str, TfjsBuild] = {}


def register(builds: list[TfjsBuild]) -> None:
    for b in builds:
        _REGISTRY[b.version] = b


def lookup(version: str) -> TfjsBuild:
    """A build by id: one registered for this session, else an installed npm version."""
    if version in _REGISTRY:
        return _REGISTRY[version]
    found = available()
    if version in found:
        return found[version]
    raise KeyError(f"no TF.js build {version!r}; installed: {', '.join(found)}; registered: {', '.join(_REGISTRY) or 'none'}")


def _semver_key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    nums = tuple(int(x) if x.isdigit() else 0 for x in core.split("."))
    return (*nums, 0 if pre else 1, pre)
