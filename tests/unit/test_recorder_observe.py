"""Recorder.observe: payloads from the user's own polling, without asyncio."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import replay


def test_observations_reach_the_disk_when_the_recorder_is_used_as_a_context(
    tmp_path: Path,
) -> None:
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-1", b'{"status": "inProgress", "percentageComplete": 5}', http_status=202)
        rec.observe("job-1", b'{"status": "completed", "percentageComplete": 100}', http_status=200)
    obs = replay.read(tmp_path)
    assert list(obs["status"].astype(str)) == ["inProgress", "completed"]
    assert replay.read_jobs(tmp_path)["outcome"].tolist() == ["completed"]


def test_a_recorder_dropped_with_unwritten_rows_says_so(tmp_path: Path) -> None:
    rec = replay.Recorder(tmp_path, flush_interval=3600)
    rec.observe("job-1", b'{"status": "inProgress"}', http_status=202)
    with pytest.warns(replay.ReplayWarning, match=r"dropped with \d+ observation\(s\) not written"):
        del rec
        gc.collect()


def test_a_closed_recorder_is_dropped_silently(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    rec = replay.Recorder(tmp_path)
    rec.observe("job-1", b'{"status": "completed"}', http_status=200)
    rec.close()
    del rec
    gc.collect()
    assert not [w for w in recwarn if issubclass(w.category, replay.ReplayWarning)]
