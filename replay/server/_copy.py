"""The fake ``POST .../items/{item}/copy`` call: 202 with the Location of a new monitor."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from replay.server._jobs import error_reply

if TYPE_CHECKING:
    from replay.server import MonitorServer

__all__ = ["DEFAULT_SCENARIO", "start_copy"]

#: The scenario a copy call gets when it names none.
DEFAULT_SCENARIO = "happy_path"


async def start_copy(
    request: web.BaseRequest, server: MonitorServer
) -> tuple[str | None, web.Response]:
    """Simulate a new copy job and answer 202 with its monitor URL as ``Location``.

    The scenario comes from ``?scenario=`` or the body field ``"@replay.scenario"`` (default
    ``happy_path``), the dialect likewise from ``?dialect=`` / ``"@replay.dialect"``.
    """
    options = await _copy_options(request)
    if options is None:
        return None, error_reply(400, "invalidRequest", "The request body is not a JSON object")
    scenario = options.get("scenario") or DEFAULT_SCENARIO
    dialect = options.get("dialect")
    try:
        simulator = importlib.import_module("replay.simulate")
    except ImportError:
        return None, error_reply(501, "notImplemented", "This build has no simulator")
    if scenario not in simulator.SCENARIOS:
        known = ", ".join(sorted(simulator.SCENARIOS))
        message = f"Unknown scenario {scenario!r}: expected one of {known}"
        return None, error_reply(400, "invalidRequest", message)
    job = uuid.uuid4()
    try:
        # The simulator is CPU work: off the loop, so other monitors keep answering.
        timeline = await asyncio.to_thread(
            simulator.simulate_job, scenario, dialect=dialect, seed=job.int % 2**32
        )
        timeline = dataclasses.replace(timeline, job_id=str(job).upper())
        url = server.add(timeline, dialect=dialect)
    except ValueError as err:  # an unknown dialect (UsageError is a ValueError)
        return None, error_reply(400, "invalidRequest", str(err))
    return timeline.job_id, web.Response(status=202, headers={"Location": url})


async def _copy_options(request: web.BaseRequest) -> dict[str, str] | None:
    """``scenario`` and ``dialect`` from the query, else the JSON body (None: a bad body)."""
    raw = await request.read()
    body: Any = {}
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(body, dict):
        return None
    options: dict[str, str] = {}
    for name in ("scenario", "dialect"):
        value = request.query.get(name) or body.get(f"@replay.{name}")
        if isinstance(value, str) and value:
            options[name] = value
    return options
