"""The one rule for file and artifact names the server accepts: a plain file name."""

import re

from aiohttp import web

# No path components, no dot-files, no NUL or control characters.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise web.HTTPBadRequest(text=f"bad file name {name!r}: one plain file name expected")
    return name
