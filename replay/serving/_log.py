"""The fake monitor server's request log: what each job's monitor received, never a secret."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the server received.

    Only names are kept for the query and the headers, never their values, so a log can be
    printed or stored without leaking the monitor URL's credentials or a bearer token.
    ``response_status`` is None when the server dropped the connection without answering.
    ``retry_after`` is the Retry-After header served (verbatim: seconds or an HTTP date) and
    ``job_status`` the ``status`` of the served JSON body, so a log alone can be judged.
    ``target`` says what the request was for: ``monitor`` (a poll), ``item`` (the copied item a
    303's Location names), ``copy`` (a copy call) or ``other`` (no such route).
    """

    at: datetime
    method: str
    path: str
    query_keys: tuple[str, ...]
    header_names: tuple[str, ...]
    authorization_sent: bool
    response_status: int | None
    job_id: str | None = None
    #: Arrival order across the whole server (from ``RequestLog.next_serial``).
    serial: int = field(default=0, compare=False, repr=False)
    retry_after: str | None = None
    job_status: str | None = None
    target: str = "monitor"


class RequestLog:
    """Thread-safe request log: per job, plus the requests that matched no job.

    Each job keeps its ``limit`` most recent requests (None keeps all), so a long-running server
    does not grow without bound.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._jobs: dict[str | None, deque[RequestRecord]] = {}
        self._serials = itertools.count()
        # Clients send the same header and query names on every poll: share one tuple of each.
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}

    def names(self, names: Iterable[str]) -> tuple[str, ...]:
        """An interned tuple of ``names`` (the same object for the same names)."""
        key = tuple(names)
        return self._names.setdefault(key, key)

    def next_serial(self) -> int:
        """A number for a request arriving now: ``all()`` lists requests in this order."""
        return next(self._serials)

    def append(self, record: RequestRecord) -> None:
        """Add ``record`` to its job's log (or to the unmatched requests when it has no job)."""
        with self._lock:
            entries = self._jobs.get(record.job_id)
            if entries is None:
                entries = self._jobs[record.job_id] = deque(maxlen=self._limit)
            entries.append(record)

    def for_job(self, job_id: str) -> list[RequestRecord]:
        """The requests of ``job_id`` in arrival order (empty when it got none)."""
        with self._lock:
            records = list(self._jobs.get(job_id, ()))
        # Appended when answered: a slow response lands after a later, quicker one.
        return sorted(records, key=lambda r: r.serial)

    def forget(self, job_id: str) -> None:
        """Drop every request of ``job_id`` (its job was removed from the server)."""
        with self._lock:
            self._jobs.pop(job_id, None)

    def all(self) -> list[RequestRecord]:
        """Every request kept, all jobs and unmatched ones, in arrival order."""
        with self._lock:
            records = [r for entries in self._jobs.values() for r in entries]
        return sorted(records, key=lambda r: r.serial)
