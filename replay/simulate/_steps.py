"""Hand-written steps (``"inProgress"``, ``("completed", 100)``, ``429``, dicts) as responses."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from replay.errors import UsageError
from replay.payload import render_body
from replay.simulate._response import JSON_HEADERS, Response, error_response
from replay.simulate.scenarios import DIALECT_SHAPES
from replay.status import COMPLETION_HTTP, STOP_STATUSES

__all__ = ["STEP_KEYS", "Step", "step_response"]

STEP_KEYS = frozenset(
    {"status", "pct", "http", "at_s", "retry_after", "body", "error_code", "error_message"}
    | {"delay_s", "drop", "resource_id", "headers", "location"}
)

#: One hand-written step: a status, ``(status, pct)``, ``(status, pct, http)``, a bare HTTP
#: error code (``404``, ``429``), a mapping of :data:`STEP_KEYS`, or a ready Response.
Step = str | int | tuple[Any, ...] | Mapping[str, Any] | Response


def step_response(step: Step, index: int, at_s: float, dialect: str, job_id: str) -> Response:
    """The response of hand-written step number ``index``, served from ``at_s`` unless it says."""
    if isinstance(step, Response):
        return step
    if isinstance(step, bool):
        raise UsageError(f"step {index} is {step!r}: give a status, (status, pct) or an HTTP code")
    if isinstance(step, int):
        return error_response(at_s, step, "1" if step in (429, 503) else None)
    if isinstance(step, str):
        step = {"status": step}
    elif isinstance(step, tuple):
        if not 1 <= len(step) <= 3:
            raise UsageError(
                f"step {index} {step!r}: expected (status, pct) or (status, pct, http)"
            )
        step = dict(zip(("status", "pct", "http"), step, strict=False))
    if not isinstance(step, Mapping):
        raise UsageError(f"step {index} is a {type(step).__name__}: expected str, tuple or dict")
    unknown = set(step) - STEP_KEYS
    if unknown:
        raise UsageError(
            f"step {index} has unknown key(s) {', '.join(sorted(unknown))}: "
            f"expected some of {', '.join(sorted(STEP_KEYS))}"
        )
    return _mapping_response(step, at_s, dialect, job_id, first=index == 0)


def _mapping_response(
    step: Mapping[str, Any], at_s: float, dialect: str, job_id: str, *, first: bool
) -> Response:
    status = step.get("status")
    http = int(step.get("http") or _default_http(status, dialect, first))
    at_s = float(step.get("at_s", at_s))
    body = step.get("body")
    if isinstance(body, Mapping):
        body = json.dumps(body).encode()
    elif body is None and (status is not None or step.get("error_code")):
        body = render_body(
            dialect,
            status=status,
            percentage_complete=step.get("pct"),
            resource_id=step.get("resource_id"),
            error_code=step.get("error_code"),
            error_message=step.get("error_message"),
            job_id=job_id,
        )
    elif body is None and http not in COMPLETION_HTTP:
        response = error_response(at_s, http, step.get("retry_after"))
        return dataclasses.replace(response, headers=_headers(response.headers, step))
    content = b"" if body is None else body if isinstance(body, bytes) else str(body).encode()
    retry = step.get("retry_after")
    headers = (JSON_HEADERS if content.strip() else ()) + (
        (("Retry-After", str(retry)),) if retry is not None else ()
    )
    return Response(
        at_s,
        http,
        content,
        _headers(headers, step),
        float(step.get("delay_s", 0.0)),
        bool(step.get("drop", False)),
    )


def _headers(
    defaults: tuple[tuple[str, str], ...], step: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    """``defaults`` with the step's own ``headers`` (and ``location``) in place of the same names."""
    given = step.get("headers") or {}
    pairs = list(given.items() if isinstance(given, Mapping) else given)
    if step.get("location") is not None:
        pairs.append(("Location", str(step["location"])))
    names = {str(name).lower() for name, _ in pairs}
    kept = [(k, v) for k, v in defaults if k.lower() not in names]
    return tuple(kept + [(str(k), str(v)) for k, v in pairs])


def _default_http(status: str | None, dialect: str, first: bool) -> int:
    """The dialect's code: 200 at a terminal status, its first-poll code, else its progress code."""
    shape = DIALECT_SHAPES[dialect]
    if status in STOP_STATUSES:
        return 200
    return shape.first_http if first and shape.first_http is not None else shape.progress_http
