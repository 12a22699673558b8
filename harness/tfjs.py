"""The TF.js builds the harness can serve to a page and run in Node.

* npm: `@tensorflow/tfjs` and the aliases `tfjs-<version>` in package.json (several versions side
  by side, `npm ci`); each has its UMD bundle at dist/tf.min.js and is required by its package name
  in Node. `--tfjs-version V` picks them; by default the newest stable one runs.
* bundles: `--tfjs-bundle PATH`, a local UMD build (tf.js / tf.min.js as the TF.js repo builds it):
  served as it is to the page and required by its path in Node. Its id in reports is the file name
  and the first 12 hex digits of its SHA-256 (`tf.min.js@1a2b3c4d5e6f`); the TF.js version inside it
  (`tf.version.tfjs`, asked of Node) is its `semver`.

A build's wasm and webgpu backends (`backend_dist`) are the `@tensorflow/tfjs-backend-<base>` of the same
TF.js version (the union bundle tf.min.js has only cpu and webgl): the main package, or an alias
`tfjs-backend-<base>-<version>` of package.json; the UMD bundle (and wasm's `.wasm` binaries) ship in the
package's dist/. None exists on npm for 4.23.0-rc.0; webgpu's first release is 4.6.0.

A session's builds are registered here (`register`), so every driver can look one up by id.

Where npm's TF.js is installed (`node_modules_dir`), the first of: $TFJS_CONFORMANCE_NODE_MODULES; the
project's own node_modules (the working directory's, when it holds @tensorflow/tfjs); this checkout's
(`npm ci`); the per-user cache that `tfjs-conformance setup` fills (harness.cli). A build's `source` says
which (its `installed`: project, checkout, cache or env).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

from harness.paths import REPO

MAIN_PACKAGE = "@tensorflow/tfjs"
_ALIAS = re.compile(r"^tfjs-\d")
ENV_NODE_MODULES = "TFJS_CONFORMANCE_NODE_MODULES"


def cache_dir() -> Path:
    """The per-user cache `tfjs-conformance setup` installs TF.js into ($XDG_CACHE_HOME/tfjs-conformance)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tfjs-conformance"


def node_modules_found() -> tuple[str, Path]:
    """(which, path) of the node_modules TF.js comes from: "env", "project", "checkout" or "cache" (the
    cache's path, installed or not, when none holds TF.js: errors then say to run setup)."""
    given = os.environ.get(ENV_NODE_MODULES)
    if given:
        return "env", Path(given).resolve()
    candidates = [("project", Path.cwd() / "node_modules"), ("checkout", REPO / "node_modules"),
                  ("cache", cache_dir() / "node_modules")]
    for which, path in candidates:
        if (path / "@tensorflow" / "tfjs" / "package.json").is_file():
            if which == "project" and path.resolve() == (REPO / "node_modules").resolve():
                which = "checkout"  # run from the checkout itself: its node_modules is the checkout's
            return which, path.resolve()
    return "cache", candidates[-1][1]


def node_modules_dir() -> Path:
    return node_modules_found()[1]


