"""Violations: vectorised checks of each job's sequence against a policy, as one table."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay._engine import Prepared, prepare, share
from replay.status import DIALECT_STATUSES, Policy

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["SEVERITY", "VIOLATION_COLUMNS", "Code", "validate", "violation_counts"]


class Code(StrEnum):
    """The violation codes (a stable contract: never renamed)."""

    UNKNOWN_STATUS = "unknown_status"
    MISSING_STATUS = "missing_status"
    ILLEGAL_TRANSITION = "illegal_transition"
    AFTER_TERMINAL = "after_terminal"
    PCT_OUT_OF_RANGE = "pct_out_of_range"
    TS_NOT_INCREASING = "ts_not_increasing"
    PCT_REGRESSION = "pct_regression"
    COMPLETED_NOT_100 = "completed_not_100"
    STALLED = "stalled"
    NO_TERMINAL = "no_terminal"


SEVERITY: Mapping[str, str] = {
    code: ("warning" if i >= 6 else "error") for i, code in enumerate(Code)
}
VIOLATION_COLUMNS = ("job_id", "seq", "ts", "code", "severity", "detail")
_CODES = pd.CategoricalDtype([c.value for c in Code], ordered=True)
_SEVERITIES = pd.CategoricalDtype(["error", "warning"], ordered=True)


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
    ended = p.per_job_any(p.terminal | (p.http == 303))
    out = np.zeros(p.n, dtype=bool)
    out[p.last[~ended]] = True
    return out


def _codes_or_unknown(p: Prepared, rows: np.ndarray | None) -> np.ndarray:
    codes = p.code if rows is None else p.code[np.maximum(rows, 0)]
    return np.where(codes >= 0, codes, p.policy.unknown_code)


CHECKS: Mapping[Code, Callable[[Prepared], np.ndarray]] = {
    Code.UNKNOWN_STATUS: unknown_status,
    Code.MISSING_STATUS: missing_status,
    Code.ILLEGAL_TRANSITION: illegal_transition,
    Code.AFTER_TERMINAL: after_terminal,
    Code.PCT_OUT_OF_RANGE: pct_out_of_range,
    Code.TS_NOT_INCREASING: ts_not_increasing,
    Code.PCT_REGRESSION: pct_regression,
    Code.COMPLETED_NOT_100: completed_not_100,
    Code.STALLED: stalled,
    Code.NO_TERMINAL: no_terminal,
}


def validate(obs: pd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return one row per violation (``job_id, seq, ts, code, severity, detail``), by job and seq.

    The preparation of ``obs`` is kept while ``obs`` and the result live, so that
    ``summarize(obs, violations=result)`` does not prepare ``obs`` again.
    """
    prepared = prepare(obs, policy)
    result = violations_of(prepared)
    share(obs, result, prepared)
    return result


def violations_of(p: Prepared) -> pd.DataFrame:
    """The violations table of prepared observations."""
    from replay._details import detail_for

    rows_parts, code_parts, detail_parts = [], [], []
    for code, check in CHECKS.items():
        rows = np.flatnonzero(check(p))
        if len(rows):
            rows_parts.append(rows)
            code_parts.append(np.full(len(rows), list(Code).index(code), dtype=np.int8))
            detail_parts.append(detail_for(code, p, rows))
    if not rows_parts:
        return _empty()
    rows = np.concatenate(rows_parts)
    codes = np.concatenate(code_parts)
    details = np.concatenate(detail_parts)
    order = p.by_job(rows, codes)
    rows, codes, details = rows[order], codes[order], details[order]
    code_cat = pd.Categorical.from_codes(codes, dtype=_CODES)
    severity = np.where(codes >= 6, 1, 0).astype(np.int8)
    return pd.DataFrame(
        {
            "job_id": p.job_ids[p.block[rows]].astype(str),
            "seq": p.seq[rows].astype(np.int32),
            "ts": pd.to_datetime(p.ts[rows], unit="us", utc=True),
            "code": code_cat,
            "severity": pd.Categorical.from_codes(severity, dtype=_SEVERITIES),
            "detail": details.astype(str),
        }
    )


def violation_counts(violations: pd.DataFrame) -> dict[str, int]:
    """Violations per code, every code present (0 when clean), in contract order."""
    counts = violations["code"].astype(_CODES).value_counts(sort=False)
    return {str(code): int(counts.get(code, 0)) for code in _CODES.categories}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "job_id": pd.Series([], dtype=str),
            "seq": pd.Series([], dtype=np.int32),
            "ts": pd.Series([], dtype="datetime64[us, UTC]"),
            "code": pd.Categorical([], dtype=_CODES),
            "severity": pd.Categorical([], dtype=_SEVERITIES),
            "detail": pd.Series([], dtype=str),
        }
    )


def dialect_hint(value: str) -> str:
    """What replay knows of a status outside the enum, for the detail text."""
    known = DIALECT_STATUSES.get(value)
    return f"; {known}" if known else ""
