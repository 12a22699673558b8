# The harness's pytest plugin (harness/plugin.py) is registered by its entry point in pyproject.toml;
# this file only makes sure it is active when the package is not installed (e.g. `python -m pytest`
# from a fresh checkout with the project on sys.path).
import importlib.metadata

if not any(ep.value == "harness.plugin" for ep in importlib.metadata.entry_points(group="pytest11")):
    pytest_plugins = ["harness.plugin"]
