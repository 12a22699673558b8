"""Where the harness's own files are: one place, imported by everything that needs a path (and by
nothing that `harness.config` or `harness.engines` need, so no import circle)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO / "harness"
JS_DIR = HARNESS / "js"  # page-side, worker-side and Node-side JavaScript
FIXTURES = REPO / "fixtures"  # the golden zoo, written by `python -m harness.golden`
DEFAULT_CONFIG = REPO / "playwright.config"  # the engine matrix
EXPECTATIONS = REPO / "scenarios" / "expectations.toml"  # the known findings
UPSTREAM_COVERAGE = REPO / "scenarios" / "upstream-coverage.toml"  # TF.js's own io tests against the rows
RESULTS_SCHEMA = HARNESS / "report" / "conformance.schema.json"  # the JSON Schema of conformance.json
