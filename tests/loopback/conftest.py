"""Shared loopback fixtures: the fake monitor server on 127.0.0.1 and hand-built timelines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest

from replay.server import MonitorServer
from replay.simulate import Response, Timeline

JSON_HEADERS = (("Content-Type", "application/json"),)

#: One hand-written response: (seconds after start, HTTP status, body as a dict or raw bytes).
Step = tuple[float, int, dict[str, Any] | bytes]


def response(
    at_s: float,
    http_status: int,
    body: dict[str, Any] | bytes = b"",
    headers: Sequence[tuple[str, str]] | None = None,
    **extra: Any,
) -> Response:
    """A Response; a dict body is JSON-encoded and gets a JSON Content-Type by default."""
    if isinstance(body, dict):
        raw = json.dumps(body).encode()
        chosen = JSON_HEADERS if headers is None else tuple(headers)
    else:
        raw, chosen = body, tuple(headers or ())
    return Response(at_s, http_status, raw, chosen, **extra)


def timeline(job_id: str, steps: Sequence[Step | Response], **meta: Any) -> Timeline:
    """A Timeline from ``(at_s, http_status, body)`` steps or ready Responses."""
    responses = [s if isinstance(s, Response) else response(*s) for s in steps]
    return Timeline.from_responses(job_id, responses, **meta)


@pytest.fixture
def make_timeline() -> Callable[..., Timeline]:
    """Factory: ``make_timeline("job", [(at_s, http_status, body), ...], dialect=...)``."""
    return timeline


@pytest.fixture
def serve() -> Iterator[Callable[..., MonitorServer]]:
    """Factory: ``serve(mode="step", speed=..., ...)`` -> a started server, stopped after the test."""
    started: list[MonitorServer] = []

    def start(**options: Any) -> MonitorServer:
        server = MonitorServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain httpx client: no redirects followed, no Authorization, 5 s timeout."""
    with httpx.Client(timeout=5.0, follow_redirects=False) as client:
        yield client
