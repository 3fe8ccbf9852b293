"""Peer (b): the per-row Python state machine a user writes first, one pass in seq order."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from benchmarks.peers.rules import CODES, Rules

__all__ = ["native", "validate", "validate_lists"]

_NULL = object()  # the state key of a null percentage (NaN gets the string "nan")


def native(table: pa.Table) -> pd.DataFrame:
    """Return the observations as the pandas frame a user starts from."""
    frame: pd.DataFrame = table.to_pandas(types_mapper=_arrow_floats)
    return frame


def validate(frame: pd.DataFrame, rules: Rules) -> pa.Table:
    """Return ``job_id, seq, ts, code`` of every violation, ``itertuples`` as first written."""
    frame = frame.sort_values(["job_id", "seq"], kind="stable")
    records: Iterable[Any] = frame.itertuples(index=False)
    rows = (
        (
            row.job_id,
            row.seq,
            row.ts,
            None if pd.isna(row.status) else row.status,
            None if row.percentage_complete is pd.NA else row.percentage_complete,
            None if pd.isna(row.http_status) else int(row.http_status),
        )
        for row in records
    )
    return _replayed(rows, rules, pd.Timedelta(microseconds=rules.stall_after_us))


def validate_lists(frame: pd.DataFrame, rules: Rules) -> pa.Table:
    """The same loop over columns first turned into Python lists (timestamps as int µs)."""
    frame = frame.sort_values(["job_id", "seq"], kind="stable")
    columns = (
        frame["job_id"].tolist(),
        frame["seq"].tolist(),
        frame["ts"].to_numpy(dtype="datetime64[us]").view(np.int64).tolist(),
        frame["status"].astype(object).where(frame["status"].notna(), None).tolist(),
        pa.array(frame["percentage_complete"]).to_pylist(),
        [None if pd.isna(h) else int(h) for h in frame["http_status"].tolist()],
    )
    return _replayed(zip(*columns, strict=True), rules, rules.stall_after_us)


def _replayed(rows: Iterable[tuple[Any, ...]], rules: Rules, stall: Any) -> pa.Table:
    """Feed ``(job_id, seq, ts, status, pct, http)`` rows, grouped by job in seq order, to _Job."""
    out: list[tuple[Any, ...]] = []
    state: _Job | None = None
    for job_id, seq, ts, status, pct, http in rows:
        if state is None or job_id != state.job_id:
            if state is not None:
                state.finish(out)
            state = _Job(job_id, rules, stall)
        state.step(seq, ts, status, pct, http, out)
    if state is not None:
        state.finish(out)
    names = ("job_id", "seq", "ts", "code")
    return pa.table([pa.array([row[i] for row in out]) for i in range(4)], names=names)


@dataclass
class _Job:
    """The running state of one job while its rows stream past."""

    job_id: str
    rules: Rules
    stall: Any  # the stall threshold in the unit of ts (int µs, or a Timedelta)
    prev_ts: Any = None
    last_status: str | None = None
    seen_terminal: bool = False
    got_303: bool = False
    last_valid_pct: float | None = None
    prev_missing: bool = False
    state: tuple[str, Any] | None = None
    state_ts: Any = None
    state_flagged: bool = False
    last_seq: int = 0
    last_row_ts: Any = None

    def step(
        self,
        seq: int,
        ts: Any,
        status: str | None,
        pct: float | None,
        http: int | None,
        out: list[tuple[Any, ...]],
    ) -> None:
        """Check one row against the job's state so far, then fold it into the state."""
        codes: list[str] = []
        if self.prev_ts is not None and ts <= self.prev_ts:
            codes.append("ts_not_increasing")
        valid = pct is not None and math.isfinite(pct) and 0.0 <= pct <= 100.0
        if pct is not None and not valid:
            codes.append("pct_out_of_range")
        if valid:
            assert pct is not None
            if self.last_valid_pct is not None and pct < self.last_valid_pct:
                codes.append("pct_regression")
            self.last_valid_pct = pct
        missing = status is None and (http is None or 200 <= http < 300)
        if missing and not self.prev_missing:
            codes.append("missing_status")
        self.prev_missing = missing
        if status is not None:
            self._observe(ts, status, pct, valid, codes)
        if self._stalls(ts):
            codes.append("stalled")
        if http == 303:
            self.got_303 = True
        self.prev_ts, self.last_seq, self.last_row_ts = ts, seq, ts
        for code in sorted(codes, key=CODES.index):
            out.append((self.job_id, seq, ts, code))

    def _observe(
        self, ts: Any, status: str, pct: float | None, valid: bool, codes: list[str]
    ) -> None:
        rules = self.rules
        known = status in rules.statuses
        changed = self.last_status is not None and status != self.last_status
        if not known and (self.last_status is None or changed):
            codes.append("unknown_status")
        if changed:
            prev = self.last_status
            if self.seen_terminal:
                codes.append("after_terminal")
            elif (
                known
                and prev in rules.statuses
                and prev not in rules.terminal
                and (prev, status) not in rules.allowed
            ):
                codes.append("illegal_transition")
        if status == "completed" and valid and pct != 100.0:
            codes.append("completed_not_100")
        key = (status, _NULL if pct is None else ("nan" if math.isnan(pct) else pct))
        if key != self.state:
            self.state, self.state_ts, self.state_flagged = key, ts, False
        if status in rules.terminal:
            self.seen_terminal = True
        self.last_status = status

    def _stalls(self, ts: Any) -> bool:
        if self.state is None or self.state_flagged or self.state[0] in self.rules.terminal:
            return False
        if ts - self.state_ts > self.stall:
            self.state_flagged = True
            return True
        return False

    def finish(self, out: list[tuple[Any, ...]]) -> None:
        """Flag the job's last row when the job never reached a terminal status nor a 303."""
        if not self.seen_terminal and not self.got_303:
            out.append((self.job_id, self.last_seq, self.last_row_ts, "no_terminal"))


def _arrow_floats(dtype: pa.DataType) -> pd.ArrowDtype | None:
    """Keep float columns in Arrow so a NaN percentage stays apart from a missing one."""
    return pd.ArrowDtype(dtype) if pa.types.is_floating(dtype) else None
