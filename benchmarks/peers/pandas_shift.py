"""Peer (c): the checks as pandas groupby/shift/ffill over the job, one boolean column per code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from benchmarks.peers.rules import CODES, Rules

__all__ = ["native", "validate"]

_NULL_KEY = -1.0e300  # the state key of a null percentage
_NAN_KEY = -2.0e300  # the state key of a NaN percentage


def native(table: pa.Table) -> pd.DataFrame:
    """Return the observations as a pandas frame (status categorical, percentages in Arrow)."""
    frame: pd.DataFrame = table.to_pandas(types_mapper=_arrow_floats)
    frame["status"] = frame["status"].astype("category")
    return frame


def validate(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Return ``job_id, seq, ts, code`` of every violation, ordered by job, seq and code."""
    df = frame.sort_values(["job_id", "seq"], kind="stable", ignore_index=True)
    masks = _masks(df, rules)
    parts = [
        df.loc[mask, ["job_id", "seq", "ts"]].assign(code=np.int8(CODES.index(code)))
        for code, mask in masks.items()
    ]
    out = pd.concat(parts, ignore_index=True).sort_values(
        ["job_id", "seq", "code"], kind="stable", ignore_index=True
    )
    out["code"] = pd.Categorical.from_codes(
        out["code"].to_numpy(), dtype=pd.CategoricalDtype(list(CODES))
    )
    return out


def _masks(df: pd.DataFrame, rules: Rules) -> dict[str, pd.Series]:
    """One boolean Series per violation code, aligned with ``df``."""
    job = df["job_id"]
    status = df["status"]
    observed = status.notna()
    pct_col = df["percentage_complete"]
    pct_null = pct_col.isna()
    pct = pd.Series(
        pct_col.to_numpy(dtype=np.float64, na_value=np.nan), index=df.index, dtype=np.float64
    )
    ts = df["ts"]
    http = df["http_status"]
    carried = status.groupby(job, observed=True).ffill()
    prev = carried.groupby(job, observed=True).shift()
    changed = observed & prev.notna() & (status.astype(object) != prev.astype(object))
    run_start = observed & (prev.isna() | changed)
    known = status.isin(rules.statuses)
    terminal = observed & status.isin(rules.terminal)
    terminal_before = terminal.groupby(job).cumsum() > terminal.astype(int)
    forbidden = pd.MultiIndex.from_arrays([prev, status]).isin(rules.forbidden)
    prev_ts = ts.groupby(job).shift()
    valid = ~pct_null & (pct >= 0) & (pct <= 100)
    prev_valid = pct.where(valid).groupby(job).ffill().groupby(job).shift()
    missing = ~observed & (http.isna() | http.between(200, 299))
    prev_missing = missing.groupby(job).shift(fill_value=False).astype(bool)
    last = ~job.duplicated(keep="last")
    ended = (terminal | (http == 303)).groupby(job).transform("any")
    return {
        "unknown_status": run_start & ~known,
        "missing_status": missing & ~prev_missing,
        "illegal_transition": changed & ~terminal_before & forbidden,
        "after_terminal": changed & terminal_before,
        "pct_out_of_range": ~pct_null & ~valid,
        "ts_not_increasing": prev_ts.notna() & (ts <= prev_ts),
        "pct_regression": valid & (pct < prev_valid),
        "completed_not_100": (status == "completed") & valid & (pct != 100),
        "stalled": _stalled(df, carried, pct, pct_null, observed, rules),
        "no_terminal": last & ~ended,
    }


def _stalled(
    df: pd.DataFrame,
    carried: pd.Series,
    pct: pd.Series,
    pct_null: pd.Series,
    observed: pd.Series,
    rules: Rules,
) -> pd.Series:
    """First row of each (status, percentage) state held longer than the stall threshold."""
    job = df["job_id"]
    key = pct.fillna(_NAN_KEY).mask(pct_null, _NULL_KEY).where(observed)
    key = key.groupby(job).ffill()
    prev_status = carried.groupby(job, observed=True).shift()
    prev_key = key.groupby(job).shift()
    new_state = observed & (
        prev_status.isna()
        | (carried.astype(object) != prev_status.astype(object))
        | (key != prev_key)
    )
    state_id = new_state.cumsum()
    start = df["ts"].where(new_state).groupby(job).ffill()
    held = (df["ts"] - start) > pd.Timedelta(microseconds=rules.stall_after_us)
    over = carried.notna() & ~carried.isin(rules.terminal) & held
    return over & (over.groupby(state_id).cumsum() == 1)


def _arrow_floats(dtype: pa.DataType) -> pd.ArrowDtype | None:
    """Keep float columns in Arrow so a NaN percentage stays apart from a missing one."""
    return pd.ArrowDtype(dtype) if pa.types.is_floating(dtype) else None
