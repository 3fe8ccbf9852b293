"""The engine's one preparation: observations as sorted numpy arrays on categorical codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from replay.errors import DatasetError
from replay.status import Policy, load_policy

__all__ = ["ENGINE_COLUMNS", "Prepared", "prepare"]

_NEEDED = ("job_id", "seq", "ts", "status")
#: The observation columns validate, summarize and transitions use: ``replay.read(DIR,
#: columns=ENGINE_COLUMNS)`` skips reading and sorting the others (same results, less time and memory).
ENGINE_COLUMNS: tuple[str, ...] = (
    "job_id",
    "seq",
    "ts",
    "status",
    "percentage_complete",
    "http_status",
    "error_code",
)
_NULL_KEY = -1.0e300  # stands for a null percentage when comparing states
_NAN_KEY = -2.0e300  # stands for a NaN percentage when comparing states


@dataclass(frozen=True, eq=False)
class Prepared:
    """Observations of many jobs, grouped by job in ``seq`` order, as flat numpy arrays.

    ``block`` numbers the jobs 0..n_jobs-1 in row order; ``job_ids[block]`` names them. Status
    codes follow the policy (``-1`` null, ``policy.unknown_code`` outside the enum); ``raw``
    codes index ``raw_values`` so distinct unknown strings stay distinct.
    """

    policy: Policy
    frame: pd.DataFrame
    job_ids: np.ndarray
    block: np.ndarray
    starts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    seq: np.ndarray
    ts: np.ndarray
    raw: np.ndarray
    raw_values: np.ndarray
    code: np.ndarray
    pct: np.ndarray
    pct_null: np.ndarray
    http: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.seq)

    @property
    def n_jobs(self) -> int:
        """Number of jobs."""
        return len(self.first)

    @cached_property
    def job_index(self) -> pd.Index:
        """The job ids as a ``str`` Index, in block order (converted once, looked up by hash)."""
        return pd.Index(pd.array(self.job_ids, dtype="str"))

    @cached_property
    def job_rank(self) -> np.ndarray:
        """Per job: its position in lexical job-id order (outputs are ordered by it)."""
        rank = np.empty(self.n_jobs, dtype=np.int64)
        rank[self.job_index.argsort()] = np.arange(self.n_jobs)
        return rank

    def by_job(self, rows: np.ndarray, *tiebreak: np.ndarray) -> np.ndarray:
        """The order of ``rows`` by job id, then row position, then ``tiebreak`` keys."""
        return np.lexsort((*reversed(tiebreak), rows, self.job_rank[self.block[rows]]))

    @cached_property
    def rows(self) -> np.ndarray:
        """Row positions 0..n-1 (int32 below 2**31 rows: half the memory of every index array)."""
        return np.arange(self.n, dtype=_index_dtype(self.n))

    @cached_property
    def observed(self) -> np.ndarray:
        """Rows that carry a status."""
        return self.raw >= 0

    @cached_property
    def pct_valid(self) -> np.ndarray:
        """Rows with a percentage in [0, 100] (not null, not NaN, finite)."""
        with np.errstate(invalid="ignore"):
            return ~self.pct_null & (self.pct >= 0) & (self.pct <= 100)

    @cached_property
    def job_first(self) -> np.ndarray:
        """Per row: the index of its job's first row."""
        return self.first.astype(self.rows.dtype)[self.block]

    @cached_property
    def _observed_before(self) -> tuple[np.ndarray, np.ndarray]:
        """(``last_observed``, ``prev_observed``): both from one running maximum."""
        carried = self._carried(self.observed)
        prev = self._within_job(carried, inclusive=False)
        return self._within_job(carried, inclusive=True), prev

    @property
    def last_observed(self) -> np.ndarray:
        """Per row: the index of the last status-observing row at or before it in its job, or -1."""
        return self._observed_before[0]

    @property
    def prev_observed(self) -> np.ndarray:
        """Per row: the index of the last status-observing row strictly before it in its job, or -1."""
        return self._observed_before[1]

    @cached_property
    def changed(self) -> np.ndarray:
        """Status-observing rows whose status differs from the previous observed one in the job."""
        p = self.prev_observed
        has = p >= 0
        out = self.raw != self.raw[np.maximum(p, 0)]
        out &= has
        out &= self.observed
        return out

    @cached_property
    def run_start(self) -> np.ndarray:
        """Status-observing rows that start a run of the same status (first in job, or a change)."""
        return self.observed & ((self.prev_observed < 0) | self.changed)

    @cached_property
    def terminal(self) -> np.ndarray:
        """Rows whose status is terminal in the policy."""
        return self.observed & self.policy.terminal_codes[np.maximum(self.code, 0)]

    @cached_property
    def terminal_before(self) -> np.ndarray:
        """Rows with a terminal status observed strictly earlier in their job."""
        first_terminal = self.per_job_first(self.terminal)
        first_terminal[first_terminal < 0] = self.n  # none: no row comes after it
        return self.rows > first_terminal.astype(self.rows.dtype)[self.block]

    @cached_property
    def state_first(self) -> np.ndarray:
        """Per row: the first row of its current (status, percentage) state, or -1 before any.

        Rows without a status carry the state forward.
        """
        key = self.state_key()
        prev = self.prev_observed
        moved = key != key[np.maximum(prev, 0)]
        del key
        moved |= prev < 0
        moved |= self.changed
        moved &= self.observed
        return self.last_before(moved, inclusive=True)

    def _carried(self, mask: np.ndarray) -> np.ndarray:
        """Per row: index of the last ``mask`` row at or before it in any job, or -1."""
        carried = np.where(mask, self.rows, -1)
        if self.n:
            np.maximum.accumulate(carried, out=carried)
        return carried

    def _within_job(self, carried: np.ndarray, *, inclusive: bool) -> np.ndarray:
        """``carried`` (from ``_carried``) shifted one row down unless ``inclusive``, with -1 where
        the row it names lies in an earlier job. Inclusive works in place; exclusive copies."""
        if not inclusive:
            shifted = np.full_like(carried, -1)
            shifted[1:] = carried[:-1]
            carried = shifted
        carried[carried < self.job_first] = -1
        return carried

    def last_before(self, mask: np.ndarray, *, inclusive: bool) -> np.ndarray:
        """Per row: index of the last ``mask`` row at (or strictly before) it in its job, or -1."""
        return self._within_job(self._carried(mask), inclusive=inclusive)

    def per_job_last(self, mask: np.ndarray) -> np.ndarray:
        """Per job: index of its last ``mask`` row, or -1."""
        out = np.full(self.n_jobs, -1, dtype=np.int64)
        rows = np.flatnonzero(mask)
        if len(rows):
            blocks = self.block[rows]
            keep = np.r_[blocks[1:] != blocks[:-1], True]
            out[blocks[keep]] = rows[keep]
        return out

    def per_job_first(self, mask: np.ndarray) -> np.ndarray:
        """Per job: index of its first ``mask`` row, or -1."""
        out = np.full(self.n_jobs, -1, dtype=np.int64)
        rows = np.flatnonzero(mask)
        if len(rows):
            blocks = self.block[rows]
            keep = np.r_[True, blocks[1:] != blocks[:-1]]
            out[blocks[keep]] = rows[keep]
        return out

    def per_job_any(self, mask: np.ndarray) -> np.ndarray:
        """Per job: whether any of its rows is in ``mask``."""
        return np.bincount(self.block[mask], minlength=self.n_jobs) > 0

    def state_key(self) -> np.ndarray:
        """Per row: the percentage as a comparable key (null and NaN get distinct sentinels)."""
        key = self.pct.copy()
        key[np.isnan(key)] = _NAN_KEY
        key[self.pct_null] = _NULL_KEY
        return key

    def status_text(self, rows: np.ndarray) -> np.ndarray:
        """The verbatim status strings of ``rows`` (None where null)."""
        codes = np.where(rows >= 0, self.raw[np.maximum(rows, 0)], -1)
        values = np.append(self.raw_values, np.array([None], dtype=object))
        return values[np.where(codes >= 0, codes, len(self.raw_values))]


