"""What a wheel carries in place of the checkout's own files (harness/defaults, harness.paths) is the
checkout's: the engine matrix, TF.js's npm pins and npm's settings; and `tfjs-conformance check` gives
pytest the checkout's own asyncio settings."""

import tomllib

import pytest

from harness import cli
from harness.paths import DEFAULTS, REPO


@pytest.mark.parametrize("default, checkout", [("playwright.config", "playwright.config"), ("package.json", "package.json"),
                                               ("package-lock.json", "package-lock.json"), ("npmrc", ".npmrc")])
def test_the_wheel_defaults_are_the_checkouts_files(default, checkout):
    assert (DEFAULTS / default).read_bytes() == (REPO / checkout).read_bytes(), (
        f"harness/defaults/{default} differs from {checkout}: copy it (cp {checkout} harness/defaults/{default})")


def test_check_runs_pytest_with_the_checkouts_asyncio_settings():
    ini = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert {k: ini[k] for k in cli.PYTEST_SETTINGS} == cli.PYTEST_SETTINGS
    assert not {k for k in ini if k.startswith("asyncio")} - set(cli.PYTEST_SETTINGS)
