"""validate(): each violation code produced by a case built for it, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from replay.engine import SEVERITY, Code, validate, violation_counts

NAN = float("nan")
INF = float("inf")

CASES = [
    pytest.param(
        [(0, "inProgress", 10, 202), (5, "inProgress", 20, 202), (9, "completed", 100, 202)],
        [],
        id="clean",
    ),
    pytest.param(
        [
            (0, "inProgress", 1, 202),
            (5, "madeUp", 2, 202),
            (6, "madeUp", 3, 202),
            (9, "completed", 100, 202),
        ],
        [(1, "unknown_status")],
        id="unknown-status-once-per-run",
    ),
    pytest.param(
        [
            (0, "inProgress", 1, 200),
            (5, None, None, 200),
            (6, None, None, 200),
            (7, None, None, 429),
            (9, "completed", 100, 202),
        ],
        [(1, "missing_status")],
        id="missing-status-once-per-run-not-for-429",
    ),
    pytest.param(
        [(0, "inProgress", 1, 202), (5, "notStarted", 1, 202), (9, "completed", 100, 202)],
        [(1, "illegal_transition")],
        id="illegal-transition",
    ),
    pytest.param(
        [(0, "completed", 100, 202), (5, "inProgress", 100, 202), (9, "completed", 100, 202)],
        [(1, "after_terminal"), (2, "after_terminal")],
        id="after-terminal",
    ),
    pytest.param(
        [
            (0, "inProgress", -1, 202),
            (1, "inProgress", 101, 202),
            (2, "inProgress", NAN, 202),
            (3, "inProgress", INF, 202),
            (9, "completed", 100, 202),
        ],
        [
            (0, "pct_out_of_range"),
            (1, "pct_out_of_range"),
            (2, "pct_out_of_range"),
            (3, "pct_out_of_range"),
        ],
        id="pct-out-of-range-incl-nan-and-inf",
    ),
    pytest.param(
        [
            (0, "inProgress", 1, 202),
            (5, "inProgress", 2, 202),
            (5, "inProgress", 3, 202),
            (4, "completed", 100, 202),
        ],
        [(2, "ts_not_increasing"), (3, "ts_not_increasing")],
        id="ts-not-increasing-equal-and-backwards",
    ),
    pytest.param(
        [
            (0, "inProgress", 40, 202),
            (5, "inProgress", 35, 202),
            (6, "inProgress", 38, 202),
            (9, "completed", 100, 202),
        ],
        [(1, "pct_regression")],
        id="pct-regression-once-per-drop",
    ),
    pytest.param(
        [(0, "inProgress", 10, 202), (9, "completed", 97, 202)],
        [(1, "completed_not_100")],
        id="completed-not-100",
    ),
    pytest.param(
        [
            (0, "inProgress", 10, 202),
            (1000, None, None, 429),
            (1801, "inProgress", 10, 202),
            (3700, "inProgress", 10, 202),
            (3800, "completed", 100, 202),
        ],
        [(2, "stalled")],
        id="stalled-once-across-throttling",
    ),
    pytest.param(
        [(0, "inProgress", 10, 202), (1800, "inProgress", 10, 202), (1900, "completed", 100, 202)],
        [],
        id="not-stalled-at-exactly-the-threshold",
    ),
    pytest.param(
        [(0, "completed", 100, 202), (4000, "completed", 100, 202)],
        [],
        id="terminal-never-stalls",
    ),
    pytest.param(
        [(0, "inProgress", 10, 202), (5, "inProgress", 20, 202)],
        [(1, "no_terminal")],
        id="no-terminal",
    ),
    pytest.param(
        [(0, "inProgress", 10, 202), (5, None, None, 303)],
        [],
        id="a-303-is-an-ending",
    ),
    pytest.param(
        [(0, "inProgress", 10, 202), (5, None, None, 404)],
        [(1, "no_terminal")],
        id="expired-monitor-has-no-terminal",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), CASES)
def test_each_code_is_found_exactly_where_built(
    build_obs: Callable[..., pd.DataFrame], rows: list, expected: list[tuple[int, str]]
) -> None:
    found = validate(build_obs({"job": rows}))
    assert list(zip(found["seq"], found["code"].astype(str), strict=True)) == expected


def test_every_code_has_a_case() -> None:
    built = {code for case in CASES for _, code in case.values[1]}
    assert built == {c.value for c in Code}


def test_result_shape_severity_and_order(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "b": [(0, "inProgress", 10, 202), (5, "notStarted", 5, 202)],
            "a": [(0, "inProgress", 10, 202), (9, "completed", 97, 202)],
        }
    )
    found = validate(obs)
    assert list(found.columns) == ["job_id", "seq", "ts", "code", "severity", "detail"]
    assert list(found["job_id"]) == ["a", "b", "b", "b"]
    assert list(found["code"].astype(str)) == [
        "completed_not_100",
        "illegal_transition",
        "pct_regression",
        "no_terminal",
    ]
    assert all(SEVERITY[c] == s for c, s in zip(found["code"], found["severity"], strict=True))
    assert str(found["ts"].dtype) == "datetime64[us, UTC]"


@pytest.mark.parametrize(
    ("rows", "detail_part"),
    [
        (
            [(0, "inProgress", 1, 202), (5, "notStarted", 1, 202)],
            "inProgress -> notStarted is not allowed by policy graph-beta",
        ),
        (
            [(0, "inProgress", 1, 202), (5, "cancelled", 1, 202)],
            "ends the job in the OneDrive dialect, documented since 2021",
        ),
        (
            [(0, "inProgress", 1, 202), (5, "cancelled", 1, 200)],
            "never reaching a terminal status of policy graph-beta (cancelled: ends the job in "
            "the OneDrive dialect",
        ),
        ([(0, "inProgress", 1, 202), (2500, "inProgress", 1, 202)], "for 2500 s"),
        ([(0, "inProgress", 1, 202), (5, None, None, 200)], "HTTP 200 response without a status"),
    ],
)
def test_details_say_what_happened(
    build_obs: Callable[..., pd.DataFrame], rows: list, detail_part: str
) -> None:
    details = " | ".join(validate(build_obs({"j": rows}))["detail"])
    assert detail_part in details


def test_recorded_order_wins_over_timestamps(build_obs: Callable[..., pd.DataFrame]) -> None:
    """When the clock goes back, re-sorting by ts would invent inProgress -> notStarted."""
    obs = build_obs(
        {"j": [(10, "notStarted", 0, 202), (5, "inProgress", 5, 202), (20, "completed", 100, 202)]}
    )
    codes = list(validate(obs)["code"].astype(str))
    assert codes == ["ts_not_increasing"]


def test_unsorted_input_is_replayed_by_seq(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "j": [(0, "inProgress", 1, 202), (5, "notStarted", 1, 202)],
            "k": [(0, "completed", 100, 202)],
        }
    )
    shuffled = obs.sample(frac=1.0, random_state=3)
    assert validate(shuffled).equals(validate(obs))


def test_onedrive_policy_accepts_cancel_statuses(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {
            "j": [
                (0, "inProgress", 1, 202),
                (5, "cancelPending", 1, 202),
                (6, "cancelled", None, 200),
            ]
        }
    )
    assert list(validate(obs)["code"].astype(str)) == [
        "unknown_status",
        "unknown_status",
        "no_terminal",
    ]
    assert validate(obs, policy="onedrive").empty


def test_string_and_float64_columns_are_accepted(build_obs: Callable[..., pd.DataFrame]) -> None:
    obs = build_obs(
        {"j": [(0, "inProgress", 40, 202), (5, "inProgress", 35, 202), (9, "completed", 100, 202)]}
    )
    plain = obs.assign(
        percentage_complete=obs["percentage_complete"].astype("float64"),
        status=obs["status"].astype(object),
    )
    assert list(validate(plain)["code"].astype(str)) == ["pct_regression"]


def test_counts_list_every_code(build_obs: Callable[..., pd.DataFrame]) -> None:
    counts = violation_counts(validate(build_obs({"j": [(0, "inProgress", 1, 202)]})))
    assert list(counts) == [c.value for c in Code]
    assert counts["no_terminal"] == 1 and sum(counts.values()) == 1


def test_empty_observations_give_an_empty_table(build_obs: Callable[..., pd.DataFrame]) -> None:
    found = validate(build_obs({}))
    assert found.empty and list(found.columns) == [
        "job_id",
        "seq",
        "ts",
        "code",
        "severity",
        "detail",
    ]