def prepare(obs: pd.DataFrame, policy: Policy | str | None = None) -> Prepared:
    """Return ``obs`` as sorted arrays (by job, then ``seq``; stable, never by ``ts``)."""
    pol = load_policy(policy)
    missing = [c for c in _NEEDED if c not in obs.columns]
    if missing:
        raise DatasetError(
            f"observations lack column(s) {', '.join(missing)}: pass a frame from replay.read() "
            f"or with the columns of the observation schema",
            column=missing[0],
        )
    jobs = _categorical(obs["job_id"])
    job_codes = jobs.codes.astype(np.int32)
    if (job_codes < 0).any():
        raise DatasetError("column 'job_id' has missing values: every observation needs its job id")
    if obs["seq"].isna().any():
        raise DatasetError(
            "column 'seq' has missing values: every observation needs its index within its job "
            "(replay writes 0, 1, 2, ... per job)",
            column="seq",
        )
    seq = obs["seq"].to_numpy(dtype=np.int64)
    order = _grouping_order(job_codes, seq)
    frame = obs if order is None else obs.iloc[order].reset_index(drop=True)
    if order is not None:
        job_codes, seq = job_codes[order], seq[order]
    starts = np.r_[True, job_codes[1:] != job_codes[:-1]] if len(seq) else np.zeros(0, bool)
    first = np.flatnonzero(starts)
    last = np.r_[first[1:] - 1, len(seq) - 1] if len(seq) else first
    status = _categorical(frame["status"])
    raw_values = np.asarray(status.categories, dtype=object)
    lut = pol.codes(raw_values)
    raw = status.codes.astype(np.int32)
    pct, pct_null = _percentages(frame)
    return Prepared(
        policy=pol,
        frame=frame,
        job_ids=np.asarray(jobs.categories, dtype=object)[job_codes[first]],
        block=_blocks(starts),
        starts=starts,
        first=first,
        last=last,
        seq=seq,
        ts=_timestamps_us(frame["ts"]),
        raw=raw,
        raw_values=raw_values,
        code=np.where(raw >= 0, lut[np.maximum(raw, 0)] if len(lut) else -1, -1).astype(np.int16),
        pct=pct,
        pct_null=pct_null,
        http=_http(frame),
    )


