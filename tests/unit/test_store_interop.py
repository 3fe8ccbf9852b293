"""Other readers of a recording: pandas, DuckDB, Polars and dask see the rows replay writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from replay import store
from replay.schema import OBSERVATION_COLUMNS, observations_table

T0 = pd.Timestamp("2026-01-05T23:40:00Z")


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Three appends and a compaction over two UTC dates, with nulls, NaN and unicode."""
    rng = np.random.default_rng(7)
    for batch in range(3):
        n = 40
        pct = rng.uniform(0, 100, n)
        pct[::7] = np.nan
        frame = pd.DataFrame(
            {
                "job_id": [f"job-{i % 5}" for i in range(n)],
                "seq": (np.arange(n) // 5 + 8 * batch).astype(np.int32),
                "ts": T0 + pd.to_timedelta(np.arange(n) * 15 + batch * 600, unit="s"),
                "status": rng.choice(["inProgress", "completed", "waiting"], n),
                "percentage_complete": pd.arrays.ArrowExtensionArray(
                    pa.array(pct, mask=np.arange(n) % 11 == 3)
                ),
                "http_status": pd.array(np.where(np.arange(n) % 9 == 0, None, 202), dtype="Int16"),
                "error_message": np.where(np.arange(n) % 6 == 0, "déjà vu ✓", None),
                "source": "http",
            }
        )
        store.write_observations(tmp_path, frame)
    store.compact(tmp_path, target_rows=70)
    return tmp_path


def expected(root: Path) -> pa.Table:
    """What replay reads, as a plain Arrow table sorted by (job_id, seq)."""
    return canonical(pa.Table.from_pandas(store.read(root), preserve_index=False))


def canonical(table: pa.Table) -> pa.Table:
    """``table``'s observation columns in the schema's types, sorted by (job_id, seq)."""
    table = table.select(list(OBSERVATION_COLUMNS))
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table[i].cast(field.type.value_type))
    table = observations_table(table)
    return table.sort_by([("job_id", "ascending"), ("seq", "ascending")]).replace_schema_metadata()


def assert_same_table(actual: pa.Table, wanted: pa.Table) -> None:
    """Equal row for row, NaN equal to NaN (Arrow's equals treats NaN as unequal)."""
    assert actual.num_rows == wanted.num_rows
    assert actual.schema == wanted.schema
    for name in actual.column_names:
        got, want = actual[name], wanted[name]
        assert got.is_null().equals(want.is_null()), name
        if pa.types.is_floating(got.type):
            a, b = got.fill_null(0.0).to_numpy(), want.fill_null(0.0).to_numpy()
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert got.equals(want), name


def test_the_recording_spans_two_partitions_and_several_files(recording: Path) -> None:
    folders = {p.parent.name for p in store.dataset_files(recording)}
    assert folders == {"date=2026-01-05", "date=2026-01-06"}
    assert len(store.dataset_files(recording)) >= 3
    assert len(store.read(recording)) == 120


def test_plain_pandas_read_parquet_reads_every_row_with_the_date_partition(recording: Path) -> None:
    frame = pd.read_parquet(recording / "observations", dtype_backend="pyarrow")
    assert sorted(frame["date"].astype(str).unique()) == ["2026-01-05", "2026-01-06"]
    utc_dates = frame["ts"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d")
    assert (utc_dates == frame["date"].astype(str)).all()
    assert_same_table(canonical(pa.Table.from_pandas(frame)), expected(recording))


def test_plain_pandas_default_dtypes_read_the_same_row_count(recording: Path) -> None:
    frame = pd.read_parquet(recording / "observations")
    assert len(frame) == 120 and set(OBSERVATION_COLUMNS) <= set(frame.columns)


def test_duckdb_reads_the_same_rows_with_hive_partitioning(recording: Path) -> None:
    import duckdb

    glob = f"{recording}/observations/*/*.parquet"
    count = duckdb.sql(f"select count(*) from read_parquet('{glob}', hive_partitioning=true)")
    assert count.fetchall() == [(120,)]
    table = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=true)").arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    assert {str(d) for d in table["date"].to_pylist()} == {"2026-01-05", "2026-01-06"}
    assert_same_table(canonical(table), expected(recording))


@pytest.mark.parametrize("path", ["observations", "observations/**/*.parquet"])
def test_polars_reads_the_same_rows_with_hive_partitioning(recording: Path, path: str) -> None:
    import polars as pl

    frame = pl.scan_parquet(str(recording / path), hive_partitioning=True).collect()
    assert frame.height == 120 and "date" in frame.columns
    assert_same_table(canonical(frame.to_arrow()), expected(recording))


def test_dask_reads_the_same_rows(recording: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")

    frame = dd.read_parquet(str(recording / "observations"), dtype_backend="pyarrow").compute()
    assert_same_table(
        canonical(pa.Table.from_pandas(frame, preserve_index=False)), expected(recording)
    )
