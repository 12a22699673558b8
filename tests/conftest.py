"""Shared test configuration: the `pytester` fixture, for end-to-end runs of the plugin, the ini those
runs need, and the harness page's URL for tests that open pages themselves."""

import pytest

pytest_plugins = ["pytester"]

# What pyproject.toml's [tool.pytest.ini_options] gives the harness's own runs: a pytester run in a
# temporary directory needs the same (async tests and fixtures on one session-scoped loop).
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


@pytest.fixture
def harness_ini(pytester: pytest.Pytester) -> pytest.Pytester:
    """`pytester` with the harness's ini written: run scenario files through it."""
    pytester.makeini(INI)
    return pytester


@pytest.fixture
def page_url(harness_server, tfjs_build, tfjs_backend) -> str:
    """The harness page on this test's TF.js build and backend (what `harness_page` opens)."""
    return harness_server.page_url(tfjs_build.version, tfjs_backend)
