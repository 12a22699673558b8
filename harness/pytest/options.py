"""The command line: every option in one group, kebab-case, `choices` where the set is closed."""

from __future__ import annotations

import os

import pytest

from harness import backends, contexts, quota
from harness.engines import ENGINES
from harness.expectations import DEFAULT as DEFAULT_EXPECTATIONS
from harness.paths import DEFAULT_CONFIG
from harness.report import shard


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """A user's paths given as option values never move the rootdir. pytest finds its rootdir and
    configuration file before any plugin's options are known, so the value of `--model
    ../elsewhere/model.json` counts as a path to test: the rootdir becomes a parent of the model's folder
    and the project's pyproject.toml is not read (measured: every async scenario then failed, "async def
    functions are not natively supported"). Now that the options are known, the setup is found again from
    the real positional arguments, and where it differs, that one is taken."""
    from _pytest.config.findpaths import determine_setup

    ns = parser.parse_known_args(args)
    found = determine_setup(inifile=ns.inifilename, override_ini=ns.override_ini, args=ns.file_or_dir,
                            rootdir_cmd_arg=ns.rootdir or None, invocation_dir=early_config.invocation_params.dir)
    rootpath, inipath, inicfg = found[:3]
    if (rootpath, inipath) != (early_config.rootpath, early_config.inipath):
        early_config._rootpath, early_config._inipath, early_config._inicfg = rootpath, inipath, inicfg
        early_config._inicache.clear()
        parser.extra_info.update(rootdir=str(rootpath), inifile=str(inipath))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tfjs-io-conformance", "TF.js io conformance")
    group.addoption(
        "--engine", action="append", default=[], choices=list(ENGINES), metavar="NAME",
        help=f"engine to run (repeatable; default: every engine in the matrix): {', '.join(ENGINES)}",
    )
    group.addoption("--headed", action="store_true", help="show browser windows (needs a display)")
    group.addoption("--tracing", default="off", choices=["off", "retain-on-failure"],
                    help="record a Playwright trace of every page and keep it (trace.zip) for the rows that do not pass "
                         "(as pytest-playwright's --tracing; off by default: it cost 18%% of a Firefox run's CPU)")
    group.addoption(
        "--tfjs-backend", action="append", default=[], type=backend_option, metavar="NAME",
        help="TF.js backend the pages run on (repeatable: a dimension of the matrix; default cpu, bit-exact weights "
             f"and deterministic predictions): {', '.join(backends.BACKENDS)} (harness/backends.py), or A->B: "
             "saved on A, loaded on B",
    )
    group.addoption(
        "--context", action="append", default=[], type=context_option, metavar="NAME",
        help="where the round-trip rows' steps run (repeatable: a dimension of the matrix; default window): "
             f"{', '.join(contexts.CONTEXTS)} (harness/contexts.py), or A->B: saved in A, loaded in B",
    )
    group.addoption("--tfjs-version", action="append", default=[], metavar="V",
                    help="TF.js version from npm to run (repeatable; installed side by side as package.json aliases "
                         "tfjs-<V>; default: the newest stable one)")
    group.addoption("--tfjs-bundle", action="append", default=[], metavar="PATH",
                    help="a local TF.js UMD bundle (tf.js / tf.min.js as built from the TF.js repo) to run instead "
                         "of npm's, in every engine and in Node (repeatable)")
    group.addoption("--engine-config", default=str(DEFAULT_CONFIG), help="the engine matrix file (playwright.config)")
    group.addoption("--results-dir", default="test-results", help="where conformance.json goes")
    group.addoption("--zoo", default="core", choices=["core", "full"],
                    help="the golden models of the round-trip rows: core (default; one model per way a scheme "
                         "can get a model wrong) or full (every model; make test)")
    group.addoption("--model", action="append", default=[], metavar="PATH",
                    help="a model.json of your own (repeatable): run every scheme over it instead of the golden zoo")
    group.addoption("--model-inputs", action="append", default=[], metavar="[MODEL=]FILE",
                    help="inputs for a --model (repeatable): .npz or JSON, by input name; MODEL= (its path as given, "
                         "or its name byo-<folder>) says which model when there are several")
    group.addoption("--expectations", default=str(DEFAULT_EXPECTATIONS),
                    help="known findings (scenarios/expectations.toml): rows they explain are xfailed")
    group.addoption("--baseline", default=None, metavar="OLD.json",
                    help="compare this run with a stored conformance.json: list regressions, fixes, new rows; "
                         "exit non-zero on any regression")
    group.addoption("--update-expectations", action="store_true",
                    help="rewrite --expectations to this run's outcomes: record unexplained failures, drop entries "
                         "whose rows now pass")
    group.addoption("--repeat", type=int, default=1, metavar="N",
                    help="run every conformance row N times; rows whose outcome differs between repeats are "
                         "reported as flaky (matrix, conformance.json \"flaky\")")
    group.addoption("--run-large", action="store_true",
                    help="also run tests marked large (256-512 MiB models; make test does)")
    group.addoption("--connect", action="append", default=[], metavar="ENGINE=WS_URL", type=endpoint_option,
                    help="run ENGINE in a Playwright server (playwright run-server, a Docker image, a cloud service) "
                         "through browser_type.connect; its launch_options come from the engine's entry in "
                         "--engine-config (repeatable)")
    group.addoption("--webdriver", action="append", default=[], metavar="ENGINE=URL", type=endpoint_option,
                    help="run ENGINE through a remote W3C WebDriver endpoint (safaridriver, Selenium Grid, "
                         "WebKitWebDriver --port); its capabilities come from the engine's entry (repeatable)")
    group.addoption("--server-bind", default="127.0.0.1", metavar="ADDR",
                    help="the address the harness server listens on (default loopback; 0.0.0.0 for browsers on "
                         "other machines)")
    group.addoption("--server-host", default=None, metavar="NAME",
                    help="the host name or address browsers reach the harness server by (default: the bound "
                         "address, or this machine's name when bound to 0.0.0.0)")
    group.addoption("--shard", default=None, metavar="K/N", type=shard_option,
                    help="run only the K-th of N deterministic slices of the tests (by a hash of each test id), "
                         "so that N CI jobs cover the run once; join their conformance.json with "
                         "`python -m harness merge`")
    group.addoption("--quota", default=None, metavar="SIZE", type=size_option,
                    help="limit every browser page's storage to SIZE (e.g. 2MB, 512KiB): IndexedDB by the engine's "
                         "quota emulation, localStorage by filling it; overrides @pytest.mark.quota")
    group.addoption("--timeout-multiplier", default=1.0, type=multiplier_option, metavar="X",
                    help="scale every deadline of the harness (page opens, steps, TF.js calls, downloads) by X, "
                         "as wptrunner's option does: for slow or loaded machines (default 1)")
    group.addoption("--missing-engines", default=None, choices=["skip", "fail"],
                    help="what a configured local engine that is not installed does to its rows: skip them with "
                         "the install command (default), or fail them (default when CI=true: a CI run must not go "
                         "green without an engine)")


