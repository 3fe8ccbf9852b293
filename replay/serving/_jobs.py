"""One served job: its timeline precomputed as replies, its clock, and its retention window."""

from __future__ import annotations

import bisect
import json
import secrets
import threading
from datetime import datetime
from typing import Literal

from replay.errors import ServerError, UsageError
from replay.serving._items import served_timeline
from replay.serving._messages import Headers
from replay.serving._retry import retry_date, retry_date_ahead_s, retry_seconds, wall_seconds
from replay.serving._urls import fake_credentials, monitor_path_and_query
from replay.simulate.timeline import Response, Timeline

__all__ = ["JobTable", "Mode", "Reply", "ServedJob"]

Mode = Literal["time", "step"]


class Reply:
    """A timeline response ready to serve: headers and body built once, not per request.

    With the timeline's ``origin`` (the wall time its ``at_s = 0`` stood for), a Retry-After
    HTTP date is re-based onto the serving clock: it stays as far ahead of the request as it
    was of the simulated response, instead of lying in the past.
    """

    __slots__ = (
        "_job_status",
        "body",
        "delay_s",
        "drop",
        "headers",
        "retry_date_ahead_s",
        "retry_s",
        "status",
    )

    def __init__(self, response: Response, origin: datetime | None = None) -> None:
        self.status = response.http_status
        self.headers: Headers = response.headers
        self.body = response.body
        self.delay_s = response.delay_s
        self.drop = response.drop
        self.retry_date_ahead_s = retry_date_ahead_s(response, origin)
        self.retry_s = retry_seconds(response.header("Retry-After"))
        self._job_status: tuple[str | None] | None = None  # None: not parsed yet

    def headers_at(self, now: datetime, speed: float = 1.0) -> Headers:
        """The headers to send at ``now``: a Retry-After HTTP date re-based onto that clock; at
        a ``speed`` other than 1, Retry-After in wall time (its job seconds / ``speed``, rounded
        up to a whole second)."""
        value = self._retry_after_at(now, speed)
        if value is None:
            return self.headers
        return tuple(
            (name, value if name.lower() == "retry-after" else v) for name, v in self.headers
        )

    def _retry_after_at(self, now: datetime, speed: float) -> str | None:
        """The Retry-After value to send instead of the timeline's (None: send it as it is)."""
        if self.retry_date_ahead_s is not None:
            return retry_date(now, self.retry_date_ahead_s, speed)
        if self.retry_s is not None and speed != 1.0:
            return str(wall_seconds(self.retry_s, speed))
        return None

    @property
    def job_status(self) -> str | None:
        """The ``status`` of the JSON body (None: no JSON object or no string status); parsed once."""
        if self._job_status is None:
            self._job_status = (_body_status(self.body),)
        return self._job_status[0]


def _body_status(body: bytes) -> str | None:
    """The top-level ``status`` string of a JSON object body, else None."""
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    status = document.get("status") if isinstance(document, dict) else None
    return status if isinstance(status, str) else None


class ServedJob:
    """The serving state of one job. Only the server's event loop touches it after ``add``."""

    __slots__ = (
        "dialect",
        "last_since",
        "mode",
        "replies",
        "speed",
        "started",
        "steps",
        "tempauth",
        "timeline",
        "times",
        "wall_retry_after",
    )

    def __init__(
        self,
        timeline: Timeline,
        dialect: str,
        tempauth: str,
        origin: datetime | None = None,
        *,
        mode: Mode | None = None,
        speed: float | None = None,
        wall_retry_after: bool = False,
    ) -> None:
        #: This job's own mode and speed (None: the server's).
        self.mode = mode
        self.speed = speed
        #: Whether, in time mode, Retry-After is served in wall time (job seconds / speed).
        self.wall_retry_after = wall_retry_after
        self.timeline = timeline
        self.dialect = dialect
        self.tempauth = tempauth
        # Without an origin of its own, a simulated timeline's (a transport or server alike).
        origin = timeline.origin if origin is None else origin
        self.replies = tuple(Reply(r, origin) for r in timeline.responses)
        self.times = [r.at_s for r in timeline.responses]
        self.started: float | None = None
        self.steps = 0
        self.last_since: float | None = None

    def reply(self, mode: Mode, speed: float, retention_s: float, now: float) -> Reply | None:
        """The reply to a request arriving at monotonic time ``now`` (None once the retention
        window has passed)."""
        if self.started is None:
            self.started = now
        index = self._time_index(now, speed) if mode == "time" else self._step_index()
        if index == len(self.replies) - 1:
            if self.last_since is None:
                self.last_since = self._last_reached(now, speed, mode)
            if (now - self.last_since) * speed >= retention_s:
                return None
        return self.replies[index]

    def _time_index(self, now: float, speed: float) -> int:
        started = now if self.started is None else self.started
        elapsed = (now - started) * speed
        return max(bisect.bisect_right(self.times, elapsed) - 1, 0)

    def _step_index(self) -> int:
        index = min(self.steps, len(self.replies) - 1)
        self.steps += 1
        return index

    def _last_reached(self, now: float, speed: float, mode: str) -> float:
        """When the last response became current: its start in job time, or now in step mode."""
        if mode == "step" or self.started is None:
            return now
        return self.started + self.times[-1] / speed


class JobTable:
    """The jobs served by id, added and removed from any thread (a server's, or a transport's)."""

    def __init__(self, owner: str) -> None:
        #: What serves them, as error messages name it ("server", "transport").
        self.owner = owner
        #: Salts the fake credentials, so URLs of one table never work on another.
        self.nonce = secrets.token_hex(16)
        self._jobs: dict[str, ServedJob] = {}
        self._lock = threading.Lock()

    def add(
        self,
        base_url: str,
        timeline: Timeline,
        dialect: str,
        *,
        origin: datetime | None = None,
        mode: Mode | None = None,
        speed: float | None = None,
        wall_retry_after: bool = False,
    ) -> str:
        """Serve ``timeline`` in ``dialect``; return its monitor URL under ``base_url``.

        Its Locations (a 303's) name its copied item on ``base_url``, which the server answers.
        """
        credentials = fake_credentials(timeline.job_id, self.nonce)
        url = base_url + monitor_path_and_query(dialect, timeline.job_id, credentials)
        served = served_timeline(timeline, base_url, credentials.tempauth)
        job = ServedJob(
            served,
            dialect,
            credentials.tempauth,
            origin,
            mode=mode,
            speed=speed,
            wall_retry_after=wall_retry_after,
        )
        with self._lock:
            if timeline.job_id in self._jobs:
                raise ServerError(
                    f"job {timeline.job_id!r} is already served: give each timeline its own job_id",
                    job_id=timeline.job_id,
                )
            self._jobs[timeline.job_id] = job
        return url

    def remove(self, job_id: str) -> None:
        """Stop serving ``job_id`` (no error when it is not served)."""
        with self._lock:
            self._jobs.pop(job_id, None)

    def get(self, job_id: str) -> ServedJob | None:
        """The served job ``job_id``, or None."""
        return self._jobs.get(job_id)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def served(self, job_id: str) -> str:
        """``job_id``, checked to be served (a UsageError saying what to pass otherwise)."""
        if job_id not in self._jobs:
            raise UsageError(
                f"no job {job_id!r} on this {self.owner} ({len(self._jobs)} jobs): pass a monitor "
                "URL returned by add() or its job id",
                job_id=job_id,
            )
        return job_id
