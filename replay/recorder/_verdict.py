"""What one monitor response means for its job: go on, or stop with which outcome."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from replay.status import ERROR_OUTCOME, HTTP_OUTCOME, TERMINAL_OUTCOME, THROTTLED_HTTP

__all__ = ["JobState", "Verdict", "stop_outcome"]


def stop_outcome(
    status: str | None, http_status: int | None, error_code: str | None = None
) -> str | None:
    """The outcome a response ends its job with, or None when the job goes on.

    The body decides first (any status terminal in a known dialect, then an error code that
    ends a job, such as ``operationNotFound``); then the HTTP status (303 legacy completion,
    404/410 monitor expired, 401/403 unauthorized): the protocol table of :mod:`replay.status`.
    """
    if status is not None and status in TERMINAL_OUTCOME:
        return TERMINAL_OUTCOME[status]
    if error_code is not None and error_code in ERROR_OUTCOME:
        return ERROR_OUTCOME[error_code]
    return None if http_status is None else HTTP_OUTCOME.get(http_status)


def understood(fields: Mapping[str, Any]) -> bool | None:
    """True for a response with a status; None (neutral) for a 429/503 with Retry-After;
    False for anything else, which counts towards giving up."""
    if fields.get("status") is not None:
        return True
    if fields.get("http_status") in THROTTLED_HTTP and fields.get("retry_after_s") is not None:
        return None
    return False


def same_pct(a: float | None, b: float | None) -> bool:
    """Whether two percentages are the same value (None only equals None; NaN equals NaN)."""
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


class Verdict(NamedTuple):
    """What to do after a response: ``outcome`` (None: go on), whether progress moved, and the
    server's Retry-After in seconds."""

    outcome: str | None
    changed: bool
    retry_after_s: float | None


@dataclass(slots=True)
class JobState:
    """The last status and percentage of a job and its run of responses not understood."""

    give_up_after: int
    status: str | None = None
    pct: float | None = None
    misses: int = 0

    def absorb(self, fields: Mapping[str, Any]) -> Verdict:
        """The verdict on one normalised response; updates the state."""
        status, pct = fields.get("status"), fields.get("percentage_complete")
        outcome = stop_outcome(status, fields.get("http_status"), fields.get("error_code"))
        verdict = understood(fields)
        if verdict is False:
            outcome = outcome or self.miss()
        elif verdict:
            self.misses = 0
        changed = status is not None and (status != self.status or not same_pct(pct, self.pct))
        if status is not None:
            self.status, self.pct = status, pct
        return Verdict(outcome, changed, fields.get("retry_after_s"))

    def miss(self) -> str | None:
        """Count a response not understood (or a transport error): ``protocol_error`` at the
        ``give_up_after``-th in a row, else None."""
        self.misses += 1
        return "protocol_error" if self.misses >= self.give_up_after else None
