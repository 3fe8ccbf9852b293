"""The fake ``POST .../items/{item}/copy`` call: 202 with the Location of a new monitor."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from typing import Any

from replay.serving._messages import Answer, Request, error_answer
from replay.simulate.timeline import Timeline

__all__ = ["DEFAULT_SCENARIO", "copy_answer"]

#: The scenario a copy call gets when it names none.
DEFAULT_SCENARIO = "happy_path"


def copy_answer(request: Request, add: Callable[[Timeline], str]) -> Answer:
    """Simulate a new copy job, serve it with ``add``, answer 202 with its monitor URL.

    The scenario comes from ``?scenario=`` or the body field ``"@replay.scenario"`` (default
    ``happy_path``), the dialect likewise from ``?dialect=`` / ``"@replay.dialect"``.
    """
    options = _copy_options(request)
    if options is None:
        return _for_copy(
            error_answer(400, "invalidRequest", "The request body is not a JSON object")
        )
    job = uuid.uuid4()
    try:
        timeline = Timeline.from_scenario(
            options.get("scenario") or DEFAULT_SCENARIO,
            options.get("dialect") or "graph",
            seed=job.int % 2**32,
        )
        timeline = dataclasses.replace(timeline, job_id=str(job).upper())
        url = add(timeline)
    except ValueError as err:  # an unknown scenario or dialect (UsageError is a ValueError)
        return _for_copy(error_answer(400, "invalidRequest", str(err)))
    return Answer(202, (("Location", url),), b"", timeline.job_id, target="copy")


def _for_copy(answer: Answer) -> Answer:
    return dataclasses.replace(answer, target="copy")


def _copy_options(request: Request) -> dict[str, str] | None:
    """``scenario`` and ``dialect`` from the query, else the JSON body (None: a bad body)."""
    body: Any = {}
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
    if not isinstance(body, dict):
        return None
    options: dict[str, str] = {}
    for name in ("scenario", "dialect"):
        value = request.query_value(name) or body.get(f"@replay.{name}")
        if isinstance(value, str) and value:
            options[name] = value
    return options
