"""Crash safety of ``replay record``: SIGKILL at random moments, restarts, SIGINT and SIGTERM."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from replay import store
from replay.errors import DatasetNotFoundError
from replay.server import MonitorServer
from replay.simulate import Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

#: The fake server runs job time this many times faster than wall time.
SPEED = 100.0
KEY = ["job_id", "seq"]


def progress_timeline(make_timeline: MakeTimeline, job_id: str, done_at_s: float) -> Timeline:
    """notStarted, then inProgress rising every 50 job seconds, completed at ``done_at_s``."""
    steps = [(0.0, 202, {"status": "notStarted", "percentageComplete": 0.0})]
    steps += [
        (t, 202, {"status": "inProgress", "percentageComplete": round(100 * t / done_at_s, 1)})
        for t in range(50, int(done_at_s), 50)
    ]
    steps.append((done_at_s, 200, {"status": "completed", "percentageComplete": 100.0}))
    return make_timeline(job_id, steps)


def start_recorder(urls_file: Path, out: Path) -> subprocess.Popen[str]:
    """``replay record`` as a child process, polling fast."""
    command = [sys.executable, "-m", "replay", "record", "--urls-file", str(urls_file)]
    command += ["--out", str(out), "--interval", "0.05", "--max-interval", "0.2"]
    command += ["--max-rps", "0", "--deadline", "60"]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )


def on_disk(out: Path) -> pd.DataFrame:
    """The observations a reader sees now (empty before the first flush)."""
    try:
        return store.read(out, columns=["ts", "status", "percentage_complete", "http_status"])
    except DatasetNotFoundError:
        return pd.DataFrame(columns=[*KEY, "ts", "status", "percentage_complete", "http_status"])


def rows(frame: pd.DataFrame) -> set[tuple[object, ...]]:
    """Rows as comparable tuples."""
    plain = frame.astype({"job_id": str, "status": object}).astype(object)
    return set(plain.where(plain.notna(), None).itertuples(index=False, name=None))


def wait_for_rows(out: Path, more_than: int = 0, timeout_s: float = 20.0) -> None:
    """Block until the recorder has flushed more than ``more_than`` observations."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(on_disk(out)) > more_than:
            return
        time.sleep(0.05)
    raise AssertionError(f"no rows flushed under {out} within {timeout_s} s")


def test_sigkill_at_random_moments_loses_nothing_flushed_and_restart_continues(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="time", speed=SPEED)
    urls = [
        server.add(progress_timeline(make_timeline, f"job-{i:02d}", 600.0 + 20 * i))
        for i in range(24)
    ]
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "rec"
    rng = random.Random()
    # Three kills at any instant from start-up on, three well after a flush, shuffled.
    kills = [(False, rng.uniform(0.0, 2.5)) for _ in range(3)]
    kills += [(True, rng.uniform(0.0, 1.6)) for _ in range(3)]
    rng.shuffle(kills)
    flushed: set[tuple[object, ...]] = set()
    grew = 0
    for settled, moment in kills:
        child = start_recorder(urls_file, out)
        if settled:
            wait_for_rows(out, more_than=len(flushed))
        time.sleep(moment)
        child.send_signal(signal.SIGKILL)
        killed_at = pd.Timestamp.now(tz="UTC")
        child.wait(timeout=10)
        seen = on_disk(out)  # the dataset reads after every kill
        assert not seen.duplicated(KEY).any(), f"duplicates after kill at {moment:.2f} s"
        assert rows(seen) >= flushed, f"rows lost by the kill at {moment:.2f} s"
        if settled:  # at most the last flush interval (1 s, plus the write) was lost
            assert seen["ts"].max() >= killed_at - pd.Timedelta(seconds=1.5)
        grew += len(seen) > len(flushed)
        flushed = rows(seen)
    assert grew >= 3, f"only {grew} of the kills hit a recording that was writing"
    child = start_recorder(urls_file, out)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    final = store.read(out)
    assert not final.duplicated(KEY).any()
    assert rows(final[[*KEY, "ts", "status", "percentage_complete", "http_status"]]) >= flushed
    for job_id, seqs in final.groupby("job_id", observed=True)["seq"]:
        assert seqs.tolist() == list(range(len(seqs))), f"seq of {job_id} has a gap"
    jobs = store.read_jobs(out)
    assert set(jobs["outcome"]) == {"completed"}
    assert len(jobs) == len(urls)
    assert "24 job(s)" in stdout


@pytest.mark.parametrize(("sig",), [(signal.SIGINT,), (signal.SIGTERM,)])
def test_sigint_and_sigterm_flush_abandon_running_jobs_and_exit_0(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path, sig: signal.Signals
) -> None:
    server = serve(mode="time", speed=SPEED)
    urls = [server.add(progress_timeline(make_timeline, f"s-{i}", 5000.0)) for i in range(3)]
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "rec"
    child = start_recorder(urls_file, out)
    wait_for_rows(out)
    child.send_signal(sig)
    stdout, stderr = child.communicate(timeout=20)
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "abandoned" in stderr
    jobs = store.read_jobs(out)
    assert jobs["outcome"].tolist() == ["abandoned"] * 3
    polled = sum(len(server.requests(u)) for u in urls)
    # Every response received was flushed at exit; a request in flight at the signal may not be.
    assert polled - len(urls) <= len(store.read(out)) <= polled
    assert "3 abandoned" in stdout
