"""Timelines drawn from their data: status strips match transitions, fleet buckets match counts."""

from __future__ import annotations

import itertools
from typing import Any

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


def _overlaps(boxes: list[Any]) -> list[tuple[int, int]]:
    """Pairs of boxes (by index) that overlap."""
    return [
        (i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2) if a.overlaps(b)
    ]


@pytest.mark.parametrize(
    ("codes_at"),
    [
        pytest.param([(90.0, "unknown_status"), (90.0, "no_terminal")], id="same timestamp"),
        pytest.param([(30.0, "a"), (30.5, "b"), (31.0, "c")], id="half a second apart"),
        pytest.param([(0.0, "first"), (100.0, "middle"), (199.0, "x"), (200.0, "y")], id="edges"),
    ],
)
def test_violation_names_never_print_over_each_other(codes_at: list[tuple[float, str]]) -> None:
    obs = obs_frame(JOB)
    violations = pd.DataFrame(
        {
            "job_id": "j",
            "ts": [T0 + pd.Timedelta(seconds=t) for t, _ in codes_at],
            "code": [c for _, c in codes_at],
        }
    )
    drawn = status_timeline(obs, "j", violations=violations)
    drawn.ax.figure.canvas.draw()
    renderer = drawn.ax.figure.canvas.get_renderer()
    names = [t for t in drawn.ax.texts if t.get_text()]
    assert sorted(c for t in names for c in t.get_text().split("\n")) == sorted(
        {c for _, c in codes_at}
    )
    boxes = [t.get_window_extent(renderer) for t in names]
    assert _overlaps(boxes) == []
    frame = drawn.ax.get_window_extent(renderer)
    assert all(frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 for b in boxes)


def test_a_one_poll_job_draws_no_negative_seconds_and_says_why() -> None:
    drawn = status_timeline(obs_frame({"one": [(0, "inProgress", 0.0, 401)]}), "one")
    low, high = drawn.ax.get_xlim()
    assert low == 0 and high > 0
    assert "single poll" in drawn.ax.get_title(loc="left")
    drawn.ax.figure.canvas.draw()
    ticks = [t.get_text() for t in drawn.ax.get_xticklabels() if t.get_text()]
    assert ticks and not [t for t in ticks if t.startswith(("-", "−"))]


def test_polls_without_a_status_continue_the_run_before_them() -> None:
    obs = obs_frame(
        {
            "h": [
                (0, "inProgress", 10.0, 202),
                (20, None, None, 200),  # an HTML body on HTTP 200: no status
                (40, None, None, 200),
                (60, "completed", 100.0, 200),
            ]
        }
    )
    drawn = status_timeline(obs, "h")
    assert list(drawn.segments["status"]) == ["inProgress", "completed"]
    np.testing.assert_allclose(drawn.segments["end_s"], [60.0, 60.0])
    assert drawn.unread is not None
    np.testing.assert_allclose(drawn.unread.get_xdata(), [20.0, 40.0])
    time_in = summarize(obs).iloc[0]
    assert time_in["time_in_inProgress_s"] == 60.0
