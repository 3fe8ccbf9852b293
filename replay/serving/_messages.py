"""What a fake monitor is asked and what it answers, without sockets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["Answer", "Headers", "Request", "error_answer", "json_answer"]

#: Header pairs as served, names in their case.
Headers = tuple[tuple[str, str], ...]

_JSON: Headers = (("Content-Type", "application/json"),)


@dataclass(frozen=True, slots=True)
class Request:
    """What routing looks at: the method, the path, the raw query, header names, the body."""

    method: str
    path: str
    query: str = ""
    header_names: tuple[str, ...] = ()  # lower case, as received
    body: bytes = b""

    @property
    def authorization_sent(self) -> bool:
        """Whether the request carried an ``Authorization`` header."""
        return "authorization" in self.header_names

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query's (name, value) pairs in order, blank values kept."""
        return parse_qsl(self.query, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        return next((v for k, v in self.query_pairs() if k == name), None)


@dataclass(frozen=True, slots=True)
class Answer:
    """What to send: status, headers and body; or, with ``drop``, nothing (close the
    connection) after ``delay_s``. ``job_id``, ``job_status`` and ``target`` (what the request
    was for: ``monitor``, ``item``, ``copy`` or ``other``) are for the request log."""

    status: int
    headers: Headers
    body: bytes
    job_id: str | None = None
    job_status: str | None = None
    delay_s: float = 0.0
    drop: bool = False
    target: str = "monitor"


def json_answer(
    status: int, document: Any, job_id: str | None = None, *extra: tuple[str, str]
) -> Answer:
    """A JSON answer the monitor produces itself (errors, the copy call's answer)."""
    headers = _JSON + tuple(extra)
    return Answer(status, headers, json.dumps(document).encode(), job_id)


def error_answer(status: int, code: str, message: str, job_id: str | None = None) -> Answer:
    """A Graph-style error answer: ``{"error": {"code", "message"}}``."""
    return json_answer(status, {"error": {"code": code, "message": message}}, job_id)
