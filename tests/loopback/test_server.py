"""The fake monitor server over real loopback HTTP: URL shapes, clocks, every HTTP behaviour."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from replay.errors import ServerError, UsageError
from replay.server import MonitorServer
from replay.serving import ManualClock
from replay.simulate import Response, Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

IN_PROGRESS = {"operation": "ItemCopy", "percentageComplete": 27.8, "status": "inProgress"}
COMPLETED = {"percentageComplete": 100.0, "resourceId": "01ABC", "status": "completed"}
JSON = (("Content-Type", "application/json"),)


def _b64url_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _progress(job_id: str, n: int, **meta: Any) -> Timeline:
    """``n`` responses one second apart, percentage 0, 10, 20, ..."""
    bodies = [{"status": "inProgress", "percentageComplete": 10.0 * i} for i in range(n)]
    responses = [
        Response(float(i), 202, json.dumps(b).encode(), JSON) for i, b in enumerate(bodies)
    ]
    return Timeline(job_id, tuple(responses), **meta)


def _pcts(client: httpx.Client, url: str, n: int) -> list[float]:
    return [client.get(url).json()["percentageComplete"] for _ in range(n)]


# -- URL shapes and credentials ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "path_pattern", "query_keys"),
    [
        ("legacy", r"^/_api/v2\.0/monitor/job-1$", ["c", "tempauth"]),
        ("graph", r"^/_api/v2\.0/monitor/job-1$", ["c", "tempauth"]),
        (
            "sharepoint-v21",
            r"^/personal/u/_api/v2\.1/drive/operations/job-1$",
            ["c", "v", "tempauth"],
        ),
        ("consumer", r"^/monitor/job-1$", ["c", "tempauth"]),
    ],
)
def test_each_dialect_gets_its_url_shape_with_fake_credentials_and_serves(
    serve: Serve, http: httpx.Client, dialect: str, path_pattern: str, query_keys: list[str]
) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job-1", 2), dialect=dialect)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.hostname == "127.0.0.1"
    assert re.match(path_pattern, parts.path)
    assert list(query) == query_keys
    header, claims, signature = query["tempauth"][0].split(".")
    assert _b64url_json(header)["alg"] == "none"
    assert (
        int(claims_exp := _b64url_json(claims)["exp"]) - int(_b64url_json(claims)["nbf"]) == 86400
    )
    assert claims_exp and signature == ""
    assert "sig=" in base64.b64decode(query["c"][0]).decode()
    assert http.get(url).status_code == 202


def test_timeline_dialect_is_used_when_add_names_none(serve: Serve) -> None:
    server = serve()
    url = server.add(_progress("job-1", 1, dialect="sharepoint-v21"))
    assert "/_api/v2.1/drive/operations/job-1" in url


def test_job_ids_with_reserved_characters_round_trip(serve: Serve, http: httpx.Client) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job 1/#?", 1))
    assert http.get(url).status_code == 202
    assert [r.job_id for r in server.requests(url)] == ["job 1/#?"]


# -- clocks: step, time, retention ------------------------------------------------------------


def test_step_mode_serves_one_response_per_request_then_the_last_stays(
    serve: Serve, http: httpx.Client
) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job-1", 3))
    assert _pcts(http, url, 5) == [0.0, 10.0, 20.0, 20.0, 20.0]


def test_time_mode_clock_starts_at_first_request_and_runs_at_speed(
    serve: Serve, http: httpx.Client, make_timeline: MakeTimeline
) -> None:
    # 1 job second = 10 ms of the server's clock; responses at job seconds 0, 10, 20.
    clock = ManualClock()
    server = serve(mode="time", speed=100.0, clock=clock)
    steps = [(10.0 * i, 202, {"percentageComplete": i}) for i in range(3)]
    url = server.add(make_timeline("job-1", steps))
    seen = []
    for advance in (0.15, 0.099, 0.002, 0.1):  # the first: before any request, nothing starts
        clock.advance(advance)
        seen.append(http.get(url).json()["percentageComplete"])
    assert seen == [0, 0, 1, 2]  # job seconds 0, 9.9, 10.1, 20.1


@pytest.mark.parametrize(("mode"), ["step", "time"])
def test_last_response_is_sticky_for_retention_then_404(
    serve: Serve, http: httpx.Client, mode: str
) -> None:
    # retention 20 job seconds at speed 100 = 0.2 s of the server's clock
    clock = ManualClock()
    server = serve(mode=mode, speed=100.0, retention_s=20.0, clock=clock)
    url = server.add(Timeline("job-1", (Response(0.0, 200, json.dumps(COMPLETED).encode(), JSON),)))
    first = http.get(url)
    clock.advance(0.199)
    again = http.get(url)
    clock.advance(0.001)
    expired = http.get(url)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "completed"
    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "itemNotFound"


# -- authentication ---------------------------------------------------------------------------


def test_authorization_header_gets_401_unauthenticated(serve: Serve, http: httpx.Client) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job-1", 2))
    answer = http.get(url, headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {"code": "unauthenticated", "message": "Authentication failed"}
    }
    # the rejected request did not advance the job
    assert http.get(url).json()["percentageComplete"] == 0.0


def test_authorization_is_served_when_rejection_is_turned_off(
    serve: Serve, http: httpx.Client
) -> None:
    server = serve(mode="step", reject_authorization=False)
    url = server.add(_progress("job-1", 1))
    assert http.get(url, headers={"Authorization": "Bearer x"}).status_code == 202


@pytest.mark.parametrize(
    ("rewrite"),
    [
        pytest.param(lambda q: re.sub(r"&?tempauth=[^&]*", "", q), id="missing"),
        pytest.param(
            lambda q: re.sub(r"tempauth=[^&]*", "tempauth=eyJ0eXAiOiJKV1QifQ.e30.", q), id="wrong"
        ),
    ],
)
def test_bad_tempauth_gets_401(
    serve: Serve, http: httpx.Client, rewrite: Callable[[str], str]
) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job-1", 1))
    parts = urlsplit(url)
    answer = http.get(parts._replace(query=rewrite(parts.query)).geturl())
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_tempauth_of_another_job_is_refused(serve: Serve, http: httpx.Client) -> None:
    server = serve(mode="step")
    url_a, url_b = server.add(_progress("a", 1)), server.add(_progress("b", 1))
    borrowed = urlsplit(url_a)._replace(query=urlsplit(url_b).query).geturl()
    assert http.get(borrowed).status_code == 401


@pytest.mark.parametrize(
    ("path"),
    ["/_api/v2.0/monitor/no-such-job", "/monitor/no-such-job", "/", "/favicon.ico"],
)
def test_unknown_monitor_or_path_gets_404_json(serve: Serve, http: httpx.Client, path: str) -> None:
    server = serve()
    answer = http.get(server.base_url + path + "?tempauth=x")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "itemNotFound"


# -- HTTP behaviours from the timeline ----------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_after"),
    [
        pytest.param("41", id="seconds"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", id="http-date"),
        pytest.param(None, id="missing"),
    ],
)
def test_429_is_served_with_retry_after_as_given(
    serve: Serve, http: httpx.Client, retry_after: str | None
) -> None:
    headers = JSON + ((("Retry-After", retry_after),) if retry_after else ())
    body = json.dumps({"error": {"code": "activityLimitReached"}}).encode()
    server = serve(mode="step")
    url = server.add(Timeline("job-1", (Response(0.0, 429, body, headers),)))
    answer = http.get(url)
    assert answer.status_code == 429
    assert answer.headers.get("Retry-After") == retry_after
    assert answer.json()["error"]["code"] == "activityLimitReached"


def test_retry_after_http_date_is_rebased_onto_now_when_the_origin_is_known(
    serve: Serve, http: httpx.Client
) -> None:
    origin = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    due = format_datetime(origin + timedelta(seconds=10 + 30), usegmt=True)
    server = serve(mode="step")
    throttled = Response(10.0, 429, b"", (("Retry-After", due),))
    rebased = server.add(Timeline("rebased", (throttled,)), origin=origin)
    verbatim = server.add(Timeline("verbatim", (throttled,)))
    ahead = parsedate_to_datetime(http.get(rebased).headers["Retry-After"]) - datetime.now(UTC)
    assert 27 <= ahead.total_seconds() <= 31
    assert http.get(verbatim).headers["Retry-After"] == due


def _retry_after_dates(http: httpx.Client, url: str, polls: int) -> list[tuple[datetime, datetime]]:
    """(time of the request, Retry-After date) of every dated answer among ``polls`` GETs."""
    found = []
    for _ in range(polls):
        sent = datetime.now(UTC)
        value = http.get(url).headers.get("Retry-After")
        if value and not value.strip().isdigit():
            found.append((sent, parsedate_to_datetime(value)))
    return found


@pytest.mark.parametrize(("started_by",), [("fleet",), ("simulate_job",), ("copy call",)])
def test_retry_after_dates_of_simulated_jobs_lie_ahead_of_each_request(
    serve: Serve, http: httpx.Client, started_by: str
) -> None:
    from replay.simulate import simulate, simulate_job

    server = serve(mode="step")
    if started_by == "fleet":
        urls = server.add_fleet(simulate(12, seed=5, scenarios=["throttled"]))
    elif started_by == "simulate_job":
        urls = [server.add(simulate_job("throttled", seed=seed)) for seed in range(12)]
    else:
        copy = server.base_url + "/me/drive/items/i1/copy"
        urls = [
            http.post(copy, params={"scenario": "throttled"}).headers["Location"] for _ in range(12)
        ]
    dated = [pair for url in urls for pair in _retry_after_dates(http, url, 40)]
    assert dated, "no Retry-After HTTP date served: the throttled scenario should have some"
    # The simulator's Retry-After is 1-120 s; an HTTP date has whole seconds.
    late = [
        (sent, due) for sent, due in dated if not (0 <= (due - sent).total_seconds() + 1 <= 122)
    ]
    assert late == []


def test_503_html_body_is_served_verbatim(serve: Serve, http: httpx.Client) -> None:
    page = b"<html><body><h1>Service Unavailable</h1></body></html>"
    server = serve(mode="step")
    headers = (("Content-Type", "text/html"), ("Retry-After", "120"))
    url = server.add(Timeline("job-1", (Response(0.0, 503, page, headers),)))
    answer = http.get(url)
    assert (answer.status_code, answer.content) == (503, page)
    assert answer.headers["content-type"].startswith("text/html")


def test_slow_response_waits_delay_before_answering(serve: Serve, http: httpx.Client) -> None:
    server = serve(mode="step")
    slow = Response(0.0, 202, json.dumps(IN_PROGRESS).encode(), JSON, delay_s=0.3)
    url = server.add(Timeline("job-1", (slow, Response(1.0, 202, b"{}", JSON))))
    started = time.perf_counter()
    answer = http.get(url)
    assert answer.status_code == 202
    assert time.perf_counter() - started >= 0.3


def test_dropped_connection_gives_no_response_and_server_keeps_serving(
    serve: Serve, http: httpx.Client
) -> None:
    server = serve(mode="step")
    dropped = Response(0.0, 200, b"", drop=True)
    url = server.add(Timeline("job-1", (dropped, Response(1.0, 202, b"{}", JSON))))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(url)
    assert http.get(url).status_code == 202
    assert [r.response_status for r in server.requests(url)] == [None, 202]


def test_truncated_json_body_is_served_as_is(serve: Serve, http: httpx.Client) -> None:
    truncated = b'{"operation": "ItemCopy", "percentageComp'
    server = serve(mode="step")
    url = server.add(Timeline("job-1", (Response(0.0, 202, truncated, JSON),)))
    answer = http.get(url)
    assert answer.content == truncated
    with pytest.raises(json.JSONDecodeError):
        answer.json()


SHAREPOINT_ITEM = "https://contoso.sharepoint.com/_api/v2.0/drives/b!x/items/01ABC"
READABLE_ITEM = SHAREPOINT_ITEM + "?force303=1&tempauth=FAKEitemSECRET"  # onedrive-api-docs#762
LEGACY_ITEM = "https://api.onedrive.com/v1.0/drives/d/items/01ABC"  # needs a bearer token


@pytest.mark.parametrize(
    ("body"),
    [
        pytest.param(b"", id="location-only"),
        pytest.param(json.dumps(COMPLETED).encode(), id="with-body"),
    ],
)
def test_303_is_served_with_a_location_on_the_server_and_is_not_followed_by_it(
    serve: Serve, http: httpx.Client, body: bytes
) -> None:
    server = serve(mode="step")
    url = server.add(Timeline("job-1", (Response(0.0, 303, body, (("Location", READABLE_ITEM),)),)))
    answer = http.get(url)
    location = answer.headers["Location"]
    assert (answer.status_code, answer.content) == (303, body)
    assert location.startswith(server.base_url + "/_api/v2.0/drives/b!")
    assert urlsplit(location).path.endswith("/items/01ABC")
    assert parse_qs(urlsplit(location).query)["force303"] == ["1"]
    assert "FAKEitemSECRET" not in location  # the job's own tempauth, which the server knows
    assert len(server.all_requests()) == 1


@pytest.mark.parametrize(
    ("item", "headers", "status", "says"),
    [
        pytest.param(READABLE_ITEM, {}, 200, "01ABC", id="tempauth-gives-the-item"),
        pytest.param(LEGACY_ITEM, {}, 401, "Authentication failed", id="no-credential-401"),
        pytest.param(
            READABLE_ITEM, {"Authorization": "Bearer x"}, 401, "Invalid audience", id="bearer-872"
        ),
    ],
)
def test_following_the_303_gets_what_the_real_item_url_answers_and_is_logged_with_the_job(
    serve: Serve,
    http: httpx.Client,
    item: str,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    server = serve(mode="step")
    url = server.add(Timeline("job-1", (Response(0.0, 303, b"", (("Location", item),)),)))

    followed = http.get(http.get(url).headers["Location"], headers=headers)

    assert followed.status_code == status
    document = followed.json()
    assert says in (document["id"] if status == 200 else document["error"]["message"])
    log = server.requests(url)
    assert [(r.target, r.response_status) for r in log] == [("monitor", 303), ("item", status)]
    assert log[1].path.startswith("/_api/v2.0/drives/b!") and log[1].job_status is None


@pytest.mark.parametrize("dialect", ["legacy", "graph", "sharepoint-v21", "consumer"])
@pytest.mark.parametrize("source", ["simulated", "recorded"])
def test_simulated_and_recorded_303s_point_at_the_server(
    serve: Serve, http: httpx.Client, tmp_path: Path, dialect: str, source: str
) -> None:
    from replay.simulate import simulate

    fleet = simulate(1, seed=2, scenarios=["legacy_303"], dialects=[dialect])
    timeline = next(fleet.timelines())
    if source == "recorded":
        fleet.write(tmp_path)
        timeline = Timeline.from_dataset(tmp_path, timeline.job_id)
    server = serve(mode="step")
    url = server.add(timeline)
    answers = [http.get(url) for _ in range(len(timeline))]

    (see_other,) = [a for a in answers if a.status_code == 303][:1]
    followed = http.get(see_other.headers["Location"])
    # The legacy dialect's item URL needs a bearer token; the others carry their tempauth.
    assert followed.status_code == (401 if dialect == "legacy" else 200)
    assert server.requests(url)[-1].target == "item"


@pytest.mark.parametrize(("status"), [200, 202, 500])
def test_any_status_code_of_the_timeline_is_served(
    serve: Serve, http: httpx.Client, status: int
) -> None:
    failed = {
        "status": "failed",
        "error": {"code": "nameAlreadyExists", "message": "Name already exists"},
    }
    server = serve(mode="step")
    url = server.add(Timeline("job-1", (Response(0.0, status, json.dumps(failed).encode(), JSON),)))
    answer = http.get(url)
    assert (answer.status_code, answer.json()) == (status, failed)


# -- the request log ------------------------------------------------------------------------------


def test_request_log_keeps_names_never_values(serve: Serve, http: httpx.Client) -> None:
    server = serve(mode="step")
    url = server.add(_progress("job-1", 2))
    http.get(url, headers={"X-Custom": "hello"})
    http.get(url, headers={"Authorization": "Bearer s3cr3t-token"})
    first, second = server.requests(url)
    tempauth = parse_qs(urlsplit(url).query)["tempauth"][0]
    assert (first.method, first.path) == ("GET", "/_api/v2.0/monitor/job-1")
    assert first.query_keys == ("c", "tempauth")
    assert "x-custom" in first.header_names and "authorization" not in first.header_names
    assert (first.authorization_sent, first.response_status) == (False, 202)
    assert (second.authorization_sent, second.response_status) == (True, 401)
    assert "authorization" in second.header_names
    assert first.at.tzinfo is not None and first.at <= second.at
    logged = repr(server.all_requests())
    assert "s3cr3t" not in logged and tempauth not in logged and "hello" not in logged


def test_request_log_is_per_job_and_all_requests_includes_unmatched(
    serve: Serve, http: httpx.Client
) -> None:
    server = serve(mode="step")
    url_a, url_b = server.add(_progress("a", 1)), server.add(_progress("b", 1))
    http.get(url_a), http.get(url_b), http.get(url_a), http.get(server.base_url + "/nowhere")
    assert len(server.requests("a")) == 2 and len(server.requests(url_b)) == 1
    assert [r.job_id for r in server.all_requests()] == ["a", "b", "a", None]


def test_request_log_of_an_unknown_job_is_an_error_naming_it(serve: Serve) -> None:
    server = serve()
    with pytest.raises(UsageError, match="no-such-job"):
        server.requests("no-such-job")


def test_request_log_keeps_the_most_recent_requests_up_to_its_limit(
    serve: Serve, http: httpx.Client
) -> None:
    server = serve(mode="step", log_limit=3)
    url = server.add(_progress("job-1", 5))
    _pcts(http, url, 5)
    assert len(server.requests(url)) == 3


def test_add_fleet_serves_each_simulated_job_its_own_timeline(
    serve: Serve, http: httpx.Client
) -> None:
    simulate = pytest.importorskip("replay.simulate").simulate
    pytest.importorskip("replay.payload")
    fleet = simulate(12, seed=2)
    server = serve(mode="step")
    urls = server.add_fleet(fleet)
    timelines = list(fleet.timelines())
    assert len(urls) == len(timelines) == 12
    for url, served in zip(urls, timelines, strict=True):
        assert urlsplit(url).path.endswith(f"/{served.job_id}")
        first = served.step(0)
        if first.drop or first.delay_s > 0.5:
            continue
        answer = http.get(url)
        assert (answer.status_code, answer.content) == (first.http_status, first.body)


# -- the copy call ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "body"),
    [
        ("/v1.0/drives/d1/items/i1/copy", {}, {"parentReference": {"id": "p"}}),
        ("/me/drive/items/i1/copy", {"scenario": "happy_path"}, None),
        ("/drives/d1/items/i1/copy", {}, {"@replay.scenario": "happy_path"}),
    ],
)
def test_post_copy_answers_202_with_a_location_that_serves(
    serve: Serve, http: httpx.Client, path: str, params: dict[str, str], body: Any
) -> None:
    pytest.importorskip("replay.simulate")
    pytest.importorskip("replay.payload")
    server = serve(mode="step")
    answer = http.post(server.base_url + path, params=params, json=body)
    assert (answer.status_code, answer.content) == (202, b"")
    location = answer.headers["Location"]
    assert location.startswith(server.base_url) and "tempauth=" in location
    polled = http.get(location)
    assert polled.status_code in (200, 202, 303)
    assert [r.method for r in server.requests(location)] == ["POST", "GET"]


def test_post_copy_with_unknown_scenario_is_400_naming_valid_ones(
    serve: Serve, http: httpx.Client
) -> None:
    pytest.importorskip("replay.simulate")
    pytest.importorskip("replay.payload")
    server = serve()
    answer = http.post(server.base_url + "/me/drive/items/i1/copy", params={"scenario": "nope"})
    assert answer.status_code == 400
    assert "happy_path" in answer.json()["error"]["message"]


# -- lifecycle and refusals -------------------------------------------------------------------------


def test_async_context_manager_serves_on_the_running_loop() -> None:
    async def scenario() -> tuple[int, int]:
        async with MonitorServer(mode="step") as server:
            url = server.add(_progress("job-1", 1))
            async with httpx.AsyncClient() as client:
                answer = await client.get(url)
            return answer.status_code, len(server.requests(url))

    assert asyncio.run(scenario()) == (202, 1)


def test_stopped_server_refuses_connections(http: httpx.Client) -> None:
    with MonitorServer() as server:
        url = server.add(_progress("job-1", 1))
        assert http.get(url).status_code == 202
    with pytest.raises(httpx.ConnectError):
        http.get(url)


@pytest.mark.parametrize(("host"), ["0.0.0.0", "192.0.2.1", "::", "example.com"])
def test_non_loopback_host_is_refused_without_the_explicit_flag(host: str) -> None:
    with pytest.raises(ServerError, match="allow_non_loopback"):
        MonitorServer(host=host)


@pytest.mark.parametrize(("host"), ["127.0.0.1", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert MonitorServer(host=host).retention_s == 86400.0


def test_busy_port_is_a_server_error_naming_it() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerError, match=str(port)):
            MonitorServer(port=port).start()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"mode": "random"}, "mode"),
        ({"speed": 0.0}, "speed"),
        ({"speed": float("nan")}, "speed"),
        ({"retention_s": -1.0}, "retention_s"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        MonitorServer(**options)


def test_duplicate_job_and_unknown_dialect_are_refused(serve: Serve) -> None:
    server = serve()
    server.add(_progress("job-1", 1))
    with pytest.raises(ServerError, match="job-1"):
        server.add(_progress("job-1", 1))
    with pytest.raises(UsageError, match="sharepoint-v21"):
        server.add(_progress("job-2", 1), dialect="klingon")


def test_add_before_start_with_any_port_explains_what_to_do() -> None:
    with pytest.raises(ServerError, match="start it first"):
        MonitorServer().add(_progress("job-1", 1))
