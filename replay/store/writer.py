"""The store's writer: rows held until flushed, Arrow-safe values, imports written whole."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from replay import store
from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    RecorderError,
    ReplayWarning,
    UsageError,
)
from replay.schema import JOBS, OBSERVATIONS, jobs_table
from replay.store import _owners, _swap
from replay.store import files as _files
from replay.store._owners import Shard
from replay.store._values import JOB_CELLS, OBSERVATION_CELLS, escaped_text, safe_text

#: Rows of one merged file: a merge holds about this many rows in memory, whatever the rate.
COMPACT_ROWS = 250_000

__all__ = [
    "COMPACT_ROWS",
    "JobRow",
    "ObservationBuffer",
    "Shard",
    "WriteBuffer",
    "dataset_state",
    "escaped_text",
    "imported_digests",
    "job_rows",
    "jobs_arrow",
    "labels_json",
    "micros",
    "now_us",
    "safe_text",
    "write_import",
]


def now_us() -> int:
    """Now, in microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000


def micros(ts: datetime | float | None) -> int:
    """``ts`` (an aware datetime, epoch seconds, or None for now) in epoch microseconds."""
    if ts is None:
        return now_us()
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise UsageError(
                f"ts {ts.isoformat()!r} has no time zone; pass an aware datetime, "
                "e.g. datetime.now(timezone.utc)"
            )
        return int(ts.timestamp() * 1_000_000)
    if isinstance(ts, int | float) and not isinstance(ts, bool) and math.isfinite(ts):
        return int(ts * 1_000_000)
    raise UsageError(f"ts must be an aware datetime or epoch seconds, got {ts!r}")


def dataset_state(root: Path) -> tuple[dict[str, int], dict[str, JobRow]]:
    """What a run continuing the recording at ``root`` starts from: the next ``seq`` of each
    job and the job rows written so far (both empty for a new folder)."""
    try:
        seq = dict(store.next_seq(root))
        known = job_rows(jobs_table(store.read_jobs(root)))
    except DatasetNotFoundError:
        return {}, {}
    return seq, {row.job_id: row for row in known}


def labels_json(labels: Mapping[str, str] | None) -> str:
    """The ``labels`` column value: a JSON object with sorted keys."""
    return json.dumps(dict(labels or {}), sort_keys=True, ensure_ascii=False)


class ObservationBuffer:
    """Observation rows kept column by column (cheap to append, one Arrow build per flush).

    ``ts`` values are integer microseconds since the epoch (UTC).
    """

    __slots__ = ("_columns",)

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in OBSERVATIONS.names}

    def __len__(self) -> int:
        return len(self._columns["job_id"])

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one row (columns it lacks are null, strings made Arrow-safe); raise UsageError,
        adding nothing, when a value does not fit its column."""
        values = [
            None if (value := row.get(name)) is None else cell(value)
            for name, cell in OBSERVATION_CELLS
        ]
        for column, value in zip(self._columns.values(), values, strict=True):
            column.append(value)

    def take(self) -> pa.Table | None:
        """The buffered rows as an Arrow table of the observations schema (None when empty),
        detached from the buffer once the table is built."""
        if not len(self):
            return None
        arrays = [
            pa.array(self._columns[f.name], type=f.type, from_pandas=False) for f in OBSERVATIONS
        ]
        self._columns = {name: [] for name in OBSERVATIONS.names}
        return pa.Table.from_arrays(arrays, schema=OBSERVATIONS)


@dataclass(slots=True)
class JobRow:
    """One row of the ``jobs`` table, as the recorder keeps it while following the job."""

    job_id: str
    url: str | None = None
    labels: str = "{}"
    size_bytes: int | None = None
    first_seen: int | None = None
    last_seen: int | None = None
    outcome: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row's values by column name."""
        return {name: getattr(self, name) for name in JOBS.names}


def job_rows(table: pa.Table) -> list[JobRow]:
    """The rows of a jobs-schema Arrow table as JobRow values (timestamps in microseconds)."""
    for name in ("first_seen", "last_seen"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(pa.int64()))
    return [JobRow(**{**row, "labels": row["labels"] or "{}"}) for row in table.to_pylist()]


