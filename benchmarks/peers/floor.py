"""Peer (a), the floor: pyarrow reads the engine's five columns and orders them by (job, seq).

``floor`` reads ``job_id`` and ``status`` dictionary-encoded (as ``replay.read`` does) and orders
the rows by the rank of the job id in the sorted dictionary, then ``seq``, with pyarrow compute
(``sort_by`` refuses dictionary columns); ``floor_plain`` reads them as plain strings and calls
``sort_by(job_id, seq)``. ``python -m benchmarks.peers.floor DIR`` runs ``floor`` as a whole
process: the whole-process floor the command line is compared with.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

__all__ = ["FLOOR_COLUMNS", "floor", "floor_plain", "main", "read_columns"]

FLOOR_COLUMNS: tuple[str, ...] = ("job_id", "seq", "ts", "status", "percentage_complete")
_DICTIONARY = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns={"job_id", "status"})
)


def read_columns(observations: Path, columns: tuple[str, ...]) -> pa.Table:
    """Return ``columns`` of the hive-partitioned Parquet dataset under ``observations``."""
    dataset = ds.dataset(observations, format="parquet", partitioning="hive")
    return dataset.to_table(columns=list(columns))


def floor(observations: Path) -> pa.Table:
    """Return the five columns of ``observations`` (job_id, status as dictionaries), ordered by
    job id and seq."""
    dataset = ds.dataset(observations, format=_DICTIONARY, partitioning="hive")
    table = dataset.to_table(columns=list(FLOOR_COLUMNS)).unify_dictionaries()
    jobs = table["job_id"].combine_chunks()
    rank = pc.rank(jobs.dictionary, sort_keys="ascending", tiebreaker="first")
    keys = pa.table({"job": pc.take(rank, jobs.indices), "seq": table["seq"]})
    order = pc.sort_indices(keys, sort_keys=[("job", "ascending"), ("seq", "ascending")])
    return table.take(order)


def floor_plain(observations: Path) -> pa.Table:
    """Return the five columns of ``observations`` as plain values, ``sort_by(job_id, seq)``."""
    table = read_columns(observations, FLOOR_COLUMNS)
    return table.sort_by([("job_id", "ascending"), ("seq", "ascending")])


def main(argv: Sequence[str] | None = None) -> int:
    """Read and order the recording named on the command line; print its row count."""
    args = sys.argv[1:] if argv is None else list(argv)
    print(floor(Path(args[0]) / "observations").num_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
