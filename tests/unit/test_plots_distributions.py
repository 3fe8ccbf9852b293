"""Duration ECDFs and throughput histograms drawn from their data: endpoints, percentiles, medians."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from replay.engine import summarize
from replay.errors import UsageError
from replay.plots import duration_distribution, throughput
from replay.simulate import Fleet, simulate


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    """A simulated fleet of 200 jobs of every outcome."""
    return simulate(200, seed=5)


@pytest.fixture(scope="module")
def summary(fleet: Fleet) -> pd.DataFrame:
    """The fleet's summary."""
    return summarize(fleet.observations(), jobs=fleet.jobs)


def test_each_ecdf_runs_from_one_job_to_all_over_the_sorted_durations(
    summary: pd.DataFrame,
) -> None:
    drawn = duration_distribution(summary)
    assert set(drawn.lines) == set(summary["outcome"])
    for outcome, line in drawn.lines.items():
        durations = np.sort(summary.loc[summary["outcome"] == outcome, "duration_s"].to_numpy())
        np.testing.assert_allclose(line.get_xdata(), durations)
        y = np.asarray(line.get_ydata())
        assert y[0] == pytest.approx(1 / len(durations)) and y[-1] == 1.0
        assert np.all(np.diff(y) > 0)


def test_percentile_marks_sit_at_numpy_percentiles(summary: pd.DataFrame) -> None:
    drawn = duration_distribution(summary)
    for outcome, row in drawn.percentiles.iterrows():
        durations = summary.loc[summary["outcome"] == outcome, "duration_s"]
        np.testing.assert_allclose(row.to_numpy(), np.percentile(durations, [50, 90, 99]))
        np.testing.assert_allclose(
            drawn.marks[str(outcome)].get_offsets(),
            np.column_stack((row.to_numpy(), [0.5, 0.9, 0.99])),
        )


def _expected_rates(summary: pd.DataFrame, jobs: pd.DataFrame | None) -> pd.Series:
    """Throughput per job computed row by row: the reference for the vectorised one."""
    sizes = {} if jobs is None else dict(zip(jobs["job_id"], jobs["size_bytes"], strict=True))
    rates = {}
    for row in summary.itertuples():
        if row.duration_s <= 0:
            continue
        if jobs is None:
            amount = row.max_pct
        else:
            amount = sizes[row.job_id] * (1.0 if row.outcome == "completed" else row.max_pct / 100)
        if np.isfinite(amount):
            rates[row.job_id] = amount / row.duration_s
    return pd.Series(rates)


@pytest.mark.parametrize(("with_jobs", "unit"), [(True, "bytes"), (False, "percent")])
def test_throughput_per_job_and_median_per_outcome(
    with_jobs: bool, unit: str, fleet: Fleet, summary: pd.DataFrame
) -> None:
    jobs = fleet.jobs if with_jobs else None
    drawn = throughput(summary, jobs)
    expected = _expected_rates(summary, jobs)
    assert drawn.unit == unit
    got = drawn.values.set_index("job_id")["rate"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, check_index_type=False
    )
    outcome = drawn.values.set_index("job_id")["outcome"]
    for name, median in drawn.medians.items():
        mine = got[(outcome == name) & (got > 0)]
        assert median == pytest.approx(float(np.median(mine)))
        assert drawn.lines[name].get_xdata()[0] == pytest.approx(median)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: duration_distribution(s.drop(columns="duration_s")), "duration_s"),
        (lambda s: throughput(s, pd.DataFrame({"job_id": ["x"]})), "size_bytes"),
    ],
)
def test_distributions_reject_frames_missing_their_columns(
    call: object, message: str, summary: pd.DataFrame
) -> None:
    with pytest.raises(UsageError, match=message):
        call(summary)  # type: ignore[operator]