@dataclasses.dataclass(frozen=True)
class TfjsBuild:
    version: str  # its id in reports and URLs: "4.22.0", or "tf.min.js@1a2b3c4d5e6f" for a bundle
    source: str  # where it came from: "npm:@tensorflow/tfjs@4.22.0", "file:/abs/path/tf.min.js"
    bundle: Path  # the UMD file served to pages
    node_module: str  # what Node requires: a package name or the bundle's absolute path
    semver: str = ""  # the TF.js version inside (what rewrites and expectations use); default: version
    installed: str = ""  # whose node_modules an npm build is from: project | checkout | cache | env (node_modules_found)

    def __post_init__(self):
        if not self.semver:
            object.__setattr__(self, "semver", self.version)

    @property
    def dist(self) -> Path:
        return self.bundle.parent

    @property
    def prerelease(self) -> bool:
        return "-" in self.semver

    def backend_dist(self, base: str) -> Path | None:
        """The dist/ of this TF.js version's own package of the backend `base` (wasm, webgpu), if installed."""
        return backend_dist(base, self.semver)

    def lacks(self, base: str, host: str = "browser") -> str:
        """Why this build cannot run the backend `base` on `host` ("" if it can): its package is not
        installed; in Node, a wasm backend that would not register on this build's tfjs-core."""
        if base not in BACKEND_PACKAGES:
            return ""
        if host == "node":
            if self.node_module == "@tensorflow/tfjs":
                return ""
            return (f"in Node the wasm backend is require()d, and @tensorflow/tfjs-backend-wasm registers on the "
                    f"@tensorflow/tfjs-core that resolves from it (the main {installed().semver}), not on {self.version}'s")
        if self.backend_dist(base) is not None:
            return ""
        package = BACKEND_PACKAGES[base][0]
        return (f"no {package}@{self.semver} is installed (add \"tfjs-backend-{base}-{self.semver}\": "
                f"\"npm:{package}@{self.semver}\" to package.json, if npm has that version)")

    def as_row(self) -> dict:
        row = {"version": self.version, "source": self.source}
        if self.semver != self.version:
            row["semver"] = self.semver
        if self.installed:
            row["installed"] = self.installed
        return row


# The backends tf.min.js does not bundle: base -> (npm package, its UMD bundle in dist/).
BACKEND_PACKAGES = {
    "wasm": ("@tensorflow/tfjs-backend-wasm", "tf-backend-wasm.min.js"),
    "webgpu": ("@tensorflow/tfjs-backend-webgpu", "tf-backend-webgpu.min.js"),
}


def backend_dist(base: str, semver: str, node_modules: Path | None = None) -> Path | None:
    """dist/ of the installed package of backend `base` whose version is `semver` (the main one or an alias)."""
    package, bundle = BACKEND_PACKAGES[base]
    node_modules = node_modules or node_modules_dir()
    for folder in (node_modules / package, node_modules / f"tfjs-backend-{base}-{semver}"):
        meta = folder / "package.json"
        if meta.exists() and json.loads(meta.read_text()).get("version") == semver and (folder / "dist" / bundle).exists():
            return folder / "dist"
    return None


def _npm_build(package_dir: Path, name: str, installed: str = "") -> TfjsBuild:
    meta = json.loads((package_dir / "package.json").read_text())
    build = TfjsBuild(meta["version"], f"npm:{meta['name']}@{meta['version']}", package_dir / "dist" / "tf.min.js", name,
                      installed=installed)
    if not build.bundle.exists():
        raise FileNotFoundError(f"TF.js {build.version} has no UMD bundle at {build.bundle}")
    return build


def installed(node_modules: Path | None = None) -> TfjsBuild:
    """The main TF.js package (`@tensorflow/tfjs`) installed by npm, or a clear error saying how to get it."""
    which, found = node_modules_found()
    pkg = (node_modules or found) / "@tensorflow" / "tfjs"
    if not (pkg / "package.json").exists():
        raise FileNotFoundError(f"TF.js is not installed: {pkg}/package.json is missing; run `tfjs-conformance setup` "
                                f"(in a checkout: `npm ci` or `make setup`)")
    return _npm_build(pkg, MAIN_PACKAGE, which if node_modules is None else "")


def available(node_modules: Path | None = None) -> dict[str, TfjsBuild]:
    """Every npm TF.js version installed: the main package and the `tfjs-<version>` aliases (package.json's
    "tfjs-4.21.0": "npm:@tensorflow/tfjs@4.21.0", installed side by side), by version, oldest first."""
    main = installed(node_modules)
    builds = {main.version: main}
    for folder in sorted((node_modules or node_modules_dir()).iterdir()):
        if _ALIAS.match(folder.name) and (folder / "package.json").exists():
            b = _npm_build(folder, folder.name, main.installed)  # beside the main package: from the same place
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
