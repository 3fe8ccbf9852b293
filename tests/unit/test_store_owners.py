"""One writer per recording folder, unless their shards are disjoint; dead writers' locks freed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import replay
from replay.cli import main
from replay.errors import RecorderError, UsageError
from replay.importer import import_files
from replay.recorder.shard import shard_of
from replay.store._owners import shards_overlap
from replay.store.files import WRITERS_DIR

DATA = Path(__file__).parent.parent / "data" / "imports"
BODY = b'{"status": "inProgress"}'


def job_in(shard: str | None) -> str:
    """A job id that falls in ``shard`` ("K/N"; any job for None)."""
    if shard is None:
        return "job-0"
    k, n = map(int, shard.split("/"))
    return next(f"job-{i}" for i in range(1000) if shard_of(f"job-{i}", n) == k)


def lock_files(root: Path) -> list[Path]:
    return sorted((root / WRITERS_DIR).glob("*.json"))


@pytest.mark.parametrize(
    ("first", "second", "refused"),
    [
        pytest.param(None, None, True, id="two-whole-recorders"),
        pytest.param(None, "1/2", True, id="whole-then-shard"),
        pytest.param("1/2", None, True, id="shard-then-whole"),
        pytest.param("1/2", "1/2", True, id="the-same-shard"),
        pytest.param("1/2", "3/4", True, id="overlapping-shards"),
        pytest.param("1/2", "2/2", False, id="disjoint-halves"),
        pytest.param("1/2", "2/4", False, id="disjoint-other-counts"),
    ],
)
def test_a_second_recorder_on_a_folder_is_refused_unless_the_shards_are_disjoint(
    tmp_path: Path, first: str | None, second: str | None, refused: bool
) -> None:
    with replay.Recorder(tmp_path, shard=first) as one:
        one.observe(job_in(first), BODY)
        two = replay.Recorder(tmp_path, shard=second)
        if refused:
            with pytest.raises(RecorderError) as caught:
                two.observe(job_in(second), BODY)
            message = str(caught.value)
            assert "\n" not in message
            assert f"is being written by replay record (pid {os.getpid()}" in message
            assert "disjoint --shard K/N" in message
        else:
            with two:
                two.observe(job_in(second), BODY)
    assert len(replay.read(tmp_path)) == 1 + (not refused)
    assert lock_files(tmp_path) == []  # every recorder that closed gave the folder up


def test_a_closed_recorder_frees_the_folder_for_the_next(tmp_path: Path) -> None:
    for _ in range(2):
        with replay.Recorder(tmp_path) as rec:
            rec.observe("job-1", BODY)
            assert len(lock_files(tmp_path)) == 1
    assert replay.read(tmp_path)["seq"].tolist() == [0, 1]


@pytest.mark.slow
def test_the_lock_of_a_recorder_that_was_killed_is_taken_over(tmp_path: Path) -> None:
    killed = (
        "import os, signal, sys, replay\n"
        "rec = replay.Recorder(sys.argv[1])\n"
        "rec.observe('job-1', b'{\"status\": \"inProgress\"}')\n"
        "rec._buffer.flush()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", killed, str(tmp_path)], check=False)
    assert done.returncode == -9
    assert len(lock_files(tmp_path)) == 1  # left behind, its owner dead
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-1", BODY)
    assert replay.read(tmp_path)["seq"].tolist() == [0, 1]
    assert lock_files(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "taken_over"),
    [
        pytest.param(b'{"pid": 1, "host": "elsewhere", "shard": null}', False, id="another-host"),
        pytest.param(b'{"pid": 1, "ho', True, id="torn-here"),
    ],
)
def test_a_lock_file_nobody_here_holds_is_taken_over_unless_it_is_another_host_s(
    tmp_path: Path, content: bytes, taken_over: bool
) -> None:
    (tmp_path / WRITERS_DIR).mkdir()
    left = tmp_path / WRITERS_DIR / "record-1-deadbeef.json"
    left.write_bytes(content)
    rec = replay.Recorder(tmp_path)
    if taken_over:
        with rec:
            rec.observe("job-1", BODY)
        assert not left.exists()
    else:
        with pytest.raises(RecorderError, match=f"if it is no longer running, delete {left}"):
            rec.observe("job-1", BODY)


def test_an_import_into_a_folder_a_recorder_writes_is_refused(tmp_path: Path) -> None:
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-1", BODY)
        with pytest.raises(RecorderError, match="being written by replay record"):
            import_files([DATA / "graph_payloads.jsonl"], tmp_path)
    assert import_files([DATA / "graph_payloads.jsonl"], tmp_path).rows == 5


def test_replay_record_on_a_folder_another_recorder_writes_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://127.0.0.1:9/monitor/job-9?tempauth=FAKEtempauthSECRET"
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-1", BODY)
        assert main(["record", url, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "is being written by replay record" in err and "Traceback" not in err


def test_a_sharded_recorder_refuses_a_job_of_another_shard(tmp_path: Path) -> None:
    with (
        replay.Recorder(tmp_path, shard="1/2") as rec,
        pytest.raises(UsageError, match=r"is in shard 2/2, and this recorder writes shard 1/2"),
    ):
        rec.observe(job_in("2/2"), BODY)


def test_shards_overlap_exactly_when_some_job_falls_in_both() -> None:
    ids = [f"job-{i}" for i in range(3000)]
    shards = [(k, n) for n in range(1, 7) for k in range(1, n + 1)]
    for a in shards:
        for b in shards:
            both = any(shard_of(j, a[1]) == a[0] and shard_of(j, b[1]) == b[0] for j in ids)
            assert shards_overlap(a, b) == both, (a, b)
    assert shards_overlap(None, (1, 2)) and shards_overlap((1, 2), None)
