"""Benchmark datasets: simulated recordings cached under ``benchmarks/.data/`` by size and seed."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

__all__ = ["DATA_DIR", "Dataset", "sample_of", "simulated"]

DATA_DIR = Path(__file__).resolve().parent / ".data"
_STAMP = "stamp.json"
# The modules whose code decides the bytes of a simulated recording: a change rebuilds the cache.
_SOURCES = ("simulate", "store", "schema.py", "payload.py")


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