def jobs_arrow(rows: Iterable[JobRow]) -> pa.Table:
    """JobRow values as an Arrow table of the jobs schema (strings made Arrow-safe)."""
    values = [row.as_dict() for row in rows]
    arrays = [
        pa.array([None if v[name] is None else cell(v[name]) for v in values], type=field.type)
        for (name, cell), field in zip(JOB_CELLS, JOBS, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=JOBS)


class WriteBuffer:
    """Observations and changed job rows waiting for the next flush to the dataset at ``root``.

    A flush writes observations first (one file per UTC date) and job rows second, each through
    the store's atomic writer, so a crash between them leaves a readable dataset and the restart
    re-polls the job. A flush that fails keeps what it could not write for the next one.
    ``open`` takes the folder for this process (``shard``: the part of the fleet it writes).
    """

    def __init__(
        self, root: str | Path, *, shard: Shard | None = None, writer: str = "record"
    ) -> None:
        self.root = Path(root)
        self.observations = ObservationBuffer()
        self._dirty: dict[str, JobRow] = {}
        self._lock = threading.Lock()
        self._kept_lock = threading.Lock()
        self._kept: tuple[pa.Table | None, pa.Table | None] = (None, None)
        self._failing = False
        self._shard = shard
        self._writer = writer
        self._claim: _owners.Claim | None = None
        self.rows_written = 0
        self.files_written = 0

    def touch(self, row: JobRow) -> None:
        """Mark a job row as changed so the next flush writes it."""
        self._dirty[row.job_id] = row

    def pending(self) -> int:
        """Rows (observations and jobs) waiting for a flush, those a failed flush kept included."""
        kept = _rows(self._kept[0]) + _rows(self._kept[1])
        return len(self.observations) + len(self._dirty) + kept

    def take(self) -> tuple[pa.Table | None, pa.Table | None]:
        """Detach what is waiting, after what a failed flush kept: (observations, jobs); call on
        the thread that appends."""
        observations = self.observations.take()
        dirty, self._dirty = self._dirty, {}
        jobs = jobs_arrow(dirty.values()) if dirty else None
        with self._kept_lock:
            (kept_observations, kept_jobs), self._kept = self._kept, (None, None)
        return _joined(kept_observations, observations), _joined(kept_jobs, jobs)

    def write(self, observations: pa.Table | None, jobs: pa.Table | None) -> None:
        """Write detached tables to the dataset (safe to call from a worker thread).

        When a write fails, what was not written yet is kept for the next :meth:`take` and
        RecorderError says so; nothing written is written twice.
        """
        with self._lock:
            days = [] if observations is None else _files.split_by_day(observations)
            try:
                while days:
                    files = store.write_observations(self.root, days[0][1])
                    self.rows_written += days[0][1].num_rows
                    self.files_written += len(files)
                    days.pop(0)
                if jobs is not None:
                    store.write_jobs(self.root, jobs)
                    self.files_written += 1
            except OSError as err:
                left = _joined(*(part for _, part in days)) if days else None
                observations_kept, jobs_kept = self._keep(left, jobs)
                raise RecorderError(
                    f"cannot write the recording under {self.root}: {err.strerror or err}; "
                    f"{observations_kept} observation(s) and {jobs_kept} job row(s) not written "
                    "are kept in memory for the next flush: check free space and permissions "
                    "(a run stopped now continues where the dataset stopped when the same "
                    "command runs again)",
                    path=str(self.root),
                ) from err

    def _keep(self, observations: pa.Table | None, jobs: pa.Table | None) -> tuple[int, int]:
        """Put tables a flush could not write back in front of what waits; return the rows kept
        (observations, job rows)."""
        with self._kept_lock:
            kept_observations, kept_jobs = self._kept
            self._kept = (_joined(observations, kept_observations), _joined(jobs, kept_jobs))
            return _rows(self._kept[0]), _rows(self._kept[1])

    def write_or_keep(self, observations: pa.Table | None, jobs: pa.Table | None) -> bool:
        """:meth:`write`, warning instead of raising when it fails (once until a flush works
        again, and once when one does); return whether everything was written."""
        try:
            self.write(observations, jobs)
        except RecorderError as err:
            if not self._failing:
                self._failing = True
                warnings.warn(f"{err}; the recording goes on", ReplayWarning, stacklevel=2)
            return False
        if self._failing:
            self._failing = False
            warnings.warn(
                f"the recording under {self.root} is written again: the rows kept in memory "
                "reached the disk",
                ReplayWarning,
                stacklevel=2,
            )
        return True

    def flush(self) -> None:
        """Write everything waiting, now, on this thread (RecorderError when it cannot: the rows
        stay kept, and the next flush tries again)."""
        self.write(*self.take())

    def open(self) -> tuple[dict[str, int], dict[str, JobRow]]:
        """Create the output folder if needed and take it for this process (RecorderError when
        another live writer's shard overlaps); finish what a writer that died left half-done;
        return :func:`dataset_state` of it."""
        if self.root.exists() and not self.root.is_dir():
            raise RecorderError(
                f"output {self.root} is a file; give a folder for the recording",
                path=str(self.root),
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if self._claim is None:
            self._claim = _owners.claim(self.root, self._shard, self._writer)
        try:
            _swap.repaired(self.root)
            return dataset_state(self.root)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Give the folder up for other writers (after the last flush)."""
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    async def flush_every(
        self, interval: float, stopping: asyncio.Event, compact_every: float
    ) -> None:
        """Write what is waiting every ``interval`` seconds (in a worker thread) and merge the
        small files every ``compact_every`` seconds, until ``stopping`` is set. A flush that
        fails warns, keeps its rows and the next one tries again."""
        last_compaction = time.monotonic()
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)
            if stopping.is_set():
                return
            await asyncio.to_thread(self.write_or_keep, *self.take())
            if time.monotonic() - last_compaction >= compact_every:
                last_compaction = time.monotonic()
                await asyncio.to_thread(self.compact)

    def compact(self) -> None:
        """Merge the small files written so far (one flush each) into few; readers undisturbed.

        Merged files hold up to COMPACT_ROWS rows, so a merge's memory stays bounded however
        fast the recording grows. Merging only saves readers time: when it cannot run (another
        compaction holds the recording, a foreign file sits in it, the disk is full) this warns
        and the recording goes on.
        """
        with self._lock:
            if self.files_written <= 2:
                return
            try:
                store.compact(self.root, target_rows=COMPACT_ROWS)
            except (DatasetError, OSError) as err:
                warnings.warn(
                    f"the small files of {self.root} were not merged ({err}); the recording "
                    "goes on, and the next merge (or replay.store.compact) tries again",
                    ReplayWarning,
                    stacklevel=2,
                )
                return
            finally:
                # Give the merge's buffers back to the OS: the allocator would keep them.
                pa.default_memory_pool().release_unused()
            self.files_written = 0


def _rows(table: pa.Table | None) -> int:
    return 0 if table is None else table.num_rows


def _joined(*tables: pa.Table | None) -> pa.Table | None:
    """The rows of ``tables`` (None ones skipped) in order, or None when there are none."""
    present = [t for t in tables if t is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else pa.concat_tables(present)


def imported_digests(root: Path) -> set[str]:
    """The SHA-256 digests of the content of every file imported into ``root`` so far."""
    folder = root / _files.IMPORTS_DIR
    return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()


def write_import(
    root: Path,
    digest: str,
    record: Mapping[str, Any],
    observations: pa.Table | None,
    jobs: pa.Table | None,
) -> None:
    """Append one imported file's rows and its import record (``_imports/<digest>.json``) as one
    change: a crash leaves all of them or none once the next open has run, so importing the file
    again (skipped by its digest) never adds its rows twice. Call between ``open`` and ``close``
    of a WriteBuffer on ``root``."""
    staged = [
        _files.stage_table(part, root, root / _files.OBSERVATIONS_DIR / _files.partition_name(day))
        for day, part in _files.split_by_day(_by_job_and_seq(observations))
    ]
    if jobs is not None:
        staged.append(_files.stage_table(jobs_table(jobs), root, root / _files.JOBS_DIR))
    content = json.dumps(dict(record), sort_keys=True, ensure_ascii=True).encode()
    staged.append(_files.stage_bytes(content, root, root / _files.IMPORTS_DIR, f"{digest}.json"))
    with _swap.exclusive(root, wait=True):
        _swap.publish(root, _swap.Swap(tuple(staged)))


def _by_job_and_seq(table: pa.Table | None) -> pa.Table:
    """``table`` (None: no rows) in the observations schema, sorted by (job_id, seq)."""
    if table is None:
        return OBSERVATIONS.empty_table()
    return table.sort_by([("job_id", "ascending"), ("seq", "ascending")])
