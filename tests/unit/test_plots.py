"""Plots drawn from their data: one line per job, bar widths equal the engine's counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from factories import obs_frame

from replay.plots import failure_modes, progress_curves
from replay.summary import outcome_counts, summarize
from replay.validate import validate, violation_counts

JOBS = {
    "a": [
        (0, "notStarted", 0.0, 202),
        (10, "inProgress", 40.0, 202),
        (20, "completed", 100.0, 200),
    ],
    "b": [(0, "inProgress", 10.0, 202), (5, "failed", None, 200)],
    "c": [(0, "inProgress", 5.0, 202), (9, "inProgress", 3.0, 202)],
}


def test_progress_curves_draw_one_line_per_job_with_its_points() -> None:
    curves = progress_curves(obs_frame(JOBS))
    paths = curves.lines.get_segments()
    assert list(curves.job_ids) == ["a", "b", "c"]
    assert [len(s) for s in paths] == [3, 1, 2]
    np.testing.assert_allclose(paths[0], [[0, 0], [10, 40], [20, 100]])
    assert list(curves.groups) == ["completed", "failed", "abandoned"]


@pytest.mark.parametrize(("panel",), [("outcome",), ("violation",)])
def test_failure_mode_bars_equal_engine_counts(panel: str) -> None:
    obs = obs_frame(JOBS)
    summary, violations = summarize(obs), validate(obs)
    expected = outcome_counts(summary) if panel == "outcome" else violation_counts(violations)
    bars = failure_modes(summary, violations)[panel]
    assert [b.get_width() for b in bars] == list(expected.values())
