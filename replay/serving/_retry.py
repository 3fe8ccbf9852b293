"""Retry-After as a quick test serves it: shortened in step mode, in wall time in time mode."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal, get_args

from replay.errors import UsageError
from replay.simulate.timeline import Response, Timeline

__all__ = [
    "RETRY_AFTER_DATE_AHEAD_S",
    "RETRY_AFTER_S",
    "SHORT_ORIGIN",
    "RetryAfter",
    "checked_retry_after",
    "retry_date",
    "retry_date_ahead_s",
    "retry_seconds",
    "shortened_retry_after",
    "wall_seconds",
]

#: How Retry-After is served: ``short`` for a quick test, ``verbatim`` as the timeline has it.
RetryAfter = Literal["short", "verbatim"]
#: Retry-After in seconds is served as at most this many seconds (the catalogue's 1-120 s would
#: make a careful poller sleep minutes): long enough to tell a poller that waits from one that
#: does not.
RETRY_AFTER_S = 1
#: Retry-After as an HTTP date names a whole second at least this far ahead of the request; with
#: the date's one-second resolution a poller then waits between 1 and 3 seconds.
RETRY_AFTER_DATE_AHEAD_S = 2.0
#: The time a shortened timeline's ``at_s = 0`` stands for: its dates are counted from it.
SHORT_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
#: Float slack when dividing whole seconds by a speed (120 / 60 stays 2, not 3).
_EPSILON = 1e-9


def checked_retry_after(value: str) -> RetryAfter:
    """``value`` if it is ``short`` or ``verbatim``, else a UsageError naming both."""
    if value not in get_args(RetryAfter):
        raise UsageError(f"unknown retry_after {value!r}: expected 'short' or 'verbatim'")
    return value  # type: ignore[return-value]


def retry_seconds(value: str | None) -> int | None:
    """The delay-seconds of a Retry-After value (None: absent, or an HTTP date or garbage)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def shortened_retry_after(timeline: Timeline) -> Timeline:
    """``timeline`` with every Retry-After shortened, as check-poller serves it.

    Seconds become at most ``RETRY_AFTER_S``; an HTTP date names the whole second
    ``RETRY_AFTER_DATE_AHEAD_S`` after its response's second, counted from ``SHORT_ORIGIN`` (the
    returned timeline's ``origin``, so a server re-bases it 2 to 3 s ahead of each request). A
    value that is neither is kept, as a malformed header should be.
    """
    responses = tuple(_shortened(r) for r in timeline.responses)
    return dataclasses.replace(timeline, responses=responses, origin=SHORT_ORIGIN)


def _shortened(response: Response) -> Response:
    value = response.header("Retry-After")
    short = None if value is None else _short_value(value, response.at_s)
    if short is None:
        return response
    headers = tuple((k, short if k.lower() == "retry-after" else v) for k, v in response.headers)
    return dataclasses.replace(response, headers=headers)


def _short_value(value: str, at_s: float) -> str | None:
    """The shortened Retry-After ``value`` of a response at ``at_s`` (None: keep it)."""
    seconds = retry_seconds(value)
    if seconds is not None:
        return str(min(seconds, RETRY_AFTER_S))
    if _date(value) is None:
        return None
    second = math.ceil(at_s) + RETRY_AFTER_DATE_AHEAD_S
    return format_datetime(SHORT_ORIGIN + timedelta(seconds=second), usegmt=True)


def _date(value: str) -> datetime | None:
    """The UTC time an HTTP date names (None: not a date)."""
    try:
        due = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return due.replace(tzinfo=UTC) if due.tzinfo is None else due


def retry_date_ahead_s(response: Response, origin: datetime | None) -> float | None:
    """Job seconds a Retry-After HTTP date lies after its response (None: not a date, no origin)."""
    value = response.header("Retry-After")
    if origin is None or value is None or retry_seconds(value) is not None:
        return None
    due = _date(value)
    return None if due is None else (due - origin).total_seconds() - response.at_s


def wall_seconds(seconds: int, speed: float) -> int:
    """Retry-After ``seconds`` of job time in wall seconds at ``speed``, rounded up (HTTP takes
    whole seconds; a poller that waits them out has waited the whole job time)."""
    return math.ceil(seconds / speed - _EPSILON)


def retry_date(now: datetime, ahead_s: float, speed: float = 1.0) -> str:
    """The Retry-After HTTP date ``ahead_s`` job seconds after ``now``.

    At ``speed`` 1 the second it falls in (as HTTP dates truncate); at another speed
    ``ahead_s / speed`` wall seconds ahead, rounded up to a whole second.
    """
    if speed == 1.0:
        return format_datetime(now + timedelta(seconds=ahead_s), usegmt=True)
    due = math.ceil((now + timedelta(seconds=ahead_s / speed)).timestamp() - _EPSILON)
    return format_datetime(datetime.fromtimestamp(due, UTC), usegmt=True)
