"""Progress curves and bar charts drawn from their data: lines per job, bands, bar counts."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates
import numpy as np
import pandas as pd
import pytest
from factories import obs_frame

from replay.engine import outcome_counts, summarize, validate, violation_counts
from replay.errors import UsageError
from replay.eta import eta
from replay.plots import (
    duration_distribution,
    eta_plot,
    failure_modes,
    fleet_timeline,
    progress_curves,
    status_timeline,
    throughput,
    time_in_status,
)
from replay.plots._progress import BAND_LEVELS, BAND_THRESHOLD, on_grid
from replay.simulate import simulate

EPOCH = pd.Timestamp(matplotlib.dates.get_epoch(), tz="UTC")
JOBS = {
    "a": [
        (0, "notStarted", 0.0, 202),
        (10, "inProgress", 40.0, 202),
        (20, "completed", 100.0, 200),
    ],
    "b": [(0, "inProgress", 10.0, 202), (5, "failed", None, 200)],
    "c": [(0, "inProgress", 5.0, 202), (9, "inProgress", 3.0, 202)],
}


@pytest.fixture(scope="module")
def fleet_obs() -> pd.DataFrame:
    """Observations of 80 simulated jobs of every outcome."""
    return simulate(80, seed=11).observations()


def test_progress_curves_draw_one_line_per_job_with_its_points() -> None:
    curves = progress_curves(obs_frame(JOBS))
    assert curves.lines is not None and curves.bands is None
    paths = curves.lines.get_segments()
    assert list(curves.job_ids) == ["a", "b", "c"]
    assert [len(s) for s in paths] == [3, 1, 2]
    np.testing.assert_allclose(paths[0], [[0, 0], [10, 40], [20, 100]])
    assert list(curves.groups) == ["completed", "failed", "abandoned"]


def test_progress_curves_of_a_fleet_hold_one_line_per_job_with_a_percentage(
    fleet_obs: pd.DataFrame,
) -> None:
    curves = progress_curves(fleet_obs)
    with_pct = fleet_obs.loc[fleet_obs["percentage_complete"].between(0, 100), "job_id"]
    assert curves.lines is not None
    assert len(curves.lines.get_segments()) == with_pct.nunique()
    assert sorted(curves.job_ids) == sorted(with_pct.astype(str).unique())


def test_absolute_time_puts_points_at_their_wall_clock_time() -> None:
    curves = progress_curves(obs_frame(JOBS), time="absolute")
    assert curves.lines is not None
    first = matplotlib.dates.num2date(curves.lines.get_segments()[0][1, 0])
    assert first == pd.Timestamp("2026-01-05T23:00:10Z")


@pytest.mark.parametrize(
    ("time", "before", "quantile"),
    [("relative", 0.0, np.quantile), ("absolute", np.nan, np.nanquantile)],
)
def test_bands_equal_numpy_quantiles_of_each_job_interpolated_on_the_grid(
    time: str, before: float, quantile: Callable[..., np.ndarray], fleet_obs: pd.DataFrame
) -> None:
    curves = progress_curves(fleet_obs, bands=True, time=time)
    bands = curves.bands
    assert bands is not None and curves.lines is None
    valid = fleet_obs[fleet_obs["percentage_complete"].between(0, 100)]
    first_ts = fleet_obs.groupby("job_id", observed=True)["ts"].first()  # seq 0
    per_job = {}
    for job, rows in valid.groupby("job_id", observed=True):  # the reference: np.interp per job
        rows = rows.sort_values("ts", kind="stable")  # clock skew: points out of time order
        origin = first_ts[job] if time == "relative" else EPOCH
        x = (rows["ts"] - origin).dt.total_seconds().to_numpy()
        x = x if time == "relative" else x / 86_400  # matplotlib dates count days
        y = rows["percentage_complete"].to_numpy(dtype=float)
        per_job[str(job)] = np.interp(bands.grid, x, y, left=before, right=y[-1])
    for g, group in enumerate(bands.groups):
        members = np.stack([per_job[j] for j in curves.job_ids[curves.groups == group]])
        with warnings.catch_warnings():  # all-NaN columns before the first job started
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = quantile(members, BAND_LEVELS, axis=0)
        np.testing.assert_allclose(bands.values[g], expected, atol=1e-6, equal_nan=True)
        assert bands.counts[g] == len(members)


@pytest.mark.parametrize(
    ("job", "x", "y", "grid", "expected"),
    [
        pytest.param([0, 0], [1.0, 3.0], [10.0, 30.0], [0.0, 1.0, 2.0, 5.0], [[0, 10, 20, 30]], id="one"),
        pytest.param(
            [0, 1, 1], [2.0, 0.0, 4.0], [50.0, 0.0, 100.0], [0.0, 2.0, 4.0],
            [[0, 50, 50], [0, 50, 100]], id="two jobs",
        ),
        pytest.param([0, 0], [3.0, 1.0], [30.0, 10.0], [2.0], [[20]], id="unsorted points"),
        pytest.param(
            [0, 0, 1, 1], [3.0, 1.0, 0.0, 2.0], [30.0, 10.0, 0.0, 20.0], [0.0, 1.0, 2.0, 3.0],
            [[0, 10, 20, 30], [0, 10, 20, 20]], id="one job's clock went back",
        ),
        pytest.param(
            [1, 0, 1], [2.0, 0.0, 0.0], [50.0, 5.0, 0.0], [0.0, 1.0, 2.0],
            [[5, 5, 5], [0, 25, 50]], id="jobs out of order",
        ),
    ],
)  # fmt: skip
def test_on_grid_matches_numpy_interp_per_job(
    job: list[int], x: list[float], y: list[float], grid: list[float], expected: list[list[float]]
) -> None:
    got = on_grid(np.array(job), np.array(x), np.array(y), np.array(grid))
    np.testing.assert_allclose(got, expected)


@pytest.fixture(scope="module")
def big_obs() -> pd.DataFrame:
    """Observations of one job more than the bands' threshold."""
    return simulate(BAND_THRESHOLD + 1, seed=2).observations()


