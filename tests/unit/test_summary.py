"""summarize(): one row per job, each outcome from a case built for it, time in status."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from replay.engine import outcome_counts, summarize

OUTCOME_CASES = [
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "completed", 100, 202)], None, "completed", id="completed"
    ),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "failed", None, 200)], None, "failed", id="failed"
    ),
    pytest.param(
        [(0, "deletePending", 5, 202), (9, "deleteFailed", None, 200)],
        None,
        "delete_failed",
        id="delete-failed",
    ),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "cancelled", None, 200)], None, "cancelled", id="cancelled"
    ),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, None, None, 303)], None, "completed", id="legacy-303"
    ),
    pytest.param(
        [(0, "notStarted", 0, 202), (9, None, None, 404)], None, "monitor_expired", id="expired-404"
    ),
    pytest.param([(0, None, None, 410)], None, "monitor_expired", id="gone-410"),
    pytest.param(
        [(0, None, None, 401), (1, None, None, 401)], None, "unauthorized", id="unauthorized-401"
    ),
    pytest.param([(0, None, None, 403)], None, "unauthorized", id="forbidden-403"),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "inProgress", 6, 202)],
        "timed_out",
        "timed_out",
        id="recorder-timed-out",
    ),
    pytest.param(
        [(0, None, None, 200), (9, None, None, 200)],
        "protocol_error",
        "protocol_error",
        id="recorder-protocol-error",
    ),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "inProgress", 6, 202)], None, "abandoned", id="abandoned"
    ),
    pytest.param(
        [(0, "inProgress", 5, 202), (9, "completed", 100, 202)],
        "timed_out",
        "completed",
        id="observed-terminal-wins",
    ),
]


@pytest.mark.parametrize(("rows", "recorder_outcome", "expected"), OUTCOME_CASES)
def test_each_outcome_from_a_case_built_for_it(
    build_obs: Callable[..., pd.DataFrame], rows: list, recorder_outcome: str | None, expected: str
) -> None:
    jobs = (
        pd.DataFrame({"job_id": ["j"], "outcome": [recorder_outcome]}) if recorder_outcome else None
    )
    summary = summarize(build_obs({"j": rows}), jobs=jobs)
    assert summary.loc[0, "outcome"] == expected


def test_every_contract_outcome_has_a_case() -> None:
    from replay.status import OUTCOMES

    assert {case.values[2] for case in OUTCOME_CASES} == set(OUTCOMES)


@pytest.mark.parametrize(
    ("last", "recorder_outcome", "expected"),
    [
        pytest.param((9, None, None, 500, "operationNotFound"), None, "monitor_expired", id="766"),
        pytest.param(
            (9, None, None, 500, "operationNotFound"),
            "protocol_error",
            "monitor_expired",
            id="wins",
        ),
        pytest.param((9, "failed", None, 500, "operationNotFound"), None, "failed", id="status"),
        pytest.param((9, None, None, 500, "generalException"), None, "abandoned", id="other-code"),
    ],
)
def test_an_error_code_that_ends_a_job_at_its_last_row_gives_the_outcome(
    build_obs: Callable[..., pd.DataFrame],
    last: tuple[float, str | None, float | None, int, str],
    recorder_outcome: str | None,
    expected: str,
) -> None:
    obs = build_obs({"j": [(0, "inProgress", 40, 202), last[:4]]})
    obs["error_code"] = pd.array([None, last[4]], dtype="str")
    jobs = pd.DataFrame({"job_id": ["j"], "outcome": [recorder_outcome]})
    assert summarize(obs, jobs=jobs).loc[0, "outcome"] == expected


def test_summary_columns_and_values(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "b": [(0, "notStarted", 0, 202), (30, "inProgress", 0, 202), (40, None, None, 429),
                  (60, "inProgress", 50, 202), (100, "completed", 100, 303)],
            "a": [(0, "inProgress", 5, 202), (10, "failed", None, 200)],
        }
    )  # fmt: skip
    s = summarize(obs).set_index("job_id")
    assert list(s.index) == ["a", "b"]
    b = s.loc["b"]
    assert (b.duration_s, b.n_obs, b.final_status, b.outcome, b.max_pct) == (
        100.0,
        5,
        "completed",
        "completed",
        100.0,
    )
    assert b.time_to_first_progress_s == 30.0
    assert (b.time_in_notStarted_s, b.time_in_inProgress_s, b.time_in_completed_s) == (
        30.0,
        70.0,
        0.0,
    )
    assert s.loc["a", "n_violations"] == 0 and s.loc["b", "n_violations"] == 0
    assert {
        f"time_in_{x}_s"
        for x in ("waiting", "updating", "deletePending", "deleteFailed", "failed", "other")
    } <= set(s.columns)


def test_time_in_status_sums_to_duration(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "j": [
                (0, "notStarted", 0, 202),
                (7, "weird", 1, 202),
                (20, "inProgress", 3, 202),
                (50, "completed", 100, 202),
            ]
        }
    )
    s = summarize(obs).iloc[0]
    in_status = s[[c for c in s.index if c.startswith("time_in_")]].sum()
    assert in_status == s.duration_s == 50.0
    assert s.time_in_other_s == 13.0


def test_error_code_is_the_last_one_seen(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs({"j": [(0, "inProgress", 5, 202), (9, "failed", None, 200)]})
    obs["error_code"] = pd.array([None, "nameAlreadyExists"], dtype="str")
    assert summarize(obs).loc[0, "error_code"] == "nameAlreadyExists"


def test_n_violations_counts_validate_rows(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs({"j": [(0, "inProgress", 50, 202), (5, "notStarted", 40, 202)]})
    assert (
        summarize(obs).loc[0, "n_violations"] == 3
    )  # illegal_transition, pct_regression, no_terminal


def test_outcome_counts_follow_the_contract_order(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "x": [(0, None, None, 404)],
            "y": [(0, "completed", 100, 202)],
            "z": [(0, "completed", 100, 202)],
        }
    )
    assert outcome_counts(summarize(obs)) == {"completed": 2, "monitor_expired": 1}
