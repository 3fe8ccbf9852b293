"""Hostile input over real loopback HTTP: a body Arrow cannot encode, a second recorder."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import replay
from replay import store
from replay.recorder import record
from replay.server import MonitorServer
from replay.testing import Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

FAST: dict[str, Any] = {"interval": 0.01, "max_interval": 0.05, "max_rps": 0, "deadline": 20.0}
CLI_FAST = ["--interval", "0.01", "--max-interval", "0.05", "--max-rps", "0"]
LONE_SURROGATE = {"body": b'{"status": "\\ud800"}'}
HALF_AN_EMOJI = {"body": b'{"status": "inProgress", "error": {"message": "cut \\ud83d"}}'}


def test_a_body_arrow_cannot_encode_loses_no_row_of_any_job(serve: Serve, tmp_path: Path) -> None:
    server = serve(mode="step")
    hostile = Timeline.from_steps(
        [("inProgress", 10), LONE_SURROGATE, HALF_AN_EMOJI, ("completed", 100)], job_id="hostile"
    )
    healthy = [
        Timeline.from_steps(
            [("notStarted", 0), ("inProgress", 50), ("completed", 100)], job_id=f"healthy-{i}"
        )
        for i in range(30)
    ]
    urls = [server.add(t) for t in [hostile, *healthy]]
    summary = asyncio.run(record(urls, tmp_path, **FAST))
    obs = store.read(tmp_path)
    assert len(obs) == sum(len(server.requests(u)) for u in urls) == 4 + 30 * 3
    assert summary.outcomes == {"completed": 31}
    assert set(store.read_jobs(tmp_path)["outcome"]) == {"completed"}
    rows = obs[obs["job_id"] == "hostile"]
    assert rows["status"].astype(str).tolist()[:2] == ["inProgress", "\ufffd"]
    assert rows["error_message"].tolist()[2] == "cut \ufffd"
    assert "\\ud800" in rows["body"].tolist()[1]  # the raw body, its escape kept
    assert "ts_not_increasing" not in set(replay.validate(obs)["code"])


def start_recorder(urls: list[str], out: Path, *extra: str) -> subprocess.Popen[str]:
    """``replay record URLS --out OUT`` as a child process."""
    command = [sys.executable, "-m", "replay", "record", *urls, "--out", str(out), *CLI_FAST]
    return subprocess.Popen(
        [*command, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def wait_for_rows(out: Path, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if list((out / "observations").rglob("*.parquet")):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing recorded under {out} within {timeout_s} s")


def test_a_second_recorder_process_on_the_same_folder_is_refused_in_one_line(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    running = {"status": "inProgress", "percentageComplete": 5.0}
    urls = [server.add(make_timeline(f"long-{i}", [(0, 202, running)])) for i in range(3)]
    out = tmp_path / "rec"
    first = start_recorder(urls, out, "--deadline", "60")
    try:
        wait_for_rows(out)
        second = start_recorder(urls, out, "--deadline", "5")
        _, stderr = second.communicate(timeout=30)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    assert second.returncode == 2
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert f"is being written by replay record (pid {first.pid} on " in stderr
    assert "--shard K/N" in stderr
    assert first.returncode == 0
    obs = store.read(out)
    assert not obs.duplicated(["job_id", "seq"]).any()


def test_recorders_of_disjoint_shards_share_one_folder(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    steps = [(0, 202, {"status": "inProgress", "percentageComplete": p}) for p in (0, 40, 80)]
    steps.append((0, 200, {"status": "completed", "percentageComplete": 100.0}))
    urls = [server.add(make_timeline(f"job-{i}", steps)) for i in range(16)]
    out = tmp_path / "rec"
    children = [start_recorder(urls, out, "--shard", f"{k}/2") for k in (1, 2)]
    done = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0], done
    obs = store.read(out)
    assert len(obs) == 16 * 4
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert "ts_not_increasing" not in set(replay.validate(obs)["code"])
    assert set(store.read_jobs(out)["outcome"]) == {"completed"}


@pytest.mark.parametrize("with_shard", [False, True])
def test_a_killed_recorder_s_restart_takes_its_folder_over(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path, with_shard: bool
) -> None:
    server = serve(mode="step")
    steps = [(0, 202, {"status": "inProgress"})] * 30 + [(0, 200, {"status": "completed"})]
    urls = [server.add(make_timeline(f"k-{i}", steps)) for i in range(4)]
    shard = ["--shard", "1/1"] if with_shard else []
    out = tmp_path / "rec"
    child = start_recorder(urls, out, *shard)
    wait_for_rows(out)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=10)
    restart = start_recorder(urls, out, *shard)
    _, stderr = restart.communicate(timeout=60)
    assert restart.returncode == 0, stderr
    obs = store.read(out)
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert set(store.read_jobs(out)["outcome"]) == {"completed"}
