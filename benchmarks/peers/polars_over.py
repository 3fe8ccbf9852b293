"""Peer (d1): the checks as one lazy Polars query, window functions ``.over("job_id")``."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from benchmarks.peers.rules import CODES, Rules

__all__ = ["native", "validate"]

_NULL_KEY = -1.0e300  # the state key of a null percentage
_NAN_KEY = -2.0e300  # the state key of a NaN percentage


def native(table: pa.Table) -> pl.DataFrame:
    """Return the observations as a Polars frame."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def validate(frame: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Return ``job_id, seq, ts, code`` of every violation, ordered by job, seq and code."""
    flagged = _flags(frame.lazy().sort("job_id", "seq"), rules).collect()
    codes = pl.Enum(list(CODES))
    parts = [
        flagged.lazy()
        .filter(pl.col(code))
        .select("job_id", "seq", "ts", pl.lit(code, dtype=codes).alias("code"))
        for code in CODES
    ]
    return pl.concat(parts).sort("job_id", "seq", "code").collect()


def _flags(lf: pl.LazyFrame, rules: Rules) -> pl.LazyFrame:
    """Add one boolean column per code."""
    job = "job_id"
    status, pct, ts, http = (
        pl.col("status"),
        pl.col("percentage_complete"),
        pl.col("ts"),
        pl.col("http_status"),
    )
    observed = status.is_not_null()
    valid = pct.is_not_null() & pct.is_not_nan() & (pct >= 0) & (pct <= 100)
    terminal = observed & status.is_in(list(rules.terminal))
    missing = ~observed & (http.is_null() | ((http >= 200) & (http < 300)))
    key = pl.when(pct.is_null()).then(_NULL_KEY).when(pct.is_nan()).then(_NAN_KEY).otherwise(pct)
    lf = lf.with_columns(
        carried=status.forward_fill().over(job),
        key=pl.when(observed).then(key).forward_fill().over(job),
        valid=valid,
        terminal=terminal,
        missing=missing,
        observed=observed,
    ).with_columns(
        prev=pl.col("carried").shift().over(job),
        prev_key=pl.col("key").shift().over(job),
        prev_valid=pl.when(pl.col("valid")).then(pct).forward_fill().shift().over(job),
        prev_ts=ts.shift().over(job),
        prev_missing=pl.col("missing").shift(fill_value=False).over(job),
        terminal_before=(pl.col("terminal").cum_sum().over(job) - pl.col("terminal")) > 0,
        ended=(pl.col("terminal") | (http == 303)).any().over(job),
        last=pl.int_range(pl.len()).over(job) == pl.len().over(job) - 1,
    )
    changed = pl.col("observed") & pl.col("prev").is_not_null() & (status != pl.col("prev"))
    forbidden = pl.lit(False)
    for a, b in rules.forbidden:
        forbidden = forbidden | ((pl.col("prev") == a) & (status == b))
    new_state = pl.col("observed") & (
        pl.col("prev").is_null() | changed | (pl.col("key") != pl.col("prev_key"))
    )
    lf = lf.with_columns(
        changed=changed,
        run_start=pl.col("observed") & (pl.col("prev").is_null() | changed),
        forbidden=forbidden,
        state_id=new_state.cum_sum(),
        state_ts=pl.when(new_state).then(ts).forward_fill().over(job),
    ).with_columns(
        over=pl.col("carried").is_not_null()
        & ~pl.col("carried").is_in(list(rules.terminal))
        & ((ts - pl.col("state_ts")).dt.total_microseconds() > rules.stall_after_us),
    )
    return lf.with_columns(
        unknown_status=pl.col("run_start") & ~status.is_in(list(rules.statuses)),
        missing_status=pl.col("missing") & ~pl.col("prev_missing"),
        illegal_transition=pl.col("changed") & ~pl.col("terminal_before") & pl.col("forbidden"),
        after_terminal=pl.col("changed") & pl.col("terminal_before"),
        pct_out_of_range=pct.is_not_null() & ~pl.col("valid"),
        ts_not_increasing=pl.col("prev_ts").is_not_null() & (ts <= pl.col("prev_ts")),
        pct_regression=pl.col("valid") & (pct < pl.col("prev_valid")).fill_null(False),
        completed_not_100=(status == "completed") & pl.col("valid") & (pct != 100),
        stalled=pl.col("over") & (pl.col("over").cum_sum().over("state_id") == 1),
        no_terminal=pl.col("last") & ~pl.col("ended"),
    )
