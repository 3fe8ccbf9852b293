"""Hostile input over real loopback HTTP: a body Arrow cannot encode loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import replay
from replay import store
from replay.recorder import record
from replay.server import MonitorServer
from replay.testing import Timeline

Serve = Callable[..., MonitorServer]

FAST: dict[str, Any] = {"interval": 0.01, "max_interval": 0.05, "max_rps": 0, "deadline": 20.0}
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
