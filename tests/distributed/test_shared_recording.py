"""Two ``replay record --shard K/2`` processes recording one fleet into one folder, read on dask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from distributed import Client

from replay import distributed
from replay.engine import validate
from replay.recorder.shard import shard_of
from replay.scan import scan
from replay.server import MonitorServer
from replay.simulate import simulate
from replay.store import read, read_jobs

_FAST = ["--interval", "0.05", "--max-interval", "0.5", "--max-retry-after", "0.5"]
_SCENARIOS = ["happy_path", "slow_queue", "failed_with_error", "throttled", "legacy_303"]


def test_two_shard_processes_fill_one_folder_without_clashes_or_duplicates(
    client: Client, tmp_path: Path
) -> None:
    fleet = simulate(24, seed=5, scenarios=_SCENARIOS)
    root = tmp_path / "fleet"
    with MonitorServer(speed=2000) as server:
        urls = server.add_fleet(fleet)
        (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
        procs = [_recorder(tmp_path, root, f"{k}/2") for k in (1, 2)]
        done = [proc.communicate(timeout=120) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in done]
    jobs, obs = read_jobs(root), read(root)
    expected_ids = set(fleet.jobs["job_id"].astype(str))
    assert set(jobs["job_id"].astype(str)) == expected_ids
    assert not jobs["job_id"].duplicated().any()
    assert not obs.duplicated(["job_id", "seq"]).any()
    shards = {shard_of(str(j), 2) for j in expected_ids}
    assert shards == {1, 2}  # both processes really had jobs to record
    assert scan(root).clean  # the URLs' credentials never reached the shared recording
    got = distributed.validate(distributed.read(root, partition_rows=1))
    pd.testing.assert_frame_equal(got, validate(obs))


def _recorder(cwd: Path, out: Path, shard: str) -> subprocess.Popen[str]:
    """``replay record --shard`` of the fleet's URL list, started in its own process."""
    argv = [sys.executable, "-m", "replay", "record", "--urls-file", "urls.txt", "--out", str(out)]
    return subprocess.Popen(
        [*argv, "--shard", shard, *_FAST],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
