"""transitions(): one row per change of observed status, with dwell and percentages."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from replay.engine import TRANSITION_COLUMNS, transitions


def test_one_row_per_change_with_dwell_and_percentages(
    build_obs: Callable[..., pd.DataFrame],
) -> None:
    obs = build_obs(
        {"j": [(0, "notStarted", 0, 202), (10, "notStarted", 0, 202), (20, None, None, 429),
               (30, "inProgress", 20, 202), (40, "inProgress", 60, 202), (55, "completed", 100, 202)]}
    )  # fmt: skip
    t = transitions(obs)
    assert tuple(t.columns) == TRANSITION_COLUMNS
    assert list(zip(t.from_status.astype(str), t.to_status.astype(str), strict=True)) == [
        ("notStarted", "inProgress"),
        ("inProgress", "completed"),
    ]
    assert list(t.dwell_s) == [30.0, 25.0]
    assert list(t.pct_from) == [0.0, 60.0] and list(t.pct_to) == [20.0, 100.0]
    assert list(t.allowed) == [True, True]


def test_disallowed_and_after_terminal_transitions_are_marked(
    build_obs: Callable[..., pd.DataFrame],
) -> None:
    obs = build_obs(
        {
            "j": [
                (0, "inProgress", 5, 202),
                (1, "notStarted", 5, 202),
                (2, "completed", 100, 202),
                (3, "inProgress", 5, 202),
            ]
        }
    )
    assert list(transitions(obs).allowed) == [False, True, False]


def test_no_changes_no_rows(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {"j": [(0, "inProgress", 5, 202), (1, "inProgress", 6, 202)], "k": [(0, None, None, 404)]}
    )
    t = transitions(obs)
    assert t.empty and tuple(t.columns) == TRANSITION_COLUMNS


def test_jobs_come_out_in_job_id_order(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "z": [(0, "inProgress", 5, 202), (1, "completed", 100, 202)],
            "a": [(0, "inProgress", 5, 202), (1, "failed", 5, 202)],
        }
    )
    assert list(transitions(obs).job_id) == ["a", "z"]
