"""The server over loopback (HTTP and HTTPS) and the socket-free transport answer alike."""

from __future__ import annotations

import dataclasses
import json
import re
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from replay.server import MonitorServer
from replay.serving import ManualClock, ServingCore
from replay.testing import MonitorTransport, Timeline

#: Headers whose values a client acts on (others, like Date and Server, are the HTTP stack's).
HEADERS_THAT_MATTER = ("content-type", "allow", "retry-after", "location")
STEPS = [
    "notStarted",
    ("inProgress", 40),
    {"http": 429, "retry_after": "2"},
    {"http": 503},
    {
        "status": "completed",
        "pct": 100,
        "http": 303,
        "location": "https://contoso.sharepoint.com/_api/v2.0/drives/b!x/items/01NEW"
        "?force303=1&tempauth=abc",
    },
]


@dataclass(frozen=True)
class Known:
    """What a request of the table may be built from: the base URL, the monitor URL, and the
    Location of the last answer that had one."""

    base: str
    monitor: str
    copies: tuple[str, str, str] = ("", "", "")  # copy URLs answering 202, 200 and 409
    location: str = ""


@dataclass(frozen=True)
class Ask:
    """One request of the table: method, what the URL is made of, extra headers."""

    name: str
    method: str = "GET"
    url: Callable[[Known], str] = lambda known: known.monitor
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def _swap_tempauth(known: Known) -> str:
    return known.monitor.replace("tempauth=", "tempauth=x")


def _other_job(known: Known) -> str:
    return known.monitor.replace("/monitor/job-1", "/monitor/nobody")


def _no_query(known: Known) -> str:
    return known.monitor.partition("?")[0]


def _not_a_monitor(known: Known) -> str:
    return known.base + "/drives/b!x/items/y"


def _copy(known: Known) -> str:
    return known.base + "/v1.0/drives/b!x/items/y/copy?scenario=happy_path"


def _copy_unknown(known: Known) -> str:
    return known.base + "/v1.0/me/drive/items/y/copy?scenario=nope"


def _copy_202(known: Known) -> str:
    return known.copies[0]


def _copy_200(known: Known) -> str:
    return known.copies[1]


def _copy_409(known: Known) -> str:
    return known.copies[2]


def _item(known: Known) -> str:
    return known.location


def _item_without_tempauth(known: Known) -> str:
    return known.location.partition("?")[0]


def _item_of_nobody(known: Known) -> str:
    return known.base + "/_api/v2.0/drives/b!bm9ib2R5/items/01NEW"


BEARER = (("Authorization", "Bearer abc"),)
TABLE = [
    Ask("poll 1"),
    Ask("poll 2"),
    Ask("bearer token on a known monitor", headers=BEARER),
    Ask("bearer token on an unknown monitor", url=_other_job, headers=BEARER),
    Ask("bearer token on a path that is no monitor", url=_not_a_monitor, headers=BEARER),
    Ask("unknown monitor", url=_other_job),
    Ask("not a monitor path", url=_not_a_monitor),
    Ask("DELETE", method="DELETE"),
    Ask("POST to a monitor", method="POST"),
    Ask("PUT to an unknown monitor", method="PUT", url=_other_job),
    Ask("wrong tempauth", url=_swap_tempauth),
    Ask("no credentials", url=_no_query),
    Ask("poll 3 (429)"),
    Ask("poll 4 (503)"),
    Ask("poll 5 (303 completed)"),
    Ask("poll 6 (303 stays)"),
    Ask("the 303's Location", url=_item),
    Ask("the 303's Location again", url=_item),
    Ask("bearer token on the 303's Location", url=_item, headers=BEARER),
    Ask("the 303's Location without its tempauth", url=_item_without_tempauth),
    Ask("DELETE of the 303's Location", method="DELETE", url=_item),
    Ask("the item of a job not served", url=_item_of_nobody),
    Ask("copy call, bad body", method="POST", url=_copy, body=b"[1, 2"),
    Ask("copy call, unknown scenario", method="POST", url=_copy_unknown, body=b"{}"),
    Ask("copy call", method="POST", url=_copy, body=b'{"@replay.dialect": "graph"}'),
    Ask("copy URL of the job, with the bearer it needs", "POST", _copy_202, BEARER, b"{}"),
    Ask("copy URL of the job, called again", method="POST", url=_copy_202, body=b"{}"),
    Ask("copy URL that copies at once", method="POST", url=_copy_200, body=b"{}"),
    Ask("copy URL whose name exists", method="POST", url=_copy_409, body=b"{}"),
]


