"""Benchmark datasets: simulated and recorder-layout recordings, cached under ``benchmarks/.data/``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

__all__ = [
    "COMPACT_EVERY_S",
    "DATA_DIR",
    "LAYOUTS",
    "Dataset",
    "layout_of",
    "recorded",
    "sample_of",
    "simulated",
]

DATA_DIR = Path(__file__).resolve().parent / ".data"
_STAMP = "stamp.json"
# The modules whose code decides the bytes of a recording: a change rebuilds the cache (the
# store's read path, store/_frames.py, does not).
_SOURCES = (
    "simulate",
    "schema.py",
    "payload.py",
    "store/_compact.py",
    "store/_dataset.py",
    "store/files.py",
    "store/writer.py",
)
#: Simulated seconds between the recorder-layout build's compactions (the recorder's default).
COMPACT_EVERY_S = 600
_SECOND_US = 1_000_000


@dataclass(frozen=True)
class Dataset:
    """A recording on disk and its size."""

    name: str
    path: Path
    n_jobs: int
    n_rows: int
    built_s: float = 0.0

    @property
    def observations(self) -> Path:
        """The folder of the observations dataset."""
        return self.path / "observations"


def simulated(n_jobs: int, seed: int, name: str, root: Path = DATA_DIR) -> Dataset:
    """Return the simulated recording of ``n_jobs`` jobs from ``seed``, building it when not cached."""
    path = root / f"sim-{n_jobs}jobs-seed{seed}"
    fingerprint = _fingerprint()
    cached = _cached(path, name, fingerprint)
    if cached is not None:
        return cached
    from replay.simulate import simulate

    start = time.perf_counter()
    with _building(path) as tmp:
        simulate(n_jobs, seed=seed).write(tmp)
    return _stamped(path, name, n_jobs, time.perf_counter() - start, fingerprint)


def recorded(n_jobs: int, seed: int, name: str, root: Path = DATA_DIR) -> Dataset:
    """Return the fleet of ``simulated(n_jobs, seed)`` written the way ``replay record`` writes it.

    Rows are replayed in poll-time order (every row sorted by ``ts``, jobs interleaved) and
    flushed once per simulated second through the recorder's own ``WriteBuffer`` (one file per
    second and UTC date, as ``flush_interval=1`` leaves them), job rows when a job is first
    seen and when it ends; every ``COMPACT_EVERY_S`` simulated seconds, and once at the end,
    the buffer's own compaction merges the small files, as the recorder does. The build skips
    the store's fsync calls (``_no_fsync``): they make files durable, not different, and
    twenty thousand of them would dominate the build.
    """
    path = root / f"rec-{n_jobs}jobs-seed{seed}"
    fingerprint = _fingerprint() + "-recorded"
    cached = _cached(path, name, fingerprint)
    if cached is not None:
        return cached
    from replay.simulate import simulate

    start = time.perf_counter()
    fleet = simulate(n_jobs, seed=seed)
    with _building(path) as tmp, _no_fsync():
        _record(fleet.observations(), fleet.jobs, tmp)
    return _stamped(path, name, n_jobs, time.perf_counter() - start, fingerprint)


def _record(observations: pd.DataFrame, jobs: pd.DataFrame, out: Path) -> None:
    """Write ``observations`` and ``jobs`` to ``out`` one simulated second at a time."""
    from replay.schema import observations_table
    from replay.store.writer import WriteBuffer

    rows, row_s = _by_second(observations_table(observations, source="simulated"), "ts")
    events, event_s = _by_second(_job_events(jobs), "last_seen")
    buffer = WriteBuffer(out)
    buffer.open()
    seconds = np.unique(row_s)
    row_at = np.searchsorted(row_s, np.r_[seconds, seconds[-1] + 1]) if len(seconds) else []
    event_at = np.searchsorted(event_s, np.r_[seconds, seconds[-1] + 1]) if len(seconds) else []
    next_compaction = int(seconds[0]) + COMPACT_EVERY_S if len(seconds) else 0
    for i, sec in enumerate(seconds.tolist()):
        if sec >= next_compaction:
            buffer.compact()
            next_compaction = sec + COMPACT_EVERY_S
        changed = events.slice(event_at[i], event_at[i + 1] - event_at[i])
        buffer.write(
            rows.slice(row_at[i], row_at[i + 1] - row_at[i]),
            changed if changed.num_rows else None,
        )
    buffer.compact()


@contextlib.contextmanager
def _no_fsync() -> Iterator[None]:
    """The store's writes without their fsync calls (same bytes, no durability wait)."""
    from replay.store import files

    saved = files._fsync_path, files.fsync_dir
    files._fsync_path = files.fsync_dir = lambda path: None  # type: ignore[assignment]
    try:
        yield
    finally:
        files._fsync_path, files.fsync_dir = saved


