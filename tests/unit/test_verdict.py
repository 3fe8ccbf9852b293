"""What one response means for its job: stop rules, outcomes, giving up, progress detection."""

from __future__ import annotations

import math
from typing import Any

import pytest

from replay.recorder._verdict import JobState, stop_outcome


def fields(
    status: str | None = None,
    pct: float | None = None,
    http: int | None = 200,
    retry_after_s: float | None = None,
) -> dict[str, Any]:
    """A normalised response with only what the verdict reads."""
    return {
        "status": status,
        "percentage_complete": pct,
        "http_status": http,
        "retry_after_s": retry_after_s,
    }


@pytest.mark.parametrize(
    ("status", "http_status", "expected"),
    [
        ("completed", 202, "completed"),
        ("completed", 200, "completed"),
        ("failed", 200, "failed"),
        ("failed", 500, "failed"),
        ("deleteFailed", 200, "delete_failed"),
        ("cancelled", 200, "cancelled"),
        (None, 303, "completed"),
        ("inProgress", 303, "completed"),
        (None, 404, "monitor_expired"),
        (None, 410, "monitor_expired"),
        (None, 401, "unauthorized"),
        (None, 403, "unauthorized"),
        ("inProgress", 202, None),
        ("inProgress", 500, None),
        ("cancelPending", 200, None),
        ("madeUpStatus", 200, None),
        (None, 429, None),
        (None, 500, None),
    ],
)
def test_stop_outcome(status: str | None, http_status: int | None, expected: str | None) -> None:
    assert stop_outcome(status, http_status) == expected


@pytest.mark.parametrize(
    ("status", "http_status", "error_code", "expected"),
    [
        pytest.param(None, 500, "operationNotFound", "monitor_expired", id="766-500"),
        pytest.param(None, 200, "operationNotFound", "monitor_expired", id="any-http"),
        pytest.param("failed", 500, "operationNotFound", "failed", id="status-first"),
        pytest.param(None, 500, "generalException", None, id="other-code-goes-on"),
        pytest.param(None, 401, "generalException", "unauthorized", id="http-still-counts"),
    ],
)
def test_an_error_code_that_ends_a_job_gives_its_outcome_whatever_the_http_status(
    status: str | None, http_status: int, error_code: str, expected: str | None
) -> None:
    assert stop_outcome(status, http_status, error_code) == expected


def test_operation_not_found_ends_the_job_at_once_not_after_the_give_up_run() -> None:
    state = JobState(give_up_after=3)
    state.absorb(fields("inProgress", 40.0))
    gone = {**fields(http=500), "error_code": "operationNotFound"}
    assert state.absorb(gone).outcome == "monitor_expired"


def test_body_status_wins_over_http_code() -> None:
    # A terminal body on a 404 is still the terminal status: the body decides first.
    assert stop_outcome("failed", 404) == "failed"


def test_gives_up_after_consecutive_responses_not_understood() -> None:
    state = JobState(give_up_after=3)
    outcomes = [state.absorb(fields(http=200)).outcome for _ in range(3)]
    assert outcomes == [None, None, "protocol_error"]


def test_an_understood_response_resets_the_run() -> None:
    state = JobState(give_up_after=3)
    state.absorb(fields(http=502))
    state.absorb(fields(http=502))
    state.absorb(fields("inProgress", 10.0))
    assert state.absorb(fields(http=502)).outcome is None
    assert state.misses == 1


def test_transport_errors_count_towards_giving_up() -> None:
    state = JobState(give_up_after=2)
    state.absorb(fields(http=500))
    assert state.miss() == "protocol_error"


@pytest.mark.parametrize(
    ("http_status", "retry_after_s", "counts"),
    [
        pytest.param(429, 30.0, False, id="429-with-retry-after"),
        pytest.param(503, 0.0, False, id="503-with-retry-after"),
        pytest.param(429, None, True, id="429-without-retry-after"),
        pytest.param(503, None, True, id="503-without-retry-after"),
    ],
)
def test_throttling_with_retry_after_does_not_count(
    http_status: int, retry_after_s: float | None, counts: bool
) -> None:
    state = JobState(give_up_after=10)
    state.absorb(fields(http=500))
    state.absorb(fields(http=http_status, retry_after_s=retry_after_s))
    assert state.misses == (2 if counts else 1)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        pytest.param(("inProgress", 10.0), ("inProgress", 10.0), False, id="same"),
        pytest.param(("inProgress", 10.0), ("inProgress", 20.0), True, id="pct-moved"),
        pytest.param(("notStarted", 0.0), ("inProgress", 0.0), True, id="status-moved"),
        pytest.param(("inProgress", None), ("inProgress", None), False, id="no-pct"),
        pytest.param(("inProgress", None), ("inProgress", 0.0), True, id="pct-appeared"),
        pytest.param(("inProgress", math.nan), ("inProgress", math.nan), False, id="nan-same"),
        pytest.param(("inProgress", 5.0), (None, None), False, id="no-status"),
    ],
)
def test_changed_when_status_or_percentage_moves(
    before: tuple[str | None, float | None], after: tuple[str | None, float | None], changed: bool
) -> None:
    state = JobState(give_up_after=10)
    state.absorb(fields(*before))
    assert state.absorb(fields(*after)).changed is changed


def test_first_status_is_a_change_and_retry_after_passes_through() -> None:
    verdict = JobState(give_up_after=10).absorb(fields("notStarted", 0.0, 202, 12.5))
    assert verdict == (None, True, 12.5)
