"""MonitorTransport: the server's timelines and request log for httpx clients, without sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from replay.errors import ServerError, UsageError
from replay.testing import ManualClock, MonitorTransport, Response, Timeline

STEPS = Timeline.from_steps(["notStarted", ("inProgress", 50), 429, ("completed", 100)])


def poll_all(transport: MonitorTransport, url: str, n: int) -> list[tuple[int, str | None]]:
    with httpx.Client(transport=transport) as client:
        answers = [client.get(url) for _ in range(n)]
    return [(a.status_code, a.json().get("status")) for a in answers]


@pytest.mark.parametrize("dialect", ["legacy", "graph", "sharepoint-v21", "consumer"])
def test_step_mode_answers_the_nth_request_with_the_nth_response(dialect: str) -> None:
    transport = MonitorTransport()
    url = transport.add(STEPS, dialect=dialect)
    seen = poll_all(transport, url, 6)
    assert seen == [
        (202, "notStarted"),
        (202, "inProgress"),
        (429, None),
        (200, "completed"),
        (200, "completed"),  # the last response stays
        (200, "completed"),
    ]
    log = transport.requests(url)
    assert [r.response_status for r in log] == [202, 202, 429, 200, 200, 200]
    assert [r.job_status for r in log][:4] == ["notStarted", "inProgress", None, "completed"]
    assert log[2].retry_after == "1"
    assert {"c", "tempauth"} <= set(log[0].query_keys)
    assert "tempauth=" in url


def test_async_client_gets_the_same_answers() -> None:
    transport = MonitorTransport()
    url = transport.add(STEPS)

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            return [(await client.get(url)).status_code for _ in range(4)]

    assert asyncio.run(main()) == [202, 202, 429, 200]
    assert len(transport.requests(url)) == 4


@pytest.mark.parametrize(
    ("change", "status", "job_logged", "authorization"),
    [
        pytest.param({"headers": {"Authorization": "Bearer x"}}, 401, True, True, id="bearer"),
        pytest.param({"method": "POST"}, 405, True, False, id="post"),
        pytest.param({"tempauth": "forged"}, 401, True, False, id="wrong-tempauth"),
        pytest.param({"path": "/_api/v2.0/monitor/other"}, 404, False, False, id="unknown-job"),
    ],
)
def test_routing_matches_the_server(
    change: dict[str, object], status: int, job_logged: bool, authorization: bool
) -> None:
    transport = MonitorTransport()
    url = httpx.URL(transport.add(STEPS))
    if "tempauth" in change:
        url = url.copy_set_param("tempauth", change["tempauth"])
    if "path" in change:
        url = url.copy_with(path=str(change["path"]))
    request = httpx.Request(
        str(change.get("method", "GET")),
        url,
        headers=change.get("headers"),  # type: ignore[arg-type]
    )
    with httpx.Client(transport=transport) as client:
        assert client.send(request).status_code == status
    (record,) = transport.all_requests()
    assert (record.job_id is not None, record.authorization_sent) == (job_logged, authorization)
    assert "Bearer" not in repr(record)  # header names are kept, never their values


def test_dropped_connection_raises_and_is_logged_without_status() -> None:
    dropped = Timeline.from_steps(
        [Response(0.0, 502, drop=True), ("completed", 100)], job_id="drops"
    )
    transport = MonitorTransport()
    url = transport.add(dropped)
    with httpx.Client(transport=transport) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(url)
        assert client.get(url).json()["status"] == "completed"
    assert [r.response_status for r in transport.requests(url)] == [None, 200]


def test_time_mode_follows_the_job_clock_at_speed() -> None:
    steps = [("inProgress", 10), {"status": "completed", "pct": 100, "at_s": 50.0}]
    clock = ManualClock()
    transport = MonitorTransport(mode="time", speed=200, clock=clock)  # 50 job s = 0.25 s
    url = transport.add(Timeline.from_steps(steps))
    assert [s for _, s in poll_all(transport, url, 3)] == ["inProgress"] * 3
    clock.advance(0.249)
    assert poll_all(transport, url, 1) == [(202, "inProgress")]
    clock.advance(0.001)
    assert poll_all(transport, url, 1) == [(200, "completed")]


def test_per_job_mode_overrides_the_transport() -> None:
    transport = MonitorTransport(mode="time", speed=1.0)
    url = transport.add(STEPS, mode="step")
    assert [code for code, _ in poll_all(transport, url, 4)] == [202, 202, 429, 200]


def test_retry_after_dates_of_a_simulated_timeline_lie_ahead_of_each_request() -> None:
    from email.utils import parsedate_to_datetime

    from replay.simulate import simulate_job

    transport = MonitorTransport()
    urls = [transport.add(simulate_job("throttled", seed=seed)) for seed in range(12)]
    dated = []
    with httpx.Client(transport=transport) as client:
        for url in urls:
            for _ in range(40):
                sent = datetime.now(UTC)
                value = client.get(url).headers.get("Retry-After")
                if value and not value.strip().isdigit():
                    dated.append((parsedate_to_datetime(value) - sent).total_seconds())
    assert dated, "no Retry-After HTTP date served: the throttled scenario should have some"
    # The simulator's Retry-After is 1-120 s; an HTTP date has whole seconds.
    assert [ahead for ahead in dated if not 0 <= ahead + 1 <= 122] == []


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        pytest.param(lambda t: t.requests("nobody"), UsageError, "no job 'nobody'", id="requests"),
        pytest.param(
            lambda t: t.add(STEPS) and t.add(STEPS), ServerError, "already served", id="twice"
        ),
        pytest.param(lambda t: t.add(STEPS, mode="fast"), UsageError, "unknown mode", id="mode"),
        pytest.param(
            lambda t: t.add(STEPS, dialect="x"), UsageError, "unknown dialect", id="dialect"
        ),
        pytest.param(
            lambda t: t.add_copy(status=500), UsageError, "200 or 409 without", id="copy-500"
        ),
        pytest.param(
            lambda t: t.add_copy(status=200, location=t.add(STEPS)),
            UsageError,
            "202 with a monitor URL",
            id="copy-200-with-a-monitor",
        ),
        pytest.param(
            lambda t: t.add_copy("https://x/_api/v2.0/monitor/nobody"),
            UsageError,
            "no job 'nobody'",
            id="copy-of-no-job",
        ),
    ],
)
def test_misuse_is_a_clear_error(
    action: Callable[[MonitorTransport], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        action(MonitorTransport())


@pytest.mark.parametrize(
    ("status", "logged"),
    [
        (202, ["POST copy 202", "POST copy 409", "GET monitor 202", "GET monitor 202"]),
        (200, ["POST copy 200", "POST copy 409"]),
        (409, ["POST copy 409", "POST copy 409"]),
    ],
)
def test_a_copy_url_logs_its_calls_with_its_job(status: int, logged: list[str]) -> None:
    transport = MonitorTransport()
    monitor = transport.add(STEPS)
    copy_url = transport.add_copy(monitor) if status == 202 else transport.add_copy(status=status)
    with httpx.Client(transport=transport) as client:
        location = client.post(copy_url).headers.get("Location")
        client.post(copy_url)
        for _ in range(2 if location else 0):
            client.get(location)
    log = transport.requests(copy_url)
    assert [f"{r.method} {r.target} {r.response_status}" for r in log] == logged
    assert location == (monitor if status == 202 else None)
