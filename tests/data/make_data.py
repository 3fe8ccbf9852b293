"""Remake the awkward Parquet inputs of the store tests: ``python tests/data/make_data.py``.

- ``foreign.parquet``: a Parquet file another tool wrote (other columns, no replay metadata).
- ``wrong_type.parquet``: replay metadata and column names, but ``seq`` stored as text.
- ``truncated.parquet``: a replay observations file cut to half its bytes (footer lost).
- ``not_parquet.parquet``: text with a Parquet name.
- ``schema_v99/``: a recording whose observations file says ``replay.schema_version`` = "99".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
_UTC_US = pa.timestamp("us", tz="UTC")


def replay_rows(metadata: dict[bytes, bytes] | None = None) -> pa.Table:
    """Three observations of job ``data-1`` in the version 1 schema (with ``metadata`` instead)."""
    from replay.schema import observations_table

    table = observations_table(
        pa.table(
            {
                "job_id": ["data-1"] * 3,
                "seq": pa.array([0, 1, 2], pa.int32()),
                "ts": pa.array([1_767_654_000_000_000 + i * 1_000_000 for i in range(3)], _UTC_US),
                "status": ["notStarted", "inProgress", "completed"],
                "percentage_complete": [0.0, 50.0, 100.0],
            }
        ),
        source="simulated",
    )
    return table if metadata is None else table.replace_schema_metadata(metadata)


def main() -> None:
    """Write every file next to this script, replacing what is there."""
    pq.write_table(pa.table({"id": [1, 2, 3], "value": ["a", "b", "c"]}), HERE / "foreign.parquet")
    wrong = replay_rows()
    wrong = wrong.set_column(1, "seq", wrong["seq"].cast(pa.string()))
    pq.write_table(wrong, HERE / "wrong_type.parquet")
    whole = HERE / "truncated.parquet"
    pq.write_table(replay_rows(), whole)
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    (HERE / "not_parquet.parquet").write_text("job_id,seq\nthis is CSV, not Parquet\n")
    v99 = HERE / "schema_v99"
    shutil.rmtree(v99, ignore_errors=True)
    part = v99 / "observations" / "date=2026-01-05"
    part.mkdir(parents=True)
    newer = replay_rows({b"replay.schema_version": b"99"})
    pq.write_table(newer, part / "part-20260105T230000000000-1-0000abcd.parquet")


if __name__ == "__main__":
    main()
