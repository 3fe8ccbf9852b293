"""The recorder's write buffer: observation rows and job rows held as columns until flushed."""

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
from replay.schema import JOBS, OBSERVATIONS, jobs_table, observations_table
from replay.store import _swap

#: Rows of one merged file: a merge holds about this many rows in memory, whatever the rate.
COMPACT_ROWS = 250_000

__all__ = [
    "COMPACT_ROWS",
    "JobRow",
    "ObservationBuffer",
    "WriteBuffer",
    "dataset_state",
    "job_rows",
    "jobs_arrow",
    "labels_json",
    "micros",
    "now_us",
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
        """Add one row; columns the row lacks are null."""
        for name, column in self._columns.items():
            column.append(row.get(name))

    def take(self) -> pa.Table | None:
        """The buffered rows as an Arrow table of the observations schema (None when empty)."""
        if not len(self):
            return None
        columns, self._columns = self._columns, {name: [] for name in OBSERVATIONS.names}
        arrays = [pa.array(columns[f.name], type=f.type, from_pandas=False) for f in OBSERVATIONS]
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
    """JobRow values as an Arrow table of the jobs schema."""
    values = [row.as_dict() for row in rows]
    arrays = [pa.array([v[f.name] for v in values], type=f.type) for f in JOBS]
    return pa.Table.from_arrays(arrays, schema=JOBS)


class WriteBuffer:
    """Observations and changed job rows waiting for the next flush to the dataset at ``root``.

    A flush writes observations first and job rows second, each through the store's atomic
    writer, so a crash between them leaves a readable dataset and the restart re-polls the job.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.observations = ObservationBuffer()
        self._dirty: dict[str, JobRow] = {}
        self._lock = threading.Lock()
        self.rows_written = 0
        self.files_written = 0

    def touch(self, row: JobRow) -> None:
        """Mark a job row as changed so the next flush writes it."""
        self._dirty[row.job_id] = row

    def pending(self) -> int:
        """Rows (observations and jobs) waiting for a flush."""
        return len(self.observations) + len(self._dirty)

    def take(self) -> tuple[pa.Table | None, pa.Table | None]:
        """Detach what is waiting: (observations, jobs); call on the thread that appends."""
        observations = self.observations.take()
        dirty, self._dirty = self._dirty, {}
        return observations, (jobs_arrow(dirty.values()) if dirty else None)

    def write(self, observations: pa.Table | None, jobs: pa.Table | None) -> None:
        """Write detached tables to the dataset (safe to call from a worker thread)."""
        with self._lock:
            try:
                if observations is not None:
                    files = store.write_observations(self.root, observations_table(observations))
                    self.rows_written += observations.num_rows
                    self.files_written += len(files)
                if jobs is not None:
                    store.write_jobs(self.root, jobs_table(jobs))
                    self.files_written += 1
            except OSError as err:
                raise RecorderError(
                    f"cannot write the recording under {self.root}: {err.strerror or err}; "
                    "check free space and permissions, then run the same command again "
                    "(the dataset continues where it stopped)",
                    path=str(self.root),
                ) from err

    def flush(self) -> None:
        """Write everything waiting, now, on this thread."""
        self.write(*self.take())

    def open(self) -> tuple[dict[str, int], dict[str, JobRow]]:
        """Create the output folder if needed; finish what a writer that died left half-done;
        return :func:`dataset_state` of it."""
        if self.root.exists() and not self.root.is_dir():
            raise RecorderError(
                f"output {self.root} is a file; give a folder for the recording",
                path=str(self.root),
            )
        self.root.mkdir(parents=True, exist_ok=True)
        _swap.repaired(self.root)
        return dataset_state(self.root)

    async def flush_every(
        self, interval: float, stopping: asyncio.Event, compact_every: float
    ) -> None:
        """Write what is waiting every ``interval`` seconds (in a worker thread) and merge the
        small files every ``compact_every`` seconds, until ``stopping`` is set."""
        last_compaction = time.monotonic()
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)
            if stopping.is_set():
                return
            await asyncio.to_thread(self.write, *self.take())
            if time.monotonic() - last_compaction >= compact_every:
                last_compaction = time.monotonic()
                await asyncio.to_thread(self.compact)

    def compact(self) -> None:
        """Merge the small files written so far (one flush each) into few; readers undisturbed.

        Merged files hold up to COMPACT_ROWS rows, so a merge's memory stays bounded however
        fast the recording grows. Merging only saves readers time: when it cannot run (another
        compaction holds the recording, a foreign file sits in it) this warns and the recording
        goes on.
        """
        with self._lock:
            if self.files_written <= 2:
                return
            try:
                store.compact(self.root, target_rows=COMPACT_ROWS)
            except DatasetError as err:
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
