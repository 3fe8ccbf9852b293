"""The assertion helpers: pass on a careful poller's log, fail on a naive one naming each request."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from replay.testing import (
    MonitorTransport,
    RequestRecord,
    Timeline,
    assert_no_authorization,
    assert_respects_retry_after,
    assert_stops_after_terminal,
    assert_valid_sequence,
)

TERMINAL = ("completed", "failed", "deleteFailed", "cancelled")
#: A throttled job with a short Retry-After, so the careful poller's waits stay short.
THROTTLED = Timeline.from_steps(
    [
        ("inProgress", 10),
        {"http": 429, "retry_after": "0.2"},
        ("inProgress", 60),
        ("completed", 100),
    ]
)


def careful(client: httpx.Client, url: str) -> None:
    """No token, waits out Retry-After, stops at a terminal status."""
    for _ in range(20):
        answer = client.get(url)
        if answer.json().get("status") in TERMINAL:
            return
        time.sleep(float(answer.headers.get("Retry-After", 0)))


#: The careful poller sleeps out the 0.2 s Retry-After in real time.
WAITS = pytest.mark.wallclock


def naive(client: httpx.Client, url: str) -> None:
    """Sends a bearer token, ignores Retry-After, polls twice more after the end."""
    for _ in range(len(THROTTLED) + 2):
        client.get(url, headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})


def no_token_naive(client: httpx.Client, url: str) -> None:
    """Like ``naive`` without a token (the transport would 401 it before any other answer)."""
    for _ in range(len(THROTTLED) + 2):
        client.get(url)


def log_of(poller: Callable[[httpx.Client, str], None]) -> list[RequestRecord]:
    transport = MonitorTransport(reject_authorization=False)
    url = transport.add(THROTTLED)
    with httpx.Client(transport=transport) as client:
        poller(client, url)
    return transport.requests(url)


CHECKS = {
    "no_authorization": assert_no_authorization,
    "retry_after": assert_respects_retry_after,
    "stops": assert_stops_after_terminal,
}


@pytest.mark.parametrize(
    ("check", "poller", "offenders", "why"),
    [
        pytest.param("no_authorization", careful, None, "", id="auth-careful", marks=WAITS),
        pytest.param(
            "no_authorization", naive, [0, 1, 2, 3, 4, 5], "sent Authorization", id="auth-naive"
        ),
        pytest.param("retry_after", careful, None, "", id="retry-careful", marks=WAITS),
        pytest.param(
            "retry_after", no_token_naive, [2], "which said Retry-After 0.2 s", id="retry-naive"
        ),
        pytest.param("stops", careful, None, "", id="stops-careful", marks=WAITS),
        pytest.param("stops", no_token_naive, [4, 5], "after #3 said completed", id="stops-naive"),
    ],
)
def test_helpers_judge_real_logs(
    check: str,
    poller: Callable[[httpx.Client, str], None],
    offenders: list[int] | None,
    why: str,
) -> None:
    log = log_of(poller)
    if offenders is None:
        CHECKS[check](log)
        return
    with pytest.raises(AssertionError) as failure:
        CHECKS[check](log)
    message = str(failure.value)
    listed = [int(n) for n in re.findall(r"^  #(\d+) ", message, re.MULTILINE)]
    assert listed == offenders
    assert why in message
    assert log[offenders[0]].at.isoformat(timespec="milliseconds") in message
    assert f"GET {log[0].path} ->" in message


def record(at_s: float, retry_after: str | None = None, **fields: object) -> RequestRecord:
    """A request log entry at ``at_s`` seconds past 12:00 UTC."""
    at = datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(seconds=at_s)
    values: dict[str, object] = {
        "at": at,
        "method": "GET",
        "path": "/_api/v2.0/monitor/J",
        "query_keys": ("c", "tempauth"),
        "header_names": (),
        "authorization_sent": False,
        "response_status": 202 if retry_after is None else 429,
        "job_id": "J",
        "retry_after": retry_after,
    }
    return RequestRecord(**{**values, **fields})  # type: ignore[arg-type]


def http_date(at_s: float) -> str:
    return format_datetime(
        datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(seconds=at_s), usegmt=True
    )


@pytest.mark.parametrize(
    ("log", "ok"),
    [
        pytest.param([record(0, "5"), record(5.0)], True, id="seconds-waited"),
        pytest.param([record(0, "5"), record(4.9)], False, id="seconds-early"),
        pytest.param([record(0, http_date(10)), record(10.0)], True, id="date-waited"),
        pytest.param([record(0, http_date(10)), record(9.0)], False, id="date-early"),
        pytest.param(
            [record(0, "5"), record(1.0, job_id="other"), record(5.0)], True, id="other-job-between"
        ),
        pytest.param([record(0, "soon"), record(0.1)], True, id="unparsable-header-asks-nothing"),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(log: Sequence[RequestRecord], ok: bool) -> None:
    if ok:
        assert_respects_retry_after(log)
    else:
        with pytest.raises(AssertionError, match="before Retry-After had passed"):
            assert_respects_retry_after(log)


@pytest.mark.parametrize(
    ("log", "offenders"),
    [
        pytest.param([record(0, job_status="failed"), record(1)], [1], id="failed-is-terminal"),
        pytest.param([record(0, response_status=303), record(1)], [1], id="303-is-terminal"),
        pytest.param(
            [record(0, job_status="cancelled"), record(1, job_id="K")], [], id="other-job"
        ),
        pytest.param([record(0, job_status="inProgress"), record(1)], [], id="still-running"),
        pytest.param(
            [record(0, response_status=303), record(1, target="item", response_status=200)],
            [],
            id="following-the-303-once-is-no-poll",
        ),
        pytest.param(
            [record(0, response_status=303), record(1, target="item"), record(2)],
            [2],
            id="polling-after-following-it-is",
        ),
    ],
)
def test_stops_after_terminal_per_job(log: Sequence[RequestRecord], offenders: list[int]) -> None:
    if not offenders:
        assert_stops_after_terminal(log)
        return
    with pytest.raises(AssertionError, match="polled after the job had ended") as failure:
        assert_stops_after_terminal(log)
    listed = [int(n) for n in re.findall(r"^  #(\d+) ", str(failure.value), re.MULTILINE)]
    assert listed == offenders


@pytest.mark.parametrize(
    ("target", "fails"),
    [("copy", False), ("monitor", True), ("item", True)],
)
def test_authorization_belongs_on_the_copy_call_only(target: str, fails: bool) -> None:
    log = [record(0, target=target, authorization_sent=True)]
    if fails:
        with pytest.raises(AssertionError, match="sent an Authorization header"):
            assert_no_authorization(log)
    else:
        assert_no_authorization(log)


def test_long_failures_are_cut_with_a_count() -> None:
    log = [record(i, authorization_sent=True) for i in range(25)]
    with pytest.raises(AssertionError, match=r"25 of 25 request\(s\)(.|\n)*and 5 more"):
        assert_no_authorization(log)


@pytest.mark.parametrize(
    ("observed", "policy", "fail_on", "codes"),
    [
        pytest.param(
            [{"status": "inProgress", "percentage_complete": 10.0}, {"status": "completed"}],
            None,
            "error",
            [],
            id="clean",
        ),
        pytest.param(
            [{"status": "completed"}, {"status": "inProgress"}],
            None,
            "error",
            ["after_terminal"],
            id="after-terminal",
        ),
        pytest.param(
            [{"status": "inProgress"}, {"status": "cancelled"}],
            None,
            "error",
            ["unknown_status"],
            id="cancelled-unknown-by-default",
        ),
        pytest.param(
            [{"status": "inProgress"}, {"status": "cancelled"}],
            "onedrive",
            "error",
            [],
            id="cancelled-known-to-onedrive",
        ),
        pytest.param(
            [{"status": "inProgress", "percentage_complete": 50.0}],
            None,
            "warning",
            ["no_terminal"],
            id="warnings-on-request",
        ),
    ],
)
def test_valid_sequence_reports_violations_with_their_times(
    observed: list[dict[str, object]], policy: str | None, fail_on: str, codes: list[str]
) -> None:
    if not codes:
        assert_valid_sequence(observed, policy, fail_on=fail_on)
        return
    with pytest.raises(AssertionError) as failure:
        assert_valid_sequence(observed, policy, fail_on=fail_on)
    message = str(failure.value)
    assert re.findall(r": (\w+) \((?:error|warning)\)", message) == codes
    assert "2000-01-01T00:00:0" in message  # the observation's time


def test_valid_sequence_takes_a_recording(build_obs: Callable[..., object]) -> None:
    obs = build_obs({"a": [(0, "inProgress", 10, 202), (5, "notStarted", 0, 202)]})
    with pytest.raises(AssertionError, match=r"a seq 1 at 2026-01-05T23:00:05.*illegal_transition"):
        assert_valid_sequence(obs)  # type: ignore[arg-type]


def test_valid_sequence_rejects_a_bad_fail_on() -> None:
    from replay.errors import UsageError

    with pytest.raises(UsageError, match="fail_on must be 'error' or 'warning'"):
        assert_valid_sequence([{"status": "completed"}], fail_on="info")
