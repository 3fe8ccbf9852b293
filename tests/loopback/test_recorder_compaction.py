"""The recorder goes on recording when merging its small files cannot run."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from replay import ReplayWarning, store
from replay.recorder import Recorder
from replay.server import MonitorServer
from replay.simulate import Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

DATA = Path(__file__).resolve().parent.parent / "data"
IN_PROGRESS = {"operation": "ItemCopy", "percentageComplete": 27.8, "status": "inProgress"}
OPTIONS = {
    "interval": 0.01,
    "max_interval": 0.01,
    "max_rps": 0,
    "flush_interval": 0.05,
    "compact_every": 0.2,
}


@contextlib.contextmanager
def another_compaction(root: Path) -> Iterator[None]:
    """Hold the recording's compaction lock, as a compaction in another process would."""
    fd = os.open(root / ".replay-compact.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def foreign_jobs_file(root: Path) -> Iterator[None]:
    """A Parquet file another program wrote into the recording's jobs folder."""
    shutil.copyfile(DATA / "foreign.parquet", root / "jobs" / "part-0-foreign.parquet")
    yield


@pytest.mark.parametrize(
    ("obstacle", "reason", "reading_warns"),
    [
        (another_compaction, "another compaction", False),
        (foreign_jobs_file, "lacks the required column", True),  # read: skipped, with a warning
    ],
)
def test_recording_goes_on_with_a_warning_when_compaction_fails(
    serve: Serve,
    make_timeline: MakeTimeline,
    tmp_path: Path,
    obstacle: Callable[[Path], contextlib.AbstractContextManager[None]],
    reason: str,
    reading_warns: bool,
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("live", [(0, 202, IN_PROGRESS)]))

    async def main() -> str:
        with contextlib.ExitStack() as stack:
            async with Recorder(tmp_path, **OPTIONS) as rec:
                job_id = await rec.track(url)
                await asyncio.sleep(0.1)
                stack.enter_context(obstacle(tmp_path))  # until the recorder has closed
                await asyncio.sleep(0.8)
        return job_id

    with pytest.warns(ReplayWarning, match=reason) as caught:
        job_id = asyncio.run(main())
    assert all("the recording goes on" in str(w.message) for w in caught)
    files = list((tmp_path / "observations").rglob("*.parquet"))
    assert len(files) > 3  # nothing merged, every flush still there
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    # Every answer the recorder received is a row; a poll still in flight when it closed may
    # have reached the server's log without its answer ever coming back (cancelled at close).
    served = len(server.requests(url))
    assert served - 1 <= rows <= served and rows > 10
    with pytest.warns(ReplayWarning) if reading_warns else contextlib.nullcontext():
        jobs = store.read_jobs(tmp_path, on_bad_file="skip").set_index("job_id")
    assert jobs.loc[job_id, "outcome"] == "abandoned"
