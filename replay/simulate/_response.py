"""One monitor response a fake server serves, and what an observation makes of it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from replay.payload import normalize

__all__ = ["ERROR_CODES", "JSON_HEADERS", "Response", "error_response", "response_fields"]

#: The Graph error code a bare HTTP status answers with.
ERROR_CODES: Mapping[int, str] = {
    400: "invalidRequest",
    401: "unauthenticated",
    403: "accessDenied",
    404: "itemNotFound",
    410: "resourceGone",
    429: "tooManyRequests",
    500: "generalException",
    502: "badGateway",
    503: "serviceNotAvailable",
}
JSON_HEADERS: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


@dataclass(frozen=True)
class Response:
    """One monitor response, served from ``at_s`` seconds after the job started.

    ``delay_s`` makes the server wait before answering (a slow response); ``drop`` makes it close
    the connection without answering. Header names keep their case; values are already final
    (fake credentials included: redaction is the recorder's job).
    """

    at_s: float
    http_status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    drop: bool = False

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


def response_fields(response: Response) -> dict[str, Any]:
    """The observation fields of one response (``status``, ``percentage_complete``, ...)."""
    headers = dict(response.headers)
    return normalize(response.body or None, http_status=response.http_status, headers=headers)


def error_response(at_s: float, http_status: int, retry_after: str | None = None) -> Response:
    """A Graph error response for ``http_status`` (with Retry-After when given)."""
    code = ERROR_CODES.get(http_status, "generalException")
    body = json.dumps({"error": {"code": code, "message": f"HTTP {http_status}"}}).encode()
    headers = JSON_HEADERS + ((("Retry-After", retry_after),) if retry_after is not None else ())
    return Response(at_s, http_status, body, headers)
