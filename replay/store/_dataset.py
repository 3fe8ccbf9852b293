"""Reading and appending a recording: atomic appends and fast filtered reads."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from replay.errors import DatasetError, UsageError
from replay.schema import (
    JOBS,
    OBSERVATIONS,
    jobs_table,
    observations_table,
    selected_columns,
)
from replay.store import _swap
from replay.store import files as _files
from replay.store._compact import CompactResult, compact, latest_rows
from replay.store._frames import observations_frame, strings
from replay.store.files import JOBS_DIR, OBSERVATIONS_DIR, BadFile, ReplayWarning

if TYPE_CHECKING:
    from replay.store.files import Footer

_Scan = Callable[[], pa.Table]

__all__ = [
    "CompactResult",
    "ReadPlan",
    "ReplayWarning",
    "compact",
    "dataset_files",
    "next_seq",
    "plan_read",
    "read",
    "read_jobs",
    "write_jobs",
    "write_observations",
]

_UTC_US = pa.timestamp("us", tz="UTC")
#: The dataset schema a scan produces: job_id and status as dictionaries (pandas categoricals).
_READ_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.dictionary(pa.int32(), f.type))
        if f.name in _files.DICTIONARY_COLUMNS
        else f
        for f in OBSERVATIONS
    ]
)
_READ_JOBS_SCHEMA = pa.schema(
    [pa.field("job_id", pa.dictionary(pa.int32(), pa.string())), *list(JOBS)[1:]]
)
_RETRIES = 100


def write_observations(
    root: str | Path, frame: pd.DataFrame | pa.Table, *, source: str | None = None
) -> list[Path]:
    """Append ``frame`` to the recording at ``root``, one new file per UTC date; return the files.

    Rows are coerced to the observations schema (``source`` fills a missing ``source`` column) and
    sorted by (job_id, seq) within each file. Every file appears atomically (see ``write_atomic``);
    an empty frame writes nothing.
    """
    table = observations_table(frame, source=source)
    base = Path(root)
    return [
        _files.write_atomic(
            _sorted(part), base, base / OBSERVATIONS_DIR / _files.partition_name(day)
        )
        for day, part in _files.split_by_day(table)
    ]


def write_jobs(root: str | Path, frame: pd.DataFrame | pa.Table) -> Path:
    """Append job rows to ``root``/jobs/ as one new file; return it (latest rows win on read)."""
    base = Path(root)
    return _files.write_atomic(jobs_table(frame), base, base / JOBS_DIR)


_EPOCH_TS = pd.Timestamp(0, tz="UTC")


def _sorted(table: pa.Table) -> pa.Table:
    """``table`` sorted by (job_id, seq): tight job_id statistics per row group for pruning."""
    return table.sort_by([("job_id", "ascending"), ("seq", "ascending")])


def read(
    root: str | Path,
    jobs: Iterable[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
    columns: Sequence[str] | None = None,
    on_bad_file: BadFile = "raise",
) -> pd.DataFrame:
    """Return the observations of ``root`` sorted by (job_id, seq).

    ``jobs`` keeps those job ids; ``since`` (inclusive) and ``until`` (exclusive) bound ``ts``
    (naive times are UTC) and prune date partitions unopened; ``columns`` selects columns
    (job_id and seq always come). job_id and status are categoricals, percentage_complete is
    ``double[pyarrow]`` (null and NaN stay apart), http_status Int16. A bad file raises
    DatasetError (SchemaVersionError when newer), or is skipped with a ReplayWarning when
    ``on_bad_file="skip"``.
    """
    base = _swap.recovered(root)
    mode = _files.bad_file_mode(on_bad_file)
    names = selected_columns(columns)
    lo, hi = _bound(since, "since"), _bound(until, "until")
    expr = _filter(_job_list(jobs), lo, hi)
    return observations_frame(
        _retrying(
            lambda: _scan(
                _live(base, _files.partition_footers(base, mode, lo, hi)), names, expr, mode
            )
        )
    )


def _live(base: Path, footers: list[Footer]) -> list[Footer]:
    """``footers`` without compacted sources, which are deleted when no compaction runs (left by
    one that died between its rename and its deletions)."""
    _swap.drop_replaced(base, footers)
    return _files.live_footers(footers)


def _bound(value: dt.datetime | dt.date | str | None, name: str) -> int | None:
    """``value`` as microseconds since the epoch (UTC); naive times and dates are UTC."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
        valid = not pd.isna(stamp)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise UsageError(
            f"{name}={value!r} is not a time: give a datetime or an ISO 8601 string such as "
            f"'2026-01-05T23:00:00Z' (naive times are UTC)",
            key=name,
        ) from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int((stamp - _EPOCH_TS) // pd.Timedelta(microseconds=1))


def _filter(jobs: list[str] | None, lo: int | None, hi: int | None) -> ds.Expression | None:
    """The pushdown filter: job_id in ``jobs`` and ``lo <= ts < hi``."""
    parts = []
    if jobs is not None:
        parts.append(ds.field("job_id").isin(pa.array(jobs, pa.string())))
    if lo is not None:
        parts.append(ds.field("ts") >= pa.scalar(lo, _UTC_US))
    if hi is not None:
        parts.append(ds.field("ts") < pa.scalar(hi, _UTC_US))
    if not parts:
        return None
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr


def _retrying(scan: _Scan) -> pa.Table:
    """Run ``scan`` again when a file vanished under it: a concurrent compaction deleted it after
    renaming its output into place, so listing again finds the rows there."""
    for attempt in range(_RETRIES):
        try:
            return scan()
        except FileNotFoundError as err:
            if isinstance(err, DatasetError) or attempt == _RETRIES - 1:
                raise
            time.sleep(min(0.05, 0.001 * attempt))  # let the compaction finish its deletions
    raise AssertionError("unreachable")  # pragma: no cover


def _scan(
    footers: list[Footer], names: list[str], expr: ds.Expression | None, mode: BadFile = "raise"
) -> pa.Table:
    """Read ``names`` of the rows matching ``expr``, opening only row groups that may match.

    A file whose footer is sound but whose data is not fails the scan: it is then found, named,
    and raised as DatasetError (or skipped with a warning in skip mode).
    """
    fragments = [f.fragment for f in footers] if expr is None else _pruned(footers, expr)
    try:
        return _dataset(fragments).to_table(columns=names, filter=expr)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError):
        good = _readable(fragments, names, expr, mode)
    return _dataset(good).to_table(columns=names, filter=expr)


