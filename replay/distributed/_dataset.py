"""The replay engine on dask: the dataset as a dask DataFrame, shuffled by job, engine per partition.

``read(DIR)`` gives the observations as a dask DataFrame; ``validate``, ``summarize``,
``transitions`` and ``validate_and_summarize`` run on one (each job whole in one partition, the
in-memory engine per partition) and return pandas frames equal to the in-memory engine's, row
for row. The ``*_dataset`` functions do it all for a recording folder, on the dask cluster at
``scheduler`` or on a LocalCluster sized to this machine; the ``validate``, ``summary`` and
``report`` commands call them for ``--engine dask``. See ``docs/scale.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from replay.distributed._cluster import CONNECT_TIMEOUT_S, client_for
from replay.distributed._engine import summarize, transitions, validate, validate_and_summarize
from replay.distributed._read import PARTITION_ROWS, read
from replay.engine import ENGINE_COLUMNS
from replay.status import Policy
from replay.store.files import bad_file_mode

__all__ = [
    "CONNECT_TIMEOUT_S",
    "ENGINE_COLUMNS",
    "PARTITION_ROWS",
    "client_for",
    "read",
    "summarize",
    "summarize_dataset",
    "transitions",
    "validate",
    "validate_and_summarize",
    "validate_and_summarize_dataset",
    "validate_dataset",
]


def validate_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> pd.DataFrame:
    """Return the violations of the recording at ``root``, computed on a dask cluster.

    ``scheduler`` is the address of an existing cluster (its workers must see ``root`` at the
    same path); without one, a LocalCluster sized to this machine runs for the call. Its
    dashboard link is printed on stderr. ``on_bad_file="skip"`` leaves out corrupt or foreign
    Parquet files with a warning instead of raising.
    """
    ddf = read(root, on_bad_file=on_bad_file)  # a bad folder fails before a cluster starts
    with client_for(scheduler):
        return validate(ddf, policy)


def summarize_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> pd.DataFrame:
    """Return the per-job summary of the recording at ``root`` (with its jobs table), on dask.

    Options as ``validate_dataset``.
    """
    from replay.store import read_jobs

    jobs = read_jobs(root, on_bad_file=bad_file_mode(on_bad_file))
    ddf = read(root, on_bad_file=on_bad_file)
    with client_for(scheduler):
        return summarize(ddf, policy, jobs=jobs)


def validate_and_summarize_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(violations, summary)`` of the recording at ``root`` from one pass on dask.

    The two frames equal ``replay.validate.validate(obs, policy)`` and
    ``replay.summary.summarize(obs, policy, jobs=read_jobs(root))`` of the in-memory engine,
    row for row; each job's observations are read, shuffled and prepared once for both.
    Options as ``validate_dataset``.
    """
    from replay.store import read_jobs

    jobs = read_jobs(root, on_bad_file=bad_file_mode(on_bad_file))
    ddf = read(root, on_bad_file=on_bad_file)
    with client_for(scheduler):
        return validate_and_summarize(ddf, policy, jobs=jobs)
