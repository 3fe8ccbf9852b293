"""A real dask LocalCluster (two worker processes) and recordings whose jobs straddle UTC midnight."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from distributed import Client, LocalCluster

from replay.store import write_jobs, write_observations

#: Statuses drawn for the fleet: every enum value, OneDrive's, and one nobody knows.
STATUSES = np.array(
    [
        "notStarted",
        "inProgress",
        "completed",
        "failed",
        "waiting",
        "updating",
        "deletePending",
        "deleteFailed",
        "cancelled",
        "bogus",
    ],
    dtype=object,
)
_STATUS_P = np.array([0.2, 0.35, 0.15, 0.05, 0.08, 0.05, 0.03, 0.02, 0.04, 0.03])
MIDNIGHT = pd.Timestamp("2026-01-06T00:00:00Z")


def fleet_frame(n_jobs: int, seed: int, mean_len: int = 12) -> pd.DataFrame:
    """Observations of ``n_jobs`` jobs starting in the hour before UTC midnight, full of quirks.

    Statuses come in runs (with nulls, unknown values, changes after terminal ones), percentages
    with nulls, NaN and out-of-range values, 303/404/429/500 responses, error codes, and clocks
    that sometimes step back.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 2 * mean_len, n_jobs)
    n = int(lengths.sum())
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    seq = np.arange(n) - np.repeat(starts, lengths)
    first_us = (MIDNIGHT - pd.Timedelta(hours=1)).value // 1000 + rng.integers(0, 3600e6, n_jobs)
    step = rng.integers(1_000_000, 900_000_000, n)
    step[rng.random(n) < 0.01] *= -1
    step[starts] = 0
    elapsed = np.cumsum(step) - np.repeat(np.cumsum(step)[starts], lengths)
    drawn = rng.choice(len(STATUSES), n, p=_STATUS_P)
    keep = (rng.random(n) < 0.6) & (seq > 0)
    carried = np.maximum.accumulate(np.where(keep, 0, np.arange(n)))
    status = STATUSES[drawn[carried]].copy()
    status[rng.random(n) < 0.08] = None
    pct = np.minimum(seq * 9.0, 100.0) + rng.normal(0, 4, n).round()
    pct[rng.random(n) < 0.01] = np.nan
    http = rng.choice(
        [200, 202, 303, 404, 401, 429, 500], n, p=[0.5, 0.38, 0.02, 0.03, 0.01, 0.03, 0.03]
    )
    return pd.DataFrame(
        {
            "job_id": [f"job-{j:06d}" for j in np.repeat(rng.permutation(n_jobs), lengths)],
            "seq": seq.astype(np.int32),
            "ts": pd.to_datetime(np.repeat(first_us, lengths) + elapsed, unit="us", utc=True),
            "status": status,
            "percentage_complete": pd.arrays.ArrowExtensionArray(
                pa.array(pct, mask=rng.random(n) < 0.2, type=pa.float64())
            ),
            "http_status": http.astype(np.int16),
            "error_code": np.where(rng.random(n) < 0.05, "accessDenied", None),
            "source": "simulated",
        }
    )


def write_fleet(root: Path, n_jobs: int, seed: int, *, files: int = 3) -> Path:
    """Write a fleet as a recording in ``files`` appends (several files per date) plus jobs rows."""
    frame = fleet_frame(n_jobs, seed)
    for chunk in np.array_split(np.arange(len(frame)), files):
        write_observations(root, frame.iloc[chunk])
    ids = np.unique(frame["job_id"].to_numpy(dtype=object))
    outcome = np.where(np.arange(len(ids)) % 7 == 0, "timed_out", None)
    write_jobs(root, pd.DataFrame({"job_id": ids, "outcome": outcome}))
    return root


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes, one thread each, dashboard on a free port; closed after the session."""
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture(scope="session")
def client(cluster: LocalCluster) -> Iterator[Client]:
    """A client of the session's cluster, the default scheduler while the session runs."""
    with Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording of 3000 jobs straddling UTC midnight: two date partitions, three files each."""
    return write_fleet(tmp_path_factory.mktemp("fleet"), 3000, seed=11)


@pytest.fixture(scope="session")
def make_fleet() -> Callable[..., pd.DataFrame]:
    """Factory: ``make_fleet(n_jobs, seed)`` -> an observations frame full of quirks."""
    return fleet_frame


@pytest.fixture(scope="session")
def record_fleet() -> Callable[..., Path]:
    """Factory: ``record_fleet(root, n_jobs, seed, files=3)`` -> a recording folder."""
    return write_fleet
