"""The explorer driven from Python: filters change the jobs, the curves and the tables it shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from factories import obs_frame

import replay
from replay.eta import eta
from replay.widgets import Explorer
from replay.widgets import _explorer as widgets  # its limits, patched below

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

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
def recording() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped sample: observations and jobs."""
    return replay.read(SAMPLE), replay.read_jobs(SAMPLE)


@pytest.fixture
def explorer(recording: tuple[pd.DataFrame, pd.DataFrame]) -> Explorer:
    """An explorer over the sample, with its jobs table (labels)."""
    obs, jobs = recording
    return Explorer(obs, jobs=jobs)


def _labels(jobs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(jobs["labels"].map(json.loads).tolist(), index=jobs["job_id"])


def _by_outcome(e: Explorer, outcome: str) -> set[str]:
    s = e.summary
    return set(s.loc[s["outcome"] == outcome, "job_id"])


def _by_code(e: Explorer, code: str) -> set[str]:
    v = e.violations
    return set(v.loc[v["code"] == code, "job_id"].astype(str))


def _by_scenario(e: Explorer, jobs: pd.DataFrame, scenario: str) -> set[str]:
    labels = _labels(jobs)
    return set(labels.index[labels["scenario"] == scenario])


Expect = Callable[[Explorer, pd.DataFrame], set[str]]

FILTERS: list[Any] = [
    pytest.param({"outcome": ("failed",)}, lambda e, j: _by_outcome(e, "failed"), id="one-outcome"),
    pytest.param(
        {"outcome": ("failed", "timed_out")},
        lambda e, j: _by_outcome(e, "failed") | _by_outcome(e, "timed_out"),
        id="two-outcomes",
    ),
    pytest.param(
        {"label_values": ("throttled",)},
        lambda e, j: _by_scenario(e, j, "throttled"),
        id="scenario-label",
    ),
    pytest.param(
        {"code": ("unknown_status",)}, lambda e, j: _by_code(e, "unknown_status"), id="violation"
    ),
    pytest.param(
        {"outcome": ("completed",), "code": ("completed_not_100",)},
        lambda e, j: _by_outcome(e, "completed") & _by_code(e, "completed_not_100"),
        id="outcome-and-violation",
    ),
]


@pytest.mark.parametrize(("settings", "expected"), FILTERS)
def test_each_filter_keeps_exactly_the_matching_jobs_in_list_and_fleet_curves(
    explorer: Explorer,
    recording: tuple[pd.DataFrame, pd.DataFrame],
    settings: dict[str, tuple[str, ...]],
    expected: Expect,
) -> None:
    for name, value in settings.items():
        getattr(explorer, name).value = value
    want = expected(explorer, recording[1])
    assert want and len(want) < len(explorer.summary)
    assert set(explorer.job_ids) == want
    assert set(explorer.picker.options) == want
    assert explorer.selected in want
    assert explorer.fleet_curves is not None
    assert set(explorer.fleet_curves.job_ids) <= want
    assert f"{len(want)} of {len(explorer.summary)} jobs" in explorer.count.value


def test_time_window_keeps_jobs_active_in_it(explorer: Explorer) -> None:
    options = [value for _, value in explorer.window.options]
    start, end = options[len(options) // 2], options[-1]
    explorer.window.value = (start, end)
    s = explorer.summary
    active = s.loc[(s["first_ts"] <= end) & (s["last_ts"] >= start), "job_id"]
    assert 0 < len(active) < len(s)
    assert set(explorer.job_ids) == set(active)


def test_search_matches_part_of_a_job_id_case_insensitively(explorer: Explorer) -> None:
    target = str(explorer.summary["job_id"].iloc[7])
    explorer.search.value = target[3:11].upper()
    assert target in set(explorer.job_ids)
    assert all(target[3:11] in job for job in explorer.job_ids)


def test_picking_a_job_shows_its_curve_transitions_and_violations(
    explorer: Explorer, recording: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    v = explorer.violations
    job = str(v.loc[v["code"] == "unknown_status", "job_id"].iloc[0])
    before = explorer.job_png.value
    explorer.picker.value = job
    assert explorer.selected == job
    assert explorer.job_png.value != before
    assert explorer.job_curves is not None
    assert list(explorer.job_curves.job_ids) == [job]
    timeline = explorer.job_timeline
    assert timeline is not None and timeline.job_id == job
    assert timeline.violations is not None
    assert len(timeline.violations.get_segments()) == int((v["job_id"] == job).sum())
    want = replay.transitions(recording[0][recording[0]["job_id"] == job])
    shown = _column(explorer.transitions_table.value, "to_status")
    assert shown == want["to_status"].astype(str).tolist()
    shown_v = _column(explorer.violations_table.value, "code")
    assert shown_v == v.loc[v["job_id"] == job, "code"].astype(str).tolist()
    assert job in explorer.job_info.value


def test_chosen_job_stays_chosen_while_it_passes_the_filters(explorer: Explorer) -> None:
    failed = sorted(_by_outcome(explorer, "failed"))
    explorer.picker.value = failed[-1]
    explorer.outcome.value = ("failed", "completed")
    assert explorer.selected == failed[-1]
    explorer.outcome.value = ("completed",)
    assert explorer.selected != failed[-1]
    assert explorer.selected in _by_outcome(explorer, "completed")


def test_undoing_a_filter_shows_the_fleet_view_drawn_for_that_job_set_again(
    explorer: Explorer,
) -> None:
    every = (explorer.fleet_curves, explorer.fleet_png.value)
    explorer.outcome.value = ("failed",)
    failed = explorer.fleet_curves
    assert failed is not None and failed is not every[0]
    explorer.outcome.value = ()
    assert (explorer.fleet_curves, explorer.fleet_png.value) == every


def test_only_the_latest_fleet_views_are_kept(
    explorer: Explorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widgets, "FLEET_CACHE", 1)
    every = explorer.fleet_curves
    explorer.outcome.value = ("failed",)
    explorer.outcome.value = ()
    assert explorer.fleet_curves is not every
    assert explorer.fleet_curves is not None
    assert list(explorer.fleet_curves.job_ids) == list(every.job_ids)


def test_filters_that_keep_no_job_say_so_and_clear_the_job_view(explorer: Explorer) -> None:
    explorer.search.value = "no-such-job"
    assert len(explorer.job_ids) == 0 and explorer.selected is None
    assert explorer.fleet_curves is None and explorer.job_curves is None
    assert explorer.job_timeline is None
    assert "widen" in explorer.job_info.value
    assert explorer.transitions_table.value == ""


def test_an_empty_recording_shows_no_job_and_says_why(
    recording: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    explorer = Explorer(recording[0].iloc[:0])
    assert len(explorer.job_ids) == 0 and explorer.selected is None
    assert explorer.fleet_curves is None and explorer.fleet_eta is None
    assert "no observations" in explorer.job_info.value


def test_picker_lists_at_most_max_listed_while_job_ids_keep_every_match(
    explorer: Explorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widgets, "MAX_LISTED", 10)
    explorer.outcome.value = ("completed",)
    assert len(explorer.picker.options) == 10
    assert len(explorer.job_ids) == len(_by_outcome(explorer, "completed"))
    assert "search to narrow" in explorer.count.value


def test_changing_the_label_key_offers_that_labels_values(explorer: Explorer) -> None:
    assert explorer.label.value == "scenario"
    explorer.label_values.value = ("throttled",)
    narrowed = len(explorer.job_ids)
    explorer.label.value = "dialect"
    assert set(explorer.label_values.options) == {"consumer", "graph", "legacy", "sharepoint-v21"}
    assert explorer.label_values.value == ()
    assert len(explorer.job_ids) == len(explorer.summary) > narrowed


@pytest.fixture(scope="module")
def in_flight(recording: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """The sample as it stood a tenth of the way through: many jobs still running."""
    obs = recording[0]
    cut = obs["ts"].min() + (obs["ts"].max() - obs["ts"].min()) / 10
    return obs[obs["ts"] <= cut]


def test_fleet_view_shows_the_eta_of_the_running_jobs_the_filters_keep(
    in_flight: pd.DataFrame,
) -> None:
    explorer = Explorer(in_flight)
    expected = eta(in_flight)
    assert len(expected) > 10
    assert explorer.fleet_eta is not None
    assert set(explorer.fleet_eta.job_ids) == set(expected["job_id"])
    assert f"({len(expected)} running, " in explorer.count.value
    moving = expected[~expected["stuck"] & expected["eta"].notna()].iloc[0]
    explorer.picker.value = moving["job_id"]
    assert f"estimated end {moving['eta']:%Y-%m-%d %H:%M:%S} UTC" in explorer.job_info.value
    explorer.outcome.value = ("completed",)
    assert explorer.fleet_eta is None and len(explorer.running) == 0
    assert "running:" not in explorer.job_info.value
    explorer.outcome.value = ("abandoned",)
    assert set(explorer.fleet_eta.job_ids) == set(expected["job_id"]) <= set(explorer.job_ids)


def test_stuck_only_keeps_the_jobs_the_eta_flags_as_stuck(
    recording: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    obs = recording[0]  # without the jobs table, jobs the recorder gave up on look running
    explorer = Explorer(obs)
    stuck = eta(obs).query("stuck")
    assert len(stuck) > 0
    explorer.stuck_only.value = True
    assert set(explorer.job_ids) == set(stuck["job_id"])
    assert explorer.fleet_eta is not None
    assert explorer.fleet_eta.stuck.all() and len(explorer.fleet_eta.job_ids) == len(stuck)
    assert f"({len(stuck)} running, {len(stuck)} stuck)" in explorer.count.value
    explorer.picker.value = stuck["job_id"].iloc[0]
    assert f"stuck</b>: {stuck['reason'].iloc[0]}" in explorer.job_info.value


def test_a_finished_recording_has_no_running_job_to_estimate(explorer: Explorer) -> None:
    assert explorer.fleet_eta is None and len(explorer.running) == 0
    assert "(0 running, 0 stuck)" in explorer.count.value


def test_without_a_jobs_table_there_are_no_labels_and_the_rest_works() -> None:
    explorer = Explorer(obs_frame(JOBS))
    assert explorer.label.options == (("(no label)", ""),)
    assert list(explorer.job_ids) == ["a", "b", "c"]
    explorer.outcome.value = ("failed", "completed")
    assert list(explorer.job_ids) == ["a", "b"]
    explorer.picker.value = "a"
    assert "no violations" in explorer.violations_table.value
    explorer.outcome.value = ()
    explorer.picker.value = "c"
    assert "pct_regression" in explorer.violations_table.value
    assert np.isfinite(explorer.redraw_s)


class _Table(HTMLParser):
    """The cells of an HTML table, row by row (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_data(self, data: str) -> None:
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data.strip()


def _column(html: str, name: str) -> list[str]:
    """The cells of column ``name`` of the first table in ``html``."""
    table = _Table()
    table.feed(html)
    header, *body = table.rows
    return [row[header.index(name)] for row in body]


def test_asking_for_a_job_not_in_the_recording_is_a_usage_error(explorer: Explorer) -> None:
    with pytest.raises(replay.UsageError, match=r"no job 'nope'.*job_ids"):
        explorer.index.job_obs("nope")


@pytest.mark.parametrize(
    ("policy", "unknown_offered"), [(None, True), ("graph-beta", True), ("onedrive", False)]
)
def test_the_policy_decides_which_violations_can_be_filtered(
    recording: tuple[pd.DataFrame, pd.DataFrame], policy: str | None, unknown_offered: bool
) -> None:
    explorer = Explorer(recording[0], jobs=recording[1], policy=policy)
    assert ("unknown_status" in explorer.code.options) is unknown_offered
    assert explorer.violations.equals(replay.validate(recording[0], policy))
