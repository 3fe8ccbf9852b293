"""The vectorised checks: one ``(prepared) -> boolean row mask`` per violation rule."""

from __future__ import annotations

import math

import numpy as np

from replay.engine._prepare import Prepared
from replay.status import COMPLETION_HTTP

__all__ = [
    "after_terminal",
    "completed_not_100",
    "illegal_transition",
    "missing_status",
    "no_terminal",
    "pct_out_of_range",
    "pct_regression",
    "stalled",
    "ts_not_increasing",
    "unknown_status",
]


def unknown_status(p: Prepared) -> np.ndarray:
    """Rejects a status outside the policy's enum (first row of each run of that value)."""
    return p.run_start & (p.code == p.policy.unknown_code)


def missing_status(p: Prepared) -> np.ndarray:
    """Rejects a 2xx (or imported) response without a status (first row of each such run)."""
    bad = ~p.observed & ((p.http < 0) | ((p.http >= 200) & (p.http < 300)))
    previous = np.r_[False, bad[:-1]] & ~p.starts
    return bad & ~previous


def illegal_transition(p: Prepared) -> np.ndarray:
    """Rejects a change of status the policy does not allow (before any terminal status)."""
    prev = p.prev_observed
    allowed = p.policy.matrix[_codes_or_unknown(p, prev), _codes_or_unknown(p, None)]
    return p.changed & ~p.terminal_before & ~allowed


def after_terminal(p: Prepared) -> np.ndarray:
    """Rejects any change of status once a terminal status was observed."""
    return p.changed & p.terminal_before


def pct_out_of_range(p: Prepared) -> np.ndarray:
    """Rejects a percentage below 0, above 100, NaN or infinite."""
    return ~p.pct_null & ~p.pct_valid


def ts_not_increasing(p: Prepared) -> np.ndarray:
    """Rejects a timestamp not after the previous row's, in recorded (seq) order."""
    out = np.zeros(p.n, dtype=bool)
    out[1:] = p.ts[1:] <= p.ts[:-1]
    return out & ~p.starts


def pct_regression(p: Prepared) -> np.ndarray:
    """Warns on a valid percentage lower than the job's previous valid one."""
    prev = p.last_before(p.pct_valid, inclusive=False)
    out = p.pct < p.pct[np.maximum(prev, 0)]
    out &= p.pct_valid
    out &= prev >= 0
    return out


def completed_not_100(p: Prepared) -> np.ndarray:
    """Warns on ``completed`` with a valid percentage other than 100."""
    is_completed = p.raw_values == "completed"
    completed = p.observed & np.append(is_completed, False)[np.where(p.raw >= 0, p.raw, -1)]
    return completed & p.pct_valid & (p.pct != 100)


def stalled(p: Prepared) -> np.ndarray:
    """Warns once per stall: the same (status, percentage) for longer than ``stall_after_s``."""
    first = p.state_first
    safe = np.maximum(first, 0)
    elapsed = p.ts[safe]
    np.subtract(p.ts, elapsed, out=elapsed)
    # ts are whole microseconds: "more than x" is "more than floor(x)", an integer comparison.
    over = elapsed > math.floor(p.policy.stall_after_s * 1e6)
    del elapsed
    over &= first >= 0
    over &= ~p.terminal[np.maximum(p.last_observed, 0)]  # the state's status is not terminal
    count = np.cumsum(over, dtype=p.rows.dtype)
    count -= count[safe]
    count += over[safe]
    over &= count == 1
    return over


def no_terminal(p: Prepared) -> np.ndarray:
    """Warns at the last row of a job that never reached a terminal status (nor a 303)."""
    ended = p.per_job_any(p.terminal | np.isin(p.http, list(COMPLETION_HTTP)))
    out = np.zeros(p.n, dtype=bool)
    out[p.last[~ended]] = True
    return out


def _codes_or_unknown(p: Prepared, rows: np.ndarray | None) -> np.ndarray:
    codes = p.code if rows is None else p.code[np.maximum(rows, 0)]
    return np.where(codes >= 0, codes, p.policy.unknown_code)
