"""Peer (a), the floor: pyarrow reads the engine's five columns and groups them by job in seq order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

__all__ = ["FLOOR_COLUMNS", "floor", "read_columns"]

FLOOR_COLUMNS: tuple[str, ...] = ("job_id", "seq", "ts", "status", "percentage_complete")


def read_columns(observations: Path, columns: tuple[str, ...]) -> pa.Table:
    """Return ``columns`` of the hive-partitioned Parquet dataset under ``observations``."""
    dataset = ds.dataset(observations, format="parquet", partitioning="hive")
    return dataset.to_table(columns=list(columns))


def floor(observations: Path) -> pa.Table:
    """Return the five columns of ``observations``, sorted by job and seq."""
    table = read_columns(observations, FLOOR_COLUMNS)
    return table.sort_by([("job_id", "ascending"), ("seq", "ascending")])
