"""When to poll next: adaptive backoff with jitter, capped Retry-After, deadlines, a rate cap."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from replay.errors import UsageError

__all__ = [
    "JITTER",
    "Backoff",
    "JobSchedule",
    "SchedulePolicy",
    "TokenBucket",
    "capped_retry_after",
]

#: While nothing changes, each interval is the previous one times a factor drawn in this range.
JITTER: tuple[float, float] = (1.5, 2.0)


@dataclass(frozen=True)
class SchedulePolicy:
    """The per-job timing options of the recorder, checked once.

    ``deadline`` is None for no deadline; it counts from when the recorder starts following the job.
    """

    interval: float = 1.0
    max_interval: float = 60.0
    deadline: float | None = 86400.0
    max_retry_after: float = 600.0

    def __post_init__(self) -> None:
        _check_positive("interval", self.interval)
        _check_positive("max_interval", self.max_interval)
        _check_positive("max_retry_after", self.max_retry_after)
        if self.deadline is not None:
            _check_positive("deadline", self.deadline)
        if self.max_interval < self.interval:
            raise UsageError(
                f"max_interval ({self.max_interval:g} s) is shorter than interval "
                f"({self.interval:g} s): raise --max-interval or lower --interval"
            )


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise UsageError(f"{name} must be a positive number of seconds, got {value!r}")
    if not math.isfinite(value):
        raise UsageError(f"{name} must be finite, got {value!r}")


def capped_retry_after(retry_after_s: float | None, cap: float) -> float | None:
    """Seconds to wait for a ``Retry-After`` value: clipped to ``[0, cap]``; None when unusable."""
    if retry_after_s is None or math.isnan(retry_after_s):
        return None
    return min(max(retry_after_s, 0.0), cap)


class Backoff:
    """The adaptive interval of one job: starts at ``interval``, grows x1.5-x2 while nothing
    changes (capped at ``max_interval``), and falls back to ``interval`` when progress moves."""

    __slots__ = ("_current", "_interval", "_max", "_rng")

    def __init__(self, interval: float, max_interval: float, rng: random.Random) -> None:
        self._interval = interval
        self._max = max_interval
        self._rng = rng
        self._current = interval

    @property
    def current(self) -> float:
        """The last interval returned (``interval`` before any)."""
        return self._current

    def next_delay(self, *, changed: bool) -> float:
        """Seconds until the next poll after a response that did (or did not) show a change."""
        if changed:
            self._current = self._interval
        else:
            self._current = min(self._current * self._rng.uniform(*JITTER), self._max)
        return self._current


class JobSchedule:
    """When one job is polled next, on the monotonic clock: Retry-After, else backoff, never past
    the job's deadline."""

    __slots__ = ("_backoff", "_policy", "deadline_at")

    def __init__(self, policy: SchedulePolicy, started_at: float, rng: random.Random) -> None:
        self._policy = policy
        self._backoff = Backoff(policy.interval, policy.max_interval, rng)
        self.deadline_at = math.inf if policy.deadline is None else started_at + policy.deadline

    def expired(self, now: float) -> bool:
        """Whether the job's deadline has passed at ``now``."""
        return now >= self.deadline_at

    def next_poll_at(
        self, now: float, *, changed: bool, retry_after_s: float | None = None
    ) -> float | None:
        """The time of the next poll, or None when the deadline comes first (the job times out).

        A usable ``Retry-After`` wins over the backoff (and leaves the backoff where it was), but
        never brings the next poll closer than ``interval``: a ``Retry-After`` of 0, negative or
        a date in the past must not make one job poll as fast as the server answers.
        """
        wait = capped_retry_after(retry_after_s, self._policy.max_retry_after)
        if wait is None:
            wait = self._backoff.next_delay(changed=changed)
        at = now + max(wait, self._policy.interval)
        return None if at >= self.deadline_at else at


class TokenBucket:
    """A global request-rate cap shared by every job: ``rate`` requests per second on average,
    bursts of at most ``burst``. ``rate`` of ``inf`` turns the cap off.

    Callers *reserve* a token and wait the returned delay, so waiting callers are served in the
    order they asked and the rate holds however many jobs share the bucket.
    """

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, clock: Callable[[], float], burst: float | None = None) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise UsageError(
                f"max_rps must be a positive number of requests per second, got {rate!r}"
            )
        self._rate = float(rate)
        self._burst = max(1.0, rate / 10.0) if burst is None else float(burst)
        if not self._burst >= 1:
            raise UsageError(f"burst must be at least 1 request, got {burst!r}")
        self._clock = clock
        self._stamp = clock()
        self._tokens = self._burst if math.isfinite(self._burst) else 1.0

    @property
    def rate(self) -> float:
        """Requests per second allowed on average."""
        return self._rate

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before sending (0.0 when one is free)."""
        if math.isinf(self._rate):
            return 0.0
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate
