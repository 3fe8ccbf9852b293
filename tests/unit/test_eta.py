"""ETA and stall estimates: known rates give known ends, stuck simulated jobs are flagged."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from factories import T0, obs_frame

from replay.engine import validate
from replay.errors import UsageError
from replay.eta import ETA_COLUMNS, eta
from replay.plots import eta_plot
from replay.simulate import simulate


def _linear(rate: float, until_s: float, *, start: float = 0.0, every: float = 10.0) -> list:
    """Polls every ``every`` s of a job gaining ``rate`` percent/s from ``start`` s, to ``until_s``."""
    times = np.arange(start, until_s + 1e-9, every)
    rows = [(t, "inProgress", min(100.0, rate * (t - start)), 202) for t in times]
    if rows[-1][2] >= 100:
        rows[-1] = (rows[-1][0], "completed", 100.0, 200)
    return rows


# History: ten jobs that completed at 1 %/s in 100 s.
HISTORY = {f"done{i}": _linear(1.0, -900.0 - 200 * i, start=-1000.0 - 200 * i) for i in range(10)}
NOW = T0 + pd.Timedelta(seconds=60)


@pytest.mark.parametrize(
    ("rows", "basis", "end_s", "pct"),
    [
        pytest.param(_linear(1.0, 60.0), "own", 100.0, 60.0, id="own rate 1%/s at 60%"),
        pytest.param(_linear(0.5, 60.0), "own", 200.0, 30.0, id="own rate 0.5%/s at 30%"),
        pytest.param(
            [(0, "notStarted", None, 202), (60, "notStarted", None, 202)],
            "fleet", 160.0, np.nan, id="no percentage yet: the fleet's 100 s",
        ),
        pytest.param(
            [(0, "inProgress", 20.0, 202), (30, "inProgress", 20.0, 202), (60, "inProgress", 20.0, 202)],
            "fleet", 140.0, 20.0, id="flat: the fleet's rate for the rest",
        ),
    ],
)  # fmt: skip
def test_eta_of_a_job_of_known_rate(rows: list, basis: str, end_s: float, pct: float) -> None:
    obs = obs_frame({**HISTORY, "run": rows})
    frame = eta(obs, now=NOW)
    assert list(frame.columns) == list(ETA_COLUMNS)
    assert list(frame["job_id"]) == ["run"]  # completed jobs are not running
    row = frame.iloc[0]
    assert row["basis"] == basis
    np.testing.assert_allclose(row["pct"], pct)
    assert abs((row["eta"] - T0).total_seconds() - end_s) < 1.0
    assert row["eta_low"] <= row["eta"] <= row["eta_high"]
    assert row["fleet_rate"] == pytest.approx(1.0)
    assert not row["stuck"]


def test_rows_after_now_are_ignored() -> None:
    obs = obs_frame({**HISTORY, "run": _linear(1.0, 100.0)})
    assert eta(obs).empty  # finished by the last observation
    frame = eta(obs, now=T0 + pd.Timedelta(seconds=40))
    assert list(frame["job_id"]) == ["run"] and frame["pct"].iloc[0] == 40.0


@pytest.mark.parametrize(
    ("now_s", "running"),
    [
        pytest.param(None, ["run"], id="given up before the last observation: not running"),
        pytest.param(30, ["gave_up", "run"], id="as of a time it was still followed: running"),
    ],
)
def test_jobs_the_recorder_gave_up_on_are_not_running(now_s: float | None, running: list) -> None:
    obs = obs_frame({**HISTORY, "gave_up": _linear(0.1, 50.0), "run": _linear(0.5, 60.0)})
    jobs = pd.DataFrame(
        {
            "job_id": ["gave_up", "run"],
            "last_seen": pd.to_datetime([T0 + pd.Timedelta(seconds=50), pd.NaT], utc=True),
            "outcome": ["timed_out", None],
        }
    )
    now = None if now_s is None else T0 + pd.Timedelta(seconds=now_s)
    assert "gave_up" in set(eta(obs, now=now)["job_id"])  # without the jobs table: running
    assert list(eta(obs, now=now, jobs=jobs)["job_id"]) == running


@pytest.mark.parametrize(
    ("idle_s", "stuck", "reason"),
    [(600, False, ""), (1900, True, "no change for 1900 s"), (4000, True, "no change for 4000 s")],
)
def test_a_job_idle_past_stall_after_s_is_stuck(idle_s: float, stuck: bool, reason: str) -> None:
    rows = [(0, "inProgress", 10.0, 202), (20, "inProgress", 30.0, 202)]
    frame = eta(obs_frame({"run": rows}), now=T0 + pd.Timedelta(seconds=20 + idle_s))
    assert bool(frame["stuck"].iloc[0]) is stuck
    assert frame["reason"].iloc[0].startswith(reason)


@pytest.mark.parametrize(
    ("rows", "stuck"),
    [
        pytest.param(_linear(0.01, 1000.0, every=60.0), False, id="10x the fleet, still moving"),
        pytest.param(
            _linear(0.01, 700.0, every=60.0) + [(t, "inProgress", 7.0, 202) for t in (760, 820, 880, 940, 1000)],
            True, id="10x the fleet, flat for its last polls",
        ),
        pytest.param(
            _linear(0.01, 150.0, every=30.0) + [(t, "inProgress", 1.5, 202) for t in (180, 210, 240, 270)],
            False, id="flat, but within the fleet's durations",
        ),
    ],
)  # fmt: skip
def test_a_job_not_moving_far_longer_than_the_fleet_is_stuck(rows: list, stuck: bool) -> None:
    frame = eta(obs_frame({**HISTORY, "run": rows}))
    assert bool(frame["stuck"].iloc[0]) is stuck
    assert ("the fleet's p90 duration" in frame["reason"].iloc[0]) is stuck


def _aligned(obs: pd.DataFrame, at: pd.Series, when: pd.Timestamp) -> pd.DataFrame:
    """Each job's rows shifted in time so that its instant ``at[job]`` falls on ``when``."""
    shift = when - pd.DatetimeIndex(at.reindex(obs["job_id"].astype(str)))
    return obs.assign(ts=obs["ts"] + shift.to_numpy())


