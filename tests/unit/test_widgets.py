"""The explorer driven from Python: filters change the job list, a pick changes the figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from factories import obs_frame

from replay.widgets import Explorer

JOBS = {
    "a": [
        (0, "notStarted", 0.0, 202),
        (10, "inProgress", 40.0, 202),
        (20, "completed", 100.0, 200),
    ],
    "b": [(0, "inProgress", 10.0, 202), (5, "failed", None, 200)],
    "c": [(0, "inProgress", 5.0, 202), (9, "inProgress", 3.0, 202)],
}


def test_outcome_filter_and_search_narrow_the_job_list() -> None:
    explorer = Explorer(obs_frame(JOBS))
    assert explorer.job_ids == ["a", "b", "c"]
    explorer.outcome.value = ("failed", "completed")
    assert explorer.job_ids == ["a", "b"]
    explorer.search.value = "b"
    assert explorer.job_ids == ["b"]


def test_picking_a_job_redraws_its_figure_and_violations() -> None:
    explorer = Explorer(obs_frame(JOBS))
    explorer.jobs.value = "a"
    before = explorer.figure.value
    explorer.jobs.value = "c"
    assert explorer.figure.value != before
    assert "pct_regression" in explorer.table.value
