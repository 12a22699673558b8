"""Shared test configuration: the `pytester` fixture, for end-to-end runs of the plugin, the ini those
runs need, the harness page's URL for tests that open pages themselves, and a real HarnessServer on
127.0.0.1 (`server`, on the installed TF.js `build`) for the server's own tests."""

import pytest
import pytest_asyncio

from harness import tfjs
from harness.cli import PYTEST_SETTINGS
from harness.server import HarnessServer

pytest_plugins = ["pytester"]

# What pyproject.toml's [tool.pytest.ini_options] gives the harness's own runs: a pytester run in a
# temporary directory needs the same (async tests and fixtures on one session-scoped loop), as
# `tfjs-conformance check` gives its runs (tests/test_packaging.py checks them against pyproject.toml).
INI = "\n[pytest]\n" + "".join(f"{key} = {value}\n" for key, value in PYTEST_SETTINGS.items())


@pytest.fixture
def harness_ini(pytester: pytest.Pytester) -> pytest.Pytester:
    """`pytester` with the harness's ini written: run scenario files through it."""
    pytester.makeini(INI)
    return pytester


@pytest.fixture
def page_url(harness_server, tfjs_build, tfjs_backend) -> str:
    """The harness page on this test's TF.js build and backend (what `harness_page` opens)."""
    return harness_server.page_url(tfjs_build.version, tfjs_backend)


@pytest.fixture(scope="module")
def build() -> tfjs.TfjsBuild:
    return tfjs.installed()


@pytest_asyncio.fixture
async def server(build):
    srv = await HarnessServer([build]).start(port=0)
    yield srv
    await srv.stop()
