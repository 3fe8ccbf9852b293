"""Human-readable ``detail`` texts for violations: what happened and what the policy says."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from replay.engine._prepare import Prepared
from replay.status import DIALECT_STATUSES

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


def _by_value(values: np.ndarray, render: Callable[[object], str]) -> np.ndarray:
    """Render each distinct value once (details repeat a lot), then spread."""
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    rendered = np.array([render(u) for u in uniques], dtype=object)
    return rendered[inverse]


def unknown_status(p: Prepared, rows: np.ndarray) -> np.ndarray:
    def render(value: object) -> str:
        known = DIALECT_STATUSES.get(str(value))
        hint = (
            f" ({known})" if known else " (check the spelling, or pass --policy FILE to allow it)"
        )
        return f"status '{value}' is not in policy {p.policy.name}{hint}"

    return _by_value(p.status_text(rows), render)


def missing_status(p: Prepared, rows: np.ndarray) -> np.ndarray:
    def render(http: object) -> str:
        if str(http) == "-1":
            return "imported payload without a status"
        return f"HTTP {http} response without a status (body not understood)"

    return _by_value(p.http[rows], render)


def _pair(p: Prepared, rows: np.ndarray) -> np.ndarray:
    prev = p.status_text(p.prev_observed[rows])
    cur = p.status_text(rows)
    return np.char.add(np.char.add(prev.astype(str), "\x1f"), cur.astype(str))


def illegal_transition(p: Prepared, rows: np.ndarray) -> np.ndarray:
    def render(pair: object) -> str:
        a, b = str(pair).split("\x1f")
        return f"{a} -> {b} is not allowed by policy {p.policy.name}"

    return _by_value(_pair(p, rows), render)


def after_terminal(p: Prepared, rows: np.ndarray) -> np.ndarray:
    def render(pair: object) -> str:
        a, b = str(pair).split("\x1f")
        return f"{a} -> {b} after the job had reached a terminal status"

    return _by_value(_pair(p, rows), render)


def _pct(value: object) -> str:
    """A percentage as the body gave it, in words: ``130``, ``97.1``, ``not a number``."""
    x = float(str(value))
    if np.isnan(x):
        return "not a number"
    if np.isinf(x):
        return "infinite" if x > 0 else "minus infinity"
    return f"{x:.1f}".removesuffix(".0")


def pct_out_of_range(p: Prepared, rows: np.ndarray) -> np.ndarray:
    def render(value: object) -> str:
        shown = _pct(value)
        if np.isfinite(float(str(value))):
            return f"percentage {shown} is outside 0..100"
        return f"percentage is {shown}, so outside 0..100"

    return _by_value(p.pct[rows], render)


def ts_not_increasing(p: Prepared, rows: np.ndarray) -> np.ndarray:
    back = (p.ts[rows - 1] - p.ts[rows]) / 1e6
    return np.array(
        [
            "same timestamp as the previous observation"
            if b == 0
            else f"timestamp {b:.1f} s before the previous observation (clock went back)"
            for b in back
        ],
        dtype=object,
    )


def pct_regression(p: Prepared, rows: np.ndarray) -> np.ndarray:
    prev = p.last_before(p.pct_valid, inclusive=False)[rows]
    return np.array(
        [
            f"percentage fell from {_pct(a)} to {_pct(b)}"
            for a, b in zip(p.pct[prev], p.pct[rows], strict=True)
        ],
        dtype=object,
    )


def completed_not_100(p: Prepared, rows: np.ndarray) -> np.ndarray:
    return _by_value(p.pct[rows], lambda v: f"completed at {_pct(v)}% instead of 100%")


def stalled(p: Prepared, rows: np.ndarray) -> np.ndarray:
    start = p.state_first[rows]
    status = p.status_text(start)
    out = []
    for s, pct, null, secs in zip(
        status, p.pct[start], p.pct_null[start], (p.ts[rows] - p.ts[start]) / 1e6, strict=True
    ):
        at = "" if null else f" at {_pct(pct)}%"
        out.append(
            f"no change from {s}{at} for {secs:.0f} s "
            f"(policy {p.policy.name} stall_after_s={_threshold(p.policy.stall_after_s)})"
        )
    return np.array(out, dtype=object)


def _threshold(seconds: float) -> str:
    """A policy threshold rounded for people: ``1800``, ``6.7`` (three significant digits)."""
    from replay._human import number

    return number(seconds)


def no_terminal(p: Prepared, rows: np.ndarray) -> np.ndarray:
    last = p.status_text(p.last_observed[rows])

    def render(value: object) -> str:
        where = "without any status" if value in (None, "None") else f"at {value}"
        known = DIALECT_STATUSES.get(str(value))
        policy = f" of policy {p.policy.name}" + (f" ({value}: {known})" if known else "")
        return f"the sequence ends {where}, never reaching a terminal status{policy}"

    return _by_value(last.astype(str), render)
