"""Where the harness's own files are: one place, imported by everything that needs a path (and by
nothing that `harness.config` or `harness.engines` need, so no import circle).

In a checkout they are the repository's (scenarios/, fixtures/, playwright.config); installed from a
wheel, the package carries what a run needs: the scenarios and known findings (harness/scenarios, from
scenarios/), the default engine matrix (harness/defaults/playwright.config) and the npm pins TF.js is
installed from (harness/defaults/package.json, package-lock.json). A playwright.config in the working
directory overrides the default matrix.
"""

from pathlib import Path

HARNESS = Path(__file__).resolve().parent
REPO = HARNESS.parent  # the checkout (or, for a wheel, site-packages)
JS_DIR = HARNESS / "js"  # page-side, worker-side and Node-side JavaScript
DEFAULTS = HARNESS / "defaults"  # what a wheel carries in place of the checkout's own files
CHECKOUT = (REPO / "scenarios" / "test_roundtrip.py").is_file()  # run from a clone of the repository
SCENARIOS = REPO / "scenarios" if CHECKOUT else HARNESS / "scenarios"  # the conformance scenarios
FIXTURES = REPO / "fixtures"  # the golden zoo, written by `python -m harness.golden` (a checkout's only)
EXPECTATIONS = SCENARIOS / "expectations.toml"  # the known findings
UPSTREAM_COVERAGE = SCENARIOS / "upstream-coverage.toml"  # TF.js's own io tests against the rows
RESULTS_SCHEMA = HARNESS / "report" / "conformance.schema.json"  # the JSON Schema of conformance.json
NPM_PINS = REPO if CHECKOUT else DEFAULTS  # where package.json and package-lock.json pin TF.js


def default_config() -> Path:
    """The engine matrix: ./playwright.config where the run starts, else the checkout's, else the embedded
    default (the same matrix)."""
    for path in (Path.cwd() / "playwright.config", REPO / "playwright.config"):
        if path.is_file():
            return path
    return DEFAULTS / "playwright.config"


DEFAULT_CONFIG = default_config()
