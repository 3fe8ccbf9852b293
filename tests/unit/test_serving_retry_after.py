"""Retry-After as served: verbatim, shortened in step mode, in wall time (job seconds / speed)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from replay.errors import UsageError
from replay.serving import RETRY_AFTER_S, SHORT_ORIGIN, shortened_retry_after
from replay.testing import ManualClock, MonitorTransport, Timeline

#: The serving clock's time at the first (and only) request.
NOW = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
#: The simulated job's start: a date header 90 s after it is 90 s ahead of its response.
ORIGIN = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
DATE_90_S = format_datetime(ORIGIN + timedelta(seconds=90), usegmt=True)


def served(header: str, mode: str, speed: float, retry_after: str) -> str | None:
    """The Retry-After a 429 answering at job time 0 (header ``header``) is served with."""
    throttled = Timeline.from_steps([{"http": 429, "retry_after": header}, ("completed", 100)])
    transport = MonitorTransport(mode=mode, speed=speed, clock=ManualClock(NOW))
    url = transport.add(dataclasses.replace(throttled, origin=ORIGIN), retry_after=retry_after)
    with httpx.Client(transport=transport) as client:
        answer = client.get(url)
    assert transport.requests(url)[0].retry_after == answer.headers.get("Retry-After")
    return answer.headers.get("Retry-After")


def ahead(seconds: float) -> str:
    """The HTTP date ``seconds`` after the request."""
    return format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("header", "mode", "speed", "retry_after", "expected"),
    [
        pytest.param("86", "step", 1.0, "verbatim", "86", id="step-verbatim"),
        pytest.param("86", "step", 1.0, "short", "1", id="step-short"),
        pytest.param("0", "step", 1.0, "short", "0", id="step-short-never-longer"),
        pytest.param("soon", "step", 1.0, "short", "soon", id="step-short-malformed-kept"),
        pytest.param(DATE_90_S, "step", 1.0, "verbatim", ahead(90), id="step-date-verbatim"),
        pytest.param(DATE_90_S, "step", 1.0, "short", ahead(2), id="step-date-short"),
        pytest.param("86", "time", 60.0, "verbatim", "86", id="time-verbatim-unscaled"),
        pytest.param("86", "time", 60.0, "short", "2", id="time-60x-rounded-up"),
        pytest.param("120", "time", 60.0, "short", "2", id="time-60x-exact"),
        pytest.param("3", "time", 2.0, "short", "2", id="time-2x"),
        pytest.param("86", "time", 1.0, "short", "86", id="time-1x-real-time"),
        pytest.param(DATE_90_S, "time", 60.0, "short", ahead(2), id="time-date-1.5-s-rounded-up"),
        pytest.param(DATE_90_S, "time", 30.0, "short", ahead(3), id="time-date-30x"),
        pytest.param(DATE_90_S, "time", 60.0, "verbatim", ahead(90), id="time-date-verbatim"),
    ],
)
def test_retry_after_is_served_as_the_policy_says_for_the_mode(
    header: str, mode: str, speed: float, retry_after: str, expected: str
) -> None:
    assert served(header, mode, speed, retry_after) == expected


def test_a_job_of_its_own_mode_gets_the_policy_of_its_mode() -> None:
    """The server's default mode is time; a job added in step mode is shortened."""
    transport = MonitorTransport(mode="time", speed=60.0)
    throttled = Timeline.from_steps([{"http": 429, "retry_after": "86"}])
    url = transport.add(throttled, mode="step", retry_after="short")
    with httpx.Client(transport=transport) as client:
        assert client.get(url).headers["Retry-After"] == str(RETRY_AFTER_S)


def test_shortening_keeps_everything_but_retry_after() -> None:
    original = Timeline.from_scenario("throttled", "graph", seed=0)
    short = shortened_retry_after(original)
    pairs = [
        (r.header("Retry-After"), s.header("Retry-After"), s.at_s)
        for r, s in zip(original.responses, short.responses, strict=True)
        if r.header("Retry-After")
    ]
    assert [(was, now) for was, now, _ in pairs[:2]] == [("86", "1"), ("70", "1")]
    date, at_s = pairs[2][1], pairs[2][2]
    assert date is not None
    # The whole second RETRY_AFTER_DATE_AHEAD_S after its response's, counted from the origin.
    assert 2 <= (parsedate_to_datetime(date) - short.origin).total_seconds() - at_s < 3
    assert short.origin == SHORT_ORIGIN
    strip = [dataclasses.replace(r, headers=()) for r in original.responses]
    assert [dataclasses.replace(r, headers=()) for r in short.responses] == strip
    assert (short.job_id, short.scenario, short.dialect) == (
        original.job_id,
        original.scenario,
        original.dialect,
    )


def test_an_unknown_policy_names_both() -> None:
    transport = MonitorTransport()
    with pytest.raises(UsageError, match="'short' or 'verbatim'"):
        transport.add(Timeline.from_steps([("completed", 100)]), retry_after="long")
