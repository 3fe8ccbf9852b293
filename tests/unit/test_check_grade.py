"""check-poller's grading on hand-built request logs: each check at its boundaries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from replay.check import CheckJob, Grading, ProcessResult
from replay.check._grade import grade
from replay.check._plan import _job
from replay.serving import RequestRecord
from replay.simulate import Response, Timeline

T0 = datetime(2026, 1, 5, 22, 0, 0, 300_000, tzinfo=UTC)  # .3 s past a whole second
PROGRESS = {"status": "inProgress", "percentageComplete": 10.0}
ENDED = ProcessResult(exit_code=0, timed_out=False, duration_s=1.0, stdout="", stderr="")


def _response(
    at_s: float, code: int, body: dict[str, Any] | None = None, **headers: str
) -> Response:
    raw = json.dumps(body).encode() if body is not None else b""
    return Response(at_s, code, raw, tuple((k.replace("_", "-"), v) for k, v in headers.items()))


def _check_job(*responses: Response, scenario: str = "happy_path") -> CheckJob:
    return _job(scenario, "graph", Timeline("job", responses))


def _log(*requests: tuple[Any, ...]) -> list[RequestRecord]:
    """Requests as (seconds after T0, response status[, Authorization sent[, target]])."""
    records = []
    for serial, (at_s, status, *rest) in enumerate(requests):
        at = T0 + timedelta(seconds=at_s)
        sent, target = (rest + [False, "monitor"][len(rest) :])[:2]
        records.append(
            RequestRecord(at, "GET", "/m", (), (), sent, status, "job", serial, target=target)
        )
    return records


THROTTLED_S = _check_job(
    _response(0, 202, PROGRESS),
    _response(1, 429, None, Retry_After="120"),
    _response(2, 200, {"status": "completed"}),
)
THROTTLED_DATE = _check_job(
    _response(0, 429, None, Retry_After="Mon, 05 Jan 2026 22:00:00 GMT"),
    _response(1, 200, {"status": "completed"}),
)


@pytest.mark.parametrize(
    ("job", "requests", "passed"),
    [
        pytest.param(THROTTLED_S, [(0, 202), (0.1, 429), (1.1, 200)], True, id="waited-1s"),
        pytest.param(THROTTLED_S, [(0, 202), (0.1, 429), (0.6, 200)], False, id="early"),
        pytest.param(THROTTLED_S, [(0, 202), (0.1, 429)], True, id="stopped-after-it"),
        pytest.param(THROTTLED_S, [(0, 202)], None, id="never-got-it"),
        # The date names 22:00:02 (the request's second + 2): due then, whatever the fraction.
        pytest.param(THROTTLED_DATE, [(0, 429), (1.7, 200)], True, id="date-reached"),
        pytest.param(THROTTLED_DATE, [(0, 429), (1.4, 200)], False, id="date-early"),
    ],
)
def test_retry_after_is_waited_out_until_the_time_it_names(
    job: CheckJob, requests: list[tuple[float, int]], passed: bool | None
) -> None:
    run = grade(job, ENDED, _log(*requests), Grading())

    assert run.checks["retry_after"].passed is passed


FAILS = _check_job(
    _response(0, 202, PROGRESS),
    _response(1, 200, {"status": "failed"}),
    scenario="failed_with_error",
)
SEE_OTHER = _check_job(_response(0, 202, PROGRESS), _response(1, 303), scenario="legacy_303")


@pytest.mark.parametrize(
    ("job", "requests", "passed"),
    [
        pytest.param(FAILS, [(0, 202), (1, 200)], True, id="stopped-at-failed"),
        pytest.param(FAILS, [(0, 202), (1, 200), (2, 200)], False, id="polled-failed-again"),
        pytest.param(SEE_OTHER, [(0, 202), (1, 303)], True, id="stopped-at-303"),
        pytest.param(SEE_OTHER, [(0, 202), (1, 303), (2, 303)], False, id="polled-303-again"),
        pytest.param(FAILS, [(0, 202)], None, id="never-got-terminal"),
        # Rejected requests (Authorization) do not advance the job: the 3rd gets the terminal.
        pytest.param(FAILS, [(0, 401, True), (1, 202), (2, 200)], True, id="401s-not-counted"),
    ],
)
def test_no_request_follows_a_terminal_answer(
    job: CheckJob, requests: list[tuple[float, int]], passed: bool | None
) -> None:
    run = grade(job, ENDED, _log(*requests), Grading())

    assert run.checks["stops_after_terminal"].passed is passed


@pytest.mark.parametrize(
    ("after", "limit", "passed"),
    [(0, 2, True), (2, 2, True), (3, 2, False), (1, 0, False), (0, 0, True)],
)
def test_gives_up_within_the_allowed_requests_after_a_404(
    after: int, limit: int, passed: bool
) -> None:
    job = _check_job(_response(0, 404), scenario="expired_monitor")
    requests = [(float(i), 404) for i in range(after + 1)]

    run = grade(job, ENDED, _log(*requests), Grading(give_up_after=limit))

    assert run.checks["gives_up"].passed is passed


GONE = _check_job(
    _response(0, 202, PROGRESS),
    _response(1, 500, {"error": {"code": "operationNotFound", "message": "gone"}}),
    scenario="operation_not_found",
)


@pytest.mark.parametrize(
    ("after", "passed", "says"),
    [
        (0, True, "gave up after a 500 operationNotFound (0 more requests)"),
        (2, True, "gave up after a 500 operationNotFound (2 more requests)"),
        (3, False, "polled 3 more times after a 500 operationNotFound (at most 2)"),
    ],
)
def test_an_operation_not_found_is_given_up_on_like_a_404(
    after: int, passed: bool, says: str
) -> None:
    requests = [(0.0, 202)] + [(1.0 + i, 500) for i in range(after + 1)]

    run = grade(GONE, ENDED, _log(*requests), Grading())

    assert (run.checks["gives_up"].passed, run.checks["gives_up"].detail) == (passed, says)


@pytest.mark.parametrize(
    ("requests", "exit_code", "passed", "says"),
    [
        pytest.param([(0, 202)], 1, None, "no 303 received", id="no-303"),
        pytest.param([(0, 202), (1, 303)], 0, True, "not followed", id="stopped"),
        pytest.param(
            [(0, 202), (1, 303), (1.1, 200, False, "item")], 0, True, "once (200", id="read-once"
        ),
        pytest.param(
            [(0, 202), (1, 303), (1.1, 401, False, "item")],
            1,
            False,
            "concluded otherwise than completed",
            id="took-the-401-for-the-end",
        ),
        pytest.param(
            [(0, 202), (1, 303), (1.1, 401, True, "item")],
            0,
            False,
            "sent Authorization to the 303's Location",
            id="bearer",
        ),
        pytest.param(
            [(0, 202), (1, 303), (1.1, 200, False, "item"), (1.2, 200, False, "item")],
            0,
            False,
            "requested the 303's Location 2 times",
            id="twice",
        ),
    ],
)
def test_after_303_judges_the_requests_to_its_location_not_the_polls(
    requests: list[tuple[Any, ...]], exit_code: int, passed: bool | None, says: str
) -> None:
    process = ProcessResult(exit_code, False, 1.0, "", "")

    run = grade(SEE_OTHER, process, _log(*requests), Grading())

    assert run.checks["after_303"].passed is passed
    assert says in run.checks["after_303"].detail
    assert run.polls == sum(1 for r in requests if r[3:4] != ("item",))
    assert run.checks["stops_after_terminal"].passed is (None if len(requests) < 2 else True)


@pytest.mark.parametrize(
    ("scenario", "exit_code", "timed_out", "polls", "passed"),
    [
        ("happy_path", 0, False, 2, True),
        ("happy_path", 0, False, 1, False),  # success before the completion was served
        ("happy_path", 1, False, 2, False),
        ("failed_with_error", 1, False, 1, True),
        ("failed_with_error", 0, False, 1, False),
        ("no_terminal", 3, False, 1, True),
        ("failed_with_error", None, True, 1, False),
        ("failed_with_error", 1, False, 0, False),  # never polled: no credit
    ],
)
def test_conclusion_is_exit_0_exactly_on_the_scenarios_that_complete(
    scenario: str, exit_code: int | None, timed_out: bool, polls: int, passed: bool
) -> None:
    ends = {"happy_path": "completed", "failed_with_error": "failed"}.get(scenario, "inProgress")
    job = _check_job(
        _response(0, 202, PROGRESS), _response(1, 200, {"status": ends}), scenario=scenario
    )
    process = ProcessResult(exit_code, timed_out, 1.0, "", "")

    run = grade(job, process, _log(*[(0.0, 202), (1.0, 200)][:polls]), Grading())

    assert run.checks["conclusion"].passed is passed
    assert run.checks["ended"].passed is not timed_out


@pytest.mark.parametrize(
    ("authorization", "passed"), [([False, False], True), ([False, True], False)]
)
def test_a_single_authorization_header_fails_the_run(
    authorization: list[bool], passed: bool
) -> None:
    job = _check_job(_response(0, 202, PROGRESS), _response(1, 200, {"status": "completed"}))
    requests = [(float(i), (202, 200)[i], sent) for i, sent in enumerate(authorization)]

    run = grade(job, ENDED, _log(*requests), Grading(reject_authorization=False))

    assert run.checks["no_authorization"].passed is passed
    assert run.passed is passed


def test_time_mode_maps_each_request_to_the_response_of_its_moment() -> None:
    job = _check_job(
        _response(0, 202, PROGRESS),
        _response(10, 429, None, Retry_After="5"),
        _response(20, 200, {"status": "completed"}),
    )
    # speed 10: job second 10 is wall second 1; the early poll after the 429 is caught.
    requests = [(0, 202), (1.05, 429), (1.2, 429), (2.1, 200)]

    run = grade(job, ENDED, _log(*requests), Grading(mode="time", speed=10.0))

    assert run.checks["retry_after"].passed is False
    assert run.checks["stops_after_terminal"].passed is True


MISSING_STATUS = _check_job(
    _response(0, 202, PROGRESS),
    _response(1, 202, {"percentageComplete": 32.9}),
    _response(2, 200, {}),
    _response(3, 200, {"status": "completed", "percentageComplete": 100.0}),
    scenario="missing_status",
)


@pytest.mark.parametrize(
    ("job", "requests", "exit_code", "passed", "says"),
    [
        pytest.param(
            MISSING_STATUS,
            [(0, 202), (1, 202), (2, 200)],
            0,
            False,
            "exit 0 (success) at request 3 (no percentage), but the server never served a "
            "completion",
            id="success-at-an-empty-200",
        ),
        pytest.param(
            MISSING_STATUS,
            [(0, 202), (1, 202)],
            0,
            False,
            "at request 2 (32.9 %)",
            id="success-mid-copy",
        ),
        pytest.param(
            MISSING_STATUS,
            [(0, 202), (1, 202), (2, 200), (3, 200)],
            0,
            True,
            "exit 0 (success); expected success",
            id="success-after-completed",
        ),
        pytest.param(SEE_OTHER, [(0, 202), (1, 303)], 0, True, "expected success", id="303"),
    ],
)
def test_success_counts_only_after_a_completion_was_served(
    job: CheckJob, requests: list[tuple[float, int]], exit_code: int, passed: bool, says: str
) -> None:
    process = ProcessResult(exit_code, False, 1.0, "", "")
    check = grade(job, process, _log(*requests), Grading()).checks["conclusion"]
    assert (check.passed, says in check.detail) == (passed, True), check.detail


@pytest.mark.parametrize(
    ("exit_code", "stderr", "crash"),
    [
        (
            1,
            'Traceback (most recent call last):\n  File "p.py", line 3\n'
            "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n",
            "Python error: json.decoder.JSONDecodeError: Expecting value",
        ),
        (-11, "", "killed by signal SIGSEGV"),
        (139, "", "killed by signal SIGSEGV"),
        (1, "thread 'main' panicked at src/main.rs:4:5:\nbad body\n", "Rust error: thread 'main'"),
        (1, "copy failed: nameAlreadyExists\n", None),
        (0, "", None),
    ],
)
def test_an_exit_that_looks_like_a_crash_says_so_even_when_it_passes(
    exit_code: int, stderr: str, crash: str | None
) -> None:
    process = ProcessResult(exit_code, False, 1.0, "", stderr)
    run = grade(FAILS, process, _log((0, 202), (1, 200)), Grading())
    if crash is None:
        assert run.crash is None and "crash" not in run.why()
    else:
        assert run.crash is not None and crash in run.crash
        assert f"the exit looks like a crash: {run.crash}" in run.why()