def test_bands_switch_on_by_themselves_past_the_threshold(big_obs: pd.DataFrame) -> None:
    curves = progress_curves(big_obs)
    assert curves.lines is None and curves.bands is not None
    assert int(curves.bands.counts.sum()) == len(curves.job_ids)


def test_bands_past_the_threshold_are_small_multiples_on_shared_axes(
    big_obs: pd.DataFrame,
) -> None:
    curves = progress_curves(big_obs)
    bands = curves.bands
    assert bands is not None
    assert len(curves.axes) == len(bands.groups) > 1
    first = curves.axes[0]
    for axes, group, n in zip(curves.axes, bands.groups, bands.counts, strict=True):
        assert axes.get_title() == f"{group}: {n:,} jobs"
        assert axes.get_shared_x_axes().joined(first, axes)
        assert axes.get_shared_y_axes().joined(first, axes)
    assert int(bands.counts.sum()) + curves.left_out == big_obs["job_id"].nunique()


@pytest.mark.parametrize(
    ("jobs", "log"),
    [
        pytest.param(JOBS, False, id="jobs of 5 to 20 s: linear"),
        pytest.param(
            {"quick": [(0, "inProgress", 0.0, 202), (1, "completed", 100.0, 200)],
             "slow": [(0, "inProgress", 0.0, 202), (4000, "completed", 100.0, 200)]},
            True, id="1 s and 4000 s: log",
        ),
    ],
)  # fmt: skip
def test_progress_time_axis_is_logarithmic_when_job_lengths_span_decades(
    jobs: dict[str, list[Any]], log: bool
) -> None:
    for bands in (False, True):
        curves = progress_curves(obs_frame(jobs), bands=bands)
        assert curves.log is log
        assert curves.ax.get_xscale() == ("log" if log else "linear")


def test_progress_curves_count_the_jobs_they_cannot_draw() -> None:
    jobs = {**JOBS, "blank": [(0, "inProgress", None, 202), (8, "failed", None, 200)]}
    curves = progress_curves(obs_frame(jobs))
    assert curves.left_out == 1 and len(curves.job_ids) == 3
    assert "1 job reported no percentage" in curves.ax.get_title(loc="left")


