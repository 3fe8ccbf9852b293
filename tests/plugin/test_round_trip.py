"""Round trip: a fleet recorded from the server, replayed job by job through the plugin."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from replay import store
from replay.recorder import record
from replay.server import MonitorServer
from replay.simulate import simulate

pytestmark = pytest.mark.timeout(180)

#: Scenarios whose recording ends on its own (no deadline, no give-up on garbage).
SCENARIOS = [
    "happy_path",
    "failed_with_error",
    "delete_failed",
    "throttled",
    "server_errors",
    "expired_monitor",
    "legacy_303",
    "unauthorized",
    "waiting_retry",
    "regression",
    "unknown_status",
    "out_of_range_pct",
    "stuck_percentage",
]
FAST = {"interval": 0.005, "max_interval": 0.02, "max_rps": 0, "max_retry_after": 0.02}

#: The inner test: a small poller that keeps what it saw, against the recorded sequence.
REPLAY_EACH_JOB = """
import math

import httpx
import pandas as pd
import pytest
import replay
from replay.payload import normalize

RECORDING = {root!r}
TERMINAL = ("completed", "failed", "deleteFailed", "cancelled")


def seen_by_poller(url, limit=500):
    seen = []
    with httpx.Client() as client:
        for _ in range(limit):
            try:
                answer = client.get(url)
            except httpx.TransportError:
                continue  # a dropped connection: no answer, nothing seen
            fields = normalize(answer.content, http_status=answer.status_code)
            seen.append((fields["status"], fields["percentage_complete"]))
            if fields["status"] in TERMINAL or answer.status_code in (303, 401, 403, 404, 410):
                return seen
    raise AssertionError(f"no end after {{limit}} polls: {{seen[-3:]}}")


def comparable(value):
    # None for null, "nan" for NaN (NaN != NaN), else a float
    if value is None or value is pd.NA:
        return None
    return "nan" if math.isnan(value) else float(value)


@pytest.mark.parametrize("job_id", replay.read_jobs(RECORDING)["job_id"].tolist())
def test_poller_sees_the_recorded_sequence(monitor_server, job_id):
    recorded = replay.read(RECORDING, jobs=[job_id])
    expected = [
        (None if pd.isna(status) else str(status), comparable(pct))
        for status, pct in zip(
            recorded["status"].astype(object).tolist(),
            recorded["percentage_complete"].tolist(),
        )
    ]
    url = monitor_server.add_job(recording=(RECORDING, job_id))
    seen = [(status, comparable(pct)) for status, pct in seen_by_poller(url)]
    assert seen == expected
"""


def test_recorded_fleet_replays_through_the_plugin_job_by_job(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    fleet = simulate(len(SCENARIOS), seed=11, scenarios=SCENARIOS)
    root = tmp_path / "recording"
    with MonitorServer(mode="step") as server:
        urls = server.add_fleet(fleet)
        summary = asyncio.run(record(urls, root, **FAST))
    assert summary is not None
    jobs = store.read_jobs(root)
    assert len(jobs) == len(SCENARIOS)
    assert store.read(root)["status"].nunique() >= 5  # a varied recording, not all happy paths

    pytester.makepyfile(REPLAY_EACH_JOB.format(root=str(root)))
    pytester.runpytest("-q").assert_outcomes(passed=len(SCENARIOS))