def missing_engines(config: pytest.Config) -> str:
    """"skip" or "fail": --missing-engines, else "fail" when the CI variable is "true" (GitHub, GitLab...)."""
    chosen = config.getoption("missing_engines")
    if chosen:
        return chosen
    return "fail" if os.environ.get("CI", "").lower() == "true" else "skip"


def endpoint_option(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep or not name or not url:
        raise pytest.UsageError(f"{text!r}: expected ENGINE=URL, e.g. chromium=ws://127.0.0.1:3000/")
    return name, url


def backend_option(text: str) -> str:
    try:
        return backends.check(text)
    except ValueError as e:
        raise pytest.UsageError(f"--tfjs-backend: {e}") from None


def context_option(text: str) -> str:
    try:
        contexts.split(text)
    except ValueError as e:
        raise pytest.UsageError(f"--context: {e}") from None
    return text


def shard_option(text: str) -> tuple[int, int]:
    try:
        return shard.parse(text)
    except ValueError as e:
        raise pytest.UsageError(f"--shard: {e}") from None


def size_option(text: str) -> int:
    try:
        return quota.parse_size(text)
    except ValueError as e:
        raise pytest.UsageError(f"--quota: {e}") from None


def multiplier_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise pytest.UsageError(f"--timeout-multiplier {text!r}: expected a positive number, e.g. 2")
    return value
