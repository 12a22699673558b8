"""The pytest plugin of tfjs-io-conformance (registered by its entry point in pyproject.toml).

Its parts are plugin modules of their own, one job each (see harness/pytest/__init__.py): the command
line, the run's matrix, the fixtures and the end of the session (which registers the row recorder).
"""

pytest_plugins = [
    "harness.pytest.options",
    "harness.pytest.matrix",
    "harness.pytest.fixtures",
    "harness.pytest.session",
]
