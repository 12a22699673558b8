"""How a TF.js call that must settle ended, as data: the negative and quota schemes judge refusals by it.

    outcome = await settle(trip.save(target, deadline=...))
    {"outcome": "resolved", "value": ...}                                  it resolved (a SaveResult, a model's result)
    {"outcome": "rejected", "error": {"name", "message", "phase"}}          it rejected: the error verbatim
    {"outcome": "hang", "error": {...DeadlineExceeded...}}                   it never settled within its deadline
"""

from __future__ import annotations

import json
from typing import Awaitable

from harness.trip.roundtrip import TfjsError


async def settle(call: Awaitable) -> dict:
    try:
        value = await call
    except TfjsError as e:
        error = {k: e.error.get(k) for k in ("name", "message", "phase")}
        return {"outcome": "hang" if error["name"] == "DeadlineExceeded" else "rejected", "error": error}
    return {"outcome": "resolved", "value": json.loads(json.dumps(value, default=str))}  # a SaveResult's Date as text


def error_text(outcome: dict) -> str:
    """"Name: message" of a rejected or hung call ("" for one that resolved)."""
    error = outcome.get("error") or {}
    return f"{error.get('name')}: {error.get('message')}" if error else ""
