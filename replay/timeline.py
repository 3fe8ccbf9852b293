"""A job's timeline: the HTTP responses its monitor URL gives over time."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Response", "Timeline"]


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


@dataclass(frozen=True)
class Timeline:
    """The responses of one job in time order, with what generated them.

    ``origin`` is the UTC time ``at_s = 0`` stood for, when known (a simulated job's start): a
    server re-bases Retry-After HTTP dates by it so that they lie ahead of each request.
    """

    job_id: str
    responses: tuple[Response, ...]
    scenario: str | None = None
    dialect: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    origin: datetime | None = None

    def __post_init__(self) -> None:
        if not self.responses:
            raise ValueError(f"timeline of job {self.job_id!r} has no responses")
        times = [r.at_s for r in self.responses]
        if times != sorted(times):
            raise ValueError(f"timeline of job {self.job_id!r} is not in time order")

    @classmethod
    def from_responses(cls, job_id: str, responses: Iterable[Response], **meta: object) -> Timeline:
        """Build a timeline from responses (sorted by ``at_s``, stable)."""
        ordered = tuple(sorted(responses, key=lambda r: r.at_s))
        return cls(job_id, ordered, **meta)  # type: ignore[arg-type]

    @property
    def duration_s(self) -> float:
        """Seconds from the first response to the start of the last one."""
        return self.responses[-1].at_s - self.responses[0].at_s

    def at(self, elapsed_s: float) -> Response:
        """The response served ``elapsed_s`` seconds after the start (the last one stays)."""
        times = [r.at_s for r in self.responses]
        index = bisect.bisect_right(times, elapsed_s) - 1
        return self.responses[max(index, 0)]

    def step(self, index: int) -> Response:
        """The response to the ``index``-th request (0-based); past the end the last one stays."""
        return self.responses[min(max(index, 0), len(self.responses) - 1)]

    def __len__(self) -> int:
        return len(self.responses)
