"""ETA and stall estimates for running jobs, from their own recent progress and the fleet's history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.engine._prepare import Prepared, prepare
from replay.engine._summary import summary_of
from replay.errors import UsageError
from replay.status import Policy

__all__ = ["ETA_COLUMNS", "OVERDUE_FACTOR", "RATE_POINTS", "eta", "eta_of", "fleet_rates"]

#: A job's own rate is measured over its last this many percentage observations.
RATE_POINTS = 5
#: A running job that has stopped moving is stuck once it has run this many times the fleet's p90
#: duration of completed jobs (a job still moving is not: early history favours short jobs).
OVERDUE_FACTOR = 3.0
#: The rate quantiles the fleet's history gives per band of progress (slow, typical, fast).
_LEVELS = (0.1, 0.5, 0.9)
_BANDS = 10  # progress bands of 10 percentage points
ETA_COLUMNS = (
    "job_id",
    "status",
    "pct",
    "last_ts",
    "idle_s",
    "elapsed_s",
    "own_rate",
    "fleet_rate",
    "remaining_s",
    "eta",
    "eta_low",
    "eta_high",
    "basis",
    "stuck",
    "reason",
)


def eta(
    obs: pd.DataFrame,
    *,
    policy: Policy | str | None = None,
    now: pd.Timestamp | str | None = None,
    summary: pd.DataFrame | None = None,
    jobs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per running job (outcome ``abandoned``: no ending seen) as of ``now``.

    Columns: ``status`` and ``pct`` (latest), ``idle_s`` (since status or percentage last
    changed), ``elapsed_s``, ``own_rate`` (percent/s over its last ``RATE_POINTS``
    percentages), ``fleet_rate`` (median percent/s that completed jobs kept from the same band
    of progress to their end), ``remaining_s`` and ``eta`` (from the own rate when positive,
    else the fleet's), ``eta_low``/``eta_high`` (the fleet's fast and slow tenths, widened to
    include the own estimate), ``basis`` (``own``, ``fleet`` or ``none``), ``stuck`` (idle past
    the policy's ``stall_after_s``, or no progress over its last ``RATE_POINTS`` polls after
    running ``OVERDUE_FACTOR`` times the fleet's p90 duration) and ``reason``. ``now`` defaults
    to the last observation; later rows are ignored.

    Pass the recording's ``jobs`` table (``replay.read_jobs``) so that jobs the recorder gave up
    on (``timed_out``, ``protocol_error``) are not counted as running, or a ``summary`` made with
    it (``summarize(obs, jobs=jobs)``) when you already have one. As of an earlier ``now``,
    only jobs the recorder had stopped following by then (``last_seen``) take its outcome.
    """
    return eta_of(prepare(obs, policy), now=now, summary=summary, jobs=jobs)


