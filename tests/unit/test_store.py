"""The Parquet dataset: round trips, partitions, filters, atomic appends, compaction, jobs, seq."""

from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay import store
from replay.errors import DatasetError
from replay.schema import OBSERVATION_COLUMNS, observations_table
from replay.store import files as _files

UTC_US = "datetime64[us, UTC]"
T0 = pd.Timestamp("2026-01-05T23:00:00Z")
EXPECTED_DTYPES = {
    "job_id": "category",
    "seq": "int32",
    "ts": UTC_US,
    "status": "category",
    "percentage_complete": "double[pyarrow]",
    "http_status": "Int16",
    "operation": "str",
    "resource_id": "str",
    "error_code": "str",
    "error_message": "str",
    "retry_after_s": "float64",
    "latency_ms": "float64",
    "source": "str",
    "body": "str",
}


def full_frame() -> pd.DataFrame:
    """Every column filled, with nulls and NaN where they are allowed; rows out of order."""
    n = 6
    pct = pa.array([0.0, None, float("nan"), 55.5, 100.0, None], pa.float64())
    return pd.DataFrame(
        {
            "job_id": ["b", "a", "a", "b", "a", "c"],
            "seq": np.array([1, 0, 1, 0, 2, 0], np.int32),
            "ts": pd.to_datetime(
                [T0 + pd.Timedelta(seconds=s) for s in (70, 0, 30, 10, 60, 5)], utc=True
            ).as_unit("us"),
            "status": ["inProgress", "notStarted", None, "inProgress", "completed", "cancelled"],
            "percentage_complete": pd.Series(pd.arrays.ArrowExtensionArray(pct)),
            "http_status": pd.array([202, 202, 429, 202, 303, None], dtype="Int16"),
            "operation": ["ItemCopy", "ItemCopy", None, "ItemCopy", "ItemCopy", "DownloadUrl"],
            "resource_id": [None, None, None, None, "01ABC", None],
            "error_code": [None, None, "throttled", None, None, "accessDenied"],
            "error_message": [None, None, "slow down", None, None, "über — no"],
            "retry_after_s": [None, None, 2.5, None, None, None],
            "latency_ms": np.linspace(10.0, 60.0, n),
            "source": ["http"] * 5 + ["import"],
            "body": ['{"status":"inProgress"}', "{}", "<html>", "{}", "", None],
        }
    )


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by (job_id, seq) with read()'s dtypes, for exact comparison."""
    out = frame.sort_values(["job_id", "seq"], kind="stable").reset_index(drop=True)
    for name in ("job_id", "status"):
        out[name] = out[name].astype(str).where(out[name].notna(), None)
        out[name] = pd.Categorical(out[name], categories=sorted(out[name].dropna().unique()))
    for name in ("operation", "resource_id", "error_code", "error_message", "source", "body"):
        out[name] = out[name].astype("str")
    return out


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, dtypes and values; null and NaN percentages compared apart."""
    pd.testing.assert_frame_equal(
        actual.drop(columns="percentage_complete"), expected.drop(columns="percentage_complete")
    )
    got = actual["percentage_complete"].array._pa_array
    want = expected["percentage_complete"].array._pa_array
    assert got.is_null().to_pylist() == want.is_null().to_pylist()
    assert np.array_equal(
        got.fill_null(-1.0).to_numpy(), want.fill_null(-1.0).to_numpy(), equal_nan=True
    )


def test_round_trip_keeps_every_column_value_and_dtype(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame())
    back = store.read(tmp_path)
    assert dict(back.dtypes.astype(str)) == EXPECTED_DTYPES
    assert_same_rows(back, canonical(full_frame()))


def test_null_and_nan_percentages_stay_apart(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame())
    pct = store.read(tmp_path, jobs=["a"])["percentage_complete"].array._pa_array
    assert pct.is_null().to_pylist() == [True, False, False]  # seq 0 had no percentage
    assert np.isnan(pct.to_numpy(zero_copy_only=False)[1])  # seq 1 had NaN


def test_rows_come_sorted_by_job_then_seq_with_sorted_categories(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame().iloc[::-1])
    store.write_observations(
        tmp_path, full_frame().assign(job_id="0-first", seq=lambda f: np.arange(6, dtype="int32"))
    )
    back = store.read(tmp_path)
    assert list(back["job_id"].cat.categories) == ["0-first", "a", "b", "c"]
    keys = list(zip(back["job_id"].astype(str), back["seq"], strict=True))
    assert keys == sorted(keys)
    assert back.index.equals(pd.RangeIndex(len(back)))


def test_every_file_carries_the_schema_version_and_zstd_dictionary_encoding(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame())
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a"]}))
    for path in store.dataset_files(tmp_path):
        meta = pq.read_metadata(path)
        assert meta.metadata[b"replay.schema_version"] == b"1"
        column = meta.row_group(0).column(0)
        assert column.compression == "ZSTD"
        assert any("DICTIONARY" in e for e in column.encodings)


def test_a_job_straddling_midnight_lands_in_two_partitions_and_reads_back_whole(
    tmp_path: Path, build_obs: Callable[..., pd.DataFrame]
) -> None:
    # T0 is 23:00 UTC on 2026-01-05: rows at +30 min and +90 min fall on either side of midnight.
    frame = build_obs({"night": [(0, "inProgress", 10.0, 202), (5400, "completed", 100.0, 200)]})
    written = store.write_observations(tmp_path, frame)
    assert sorted(p.parent.name for p in written) == ["date=2026-01-05", "date=2026-01-06"]
    back = store.read(tmp_path)
    assert list(back["seq"]) == [0, 1]
    assert list(back["ts"]) == list(frame["ts"])


def test_dates_follow_utc_not_the_frames_time_zone(tmp_path: Path) -> None:
    # 2026-01-06T00:30 at +02:00 is 2026-01-05T22:30 UTC.
    ts = pd.Series(pd.to_datetime(["2026-01-06T00:30:00+02:00"])).dt.tz_convert("Etc/GMT-2")
    frame = pd.DataFrame({"job_id": ["tz"], "seq": [0], "ts": ts, "source": ["api"]})
    (path,) = store.write_observations(tmp_path, frame)
    assert path.parent.name == "date=2026-01-05"
    assert store.read(tmp_path)["ts"].iloc[0] == pd.Timestamp("2026-01-05T22:30:00Z")


def test_source_fills_a_missing_source_column(tmp_path: Path) -> None:
    frame = full_frame().drop(columns="source")
    store.write_observations(tmp_path, frame, source="simulated")
    assert set(store.read(tmp_path)["source"]) == {"simulated"}


def test_an_empty_frame_writes_nothing(tmp_path: Path) -> None:
    assert store.write_observations(tmp_path, full_frame().iloc[:0]) == []
    assert not (tmp_path / "observations").exists()


def test_a_dataset_without_observations_reads_as_an_empty_frame_with_every_dtype(
    tmp_path: Path,
) -> None:
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a"]}))
    empty = store.read(tmp_path)
    assert len(empty) == 0
    assert dict(empty.dtypes.astype(str)) == EXPECTED_DTYPES


@pytest.mark.parametrize(
    ("kwargs", "expected_keys"),
    [
        pytest.param({"jobs": ["a"]}, [("a", 0), ("a", 1), ("a", 2)], id="jobs"),
        pytest.param({"jobs": "c"}, [("c", 0)], id="one-job-as-string"),
        pytest.param({"jobs": ["a", "c", "nope"]}, [("a", 0), ("a", 1), ("a", 2), ("c", 0)], id="several"),
        pytest.param({"jobs": []}, [], id="no-jobs"),
        pytest.param({"since": T0 + pd.Timedelta(seconds=60)}, [("a", 2), ("b", 1)], id="since-inclusive"),
        pytest.param({"until": "2026-01-05T23:00:10Z"}, [("a", 0), ("c", 0)], id="until-exclusive"),
        pytest.param(
            {"since": "2026-01-05T23:00:05", "until": T0 + pd.Timedelta(seconds=31), "jobs": ["a", "b"]},
            [("a", 1), ("b", 0)],
            id="naive-since-is-utc-and-all-filters",
        ),
    ],
)  # fmt: skip
def test_filters_select_rows(
    tmp_path: Path, kwargs: dict[str, object], expected_keys: list[tuple[str, int]]
) -> None:
    store.write_observations(tmp_path, full_frame())
    back = store.read(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert list(zip(back["job_id"].astype(str), back["seq"], strict=True)) == expected_keys
    assert list(back.columns) == list(OBSERVATION_COLUMNS)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["status"], ["job_id", "seq", "status"]),
        (["percentage_complete", "ts"], ["job_id", "seq", "ts", "percentage_complete"]),
        (["seq"], ["job_id", "seq"]),
    ],
)
def test_columns_select_columns_with_job_id_and_seq_always(
    tmp_path: Path, columns: list[str], expected: list[str]
) -> None:
    store.write_observations(tmp_path, full_frame())
    back = store.read(tmp_path, columns=columns)
    assert list(back.columns) == expected
    assert {k: str(v) for k, v in back.dtypes.items()} == {c: EXPECTED_DTYPES[c] for c in expected}


def test_since_and_until_prune_date_partitions_without_opening_them(
    tmp_path: Path, build_obs: Callable[..., pd.DataFrame]
) -> None:
    frame = build_obs({"night": [(0, "inProgress", 10.0, 202), (5400, "completed", 100.0, 200)]})
    store.write_observations(tmp_path, frame)
    plan = store.plan_read(tmp_path, since="2026-01-06")
    assert (plan.files, plan.files_read) == (2, 1)
    # A file that cannot be read sits in the 2026-01-05 partition: reading 2026-01-06 never opens it.
    (tmp_path / "observations" / "date=2026-01-05" / "part-broken.parquet").write_bytes(b"junk")
    back = store.read(tmp_path, since="2026-01-06")
    assert list(back["status"]) == ["completed"]
    with pytest.raises(DatasetError, match="part-broken"):
        store.read(tmp_path)


def corrupt_row_groups(path: Path, keep: set[int]) -> None:
    """Overwrite the data pages of every row group of ``path`` not in ``keep``; footer intact."""
    meta = pq.read_metadata(path)
    data = bytearray(path.read_bytes())
    for i in range(meta.num_row_groups):
        if i in keep:
            continue
        for j in range(meta.num_columns):
            col = meta.row_group(i).column(j)
            start = min(o for o in (col.dictionary_page_offset, col.data_page_offset) if o)
            data[start : start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    path.write_bytes(bytes(data))


def test_reading_one_job_skips_files_without_it(tmp_path: Path) -> None:
    paths = []
    for i in range(12):
        frame = full_frame().assign(job_id=lambda f, i=i: f"{i:02d}-" + f["job_id"])
        paths += store.write_observations(tmp_path, frame)
    plan = store.plan_read(tmp_path, jobs=["07-a"])
    assert (plan.files, plan.files_read, plan.row_groups_read) == (12, 1, 1)
    # The other files' data pages are destroyed: reading 07-a still works, so none was decoded.
    for path in paths:
        if "07-a" not in set(pq.read_table(path, columns=["job_id"])["job_id"].to_pylist()):
            corrupt_row_groups(path, keep=set())
    assert list(store.read(tmp_path, jobs=["07-a"])["seq"]) == [0, 1, 2]
    with pytest.raises(DatasetError, match="data cannot be read"):
        store.read(tmp_path)


def test_reading_one_job_decodes_only_row_groups_whose_statistics_hold_it(tmp_path: Path) -> None:
    # A replay file with 10-row row groups, sorted by job as compaction writes them.
    frame = pd.DataFrame(
        {
            "job_id": [f"job-{i // 10:02d}" for i in range(100)],
            "seq": np.tile(np.arange(10, dtype=np.int32), 10),
            "ts": pd.date_range(T0, periods=100, freq="s").as_unit("us"),
            "source": "api",
        }
    )
    table = observations_table(frame)
    part = tmp_path / "observations" / "date=2026-01-05"
    part.mkdir(parents=True)
    path = part / "part-20260105T230000000000-1-00000000.parquet"
    pq.write_table(table, path, row_group_size=10, compression="zstd")
    plan = store.plan_read(tmp_path, jobs=["job-04"])
    assert (plan.row_groups, plan.row_groups_read) == (10, 1)
    corrupt_row_groups(path, keep={4})
    assert list(store.read(tmp_path, jobs=["job-04"])["seq"]) == list(range(10))


def test_writes_never_clash_across_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    frames = [full_frame().assign(job_id=lambda f, i=i: f["job_id"] + str(i)) for i in range(16)]
    with ThreadPoolExecutor(4) as pool:
        written = [
            p
            for paths in pool.map(lambda f: store.write_observations(tmp_path, f), frames)
            for p in paths
        ]
    assert len(set(written)) == 16
    assert len(store.read(tmp_path)) == 16 * 6


def _write_many(root: str, tag: str) -> int:
    for i in range(8):
        frame = full_frame().assign(job_id=lambda f, i=i: f["job_id"] + f"-{tag}{i}")
        store.write_observations(root, frame)
    return os.getpid()


@pytest.mark.slow
def test_two_processes_writing_at_once_never_clash(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pids = pool.starmap(_write_many, [(str(tmp_path), "x"), (str(tmp_path), "y")])
    assert len(set(pids)) == 2
    names = [p.name for p in store.dataset_files(tmp_path)]
    assert len(names) == len(set(names)) == 16
    assert {n.split("-")[2] for n in names} == {str(p) for p in pids}
    assert len(store.read(tmp_path)) == 16 * 6


def test_file_names_are_unique_time_stamped_with_pid(tmp_path: Path) -> None:
    (path,) = store.write_observations(tmp_path, full_frame().iloc[:1])
    stamp, pid, token = path.name.removeprefix("part-").removesuffix(".parquet").split("-")
    assert len(stamp) == 21 and stamp[8] == "T" and stamp.replace("T", "").isdigit()
    assert pid == str(os.getpid())
    assert len(token) == 8 and int(token, 16) >= 0


def test_a_writer_failing_before_the_rename_leaves_the_dataset_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_observations(tmp_path, full_frame())
    before = store.read(tmp_path)
    files = store.dataset_files(tmp_path)

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="simulated"):
        store.write_observations(tmp_path, full_frame().assign(job_id="late"))
    monkeypatch.undo()
    assert store.dataset_files(tmp_path) == files
    assert_same_rows(store.read(tmp_path), before)
    assert [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".tmp"] == []


def test_a_temporary_file_left_by_a_killed_writer_is_invisible_to_every_reader(
    tmp_path: Path,
) -> None:
    import duckdb
    import polars as pl

    store.write_observations(tmp_path, full_frame())
    before = store.read(tmp_path)
    # What a writer killed mid-write leaves behind: half a Parquet file under a temporary name.
    staging = tmp_path / ".replay-tmp"
    partial = staging / ".part-20260105T230000000000-1-deadbeef.parquet.0123abcd.tmp"
    whole = store.dataset_files(tmp_path)[0].read_bytes()
    partial.write_bytes(whole[: len(whole) // 2])
    obs = tmp_path / "observations"
    assert_same_rows(store.read(tmp_path), before)
    assert len(pd.read_parquet(obs)) == 6
    assert duckdb.sql(f"select count(*) from read_parquet('{obs}/*/*.parquet')").fetchall() == [
        (6,)
    ]
    assert pl.scan_parquet(obs, hive_partitioning=True).collect().height == 6
    os.utime(partial, (0, 0))  # older than the stale limit
    assert store.compact(tmp_path).temporaries_removed == 1
    assert not partial.exists()


def test_no_temporary_file_is_visible_while_a_write_is_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_observations(tmp_path, full_frame())
    real_replace = os.replace
    seen: list[int] = []

    def replace_after_reading(src: str | Path, dst: str | Path) -> None:
        # The complete temporary file exists now, just before its rename.
        assert Path(src).exists() and Path(src).stat().st_size > 0
        seen.append(len(pd.read_parquet(tmp_path / "observations")))
        seen.append(len(store.read(tmp_path)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_after_reading)
    store.write_observations(tmp_path, full_frame().assign(job_id="more"))
    assert seen == [6, 6]
    assert len(store.read(tmp_path)) == 12


def many_small_files(root: Path, n: int = 10) -> pd.DataFrame:
    """Write ``n`` appends of two jobs each over two UTC dates; return what read() gives."""
    for i in range(n):
        frame = full_frame().assign(
            job_id=lambda f, i=i: f["job_id"] + f"-{i % 4}",
            seq=lambda f, i=i: (f["seq"] + 3 * (i // 4)).astype("int32"),
            ts=lambda f, i=i: f["ts"] + pd.Timedelta(minutes=20 * i),
        )
        store.write_observations(root, frame)
    return store.read(root)


def test_compact_keeps_every_row_and_reduces_the_file_count(tmp_path: Path) -> None:
    before = many_small_files(tmp_path)
    files_before = len(store.dataset_files(tmp_path))
    result = store.compact(tmp_path)
    assert_same_rows(store.read(tmp_path), before)
    assert result.files_before == files_before > 2
    assert result.files_after == len(store.dataset_files(tmp_path)) == 2  # one per date
    assert result.observation_rows == len(before) == 60
    assert store.compact(tmp_path).files_after == 2  # nothing left to merge


def cached_footer_paths(root: Path) -> set[Path]:
    """Files under ``root`` whose footers this process holds in memory."""
    return {
        footer.path
        for folder, footers in _files._FOOTERS.items()
        if folder.is_relative_to(root)
        for footer in footers.values()
    }


def test_footers_of_files_a_compaction_deleted_are_not_held(tmp_path: Path) -> None:
    # A recorder merges its small files every few minutes for days: holding the footer of every
    # file it ever wrote (tens of kB each) made its memory grow with every merge.
    many_small_files(tmp_path)
    assert cached_footer_paths(tmp_path) == set(store.dataset_files(tmp_path))
    store.compact(tmp_path)
    store.read(tmp_path)
    assert cached_footer_paths(tmp_path) == set(store.dataset_files(tmp_path))
    assert len(cached_footer_paths(tmp_path)) == 2


def test_footers_of_files_deleted_by_another_process_are_forgotten_at_the_next_read(
    tmp_path: Path,
) -> None:
    many_small_files(tmp_path, n=4)
    gone = store.dataset_files(tmp_path)[0]
    gone.unlink()
    store.read(tmp_path)
    assert gone not in cached_footer_paths(tmp_path)
    assert cached_footer_paths(tmp_path) == set(store.dataset_files(tmp_path))


def test_footers_of_a_partition_emptied_by_another_process_are_forgotten(tmp_path: Path) -> None:
    many_small_files(tmp_path, n=4)
    first_day = min(f.parent for f in store.dataset_files(tmp_path))
    for path in first_day.glob("*.parquet"):
        path.unlink()
    store.read(tmp_path)
    assert not any(path.parent == first_day for path in cached_footer_paths(tmp_path))
    assert cached_footer_paths(tmp_path) == set(store.dataset_files(tmp_path))


def test_compact_respects_target_rows(tmp_path: Path) -> None:
    before = many_small_files(tmp_path)
    store.compact(tmp_path, target_rows=13)
    rows = [pq.read_metadata(p).num_rows for p in store.dataset_files(tmp_path)]
    assert max(rows) <= 13 and len(rows) < 20
    assert_same_rows(store.read(tmp_path), before)


def test_a_reader_during_compaction_sees_every_row_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = many_small_files(tmp_path)
    real_unlink, real_replace = pathlib.Path.unlink, os.replace
    checks = []

    def read_then(fn: Callable[..., None]) -> Callable[..., None]:
        def wrapped(*args: object, **kwargs: object) -> None:
            assert_same_rows(store.read(tmp_path), before)
            checks.append(fn.__name__)
            fn(*args, **kwargs)

        return wrapped

    # Before each output's rename, between the rename and each source's deletion, and before
    # each merge's intent is deleted (10 sources and 2 intents).
    monkeypatch.setattr(pathlib.Path, "unlink", read_then(real_unlink))
    monkeypatch.setattr(os, "replace", read_then(real_replace))
    store.compact(tmp_path)
    monkeypatch.undo()
    assert checks.count("unlink") == 12 and checks.count("replace") == 2
    assert_same_rows(store.read(tmp_path), before)


def test_reads_racing_a_compaction_in_another_thread_always_see_every_row_once(
    tmp_path: Path,
) -> None:
    import threading

    before = many_small_files(tmp_path, n=40)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (store.compact(tmp_path), done.set()))
    worker.start()
    reads = 0
    while not done.is_set() or reads == 0:
        assert_same_rows(store.read(tmp_path), before)
        reads += 1
    worker.join()
    assert len(store.dataset_files(tmp_path)) == 2


def test_a_compaction_that_died_before_deleting_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = many_small_files(tmp_path)

    def die(self: Path, missing_ok: bool = False) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pathlib.Path, "unlink", die)
    with pytest.raises(KeyboardInterrupt):
        store.compact(tmp_path)
    monkeypatch.undo()
    # The output and all its sources are on disk: plain readers would see duplicates, replay not.
    assert len(pd.read_parquet(tmp_path / "observations")) > len(before)
    assert_same_rows(store.read(tmp_path), before)
    result = store.compact(tmp_path)
    assert result.files_after == 2
    assert len(pd.read_parquet(tmp_path / "observations")) == len(before)


def renamed_without_deleting(root: Path) -> int:
    """What a compaction of replay 0.1 killed between its rename and its deletions left: a
    merged file listing its sources, beside them (and no intent); return the rows it holds."""
    (folder,) = {p.parent for p in store.dataset_files(root)}
    sources = sorted(folder.glob("*.parquet"))
    merged = pa.concat_tables([pq.read_table(p) for p in sources])
    meta = {**(merged.schema.metadata or {}), _files.REPLACES_KEY: json.dumps(
        [p.name for p in sources]).encode()}  # fmt: skip
    _files.write_atomic(merged.replace_schema_metadata(meta), root, folder, "part-z.parquet")
    return merged.num_rows


def opened_and_closed_recorder(root: Path) -> None:
    """A recorder restarted on ``root`` that ends at once (too few files written to compact)."""
    import replay

    with replay.Recorder(root):
        pass


@pytest.mark.parametrize(
    "next_open",
    [
        pytest.param(lambda root: store.read(root), id="a-fresh-read"),
        pytest.param(opened_and_closed_recorder, id="a-recorder-that-writes-nothing"),
        pytest.param(lambda root: store.compact(root), id="a-compaction"),
    ],
)
def test_sources_left_beside_a_merged_file_are_deleted_by_the_next_open(
    tmp_path: Path, next_open: Callable[[Path], object]
) -> None:
    for i in range(3):
        store.write_observations(tmp_path, full_frame().iloc[:3].assign(job_id=f"j{i}"))
    rows = renamed_without_deleting(tmp_path)
    assert len(pd.read_parquet(tmp_path / "observations")) == 2 * rows  # counted twice
    next_open(tmp_path)
    assert len(pd.read_parquet(tmp_path / "observations")) == len(store.read(tmp_path)) == rows


def test_one_compaction_at_a_time(tmp_path: Path) -> None:
    import fcntl

    many_small_files(tmp_path, n=2)
    with open(tmp_path / ".replay-compact.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DatasetError, match="another compaction"):
            store.compact(tmp_path)


def test_compact_merges_job_rows_to_the_latest_per_job(tmp_path: Path) -> None:
    for day, outcome in ((1, None), (3, "completed"), (2, "timed_out")):
        store.write_jobs(tmp_path, jobs_rows(["a", "b"], last_seen_day=day, outcome=outcome))
    latest = store.read_jobs(tmp_path)
    result = store.compact(tmp_path)
    assert (result.job_rows_before, result.job_rows_after) == (6, 2)
    assert len(store.dataset_files(tmp_path)) == 1
    pd.testing.assert_frame_equal(store.read_jobs(tmp_path), latest)


def jobs_rows(ids: list[str], *, last_seen_day: int, outcome: str | None) -> pd.DataFrame:
    """Job rows for ``ids`` last seen on day ``last_seen_day`` of January 2026."""
    seen = pd.Timestamp(f"2026-01-{last_seen_day:02d}T00:00:00Z")
    return pd.DataFrame(
        {
            "job_id": ids,
            "url": [f"https://monitor.example/{i}" for i in ids],
            "labels": ['{"batch":"1"}'] * len(ids),
            "size_bytes": pd.array([1024] * len(ids), dtype="Int64"),
            "first_seen": pd.Series([pd.Timestamp("2026-01-01T00:00:00Z")] * len(ids)),
            "last_seen": pd.Series([seen] * len(ids)),
            "outcome": [outcome] * len(ids),
        }
    )


def test_read_jobs_takes_the_latest_row_by_last_seen_then_file_order(tmp_path: Path) -> None:
    store.write_jobs(tmp_path, jobs_rows(["a", "b"], last_seen_day=3, outcome="completed"))
    store.write_jobs(tmp_path, jobs_rows(["a"], last_seen_day=2, outcome="stale"))
    store.write_jobs(tmp_path, jobs_rows(["b", "c"], last_seen_day=3, outcome="failed"))
    jobs = store.read_jobs(tmp_path)
    assert list(jobs["job_id"]) == ["a", "b", "c"]
    # a: its day-3 row beats a later file's day-2 row; b: same last_seen, the later file wins.
    assert list(jobs["outcome"]) == ["completed", "failed", "failed"]
    assert dict(jobs.dtypes.astype(str)) == {
        "job_id": "str",
        "url": "str",
        "labels": "str",
        "size_bytes": "Int64",
        "first_seen": UTC_US,
        "last_seen": UTC_US,
        "outcome": "str",
    }


def test_read_jobs_takes_the_later_row_when_last_seen_is_missing(tmp_path: Path) -> None:
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a", "a"], "outcome": ["first", "second"]}))
    assert list(store.read_jobs(tmp_path)["outcome"]) == ["second"]


def test_read_jobs_of_a_recording_without_jobs_is_empty(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame())
    jobs = store.read_jobs(tmp_path)
    assert len(jobs) == 0 and list(jobs.columns) == list(
        jobs_rows([], last_seen_day=1, outcome=None)
    )


def test_next_seq_is_one_past_the_largest_seq_of_each_job(tmp_path: Path) -> None:
    store.write_observations(tmp_path, full_frame())
    store.write_observations(tmp_path, full_frame().iloc[:1].assign(seq=np.int32(40)))
    assert store.next_seq(tmp_path) == {"a": 3, "b": 41, "c": 1}


def test_next_seq_of_a_recording_without_observations_is_empty(tmp_path: Path) -> None:
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a"]}))
    assert store.next_seq(tmp_path) == {}


def test_dataset_files_lists_observations_by_date_then_jobs(tmp_path: Path) -> None:
    frame = full_frame().assign(ts=lambda f: f["ts"] + pd.Timedelta(minutes=59, seconds=50))
    store.write_observations(tmp_path, frame)
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a"]}))
    folders = [p.relative_to(tmp_path).parent.as_posix() for p in store.dataset_files(tmp_path)]
    assert folders == ["observations/date=2026-01-05", "observations/date=2026-01-06", "jobs"]


def test_compaction_bounds_a_merge_by_bytes_as_well_as_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from replay.store import _compact

    monkeypatch.setattr(_compact, "MAX_MERGE_BYTES", 300_000)
    for i in range(12):
        big = "".join(chr(65 + (i * 7 + k * 13) % 26) for k in range(60_000))  # no dictionary
        frame = pd.DataFrame(
            {
                "job_id": [f"j{i}"],
                "seq": [0],
                "ts": [pd.Timestamp("2026-01-05T23:00:00Z") + pd.Timedelta(seconds=i)],
                "status": ["inProgress"],
                "source": "api",
                "body": [big],
            }
        )
        store.write_observations(tmp_path, frame)
    store.compact(tmp_path, target_rows=1_000_000)
    files = list((tmp_path / "observations").rglob("*.parquet"))
    assert 2 <= len(files) < 12  # merged, but not into one file past the byte bound
    assert len(store.read(tmp_path)) == 12