def _by_second(table: pa.Table, column: str) -> tuple[pa.Table, np.ndarray]:
    """``table`` sorted (stably) by the whole second of ``column``, and those seconds."""
    second = table[column].cast(pa.int64()).to_numpy() // _SECOND_US
    order = np.argsort(second, kind="stable")
    return table.take(pa.array(order)), second[order]


def _job_events(jobs: pd.DataFrame) -> pa.Table:
    """The job rows a recorder writes: one when a job is first seen (no outcome yet, last seen
    then), one when it ends (the full row)."""
    from replay.schema import jobs_table

    ended = jobs_table(jobs)
    names = ended.column_names
    seen = ended.set_column(names.index("last_seen"), "last_seen", ended["first_seen"])
    seen = seen.set_column(
        names.index("outcome"),
        "outcome",
        pa.nulls(seen.num_rows, seen.schema.field("outcome").type),
    )
    return pa.concat_tables([seen, ended])


def layout_of(path: Path) -> tuple[int, int]:
    """(files, row groups) of the observations of the recording at ``path``."""
    files = sorted((path / "observations").rglob("*.parquet"))
    return len(files), sum(pq.ParquetFile(f).num_row_groups for f in files)


#: The two layouts a benchmark dataset comes in, by name: how each is built.
LAYOUTS = {"simulated": simulated, "recorder": recorded}


def sample_of(full: Dataset, n_jobs: int, seed: int, root: Path = DATA_DIR) -> Dataset:
    """Return a sample of ``n_jobs`` whole jobs of ``full`` (every row of each chosen job)."""
    path = root / f"{full.path.name}-sample{n_jobs}"
    # The sample is rebuilt whenever the full recording was.
    fingerprint = hashlib.sha256((full.path / _STAMP).read_bytes()).hexdigest()[:16]
    cached = _cached(path, f"{full.name} sample", fingerprint)
    if cached is not None:
        return cached
    start = time.perf_counter()
    dataset = ds.dataset(full.observations, format="parquet", partitioning="hive")
    job_ids = pc.unique(dataset.to_table(columns=["job_id"])["job_id"]).sort()
    rng = np.random.default_rng(seed)
    chosen = job_ids.take(pa.array(np.sort(rng.choice(len(job_ids), n_jobs, replace=False))))
    sample = dataset.to_table(filter=pc.field("job_id").isin(chosen))
    with _building(path) as tmp:
        (tmp / "observations").mkdir(parents=True)
        pq.write_table(sample, tmp / "observations" / "part-0.parquet")
    return _stamped(path, f"{full.name} sample", n_jobs, time.perf_counter() - start, fingerprint)


def _fingerprint() -> str:
    """A hash of the simulator's and store's code, so a changed simulator rebuilds the cache."""
    import replay

    package = Path(replay.__file__).parent
    digest = hashlib.sha256(replay.__version__.encode())
    for name in _SOURCES:
        source = package / name
        for path in sorted(source.rglob("*.py")) if source.is_dir() else [source]:
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached(path: Path, name: str, fingerprint: str) -> Dataset | None:
    stamp = path / _STAMP
    if not stamp.is_file():
        return None
    meta = json.loads(stamp.read_text())
    if meta.get("fingerprint") != fingerprint:
        return None
    return Dataset(name, path, meta["n_jobs"], meta["n_rows"], 0.0)


class _building:
    """A scratch folder that replaces ``path`` only when the build finished."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".building")

    def __enter__(self) -> Path:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        return self.tmp

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self.tmp.rename(self.path)


def _stamped(path: Path, name: str, n_jobs: int, built_s: float, fingerprint: str) -> Dataset:
    n_rows = ds.dataset(path / "observations", format="parquet", partitioning="hive").count_rows()
    meta = {"fingerprint": fingerprint, "n_jobs": n_jobs, "n_rows": n_rows, "built_s": built_s}
    (path / _STAMP).write_text(json.dumps(meta))
    return Dataset(name, path, n_jobs, n_rows, built_s)
