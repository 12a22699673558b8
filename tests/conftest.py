"""Shared test configuration: the `pytester` fixture, for end-to-end runs of the plugin, and the harness
page's URL for tests that open pages themselves."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def page_url(harness_server, tfjs_build, tfjs_backend) -> str:
    """The harness page on this test's TF.js build and backend (what `harness_page` opens)."""
    return harness_server.page_url(tfjs_build.version, tfjs_backend)
