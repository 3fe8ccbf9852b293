"""Mutations of a timeline: each returns a new timeline with one nasty change, the input intact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from replay.errors import UsageError
from replay.testing import (
    TERMINAL_STATUSES,
    Timeline,
    drop_terminal,
    expire_monitor,
    inject_unknown_status,
    insert_429_burst,
    stall_at,
)

#: 0 s notStarted, then 20/40/60/80 % a second apart, completed at 5 s.
BASE = Timeline.from_steps(
    ["notStarted", *(("inProgress", pct) for pct in (20, 40, 60, 80)), ("completed", 100)]
)


def times(timeline: Timeline) -> list[float]:
    return [r.at_s for r in timeline.responses]


@pytest.mark.parametrize(
    ("mutate", "statuses", "percentages", "codes", "at_s"),
    [
        pytest.param(
            lambda t: t.stall_at(50, polls=2, for_s=30),
            [
                "notStarted",
                "inProgress",
                "inProgress",
                "inProgress",
                "inProgress",
                "inProgress",
                "inProgress",
                "completed",
            ],
            [None, 20, 40, 60, 60, 60, 80, 100],
            [202] * 7 + [200],
            [0, 1, 2, 3, 13, 23, 34, 35],
            id="stall_at",
        ),
        pytest.param(
            lambda t: t.insert_429_burst(at=2, count=2, retry_after="5"),
            [
                "notStarted",
                "inProgress",
                None,
                None,
                "inProgress",
                "inProgress",
                "inProgress",
                "completed",
            ],
            [None, 20, None, None, 40, 60, 80, 100],
            [202, 202, 429, 429, 202, 202, 202, 200],
            [0, 1, 2, 7, 12, 13, 14, 15],
            id="insert_429_burst",
        ),
        pytest.param(
            lambda t: t.drop_terminal(),
            ["notStarted", "inProgress", "inProgress", "inProgress", "inProgress"],
            [None, 20, 40, 60, 80],
            [202] * 5,
            [0, 1, 2, 3, 4],
            id="drop_terminal",
        ),
        pytest.param(
            lambda t: t.inject_unknown_status("paused", at=3),
            ["notStarted", "inProgress", "inProgress", "paused", "inProgress", "completed"],
            [None, 20, 40, 60, 80, 100],
            [202] * 5 + [200],
            [0, 1, 2, 3, 4, 5],
            id="inject_unknown_status",
        ),
        pytest.param(
            lambda t: t.expire_monitor(at=2),
            ["notStarted", "inProgress", None],
            [None, 20, None],
            [202, 202, 404],
            [0, 1, 2],
            id="expire_monitor",
        ),
    ],
)
def test_mutation_changes_exactly_what_it_says(
    mutate: Callable[[Timeline], Timeline],
    statuses: list[str | None],
    percentages: list[float | None],
    codes: list[int],
    at_s: list[float],
) -> None:
    before = BASE.responses
    mutated = mutate(BASE)
    assert isinstance(mutated, Timeline)
    assert mutated.statuses() == statuses
    assert mutated.percentages() == percentages
    assert [r.http_status for r in mutated.responses] == codes
    assert times(mutated) == pytest.approx(at_s)
    assert BASE.responses is before and len(BASE) == 6  # pure: the input is untouched


def test_429_burst_carries_retry_after_or_none() -> None:
    with_header = insert_429_burst(BASE, at=1, count=1, retry_after="7")
    without = insert_429_burst(BASE, at=1, count=1, retry_after=None)
    assert with_header.responses[1].header("Retry-After") == "7"
    assert without.responses[1].header("Retry-After") is None


@pytest.mark.parametrize(
    ("function", "default_index"),
    [
        pytest.param(lambda t: expire_monitor(t), 2, id="expire_monitor"),
        pytest.param(lambda t: inject_unknown_status(t), 2, id="inject_unknown_status"),
    ],
)
def test_default_position_is_the_middle_before_the_end(
    function: Callable[[Timeline], Timeline], default_index: int
) -> None:
    mutated = function(BASE)
    changed = [
        i for i, (a, b) in enumerate(zip(BASE.responses, mutated.responses, strict=False)) if a != b
    ]
    assert changed[0] == default_index


def test_mutations_compose_and_are_named_in_the_labels() -> None:
    recorded = Timeline.from_scenario("happy_path", "graph", seed=1)
    matrix = stall_at(recorded, 30).insert_429_burst(count=2).drop_terminal()
    assert matrix.labels["mutations"] == "stall_at(30)+insert_429_burst(2)+drop_terminal"
    assert matrix.labels["scenario"] == "happy_path"
    assert not set(matrix.statuses()) & TERMINAL_STATUSES
    assert [r.http_status for r in matrix.responses].count(429) == 2


def test_drop_terminal_removes_a_303_ending() -> None:
    legacy = Timeline.from_scenario("legacy_303", "legacy", seed=0)
    assert legacy.responses[-1].http_status == 303
    assert 303 not in {r.http_status for r in drop_terminal(legacy).responses}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda t: t.stall_at(101), r"never reaches 101%.*pick a lower pct", id="pct"),
        pytest.param(lambda t: t.stall_at(10, polls=0), "polls must be a positive", id="polls"),
        pytest.param(lambda t: t.insert_429_burst(count=0), "count must be", id="count"),
        pytest.param(lambda t: t.expire_monitor(at=0), "at=0 is outside.*expected 1 to 5", id="at"),
        pytest.param(lambda t: t.inject_unknown_status(at=9), "at=9 is outside", id="at-big"),
        pytest.param(lambda t: t.drop_terminal().drop_terminal(), "no terminal", id="twice"),
        pytest.param(
            lambda t: Timeline.from_steps([("completed", 100)]).drop_terminal(),
            "starts terminal",
            id="only-terminal",
        ),
        pytest.param(
            lambda t: Timeline.from_steps(["inProgress", 429]).inject_unknown_status(at=1),
            "response 1 .* has no JSON status",
            id="no-status",
        ),
    ],
)
def test_impossible_mutations_say_why(mutate: Callable[[Timeline], Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        mutate(BASE)