def _dataset(fragments: list[ds.ParquetFileFragment]) -> ds.FileSystemDataset:
    return ds.FileSystemDataset(fragments, _READ_SCHEMA, _files.FORMAT, _files.FILESYSTEM)


def _readable(
    fragments: list[ds.ParquetFileFragment],
    names: list[str],
    expr: ds.Expression | None,
    mode: BadFile,
) -> list[ds.ParquetFileFragment]:
    """The fragments that scan cleanly one by one; raise DatasetError for the first that does not
    (in skip mode: warn and leave it out)."""
    good = []
    for fragment in fragments:
        try:
            _dataset([fragment]).to_table(columns=names, filter=expr)
        except FileNotFoundError:
            raise
        except (pa.ArrowException, OSError) as err:
            _files.skip_or_raise(
                DatasetError(
                    f"{fragment.path} has a sound footer but its data cannot be read ({err}): "
                    f"the file is damaged; move it out of the recording folder, or read with "
                    f"on_bad_file='skip'",
                    path=fragment.path,
                ),
                mode,
            )
        else:
            good.append(fragment)
    return good


def _pruned(footers: list[Footer], expr: ds.Expression) -> list[ds.ParquetFileFragment]:
    """Fragments of just the row groups whose statistics allow rows matching ``expr``."""
    kept = [(f, f.row_groups(expr, OBSERVATIONS)) for f in footers]
    return [f.subset(groups) for f, groups in kept if groups]