def _index_dtype(n: int) -> type[np.signedinteger]:
    return np.int32 if n < 2**31 - 1 else np.int64


def _blocks(starts: np.ndarray) -> np.ndarray:
    """Per row: its job's number (0..n_jobs-1), from the job-start mask."""
    block = np.cumsum(starts, dtype=_index_dtype(len(starts)))
    block -= 1
    return block


def _categorical(series: pd.Series) -> pd.Categorical:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.array
    return pd.Categorical(series.astype(object).where(series.notna(), None))


def _grouping_order(job_codes: np.ndarray, seq: np.ndarray) -> np.ndarray | None:
    """None when rows are already grouped by job in seq order, else the stable sorting order."""
    if len(seq) < 2:
        return None
    if bool(np.all(job_codes[1:] >= job_codes[:-1])):  # replay.read's order: a cheap check
        in_order = seq[1:] >= seq[:-1]
        in_order |= job_codes[1:] != job_codes[:-1]
        if bool(in_order.all()):
            return None
    same = job_codes[1:] == job_codes[:-1]
    boundaries = int(np.count_nonzero(~same))
    grouped = boundaries + 1 == int(np.count_nonzero(np.bincount(job_codes[job_codes >= 0])))
    if grouped and bool(np.all(seq[1:][same] >= seq[:-1][same])):
        return None
    return np.lexsort((seq, job_codes))


def _percentages(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Percentages as float64 plus a null mask; NaN stays apart from null in Arrow columns."""
    if "percentage_complete" not in frame.columns:
        return np.full(len(frame), np.nan), np.ones(len(frame), dtype=bool)
    col = frame["percentage_complete"]
    if isinstance(col.dtype, pd.ArrowDtype):
        arr = col.array._pa_array.cast(pa.float64())
        null = arr.is_null().to_numpy(zero_copy_only=False)
        values = arr.fill_null(np.nan).to_numpy()
        return np.asarray(values, dtype=np.float64), np.asarray(null, dtype=bool)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values, np.isnan(values)


def _timestamps_us(col: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (naive values are taken as UTC)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col.dtype):
        values = col.to_numpy(dtype="datetime64[us]")  # UTC instants; a view when already in us
    else:
        values = pd.to_datetime(col, utc=True).to_numpy(dtype="datetime64[us]")
    if np.isnat(values).any():
        raise DatasetError("column 'ts' has missing timestamps: every observation needs its time")
    return values.view(np.int64)


def _http(frame: pd.DataFrame) -> np.ndarray:
    """HTTP status codes as int16, -1 where null (imported payloads)."""
    if "http_status" not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int16)
    col = frame["http_status"]
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.to_numpy(dtype=np.int16, na_value=-1)
    numbers = pd.to_numeric(col, errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(values), -1, values).astype(np.int16)
