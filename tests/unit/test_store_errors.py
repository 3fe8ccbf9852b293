"""Bad recordings: missing folders, corrupt, foreign and newer files, bad arguments."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay import store
from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    ReplayError,
    SchemaVersionError,
    UsageError,
)
from replay.schema import observations_table
from replay.store import ReplayWarning

DATA = Path(__file__).resolve().parent.parent / "data"
T0 = pd.Timestamp("2026-01-05T23:00:00Z")


def good_rows(job_id: str = "good") -> pd.DataFrame:
    """Two observations of one job on 2026-01-05."""
    return pd.DataFrame(
        {
            "job_id": [job_id, job_id],
            "seq": [0, 1],
            "ts": [T0, T0 + pd.Timedelta(seconds=5)],
            "status": ["inProgress", "completed"],
            "source": "api",
        }
    )


def recording_with(tmp_path: Path, bad_file: str) -> Path:
    """A recording of one good job plus ``tests/data/<bad_file>`` dropped into its partition."""
    store.write_observations(tmp_path, good_rows())
    target = tmp_path / "observations" / "date=2026-01-05" / f"part-0-{bad_file}"
    shutil.copyfile(DATA / bad_file, target)
    return target


@pytest.mark.parametrize(
    ("make", "what"),
    [
        pytest.param(lambda p: p / "nope", "does not exist", id="missing"),
        pytest.param(lambda p: p, "is not a recording", id="empty-folder"),
        pytest.param(lambda p: (p / "file.txt", (p / "file.txt").write_text("x"))[0], "is not a recording", id="a-file"),
    ],
)  # fmt: skip
def test_a_missing_recording_raises_dataset_not_found_naming_it(
    tmp_path: Path, make: Callable[[Path], Path], what: str
) -> None:
    path = make(tmp_path)
    for call in (store.read, store.read_jobs, store.next_seq, store.dataset_files, store.compact):
        with pytest.raises(DatasetNotFoundError) as info:
            call(path)
        assert isinstance(info.value, FileNotFoundError)
        assert str(path) in str(info.value) and what in str(info.value)
        assert "observations/date=YYYY-MM-DD/part-*.parquet" in str(info.value)


@pytest.mark.parametrize(
    ("bad_file", "error", "says"),
    [
        ("truncated.parquet", DatasetError, "not a readable Parquet file"),
        ("not_parquet.parquet", DatasetError, "not a readable Parquet file"),
        ("foreign.parquet", DatasetError, "lacks the required column 'job_id' (its columns: id, value)"),
        ("wrong_type.parquet", DatasetError, "column 'seq' of type string, expected int32"),
    ],
)  # fmt: skip
def test_a_bad_file_raises_naming_it_and_what_to_do(
    tmp_path: Path, bad_file: str, error: type[Exception], says: str
) -> None:
    target = recording_with(tmp_path, bad_file)
    with pytest.raises(error) as info:
        store.read(tmp_path)
    message = str(info.value)
    assert str(target) in message and says in message
    assert "move it out of the recording folder" in message or "move the file out" in message
    assert info.value.path == str(target)  # type: ignore[attr-defined]
    assert not isinstance(info.value, SchemaVersionError)


@pytest.mark.parametrize(
    "bad_file",
    ["truncated.parquet", "not_parquet.parquet", "foreign.parquet", "wrong_type.parquet"],
)
def test_skip_mode_warns_naming_the_bad_file_and_reads_the_rest(
    tmp_path: Path, bad_file: str
) -> None:
    target = recording_with(tmp_path, bad_file)
    with pytest.warns(ReplayWarning, match=f"skipped: {target}"):
        frame = store.read(tmp_path, on_bad_file="skip")
    assert list(frame["job_id"].astype(str)) == ["good", "good"]


def test_a_newer_schema_version_tells_which_version_and_to_upgrade(tmp_path: Path) -> None:
    shutil.copytree(DATA / "schema_v99", tmp_path / "rec")
    with pytest.raises(SchemaVersionError) as info:
        store.read(tmp_path / "rec")
    message = str(info.value)
    assert "schema version 99" in message and "reads version 1" in message
    assert "pip install -U replay" in message
    assert "part-20260105T230000000000-1-0000abcd.parquet" in message
    assert isinstance(info.value, DatasetError) and isinstance(info.value, ReplayError)


def test_a_newer_file_is_skipped_in_skip_mode(tmp_path: Path) -> None:
    shutil.copytree(DATA / "schema_v99", tmp_path, dirs_exist_ok=True)
    store.write_observations(tmp_path, good_rows())
    with pytest.warns(ReplayWarning, match="schema version 99"):
        frame = store.read(tmp_path, on_bad_file="skip")
    assert set(frame["job_id"].astype(str)) == {"good"}


def test_an_older_schema_version_still_reads(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(good_rows(), preserve_index=False)
    table = observations_table(table).replace_schema_metadata({b"replay.schema_version": b"0"})
    part = tmp_path / "observations" / "date=2026-01-05"
    part.mkdir(parents=True)
    pq.write_table(table, part / "part-old.parquet")
    assert len(store.read(tmp_path)) == 2


def test_a_file_whose_data_pages_are_damaged_is_named(tmp_path: Path) -> None:
    store.write_observations(tmp_path, good_rows("other"))
    (path,) = store.write_observations(tmp_path, good_rows())
    meta = pq.read_metadata(path).row_group(0).column(1)
    data = bytearray(path.read_bytes())
    data[meta.data_page_offset : meta.data_page_offset + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=f"{path}.*data cannot be read"):
        store.read(tmp_path)
    with pytest.warns(ReplayWarning, match=str(path)):
        frame = store.read(tmp_path, on_bad_file="skip")
    assert set(frame["job_id"].astype(str)) == {"other"}


def test_a_folder_that_is_not_a_date_partition_is_named(tmp_path: Path) -> None:
    store.write_observations(tmp_path, good_rows())
    (tmp_path / "observations" / "misc").mkdir()
    with pytest.raises(DatasetError, match="misc is not a date=YYYY-MM-DD partition"):
        store.read(tmp_path)
    with pytest.warns(ReplayWarning, match="misc"):
        assert len(store.read(tmp_path, on_bad_file="skip")) == 2


def test_a_bad_jobs_file_raises_naming_it(tmp_path: Path) -> None:
    store.write_jobs(tmp_path, pd.DataFrame({"job_id": ["a"]}))
    target = tmp_path / "jobs" / "part-0-foreign.parquet"
    shutil.copyfile(DATA / "foreign.parquet", target)
    with pytest.raises(DatasetError, match=str(target)):
        store.read_jobs(tmp_path)
    with pytest.warns(ReplayWarning):
        assert list(store.read_jobs(tmp_path, on_bad_file="skip")["job_id"]) == ["a"]


def test_compact_refuses_a_recording_with_a_bad_file_and_changes_nothing(tmp_path: Path) -> None:
    store.write_observations(tmp_path, good_rows("x"))
    recording_with(tmp_path, "truncated.parquet")
    files = sorted(tmp_path.rglob("*.parquet"))
    with pytest.raises(DatasetError, match="truncated"):
        store.compact(tmp_path)
    assert sorted(tmp_path.rglob("*.parquet")) == files


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"on_bad_file": "ignore"}, "on_bad_file='ignore' is not one of 'raise', 'skip'"),
        ({"columns": ["status", "pct"]}, "unknown column(s) 'pct'; the observation columns are job_id"),
        ({"since": "yesterday-ish"}, "since='yesterday-ish' is not a time"),
        ({"until": "2026-13-45"}, "until='2026-13-45' is not a time"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_usage_errors_naming_the_value(
    tmp_path: Path, kwargs: dict[str, object], says: str
) -> None:
    store.write_observations(tmp_path, good_rows())
    with pytest.raises(UsageError) as info:
        store.read(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert says in str(info.value)
    assert isinstance(info.value, ValueError)


def test_frames_missing_required_columns_are_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="missing required column"):
        store.write_observations(tmp_path, good_rows().drop(columns="seq"))
    assert not (tmp_path / "observations").exists()


def test_compact_refuses_a_target_below_one(tmp_path: Path) -> None:
    store.write_observations(tmp_path, good_rows())
    with pytest.raises(UsageError, match="target_rows=0"):
        store.compact(tmp_path, target_rows=0)
