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


def _summary_of(durations: list[float], outcome: str = "completed") -> pd.DataFrame:
    """A summary-shaped frame of jobs with these durations (all one outcome)."""
    return pd.DataFrame(
        {
            "job_id": [f"j{i}" for i in range(len(durations))],
            "outcome": outcome,
            "duration_s": durations,
            "max_pct": 100.0,
        }
    )


@pytest.mark.parametrize(
    ("durations", "log"),
    [
        pytest.param([0, 0, 2, 30, 900, 3600], True, id="zero-second jobs and four decades"),
        pytest.param([0.5, 3, 70, 6000], True, id="four decades, no zero"),
        pytest.param([0, 12, 20, 45], False, id="zero-second jobs, under two decades"),
        pytest.param([10, 20, 50], False, id="one decade"),
    ],
)
def test_durations_spanning_decades_get_a_log_axis_even_with_zero_second_jobs(
    durations: list[float], log: bool
) -> None:
    drawn = duration_distribution(_summary_of(durations))
    assert drawn.ax.get_xscale() == ("log" if log else "linear")
    assert drawn.log is log


def test_zero_second_jobs_are_counted_apart_in_words() -> None:
    drawn = duration_distribution(_summary_of([0, 0, 0, 4, 60, 7200]))
    assert drawn.zero == {"completed": 3} and drawn.counts == {"completed": 6}
    note = drawn.ax.get_title(loc="left")
    assert "3 jobs lasted 0 s" in note and "log" in note


def test_each_percentile_is_labelled_with_its_value(summary: pd.DataFrame) -> None:
    from replay._human import duration

    drawn = duration_distribution(summary)
    legend = {t.get_text() for t in drawn.ax.get_legend().get_texts()}
    for outcome, row in drawn.percentiles.iterrows():
        values = " · ".join(duration(v) for v in row)
        assert f"{outcome} ({drawn.counts[str(outcome)]:,}): {values}" in legend
    fleet = np.percentile(summary["duration_s"], [50, 90, 99])
    (top,) = drawn.ax.child_axes
    shown = [t.get_text().split() for t in top.get_xticklabels()]
    assert [" ".join(words[1:]) for words in shown] == [duration(v) for v in fleet]
    assert [words[0] for words in shown] == ["p50", "p90", "p99"]


def _throughput_summary() -> pd.DataFrame:
    """Two completed jobs with a rate, one of a single poll, one that copied nothing."""
    frame = _summary_of([10.0, 20.0, 0.0, 30.0])
    frame.loc[3, ["outcome", "max_pct"]] = ("failed", 0.0)
    return frame


def test_throughput_says_how_many_jobs_it_leaves_out_and_why() -> None:
    summary = _throughput_summary()
    drawn = throughput(summary)
    assert drawn.left_out == {
        "lasted 0 s (a single poll: no rate)": 1,
        "copied nothing (a rate of 0 has no place on a log axis)": 1,
    }
    note = drawn.ax.figure.get_suptitle()
    assert note.startswith("2 of 4 jobs not drawn: 1 lasted 0 s")
    assert drawn.ax.get_title() == "completed: 2 of 3 jobs, median 7.5 %/s"


def test_a_single_job_s_throughput_axis_carries_no_offset_label() -> None:
    summary = _summary_of([12.0]).assign(size_bytes=15_408_720.0)
    drawn = throughput(summary)
    drawn.ax.figure.canvas.draw()
    assert drawn.ax.xaxis.get_offset_text().get_text() == ""
    labels = [t.get_text() for t in drawn.ax.get_xticklabels() if t.get_text()]
    assert labels and all(label.endswith("B/s") for label in labels)
