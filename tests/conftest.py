"""Shared test configuration: the `pytester` fixture, for end-to-end runs of the plugin."""

pytest_plugins = ["pytester"]