def test_stuck_percentage_jobs_are_flagged_and_moving_jobs_are_not() -> None:
    when = pd.Timestamp("2026-01-09T12:00:00Z")
    stuck_obs = simulate(12, seed=4, scenarios=["stuck_percentage"]).observations()
    stalled = validate(stuck_obs).query("code == 'stalled'").drop_duplicates("job_id")
    stuck_obs = _aligned(stuck_obs, stalled.set_index(stalled["job_id"].astype(str))["ts"], when)
    happy_obs = simulate(12, seed=5, scenarios=["happy_path"]).observations()
    middle = happy_obs.groupby("job_id", observed=True)["ts"].agg(lambda t: t.iloc[len(t) // 2])
    happy_obs = _aligned(happy_obs, middle.rename(index=str), when)
    history = simulate(60, seed=6, scenarios=["happy_path"]).observations()
    obs = pd.concat([history, stuck_obs, happy_obs], ignore_index=True)
    frame = eta(obs, now=when).set_index("job_id")
    stuck_ids = set(stalled["job_id"].astype(str))
    assert len(stuck_ids) == 12
    assert frame.loc[list(stuck_ids), "stuck"].all()
    moving = frame.loc[list(middle.index.astype(str)), ["stuck", "basis"]]
    assert not moving["stuck"].any() and (moving["basis"] == "own").all()


def test_eta_rejects_a_now_that_is_not_a_time() -> None:
    with pytest.raises(UsageError, match="now must be a timestamp"):
        eta(obs_frame(HISTORY), now="soon")


def test_eta_plot_draws_each_range_and_estimate_soonest_first() -> None:
    obs = obs_frame({**HISTORY, "a": _linear(1.0, 60.0), "b": _linear(0.5, 60.0)})
    frame = eta(obs, now=NOW)
    drawn = eta_plot(frame)
    assert list(drawn.job_ids) == ["a", "b"]
    ends = frame.set_index("job_id").loc[drawn.job_ids, ["eta_low", "eta", "eta_high"]]
    days = ((ends - pd.Timestamp(mdates.get_epoch(), tz="UTC")) / pd.Timedelta(days=1)).to_numpy()
    np.testing.assert_allclose(drawn.points.get_offsets(), np.column_stack((days[:, 1], [0, 1])))
    segments = drawn.ranges.get_segments()
    np.testing.assert_allclose([s[:, 0] for s in segments], days[:, [0, 2]])
