"""The recorder's timing policy: backoff with jitter, Retry-After capping, deadlines, rate cap."""

from __future__ import annotations

import math
import random

import pytest

from replay.errors import UsageError
from replay.recorder._schedule import (
    JITTER,
    Backoff,
    JobSchedule,
    SchedulePolicy,
    TokenBucket,
    capped_retry_after,
)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_by_jitter_factor_while_nothing_changes() -> None:
    backoff = Backoff(1.0, 1000.0, random.Random(1))
    delays = [backoff.next_delay(changed=False) for _ in range(6)]
    ratios = [b / a for a, b in zip([1.0, *delays], delays, strict=False)]
    assert all(JITTER[0] <= r <= JITTER[1] for r in ratios)
    assert len(set(ratios)) > 1  # jittered, not a fixed factor


def test_backoff_is_capped_at_max_interval() -> None:
    backoff = Backoff(1.0, 10.0, random.Random(2))
    delays = [backoff.next_delay(changed=False) for _ in range(20)]
    assert max(delays) == 10.0
    assert delays[-1] == 10.0


def test_backoff_resets_to_interval_when_progress_moves() -> None:
    backoff = Backoff(2.0, 60.0, random.Random(3))
    for _ in range(5):
        backoff.next_delay(changed=False)
    assert backoff.current > 2.0
    assert backoff.next_delay(changed=True) == 2.0


def test_backoff_jitter_differs_between_jobs() -> None:
    rng = random.Random(4)
    first = [Backoff(1.0, 60.0, rng).next_delay(changed=False) for _ in range(20)]
    assert len(set(first)) == 20


@pytest.mark.parametrize(
    ("retry_after_s", "cap", "expected"),
    [
        pytest.param(30.0, 600.0, 30.0, id="seconds-under-cap"),
        pytest.param(3600.0, 600.0, 600.0, id="capped"),
        pytest.param(-5.0, 600.0, 0.0, id="date-in-the-past"),
        pytest.param(None, 600.0, None, id="missing"),
        pytest.param(math.nan, 600.0, None, id="unparseable"),
    ],
)
def test_capped_retry_after(
    retry_after_s: float | None, cap: float, expected: float | None
) -> None:
    assert capped_retry_after(retry_after_s, cap) == expected


def test_schedule_prefers_retry_after_over_backoff() -> None:
    schedule = JobSchedule(
        SchedulePolicy(interval=1.0, max_retry_after=60.0), 0.0, random.Random(5)
    )
    assert schedule.next_poll_at(10.0, changed=False, retry_after_s=45.0) == 55.0
    assert schedule.next_poll_at(10.0, changed=False, retry_after_s=900.0) == 70.0


@pytest.mark.parametrize(
    ("retry_after_s", "expected"),
    [
        pytest.param(0.0, 10.5, id="zero"),
        pytest.param(-5.0, 10.5, id="negative"),
        pytest.param(-3600.0, 10.5, id="date-in-the-past"),
        pytest.param(0.2, 10.5, id="shorter-than-interval"),
        pytest.param(2.0, 12.0, id="longer-than-interval"),
    ],
)
def test_schedule_never_polls_sooner_than_interval_whatever_retry_after_says(
    retry_after_s: float, expected: float
) -> None:
    schedule = JobSchedule(SchedulePolicy(interval=0.5), 0.0, random.Random(9))
    for _ in range(3):  # a server that says it again and again
        assert schedule.next_poll_at(10.0, changed=False, retry_after_s=retry_after_s) == expected


def test_schedule_retry_after_leaves_backoff_untouched() -> None:
    schedule = JobSchedule(SchedulePolicy(interval=1.0), 0.0, random.Random(6))
    schedule.next_poll_at(0.0, changed=False, retry_after_s=5.0)
    assert schedule.next_poll_at(10.0, changed=True) == 11.0


@pytest.mark.parametrize(
    ("deadline", "now", "retry_after_s", "expected"),
    [
        pytest.param(100.0, 10.0, None, 11.0, id="well-before-deadline"),
        pytest.param(100.0, 99.5, None, None, id="next-poll-past-deadline"),
        pytest.param(100.0, 50.0, 60.0, None, id="retry-after-past-deadline"),
        pytest.param(None, 1e9, None, 1e9 + 1.0, id="no-deadline"),
    ],
)
def test_schedule_never_polls_past_deadline(
    deadline: float | None, now: float, retry_after_s: float | None, expected: float | None
) -> None:
    schedule = JobSchedule(SchedulePolicy(deadline=deadline), 0.0, random.Random(7))
    assert schedule.next_poll_at(now, changed=True, retry_after_s=retry_after_s) == expected


def test_schedule_deadline_counts_from_start() -> None:
    schedule = JobSchedule(SchedulePolicy(deadline=30.0), 1000.0, random.Random(8))
    assert not schedule.expired(1029.9)
    assert schedule.expired(1030.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"interval": 0}, "interval must be a positive", id="zero-interval"),
        pytest.param({"max_interval": -1}, "max_interval must be", id="negative-max"),
        pytest.param({"deadline": math.inf}, "deadline must be finite", id="inf-deadline"),
        pytest.param({"interval": 5, "max_interval": 2}, "shorter than interval", id="max<min"),
    ],
)
def test_schedule_policy_rejects_bad_options(options: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        SchedulePolicy(**options)


def test_token_bucket_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock, burst=3)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock, burst=1)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.25)
    clock.now += 10.0
    assert bucket.reserve() == 0.0


def test_token_bucket_holds_the_rate_over_many_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(50.0, clock, burst=5)
    sent_at = [clock.now + bucket.reserve() for _ in range(505)]
    span = max(sent_at) - min(sent_at)
    assert (505 - 5) / span == pytest.approx(50.0)


def test_token_bucket_infinite_rate_never_waits() -> None:
    bucket = TokenBucket(math.inf, FakeClock())
    assert {bucket.reserve() for _ in range(1000)} == {0.0}


@pytest.mark.parametrize(("rate",), [(0,), (-1.0,), (True,)])
def test_token_bucket_rejects_non_positive_rate(rate: float) -> None:
    with pytest.raises(UsageError, match="max_rps"):
        TokenBucket(rate, FakeClock())
