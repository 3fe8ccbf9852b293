"""Timelines drawn from their data: status strips match transitions, fleet buckets match counts."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from factories import T0, obs_frame

from replay.engine import summarize, transitions, validate
from replay.errors import UsageError
from replay.plots import fleet_timeline, status_timeline
from replay.simulate import simulate

JOB = {
    "j": [
        (0, "notStarted", None, 202),
        (30, "inProgress", 10.0, 202),
        (60, "inProgress", 50.0, 202),
        (90, "waiting", 50.0, 202),
        (150, "inProgress", 70.0, 429),
        (200, "completed", 100.0, 200),
    ],
    "k": [(100, "inProgress", 5.0, 503), (400, "failed", None, 200)],
}


@pytest.fixture(scope="module")
def fleet_obs() -> pd.DataFrame:
    """Observations of 150 simulated jobs of every scenario."""
    return simulate(150, seed=9).observations()


def test_status_strip_has_one_segment_per_run_starting_at_each_transition() -> None:
    obs = obs_frame(JOB)
    drawn = status_timeline(obs, "j")
    changes = transitions(obs)
    changes = changes[changes["job_id"] == "j"]
    assert list(drawn.segments["status"]) == ["notStarted", *changes["to_status"]]
    starts = (changes["ts_to"] - T0).dt.total_seconds().to_numpy()
    np.testing.assert_allclose(drawn.segments["start_s"], [0.0, *starts])
    np.testing.assert_allclose(drawn.segments["end_s"], [*starts, 200.0])
    spans = [path.get_extents() for path in drawn.strips["inProgress"].get_paths()]
    assert [(b.x0, b.x1) for b in spans] == [(30.0, 90.0), (150.0, 200.0)]


def test_status_strip_overlays_the_percentage_and_marks_the_jobs_violations(
    fleet_obs: pd.DataFrame,
) -> None:
    violations = validate(fleet_obs)
    job = str(violations["job_id"].iloc[0])
    drawn = status_timeline(fleet_obs, job, violations=violations)
    mine = fleet_obs[
        (fleet_obs["job_id"] == job) & fleet_obs["percentage_complete"].between(0, 100)
    ]
    assert drawn.pct is not None
    np.testing.assert_allclose(drawn.pct.get_ydata(), mine["percentage_complete"].to_numpy(float))
    assert drawn.violations is not None
    assert len(drawn.violations.get_segments()) == int((violations["job_id"] == job).sum())


def test_status_timeline_names_a_job_it_cannot_find() -> None:
    with pytest.raises(UsageError, match="no job 'nope'"):
        status_timeline(obs_frame(JOB), "nope")


def _brute_force(obs: pd.DataFrame, summary: pd.DataFrame, edges: pd.DatetimeIndex) -> pd.DataFrame:
    """Each bucket's counts by looping over buckets: the reference for the vectorised table."""
    rows = []
    throttled = obs.loc[obs["http_status"].isin([429, 503]), "ts"]
    ended = summary[~summary["outcome"].isin(["completed", "abandoned"])]
    done = summary[summary["outcome"] == "completed"]
    for lo, hi in itertools.pairwise(edges):
        rows.append(
            {
                "running": int(((summary["first_ts"] < hi) & (summary["last_ts"] >= lo)).sum()),
                "started": int(summary["first_ts"].between(lo, hi, inclusive="left").sum()),
                "completed": int(done["last_ts"].between(lo, hi, inclusive="left").sum()),
                "failed": int(ended["last_ts"].between(lo, hi, inclusive="left").sum()),
                "throttled": int(throttled.between(lo, hi, inclusive="left").sum()),
            }
        )
    return pd.DataFrame(rows, index=edges[:-1])


@pytest.mark.parametrize("freq", [None, "10min", "1h"])
def test_fleet_buckets_count_running_started_ended_and_throttled(
    freq: str | None, fleet_obs: pd.DataFrame
) -> None:
    summary = summarize(fleet_obs)
    drawn = fleet_timeline(fleet_obs, summary, freq=freq)
    table = drawn.table
    step = pd.Timedelta(drawn.freq)
    edges = pd.DatetimeIndex([*table.index, table.index[-1] + step])
    expected = _brute_force(fleet_obs, summary, edges)
    # the last bucket also holds its right edge (numpy.histogram): compare the open buckets
    pd.testing.assert_frame_equal(
        table.iloc[:-1], expected.iloc[:-1], check_names=False, check_freq=False
    )
    assert table["started"].sum() == len(summary)
    assert table["throttled"].sum() == int(fleet_obs["http_status"].isin([429, 503]).sum())
    np.testing.assert_array_equal(drawn.lines["running"].get_ydata(), table["running"])


def test_fleet_timeline_rejects_a_calendar_frequency() -> None:
    with pytest.raises(UsageError, match="fixed duration"):
        fleet_timeline(obs_frame(JOB), freq="MS")
