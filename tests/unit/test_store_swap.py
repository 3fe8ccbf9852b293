"""A compaction killed at any step is finished (or undone) by the next open: plain Parquet
readers (pandas, DuckDB) never keep seeing a merged file beside its sources."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import replay
from replay import store
from replay.store import _compact, _swap
from replay.store import files as _files

T0 = pd.Timestamp("2026-01-05T10:00:00Z")
ROWS = 60


def small_files(root: Path) -> int:
    """Six appends of 10 rows each (jobs a and b) into one date partition; the rows written."""
    for i in range(ROWS // 10):
        frame = pd.DataFrame(
            {
                "job_id": ["a", "b"] * 5,
                "seq": [5 * i + k // 2 for k in range(10)],
                "ts": [T0 + pd.Timedelta(minutes=10 * i, seconds=k) for k in range(10)],
                "status": "inProgress",
                "source": "api",
            }
        )
        store.write_observations(root, frame.astype({"seq": "int32"}))
    return ROWS


def a_merge(root: Path) -> _swap.Swap:
    """The swap compaction would make of the partition's files (its output staged)."""
    ((_, folder),) = _files.partition_dirs(root, lambda e: None)
    group = _files.live_footers(_files.folder_footers(folder, "observations", "raise"))
    return _compact.merge_swap(root, folder, "observations", group)


def killed_after_the_intent(root: Path, swap: _swap.Swap) -> None:
    _swap.begin(root, swap)


def killed_after_the_rename(root: Path, swap: _swap.Swap) -> None:
    _swap.begin(root, swap)
    swap.moves[0].publish()


def killed_after_one_deletion(root: Path, swap: _swap.Swap) -> None:
    killed_after_the_rename(root, swap)
    swap.deletes[0].unlink()


def killed_writing_the_intent(root: Path, swap: _swap.Swap) -> None:
    staging = root / _files.STAGING_DIR
    (staging / "swap-part-20260105T100000000000-1-deadbeef.intent.json").write_text('{"moves": [[')


def plain_rows(root: Path) -> int:
    """The rows pandas, without replay, reads from the observations folder."""
    return len(pd.read_parquet(root / "observations"))


def duckdb_rows(root: Path) -> int:
    import duckdb

    glob = f"{root}/observations/*/*.parquet"
    return int(duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0])


def a_fresh_read(root: Path) -> None:
    assert len(replay.read(root)) == ROWS  # never counting twice, even before it repairs


def a_fresh_recorder(root: Path) -> None:
    with replay.Recorder(root) as rec:  # writes too few files to compact
        rec.observe("c", b'{"status": "inProgress"}', ts=T0)


def a_compaction(root: Path) -> None:
    store.compact(root)


KILLS = [
    pytest.param(killed_writing_the_intent, 0, id="writing-the-intent"),
    pytest.param(killed_after_the_intent, 0, id="after-the-intent"),
    pytest.param(killed_after_the_rename, 60, id="after-the-rename"),
    pytest.param(killed_after_one_deletion, 50, id="after-one-deletion"),
]
OPENS = [
    pytest.param(a_fresh_read, 0, id="read"),
    pytest.param(a_fresh_recorder, 1, id="recorder"),
    pytest.param(a_compaction, 0, id="compact"),
]


@pytest.mark.parametrize(("kill", "twice_until_opened"), KILLS)
@pytest.mark.parametrize(("open_", "added"), OPENS)
def test_a_compaction_killed_at_any_step_is_finished_by_the_next_open(
    tmp_path: Path,
    kill: Callable[[Path, _swap.Swap], None],
    twice_until_opened: int,
    open_: Callable[[Path], None],
    added: int,
) -> None:
    rows = small_files(tmp_path)
    kill(tmp_path, a_merge(tmp_path))
    # What a plain reader sees between the kill and the next open (and for the milliseconds a
    # live compaction spends between its rename and its deletions).
    assert plain_rows(tmp_path) == rows + twice_until_opened
    open_(tmp_path)
    assert plain_rows(tmp_path) == duckdb_rows(tmp_path) == rows + added
    assert len(replay.read(tmp_path)) == rows + added
    assert not list((tmp_path / _files.STAGING_DIR).glob("*.intent.json"))
    assert store.compact(tmp_path).observation_rows == rows + added


def test_a_swap_whose_output_vanished_is_undone_and_deletes_nothing(tmp_path: Path) -> None:
    rows = small_files(tmp_path)
    swap = a_merge(tmp_path)
    _swap.begin(tmp_path, swap)
    swap.moves[0].temporary.unlink()  # e.g. removed by hand as a stale temporary
    replay.read(tmp_path)
    assert plain_rows(tmp_path) == rows
    assert all(path.exists() for path in swap.deletes)


def test_a_reader_leaves_a_running_compaction_alone(tmp_path: Path) -> None:
    rows = small_files(tmp_path)
    swap = a_merge(tmp_path)
    with _swap.exclusive(tmp_path, wait=True):  # held, as a live compaction holds it
        killed_after_the_rename(tmp_path, swap)
        assert len(replay.read(tmp_path)) == rows
        assert all(path.exists() for path in swap.deletes)  # the compaction deletes them
    replay.read(tmp_path)
    assert plain_rows(tmp_path) == rows


@pytest.mark.slow
def test_a_compaction_sigkilled_after_its_rename_is_finished_by_the_next_reader(
    tmp_path: Path,
) -> None:
    rows = small_files(tmp_path)
    killer = textwrap.dedent(
        """
        import os, signal, sys
        from replay import store

        real = os.replace

        def replace_then_die(src, dst):
            real(src, dst)
            if str(dst).endswith(".parquet"):
                os.kill(os.getpid(), signal.SIGKILL)

        os.replace = replace_then_die
        store.compact(sys.argv[1])
        """
    )
    done = subprocess.run([sys.executable, "-c", killer, str(tmp_path)], check=False)
    assert done.returncode == -9
    assert plain_rows(tmp_path) == 2 * rows  # the output beside all its sources
    assert len(replay.read(tmp_path)) == rows
    assert plain_rows(tmp_path) == duckdb_rows(tmp_path) == rows
    assert len(os.listdir(next((tmp_path / "observations").iterdir()))) == 1