@dataclass(frozen=True)
class Seen:
    """What a client can tell of one answer, with the monitor's base URL taken out."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: object


def _seen(response: httpx.Response, base: str) -> Seen:
    headers = tuple(
        (name, _shape(response.headers[name], base))
        for name in HEADERS_THAT_MATTER
        if name in response.headers
    )
    text = response.content.decode()
    try:
        body: object = json.loads(text) if text else ""
    except ValueError:
        body = text
    return Seen(response.status_code, headers, body)


def _shape(value: str, base: str) -> str:
    """A header value without what differs by design: the base URL, credentials, a new job id."""
    return re.sub(
        r"/monitor/[0-9A-F-]{36}$", "/monitor/NEW", value.replace(base, "BASE").split("?")[0]
    )


def _answers(client: httpx.Client, core: ServingCore, monitor: str) -> list[Seen]:
    copies = (core.add_copy(monitor), core.add_copy(status=200), core.add_copy(status=409))
    known, seen = Known(core.base_url, monitor, copies), []
    for ask in TABLE:
        answer = client.request(ask.method, ask.url(known), headers=ask.headers, content=ask.body)
        if "location" in answer.headers:
            known = dataclasses.replace(known, location=answer.headers["location"])
        seen.append(_seen(answer, core.base_url))
    return seen


@pytest.fixture
def timeline() -> Timeline:
    return Timeline.from_steps(STEPS, job_id="job-1", dialect="graph")


@pytest.fixture(params=[False, True], ids=["http", "https"])
def over_loopback(
    timeline: Timeline, request: pytest.FixtureRequest
) -> Iterator[tuple[list[Seen], list[str]]]:
    """The table's answers over loopback, in plain HTTP and over TLS (trusting the run's CA)."""
    with MonitorServer(mode="step", tls=request.param) as server:
        verify = ssl.create_default_context(cafile=server.ca_file) if server.tls else True
        with httpx.Client(verify=verify) as client:
            monitor = server.add(timeline)
            seen = _answers(client, server, monitor)
        yield seen, [f"{r.method} {r.target} {r.response_status}" for r in server.all_requests()]


@pytest.fixture
def without_sockets(timeline: Timeline) -> tuple[list[Seen], list[str]]:
    transport = MonitorTransport(mode="step")
    with httpx.Client(transport=transport) as client:
        monitor = transport.add(timeline)
        seen = _answers(client, transport, monitor)
    return seen, [f"{r.method} {r.target} {r.response_status}" for r in transport.all_requests()]


@pytest.mark.parametrize("index", range(len(TABLE)), ids=[ask.name for ask in TABLE])
def test_server_and_transport_answer_each_request_alike(
    over_loopback: tuple[list[Seen], list[str]],
    without_sockets: tuple[list[Seen], list[str]],
    index: int,
) -> None:
    assert over_loopback[0][index] == without_sockets[0][index]


def test_server_and_transport_log_the_same_requests(
    over_loopback: tuple[list[Seen], list[str]], without_sockets: tuple[list[Seen], list[str]]
) -> None:
    assert over_loopback[1] == without_sockets[1]
    assert len(over_loopback[1]) == len(TABLE)


@pytest.mark.parametrize(
    ("ask", "status", "code"),
    [
        ("bearer token on a path that is no monitor", 404, "itemNotFound"),
        ("bearer token on an unknown monitor", 401, "unauthenticated"),
        ("DELETE", 405, "methodNotAllowed"),
    ],
)
def test_the_answers_that_used_to_differ(
    without_sockets: tuple[list[Seen], list[str]], ask: str, status: int, code: str
) -> None:
    seen = without_sockets[0][[a.name for a in TABLE].index(ask)]
    assert seen.status == status
    assert isinstance(seen.body, dict) and seen.body["error"]["code"] == code
    if status == 405:
        assert ("allow", "GET") in seen.headers


@pytest.mark.parametrize(
    ("ask", "status", "code"),
    [
        ("poll 5 (303 completed)", 303, None),
        ("the 303's Location", 200, None),
        ("the 303's Location again", 200, None),
        ("bearer token on the 303's Location", 401, "unauthenticated"),
        ("the 303's Location without its tempauth", 401, "unauthenticated"),
        ("DELETE of the 303's Location", 405, "methodNotAllowed"),
        ("the item of a job not served", 404, "itemNotFound"),
    ],
)
def test_the_303s_location_is_the_copied_item_on_the_same_server(
    without_sockets: tuple[list[Seen], list[str]], ask: str, status: int, code: str | None
) -> None:
    seen = without_sockets[0][[a.name for a in TABLE].index(ask)]
    assert seen.status == status
    if status == 303:
        assert ("location", "BASE/_api/v2.0/drives/b!am9iLTE/items/01NEW") in seen.headers
    elif status == 200:
        assert isinstance(seen.body, dict) and seen.body["id"] == "01NEW"
    else:
        assert isinstance(seen.body, dict) and seen.body["error"]["code"] == code


@pytest.mark.parametrize(
    ("ask", "status", "location", "code"),
    [
        (
            "copy URL of the job, with the bearer it needs",
            202,
            "BASE/_api/v2.0/monitor/job-1",
            None,
        ),
        ("copy URL of the job, called again", 409, None, "nameAlreadyExists"),
        ("copy URL that copies at once", 200, None, None),
        ("copy URL whose name exists", 409, None, "nameAlreadyExists"),
    ],
)
def test_a_copy_url_answers_as_the_service_does(
    without_sockets: tuple[list[Seen], list[str]],
    ask: str,
    status: int,
    location: str | None,
    code: str | None,
) -> None:
    seen = without_sockets[0][[a.name for a in TABLE].index(ask)]
    assert seen.status == status
    assert dict(seen.headers).get("location") == location
    assert (seen.body["error"]["code"] if isinstance(seen.body, dict) else None) == code
    assert seen.body == "" or code is not None  # a 202 and a 200 have no body
    assert f"POST copy {status}" in without_sockets[1]


def test_time_mode_follows_an_injected_clock_without_sleeping() -> None:
    clock = ManualClock()
    steps = [("inProgress", 10), {"status": "inProgress", "pct": 60, "at_s": 30}]
    timeline = Timeline.from_steps([*steps, {"status": "completed", "pct": 100, "at_s": 60}])
    with MonitorServer(mode="time", clock=clock, retention_s=100) as server:
        url = server.add(timeline)
        transport = MonitorTransport(mode="time", clock=clock, retention_s=100)
        local = transport.add(timeline)
        seen = []
        with httpx.Client() as client, httpx.Client(transport=transport) as offline:
            for advance in (0, 29, 2, 29, 10, 89, 2):
                clock.advance(advance)
                pair = (client.get(url), offline.get(local))
                seen.append(tuple((r.status_code, r.json().get("status")) for r in pair))
    # The server's job clock starts at its first request; both adapters share the clock.
    assert [a for a, _ in seen] == [b for _, b in seen]
    statuses = [a for a, _ in seen]
    assert statuses == [
        (202, "inProgress"),  # 0 s
        (202, "inProgress"),  # 29 s: still the first response
        (202, "inProgress"),  # 31 s: the second
        (200, "completed"),  # 60 s
        (200, "completed"),  # 70 s: kept
        (200, "completed"),  # 159 s: within retention (60 + 100)
        (404, None),  # 161 s: expired
    ]


@pytest.mark.parametrize(
    ("mode", "retry_after"),
    [("step", "verbatim"), ("step", "short"), ("time", "verbatim"), ("time", "short")],
)
def test_both_serve_retry_after_alike_under_each_policy(mode: str, retry_after: str) -> None:
    clock = ManualClock()
    throttled = Timeline.from_scenario("throttled", "graph", seed=2)
    with MonitorServer(mode=mode, speed=60, clock=clock) as server:
        transport = MonitorTransport(mode=mode, speed=60, clock=clock)
        url = server.add(throttled, retry_after=retry_after)
        local = transport.add(throttled, retry_after=retry_after)
        served = []
        with httpx.Client() as client, httpx.Client(transport=transport) as offline:
            for response in throttled.responses:  # each request at the job time of a response
                wall = response.at_s / (60 if mode == "time" else 1)
                clock.advance(max(wall - clock.monotonic(), 0))
                pair = (client.get(url), offline.get(local))
                served.append(tuple(r.headers.get("Retry-After") for r in pair))
    assert [a for a, _ in served] == [b for _, b in served]
    assert sum(a is not None for a, _ in served) == 5  # two dates and three seconds


def test_importing_the_transport_loads_no_aiohttp_pandas_or_pyarrow() -> None:
    code = (
        "import sys, httpx\n"
        "from replay.testing import MonitorTransport, Timeline\n"
        "t = MonitorTransport()\n"
        "url = t.add(Timeline.from_steps(['inProgress', ('completed', 100)]))\n"
        "assert httpx.Client(transport=t).get(url).status_code == 202\n"
        "print(sorted(m for m in ('aiohttp', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]"]
