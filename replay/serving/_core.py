"""The serving core both fake monitors adapt: jobs, request log, routing and the clock."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, get_args

from replay.errors import UsageError
from replay.serving._clock import SYSTEM_CLOCK, Clock
from replay.serving._copies import CopyTable
from replay.serving._jobs import JobTable, Mode
from replay.serving._log import RequestLog, RequestRecord
from replay.serving._messages import Answer, Request
from replay.serving._retry import checked_retry_after, shortened_retry_after
from replay.serving._routing import DEFAULT_DIALECT, route
from replay.serving._urls import job_id_of
from replay.simulate.timeline import Timeline

__all__ = ["ServingCore", "checked_mode", "checked_positive"]


class _Fleet(Protocol):
    def timelines(self) -> Iterable[Timeline]: ...


class ServingCore:
    """What a fake monitor serves and remembers, without sockets.

    In ``time`` mode a job's clock starts at its first request and runs at ``speed`` times the
    serving ``clock``; in ``step`` mode the Nth request gets the Nth response. After the last
    response has been reached it stays for ``retention_s / speed`` seconds, then the monitor
    answers 404. Subclasses (the aiohttp server, the httpx transport) say where ``base_url`` is
    and carry requests to :meth:`answer` and answers to :meth:`log`.
    """

    def __init__(
        self,
        owner: str,
        *,
        mode: str,
        speed: float,
        retention_s: float,
        reject_authorization: bool,
        log_limit: int | None,
        clock: Clock | None,
    ) -> None:
        self.mode: Mode = checked_mode(mode)
        self.speed = checked_positive("speed", speed)
        self.retention_s = checked_positive("retention_s", retention_s, zero_ok=True)
        self.reject_authorization = reject_authorization
        #: What the core asks the time of (a ``ManualClock`` makes time mode deterministic).
        self.clock: Clock = clock or SYSTEM_CLOCK
        self._jobs = JobTable(owner)
        self._copies = CopyTable()
        self._log = RequestLog(log_limit)

    @property
    def base_url(self) -> str:
        """Scheme and authority the monitor URLs are built on."""
        raise NotImplementedError

    @property
    def jobs(self) -> JobTable:
        """The jobs served."""
        return self._jobs

    @property
    def copies(self) -> CopyTable:
        """The copy URLs served (:meth:`add_copy`)."""
        return self._copies

    # -- jobs -------------------------------------------------------------------------------

    def add(
        self,
        timeline: Timeline,
        *,
        dialect: str | None = None,
        origin: datetime | None = None,
        mode: str | None = None,
        speed: float | None = None,
        retry_after: str = "verbatim",
    ) -> str:
        """Serve ``timeline`` and return its monitor URL (in the dialect's URL shape).

        ``origin``: the UTC time the timeline's ``at_s = 0`` stood for (default: the timeline's
        own ``origin``, which simulated timelines carry); known, Retry-After HTTP dates are
        served as far ahead of each request as they were of their response.
        ``mode`` and ``speed``: this job's own, instead of the server's.
        ``retry_after="short"`` serves Retry-After for a quick test: in step mode shortened as
        check-poller serves it (:func:`replay.serving.shortened_retry_after`), in time mode in
        wall time (the job seconds it names / speed, rounded up; dates likewise).
        ``"verbatim"`` (the default) serves it as the timeline has it.
        """
        policy = checked_retry_after(retry_after)
        served_mode = self.mode if mode is None else checked_mode(mode)
        if policy == "short" and served_mode == "step":
            # The shortened dates are counted from the timeline's new origin, not the given one.
            timeline, origin = shortened_retry_after(timeline), None
        return self._jobs.add(
            self.base_url,
            timeline,
            dialect or timeline.dialect or DEFAULT_DIALECT,
            origin=origin,
            mode=None if mode is None else served_mode,
            speed=None if speed is None else checked_positive("speed", speed),
            wall_retry_after=policy == "short" and served_mode == "time",
        )

    def add_copy(self, location: str | None = None, *, status: int = 202) -> str:
        """A copy URL (``POST .../items/{item}/copy``) whose first call answers as the service:
        202 with ``location`` (a monitor URL :meth:`add` returned), 200 with an empty body (the
        copy done at once, msgraph-sdk-dotnet#1566) or 409 ``nameAlreadyExists``
        (onedrive-api-docs#981); every later call 409, the name now taken. Its requests are
        logged with the monitor's job, or for a 200 or 409 with one of their own, and
        ``requests(copy_url)`` lists them.
        """
        if location is None:
            job_id = f"copy-{secrets.token_hex(8)}"
        else:
            job_id = self._jobs.served(job_id_of(location))
        return self._copies.add(self.base_url, job_id, status, location)

    def add_fleet(self, fleet: _Fleet) -> list[str]:
        """Serve every timeline of ``fleet``; return their monitor URLs in the fleet's order."""
        return [self.add(t) for t in fleet.timelines()]

    def remove(self, url_or_job_id: str) -> None:
        """Stop serving one job (its monitor answers 404) and forget its requests."""
        job_id = job_id_of(url_or_job_id)
        self._jobs.remove(job_id)
        self._log.forget(job_id)

    def has_job(self, job_id: str) -> bool:
        """Whether a job with this id is served."""
        return job_id in self._jobs

    def requests(self, url_or_job_id: str) -> list[RequestRecord]:
        """The requests one job received (its copy call, its monitor, its item), oldest first;
        a copy URL from :meth:`add_copy` names its job too."""
        copied = self._copies.job_id_of(url_or_job_id)
        if copied is not None:
            return self._log.for_job(copied)
        return self._log.for_job(self._jobs.served(job_id_of(url_or_job_id)))

    def all_requests(self) -> list[RequestRecord]:
        """Every request received (including those matching no job), oldest first."""
        return self._log.all()

    # -- requests ---------------------------------------------------------------------------

    def arrival(self) -> tuple[int, datetime]:
        """The serial number and time of a request arriving now."""
        return self._log.next_serial(), self.clock.now()

    def answer(self, request: Request) -> Answer:
        """What to answer ``request`` (see :func:`replay.serving.route`)."""
        return route(request, self, self.clock)

    def log(self, request: Request, answer: Answer, arrival: tuple[int, datetime]) -> None:
        """Log ``request`` with what it was answered: names of its query and headers only."""
        serial, at = arrival
        answered = not answer.drop
        self._log.append(
            RequestRecord(
                at,
                request.method,
                request.path,
                self._log.names(name for name, _ in request.query_pairs()),
                self._log.names(request.header_names),
                request.authorization_sent,
                answer.status if answered else None,
                answer.job_id,
                serial,
                _header(answer, "retry-after") if answered else None,
                answer.job_status if answered else None,
                answer.target,
            )
        )


def _header(answer: Answer, name: str) -> str | None:
    return next((v for k, v in answer.headers if k.lower() == name), None)


def checked_mode(mode: str) -> Mode:
    """``mode`` if it is ``time`` or ``step``, else a UsageError naming both."""
    if mode not in get_args(Mode):
        raise UsageError(f"unknown mode {mode!r}: expected 'time' or 'step'")
    return mode  # type: ignore[return-value]


def checked_positive(name: str, value: float, *, zero_ok: bool = False) -> float:
    """``value`` as a float if finite and > 0 (>= 0 with ``zero_ok``), else a UsageError."""
    low_ok = value >= 0 if zero_ok else value > 0
    if not (math.isfinite(value) and low_ok):
        wanted = "a finite number >= 0" if zero_ok else "a finite number > 0"
        raise UsageError(f"{name} must be {wanted}, got {value!r}")
    return float(value)