@dataclass(frozen=True)
class ReadPlan:
    """What ``read`` opens for a query: files and row groups, out of those the dataset has."""

    files: int
    files_read: int
    row_groups: int
    row_groups_read: int


def plan_read(
    root: str | Path,
    jobs: Iterable[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
) -> ReadPlan:
    """Count the files and row groups ``read`` opens for these filters (partition pruning, then
    row-group statistics), out of all of them."""
    base = _swap.recovered(root)
    lo, hi = _bound(since, "since"), _bound(until, "until")
    expr = _filter(_job_list(jobs), lo, hi)
    every = _files.observation_footers(base, "raise")
    chosen = _files.observation_footers(base, "raise", lo, hi)
    groups = [
        len(f.row_groups(expr, OBSERVATIONS)) if expr is not None else f.fragment.num_row_groups
        for f in chosen
    ]
    return ReadPlan(
        files=len(every),
        files_read=sum(1 for g in groups if g),
        row_groups=sum(f.fragment.num_row_groups for f in every),
        row_groups_read=sum(groups),
    )


def _job_list(jobs: Iterable[str] | None) -> list[str] | None:
    """The wanted job ids, sorted and unique (a single string is one job id)."""
    if jobs is None:
        return None
    return sorted({str(j) for j in ([jobs] if isinstance(jobs, str) else jobs)})


def read_jobs(root: str | Path, *, on_bad_file: BadFile = "raise") -> pd.DataFrame:
    """Return one row per job_id, sorted by job_id: its latest row by ``last_seen``.

    The recorder appends an updated row each time it learns more about a job. Ties on
    ``last_seen`` (and null ``last_seen``, taken as oldest) go to the later file in file order
    (the order of file names, which start with a write-time stamp), then to the later row.
    """
    base = _swap.recovered(root)
    mode = _files.bad_file_mode(on_bad_file)
    table = latest_rows(_retrying(lambda: _jobs_table(base, mode)))
    columns = {
        name: strings(table[name])
        if pa.types.is_string(table[name].type)
        else table[name].to_pandas(types_mapper=_INT64.get).array
        for name in JOBS.names
    }
    return pd.DataFrame(columns, copy=False)


_INT64 = {pa.int64(): pd.Int64Dtype()}


def _jobs_table(base: Path, mode: BadFile) -> pa.Table:
    """Every live job row in file order, job_id decoded to plain strings."""
    found = _files.folder_footers(base / JOBS_DIR, "jobs", mode)
    tables = [f.fragment.to_table(schema=_READ_JOBS_SCHEMA) for f in _live(base, found)]
    table = pa.concat_tables(tables) if tables else _READ_JOBS_SCHEMA.empty_table()
    return table.set_column(0, "job_id", table["job_id"].cast(pa.string()))


def next_seq(root: str | Path) -> dict[str, int]:
    """For a restarted recorder: ``max(seq) + 1`` per job_id already in the dataset."""
    base = _swap.recovered(root)
    table = _retrying(
        lambda: _scan(_live(base, _files.partition_footers(base, "raise")), ["job_id", "seq"], None)
    )
    grouped = (
        table.set_column(0, "job_id", table["job_id"].cast(pa.string()))
        .group_by("job_id")
        .aggregate([("seq", "max")])
    )
    ids = grouped["job_id"].to_pylist()
    return dict(zip(ids, (np.asarray(grouped["seq_max"]) + 1).tolist(), strict=True))


def dataset_files(root: str | Path) -> list[Path]:
    """Every visible data file of the recording (observations by date, then jobs), in order."""
    base = _swap.recovered(root)
    files = [
        path
        for _, folder in _files.partition_dirs(base, lambda e: None)
        for path in _files.data_files(folder)
    ]
    return files + _files.data_files(base / JOBS_DIR)
