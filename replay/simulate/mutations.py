"""Mutations of a timeline: one recording becomes a matrix of nasty cases (new timelines)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, TypeVar

from replay.errors import UsageError
from replay.simulate._response import Response, error_response, response_fields
from replay.status import STOP_STATUSES

if TYPE_CHECKING:
    from replay.simulate.timeline import Timeline

__all__ = [
    "drop_terminal",
    "expire_monitor",
    "inject_unknown_status",
    "insert_429_burst",
    "stall_at",
]

T = TypeVar("T", bound="Timeline")


def stall_at(timeline: T, pct: float, *, polls: int = 5, for_s: float | None = None) -> T:
    """The job stops moving at the first progress response at or past ``pct`` percent.

    That response is repeated ``polls`` more times over ``for_s`` seconds (default: ``polls``
    typical poll gaps); everything after it happens ``for_s`` seconds later.
    """
    _check_count("polls", polls)
    fields = [response_fields(r) for r in timeline.responses]
    index = next(
        (
            i
            for i, f in enumerate(fields)
            if f["status"] not in STOP_STATUSES
            and f["percentage_complete"] is not None
            and f["percentage_complete"] >= pct
        ),
        None,
    )
    if index is None:
        seen = sorted({f["percentage_complete"] for f in fields} - {None})
        raise UsageError(
            f"timeline {timeline.job_id!r} never reaches {pct}% before its end (percentages "
            f"seen: {seen or 'none'}): pick a lower pct"
        )
    gap = _typical_gap(timeline)
    span = polls * gap if for_s is None else float(for_s)
    stalled = timeline.responses[index]
    copies = [
        dataclasses.replace(stalled, at_s=stalled.at_s + span * (k + 1) / (polls + 1))
        for k in range(polls)
    ]
    return _spliced(timeline, index + 1, copies, span, f"stall_at({pct:g})")


def insert_429_burst(
    timeline: T,
    *,
    at: int | None = None,
    count: int = 3,
    retry_after: str | None = "1",
) -> T:
    """``count`` 429 responses (``Retry-After: retry_after``; None for none) before response
    ``at`` (default: the middle one); what follows happens that much later."""
    _check_count("count", count)
    index = _index(timeline, at, low=0)
    gap = _retry_seconds(retry_after)
    start = timeline.responses[index].at_s
    burst = [error_response(start + gap * k, 429, retry_after) for k in range(count)]
    return _spliced(timeline, index, burst, gap * count, f"insert_429_burst({count})")


def drop_terminal(timeline: T) -> T:
    """The timeline without its terminal responses: the job never ends (the last one stays)."""
    end = _first_terminal(timeline.responses)
    if end is None:
        raise UsageError(
            f"timeline {timeline.job_id!r} has no terminal response (completed, failed, "
            "deleteFailed, cancelled or 303) to drop"
        )
    if end == 0:
        raise UsageError(
            f"timeline {timeline.job_id!r} starts terminal: nothing would be left to serve"
        )
    return _rebuilt(timeline, timeline.responses[:end], "drop_terminal")


def inject_unknown_status(
    timeline: T, status: str = "unknownFutureValue", *, at: int | None = None
) -> T:
    """Response ``at`` (default: the middle one before the end) says ``status`` instead."""
    index = _index(timeline, at, low=0)
    target = timeline.responses[index]
    try:
        document = json.loads(target.body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or "status" not in document:
        raise UsageError(
            f"response {index} of {timeline.job_id!r} has no JSON status to replace: "
            "pick another one with at="
        )
    document["status"] = status
    changed = dataclasses.replace(target, body=json.dumps(document).encode())
    responses = (*timeline.responses[:index], changed, *timeline.responses[index + 1 :])
    return _rebuilt(timeline, responses, f"inject_unknown_status({status})")


def expire_monitor(timeline: T, *, at: int | None = None) -> T:
    """From response ``at`` on (default: the middle one) the monitor answers 404 itemNotFound."""
    index = _index(timeline, at, low=1)
    expired = error_response(timeline.responses[index].at_s, 404)
    return _rebuilt(timeline, (*timeline.responses[:index], expired), "expire_monitor")


# -- helpers -------------------------------------------------------------------------------


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive whole number, got {value!r}")


def _index(timeline: Timeline, at: int | None, *, low: int) -> int:
    """``at`` checked against the timeline, or the middle response before the terminal one."""
    last = _first_terminal(timeline.responses)
    end = len(timeline.responses) if last is None else last
    if at is None:
        return min(max(end // 2, low), len(timeline.responses) - 1)
    if not low <= at < len(timeline.responses):
        raise UsageError(
            f"at={at} is outside timeline {timeline.job_id!r}: expected {low} to "
            f"{len(timeline.responses) - 1}"
        )
    return at


def _first_terminal(responses: Sequence[Response]) -> int | None:
    return next(
        (
            i
            for i, r in enumerate(responses)
            if r.http_status == 303 or response_fields(r)["status"] in STOP_STATUSES
        ),
        None,
    )


def _typical_gap(timeline: Timeline) -> float:
    """The median gap between responses (1 s for a one-response timeline)."""
    times = [r.at_s for r in timeline.responses]
    gaps = sorted(b - a for a, b in pairwise(times) if b > a)
    return gaps[len(gaps) // 2] if gaps else 1.0


def _retry_seconds(retry_after: str | None) -> float:
    if retry_after is None:
        return 1.0
    try:
        seconds = float(retry_after)
    except ValueError:
        return 1.0  # an HTTP date (or garbage): the burst still takes a second per response
    return seconds if math.isfinite(seconds) and seconds > 0 else 1.0


def _spliced(
    timeline: T,
    index: int,
    inserted: Sequence[Response],
    shift_s: float,
    name: str,
) -> T:
    """``inserted`` before response ``index``; that one and the rest ``shift_s`` later."""
    later = [dataclasses.replace(r, at_s=r.at_s + shift_s) for r in timeline.responses[index:]]
    return _rebuilt(timeline, (*timeline.responses[:index], *inserted, *later), name)


def _rebuilt(timeline: T, responses: Sequence[Response], name: str) -> T:
    """A new timeline with ``responses``; the mutation is appended to its labels."""
    done = timeline.labels.get("mutations")
    labels = {**timeline.labels, "mutations": f"{done}+{name}" if done else name}
    return dataclasses.replace(timeline, responses=tuple(responses), labels=labels)
