"""Per-job summaries: duration, time in each status, outcome, failure mode."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.engine._prepare import Prepared, prepare
from replay.engine._violations import violations_of
from replay.status import (
    COMPLETION_HTTP,
    ERROR_OUTCOME,
    GIVE_UP_HTTP,
    HTTP_OUTCOME,
    OUTCOMES,
    TERMINAL_OUTCOME,
    Policy,
)

__all__ = ["outcome_counts", "summarize", "summary_of"]

_PROGRESS_STATUSES = ("inProgress", "updating", "completed")


def summarize(
    obs: pd.DataFrame,
    policy: Policy | str | None = None,
    *,
    jobs: pd.DataFrame | None = None,
    violations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per job: durations, final status, outcome, violations, time in each status.

    ``jobs`` (the recording's jobs table) supplies the recorder's outcome for jobs whose
    observations show no ending (``timed_out``, ``protocol_error``); ``violations`` saves
    recomputing ``validate(obs, policy)`` when the caller already has it. To validate and
    summarise the same observations, ``replay.analyse`` prepares them once for both.
    """
    return summary_of(prepare(obs, policy), jobs=jobs, violations=violations)


def summary_of(
    p: Prepared, *, jobs: pd.DataFrame | None = None, violations: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The summary table of prepared observations."""
    if violations is None:
        violations = violations_of(p)
    first_ts, last_ts = p.ts[p.first], p.ts[p.last]
    final = p.status_text(p.last_observed[p.last])
    progress = _progress_rows(p)
    first_progress = p.per_job_first(progress)
    frame = pd.DataFrame(
        {
            "job_id": p.job_index.array,
            "first_ts": pd.to_datetime(first_ts, unit="us", utc=True),
            "last_ts": pd.to_datetime(last_ts, unit="us", utc=True),
            "duration_s": (last_ts - first_ts) / 1e6,
            "n_obs": (p.last - p.first + 1).astype(np.int64),
            "final_status": pd.array(final, dtype="str"),
            "outcome": _outcomes(p, jobs),
            "error_code": _last_error_code(p),
            "time_to_first_progress_s": np.where(
                first_progress >= 0, (p.ts[np.maximum(first_progress, 0)] - first_ts) / 1e6, np.nan
            ),
            "max_pct": _max_pct(p),
            "n_violations": _violations_per_job(p, violations),
        }
    )
    whole = pd.concat([frame, _time_in_status(p)], axis=1)
    return whole.iloc[np.argsort(p.job_rank)].reset_index(drop=True) if p.n_jobs else whole


def outcome_counts(summary: pd.DataFrame) -> dict[str, int]:
    """Jobs per outcome, in the contract's order, outcomes with no job omitted."""
    counts = summary["outcome"].value_counts()
    return {o: int(counts[o]) for o in OUTCOMES if o in counts.index}


def _progress_rows(p: Prepared) -> np.ndarray:
    moving = np.isin(p.raw_values.astype(str), _PROGRESS_STATUSES)
    status_moving = p.observed & np.append(moving, False)[np.where(p.raw >= 0, p.raw, -1)]
    with np.errstate(invalid="ignore"):
        return status_moving | (p.pct_valid & (p.pct > 0))


def _max_pct(p: Prepared) -> np.ndarray:
    if not p.n:
        return np.zeros(0)
    values = np.where(p.pct_valid, p.pct, -np.inf)
    best = np.maximum.reduceat(values, p.first)
    return np.where(np.isinf(best), np.nan, best)


def _last_row_error_codes(p: Prepared) -> np.ndarray:
    """The ``error_code`` of each job's last row, as an object array (None where it has none)."""
    if "error_code" not in p.frame.columns:
        return np.full(p.n_jobs, None, dtype=object)
    codes = p.frame["error_code"].iloc[p.last]
    return codes.astype(object).where(codes.notna(), None).to_numpy(dtype=object)


def _last_error_code(p: Prepared) -> pd.Series:
    if "error_code" not in p.frame.columns:
        return pd.Series([None] * p.n_jobs, dtype="str")
    codes = p.frame["error_code"]
    last = p.per_job_last(codes.notna().to_numpy())
    picked = codes.array.take(last, allow_fill=True)  # -1 (no error code) becomes missing
    return pd.Series(pd.array(picked, dtype="str"))


def _outcomes(p: Prepared, jobs: pd.DataFrame | None) -> np.ndarray:
    """Apply the outcome rules of docs/semantics.md, first match wins, vectorised per job."""
    stop = np.isin(p.raw_values.astype(str), list(TERMINAL_OUTCOME))
    stop_rows = p.observed & np.append(stop, False)[np.where(p.raw >= 0, p.raw, -1)]
    last_stop = p.per_job_last(stop_rows)
    outcome = np.full(p.n_jobs, "abandoned", dtype=object)
    recorder = _recorder_outcomes(p, jobs)
    has_recorder = recorder != ""
    outcome[has_recorder] = recorder[has_recorder]
    last_http = p.http[p.last]
    for code in GIVE_UP_HTTP:  # the last response ended the job
        outcome[last_http == code] = HTTP_OUTCOME[code]
    last_error = _last_row_error_codes(p)
    for error, ending in ERROR_OUTCOME.items():  # or said, whatever its HTTP status, it ended
        outcome[last_error == error] = ending
    outcome[p.per_job_any(np.isin(p.http, list(COMPLETION_HTTP)))] = "completed"  # anywhere
    ended = last_stop >= 0
    by_raw = np.array([TERMINAL_OUTCOME.get(str(v), "") for v in p.raw_values], dtype=object)
    outcome[ended] = by_raw[p.raw[last_stop[ended]]]
    return outcome


def _recorder_outcomes(p: Prepared, jobs: pd.DataFrame | None) -> np.ndarray:
    """The jobs table's outcome per job ("" when unknown)."""
    if jobs is None or "outcome" not in jobs.columns or not len(jobs):
        return np.full(p.n_jobs, "", dtype=object)
    known = jobs.dropna(subset=["outcome"]).drop_duplicates("job_id", keep="last")
    positions = pd.Index(known["job_id"].astype(str)).get_indexer(p.job_index)
    values = np.append(known["outcome"].astype(str).to_numpy(dtype=object), "")
    return values[np.where(positions >= 0, positions, len(known))]


def _violations_per_job(p: Prepared, violations: pd.DataFrame) -> np.ndarray:
    if not len(violations):
        return np.zeros(p.n_jobs, dtype=np.int64)
    positions = p.job_index.get_indexer(pd.Index(violations["job_id"].astype(str)))
    return np.bincount(positions[positions >= 0], minlength=p.n_jobs).astype(np.int64)


def _time_in_status(p: Prepared) -> pd.DataFrame:
    """Seconds each job spent in each status (carried forward until the next row)."""
    width = p.policy.unknown_code + 1
    dwell = np.zeros(p.n, dtype=np.float64)
    if p.n:
        step = np.diff(p.ts)
        np.maximum(step, 0, out=step)
        np.divide(step, 1e6, out=dwell[:-1])
        dwell[p.last] = 0.0
    state = p.last_observed
    codes = p.code[np.maximum(state, 0)].astype(np.int64)
    codes[codes < 0] = p.policy.unknown_code
    key = p.block * np.int64(width)
    key += codes
    key[state < 0] = p.n_jobs * width  # before any status: counted in a bin that is dropped
    flat = np.bincount(key, weights=dwell, minlength=p.n_jobs * width + 1)
    flat = flat[: p.n_jobs * width].reshape(p.n_jobs, width)
    names = [f"time_in_{s}_s" for s in p.policy.statuses] + ["time_in_other_s"]
    return pd.DataFrame(flat, columns=names)