def eta_of(
    p: Prepared,
    *,
    now: pd.Timestamp | str | None = None,
    summary: pd.DataFrame | None = None,
    jobs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ETA table of prepared observations (see :func:`eta`)."""
    now_us = int(p.ts.max()) if p.n else 0
    if now is not None:
        now_us = _as_us(now)
        if p.n and (p.ts > now_us).any():
            p, summary = prepare(p.frame[p.ts <= now_us], p.policy), None
            jobs = None if jobs is None else _given_up_by(jobs, now_us)
    if summary is None:
        summary = summary_of(p, jobs=jobs)
    by_job = summary.set_index(summary["job_id"].astype(str))["outcome"].astype(str)
    return _estimates(p, by_job.reindex(p.job_ids.astype(str)).to_numpy(dtype=object), now_us)


def _given_up_by(jobs: pd.DataFrame, now_us: int) -> pd.DataFrame:
    """The rows of ``jobs`` whose recorder stopped following the job at or before ``now_us``."""
    seen = pd.to_datetime(jobs["last_seen"], utc=True)
    return jobs[(seen <= pd.Timestamp(now_us, unit="us", tz="UTC")).to_numpy()]


def fleet_rates(p: Prepared, completed: np.ndarray) -> pd.DataFrame:
    """Per band of progress (0-9: 0-10%, ...): the 10th, 50th and 90th percentile of the rate
    (percent/s) at which ``completed`` jobs went from first reaching the band to their end.

    Bands no completed job passed through take the quantiles of all bands pooled.
    """
    rows = np.flatnonzero(p.pct_valid & completed[p.block] & (np.nan_to_num(p.pct) < 100))
    band = np.clip(p.pct[rows] // (100 / _BANDS), 0, _BANDS - 1).astype(np.int64)
    _, first = np.unique(p.block[rows] * _BANDS + band, return_index=True)
    rows, band = rows[first], band[first]
    remaining = (p.ts[p.last[p.block[rows]]] - p.ts[rows]) / 1e6
    keep = remaining > 0
    rate = pd.Series((100 - p.pct[rows[keep]]) / remaining[keep])
    names = [f"q{int(q * 100)}" for q in _LEVELS]
    table = pd.DataFrame(np.nan, index=pd.RangeIndex(_BANDS, name="band"), columns=names)
    if len(rate):
        per_band = rate.groupby(band[keep]).quantile(np.array(_LEVELS)).unstack()
        table.loc[per_band.index, names] = per_band.to_numpy()
        table = table.fillna(dict(zip(names, rate.quantile(list(_LEVELS)), strict=True)))
    return table


def _estimates(p: Prepared, outcome: np.ndarray, now_us: int) -> pd.DataFrame:
    running = np.flatnonzero(outcome == "abandoned")
    done = outcome == "completed"
    last_pct = p.per_job_last(p.pct_valid)[running]
    has_pct = last_pct >= 0
    pct = np.where(has_pct, p.pct[np.maximum(last_pct, 0)], np.nan)
    anchor = np.where(has_pct, p.ts[np.maximum(last_pct, 0)], p.ts[p.last[running]])
    since = p.state_first[p.last[running]]
    changed_at = np.where(since >= 0, p.ts[np.maximum(since, 0)], p.ts[p.first[running]])
    idle = np.maximum(now_us - changed_at, 0) / 1e6
    elapsed = np.maximum(now_us - p.ts[p.first[running]], 0) / 1e6
    own = _own_rates(p)[running]
    rates = fleet_rates(p, done)
    band = np.clip(np.nan_to_num(pct) // (100 / _BANDS), 0, _BANDS - 1).astype(np.int64)
    fleet = rates.to_numpy()[band]  # (jobs, 3): slow, typical, fast rates
    todo = 100 - np.nan_to_num(pct)
    with np.errstate(divide="ignore", invalid="ignore"):
        own_left = np.where(own > 0, todo / own, np.nan)
        fleet_left = np.where(fleet > 0, todo[:, None] / fleet, np.nan)
    remaining = np.where(np.isfinite(own_left), own_left, fleet_left[:, 1])
    basis = np.where(
        np.isfinite(own_left), "own", np.where(np.isfinite(remaining), "fleet", "none")
    )
    spread = np.column_stack((own_left, fleet_left))
    low, high = _nan_reduce(np.fmin, spread), _nan_reduce(np.fmax, spread)
    stuck, reason = _stuck(p, done, idle, elapsed, moving=own > 0)
    frame = pd.DataFrame(
        {
            "job_id": p.job_ids[running].astype(str),
            "status": pd.array(p.status_text(p.last_observed[p.last[running]]), dtype="str"),
            "pct": pct,
            "last_ts": _utc(p.ts[p.last[running]]),
            "idle_s": idle,
            "elapsed_s": elapsed,
            "own_rate": own,
            "fleet_rate": fleet[:, 1] if len(fleet) else np.zeros(0),
            "remaining_s": remaining,
            "eta": _utc(_end(anchor, remaining, now_us)),
            "eta_low": _utc(_end(anchor, low, now_us)),
            "eta_high": _utc(_end(anchor, high, now_us)),
            "basis": basis,
            "stuck": stuck,
            "reason": reason,
        },
        columns=list(ETA_COLUMNS),
    )
    return frame.iloc[np.argsort(p.job_rank[running], kind="stable")].reset_index(drop=True)


def _own_rates(p: Prepared) -> np.ndarray:
    """Per job: percent/s between its last percentage and the one ``RATE_POINTS`` - 1 before."""
    rows = np.flatnonzero(p.pct_valid)
    out = np.full(p.n_jobs, np.nan)
    if not len(rows):
        return out
    blocks = p.block[rows]
    ends = np.flatnonzero(np.r_[blocks[1:] != blocks[:-1], True])
    starts = np.r_[0, ends[:-1] + 1]
    then = np.maximum(ends - (RATE_POINTS - 1), starts)
    dt = (p.ts[rows[ends]] - p.ts[rows[then]]) / 1e6
    gain = p.pct[rows[ends]] - p.pct[rows[then]]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[blocks[ends]] = np.where(dt > 0, np.maximum(gain, 0) / dt, np.nan)
    return out


def _stuck(
    p: Prepared, done: np.ndarray, idle: np.ndarray, elapsed: np.ndarray, *, moving: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stuck flags and their reasons: idle past ``stall_after_s``, or not ``moving`` far past
    the fleet's p90 duration."""
    durations = (p.ts[p.last[done]] - p.ts[p.first[done]]) / 1e6
    p90 = float(np.quantile(durations, 0.9)) if len(durations) else np.inf
    stalled = idle > p.policy.stall_after_s
    overdue = (elapsed > OVERDUE_FACTOR * max(p90, 1.0)) & ~moving
    # Object arrays: numpy joins them element-wise, empty ones included (pandas 3.0 cannot add
    # a str Series to an empty object array).
    idle_text = pd.Series(idle.round().astype(np.int64)).astype(str).to_numpy(dtype=object)
    ratio = pd.Series(elapsed / max(p90, 1.0)).round(1).astype(str).to_numpy(dtype=object)
    stall_text = f" s (stall_after_s {p.policy.stall_after_s:g})"
    reason = np.where(stalled, "no change for " + idle_text + stall_text, "")
    late = "no progress after running " + ratio + "x the fleet's p90 duration"
    reason = np.where(overdue, np.where(stalled, reason + "; " + late, late), reason)
    return stalled | overdue, reason.astype(object)


def _nan_reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    if not values.size:
        return np.zeros(len(values))
    return np.asarray(ufunc.reduce(values, axis=1), dtype=np.float64)


def _end(anchor_us: np.ndarray, seconds: np.ndarray, now_us: int) -> np.ndarray:
    """``anchor + seconds`` in microseconds, never before ``now``; NaT (as NaN) where unknown."""
    end = anchor_us + np.where(np.isfinite(seconds), seconds, np.nan) * 1e6
    return np.where(np.isfinite(end), np.maximum(end, now_us), np.nan)


def _utc(us: np.ndarray) -> pd.Series:
    values = np.asarray(us, dtype=np.float64)
    return pd.Series(pd.to_datetime(values, unit="us", utc=True)).astype("datetime64[us, UTC]")


def _as_us(now: pd.Timestamp | str) -> int:
    try:
        stamp = pd.Timestamp(now)
    except ValueError:
        raise UsageError(
            f"now must be a timestamp such as '2026-01-06T01:00Z', got {now!r}"
        ) from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000)  # .value counts nanoseconds whatever the unit