def test_a_long_tail_on_a_linear_time_axis_is_clipped_and_said() -> None:
    jobs = {f"j{i}": [(0, "inProgress", 0.0, 202), (10 + i, "completed", 100.0, 200)]
            for i in range(120)}  # fmt: skip
    jobs["late"] = [(0, "inProgress", 0.0, 202), (500, "completed", 100.0, 200)]
    curves = progress_curves(obs_frame(jobs))
    assert not curves.log and curves.clipped == 1
    assert curves.ax.get_xlim()[1] < 500
    assert "1 job polled longer" in curves.ax.get_title(loc="left")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"time": "wall"}, "time must be one of"), ({"by": "colour"}, "cannot colour by 'colour'")],
)
def test_progress_curves_reject_bad_options_with_the_valid_ones(
    kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        progress_curves(obs_frame(JOBS), **kwargs)


@pytest.mark.parametrize(("panel",), [("outcome",), ("error_code",), ("violation",)])
def test_failure_mode_bars_equal_engine_counts_largest_first(
    panel: str, fleet_obs: pd.DataFrame
) -> None:
    summary, violations = summarize(fleet_obs), validate(fleet_obs)
    counted = {
        "outcome": outcome_counts(summary),
        "error_code": summary["error_code"].value_counts().to_dict(),
        "violation": violation_counts(violations),
    }[panel]
    expected = dict(sorted(((k, v) for k, v in counted.items() if v), key=lambda kv: -kv[1]))
    drawn = failure_modes(summary, violations)
    assert [b.get_width() for b in drawn[panel]] == list(expected.values())
    assert drawn.counts[panel] == expected
    labels = [t.get_text() for t in drawn.axes[panel].get_yticklabels()]
    assert labels == list(expected)


def test_failure_modes_give_each_group_its_own_panel_and_scale(fleet_obs: pd.DataFrame) -> None:
    drawn = failure_modes(summarize(fleet_obs), validate(fleet_obs))
    assert list(drawn.axes) == ["outcome", "error_code", "violation"]
    assert len(set(drawn.axes.values())) == 3
    for panel, axes in drawn.axes.items():
        longest = max(drawn.counts[panel].values())
        assert axes.get_xlim()[1] == pytest.approx(longest * 1.3)


def test_failure_mode_counts_are_written_inside_their_panel(fleet_obs: pd.DataFrame) -> None:
    drawn = failure_modes(summarize(fleet_obs), validate(fleet_obs))
    figure = drawn.ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for panel, axes in drawn.axes.items():
        box = axes.get_window_extent(renderer)
        labels = [t for t in axes.texts if t.get_text()]
        assert len(labels) == len(drawn.counts[panel])
        for label in labels:
            inside = label.get_window_extent(renderer)
            assert box.x0 <= inside.x0 and inside.x1 <= box.x1, (panel, label.get_text())


@pytest.mark.parametrize(("stat", "reduce"), [("mean", "mean"), ("total", "sum")])
def test_time_in_status_stacks_each_outcomes_seconds_per_status(
    stat: str, reduce: str, fleet_obs: pd.DataFrame
) -> None:
    summary = summarize(fleet_obs)
    drawn = time_in_status(summary, stat=stat)
    grouped = summary.groupby("outcome")[[f"time_in_{s}_s" for s in drawn.values.columns]]
    expected = grouped.agg(reduce).to_numpy()
    np.testing.assert_allclose(drawn.values.to_numpy(), expected)
    left = np.zeros(len(drawn.values))
    for status, bars in drawn.bars.items():
        np.testing.assert_allclose([b.get_x() for b in bars], left)
        np.testing.assert_allclose([b.get_width() for b in bars], drawn.values[status])
        left += drawn.values[status].to_numpy()
    assert "inProgress" in drawn.bars


def test_time_in_status_rejects_a_frame_without_time_columns() -> None:
    with pytest.raises(UsageError, match="time_in_<status>_s"):
        time_in_status(pd.DataFrame({"outcome": ["completed"]}))


EMPTY = obs_frame({})


@pytest.mark.parametrize(
    ("draw", "drawn"),
    [
        pytest.param(lambda: progress_curves(EMPTY), lambda r: len(r.job_ids), id="progress"),
        pytest.param(lambda: progress_curves(EMPTY, bands=True), lambda r: r.bands.values.size, id="bands"),
        pytest.param(lambda: failure_modes(summarize(EMPTY), validate(EMPTY)), lambda r: sum(map(len, r.counts.values())), id="failure modes"),
        pytest.param(lambda: time_in_status(summarize(EMPTY)), lambda r: r.values.size, id="time in status"),
        pytest.param(lambda: duration_distribution(summarize(EMPTY)), lambda r: len(r.lines), id="durations"),
        pytest.param(lambda: throughput(summarize(EMPTY)), lambda r: len(r.values), id="throughput"),
        pytest.param(lambda: fleet_timeline(EMPTY), lambda r: len(r.table), id="fleet timeline"),
        pytest.param(lambda: eta_plot(eta(EMPTY)), lambda r: len(r.job_ids), id="eta"),
    ],
)  # fmt: skip
def test_an_empty_recording_draws_empty_figures(
    draw: Callable[[], Any], drawn: Callable[[Any], int]
) -> None:
    result = draw()
    result.ax.figure.savefig(io.BytesIO(), format="png")
    assert drawn(result) == 0


def _cvd_lab(colour: str, vision: str) -> np.ndarray:
    """CIELAB of ``colour`` as a viewer with ``vision`` sees it (Machado et al. 2009, severity 1)."""
    from matplotlib.colors import to_rgb

    matrices = {
        "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]],
        "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]],
        "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                       [0.004733, 0.691367, 0.303900]],
    }  # fmt: skip
    srgb = np.asarray(to_rgb(colour))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(np.asarray(matrices[vision]) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    white = xyz @ np.ones(3)
    ratio = (xyz @ seen) / white
    f = np.where(ratio > 0.008856, np.cbrt(ratio), 7.787 * ratio + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize(
    ("palette_name", "vision"),
    [
        (name, vision)
        for name in ("OUTCOME_COLOURS", "STATUS_COLOURS")
        for vision in ("protanopia", "deuteranopia", "tritanopia")
    ],
)
def test_every_palette_colour_stays_distinct_under_colour_blindness(
    palette_name: str, vision: str
) -> None:
    import itertools

    import replay.plots

    colours: dict[str, str] = dict(getattr(replay.plots, palette_name))
    seen = {name: _cvd_lab(colour, vision) for name, colour in colours.items()}
    closest = min(
        (float(np.linalg.norm(seen[a] - seen[b])), a, b) for a, b in itertools.combinations(seen, 2)
    )
    assert closest[0] >= 10, closest  # CIE76 distance: 10 tells two swatches apart at a glance


def test_time_in_status_names_the_statuses_other_holds() -> None:
    obs = obs_frame({"x": [(0, "inProgress", 5.0, 202), (9, "cancelPending", 5.0, 202),
                           (20, "cancelled", 5.0, 200)]})  # fmt: skip
    drawn = time_in_status(summarize(obs), other=["cancelPending", "cancelled"])
    labels = [t.get_text() for t in drawn.ax.get_legend().get_texts()]
    assert "other (outside the policy): cancelPending, cancelled" in labels


def test_fleet_timeline_keeps_the_running_level_apart_from_the_counts_per_bucket(
    fleet_obs: pd.DataFrame,
) -> None:
    drawn = fleet_timeline(fleet_obs)
    level, events = drawn.axes
    assert drawn.lines["running"].axes is level
    assert {drawn.lines[n].axes for n in ("started", "completed", "failed", "throttled")} == {
        events
    }
    assert level.get_ylabel() == "jobs running"
    assert events.get_ylabel().startswith("per ") and "running" not in events.get_ylabel()


def _legends(figure: Any) -> list[Any]:
    """Every legend of ``figure``: its own and its axes'."""
    found = list(figure.legends)
    found.extend(a.get_legend() for a in figure.axes if a.get_legend() is not None)
    return found


FIGURES = {
    "progress lines": lambda o, s, v: progress_curves(o, summary=s),
    "progress bands": lambda o, s, v: progress_curves(o, summary=s, bands=True),
    "durations": lambda o, s, v: duration_distribution(s),
    "time in status": lambda o, s, v: time_in_status(s),
    "fleet timeline": lambda o, s, v: fleet_timeline(o, s),
    "job timeline": lambda o, s, v: status_timeline(o, str(v["job_id"].iloc[0]), violations=v),
}


@pytest.mark.parametrize("figure", list(FIGURES))
def test_legends_sit_outside_the_data_area(figure: str, fleet_obs: pd.DataFrame) -> None:
    summary, violations = summarize(fleet_obs), validate(fleet_obs)
    drawn = FIGURES[figure](fleet_obs, summary, violations)
    canvas = drawn.ax.figure.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    legends = _legends(drawn.ax.figure)
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for axes in drawn.ax.figure.axes:
            if axes.get_visible() and axes.axison:
                assert not box.overlaps(axes.get_window_extent(renderer)), figure


PANELLED = {
    "failure modes": (lambda o, s, v, ax: failure_modes(s, v, ax=ax), 3),
    "fleet timeline": (lambda o, s, v, ax: fleet_timeline(o, s, ax=ax), 2),
    "throughput": (lambda o, s, v, ax: throughput(s, ax=ax), None),
}


@pytest.mark.parametrize("figure", list(PANELLED))
def test_a_figure_of_panels_splits_the_axes_it_is_given(
    figure: str, fleet_obs: pd.DataFrame
) -> None:
    import matplotlib.pyplot as plt

    summary, violations = summarize(fleet_obs), validate(fleet_obs)
    fig, (mine, other) = plt.subplots(1, 2)
    area = mine.get_position()
    draw, panels = PANELLED[figure]
    drawn = draw(fleet_obs, summary, violations, mine)
    assert mine not in fig.axes and other in fig.axes
    inside = [a for a in fig.axes if a is not other]
    assert drawn.ax in inside
    assert panels is None or len(inside) == panels
    for axes in inside:
        box = axes.get_position()
        assert area.x0 - 1e-9 <= box.x0 and box.x1 <= area.x1 + 1e-9
