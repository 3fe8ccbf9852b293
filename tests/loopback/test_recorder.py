"""The recorder over real loopback HTTP against the project's fake monitor server."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest

from replay import store
from replay.recorder import Recorder, UrlSpec, record
from replay.scan import scan
from replay.server import MonitorServer
from replay.simulate import Response, Timeline

Serve = Callable[..., MonitorServer]
MakeTimeline = Callable[..., Timeline]

#: Fast polling for tests: the server runs in step mode, so no simulated time passes.
FAST: dict[str, Any] = {"interval": 0.01, "max_interval": 0.05, "max_rps": 0, "deadline": 20.0}

IN_PROGRESS = {"operation": "ItemCopy", "percentageComplete": 27.8, "status": "inProgress"}
DONE = {"percentageComplete": 100.0, "resourceId": "01MOWKYV", "status": "completed"}
V21_FAILED = {
    "id": "46cf980a",
    "status": "failed",
    "error": {"code": "nameAlreadyExists", "message": "Name already exists"},
}


def response(
    at_s: float, http_status: int, body: bytes, headers: list[tuple[str, str]]
) -> Response:
    """A raw response with headers (a Location, a Retry-After)."""
    return Response(at_s, http_status, body, tuple(headers))


def run_record(urls: list[str | UrlSpec], out: Path, **options: Any) -> Any:
    """``record()`` with the fast test options, run to the end."""
    return asyncio.run(record(urls, out, **{**FAST, **options}))


def outcome_of(out: Path, job_id: str) -> str:
    jobs = store.read_jobs(out).set_index("job_id")
    return str(jobs.loc[job_id, "outcome"])


def statuses(obs: pd.DataFrame) -> list[str | None]:
    return [None if pd.isna(s) else str(s) for s in obs["status"]]


# Each case: the monitor's responses in step mode, then the rows and outcome expected.
CASES = [
    pytest.param(
        [(0, 202, {**IN_PROGRESS, "percentageComplete": 0.0, "status": "notStarted"}),
         (0, 202, IN_PROGRESS), (0, 202, {**DONE, "operation": "ItemCopy"})],
        ["notStarted", "inProgress", "completed"], [202, 202, 202], "completed",
        "legacy", id="legacy-202-completed",
    ),
    pytest.param(
        [(0, 200, IN_PROGRESS), (0, 200, DONE)],
        ["inProgress", "completed"], [200, 200], "completed", "graph", id="graph-200",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 303, DONE)],
        ["inProgress", "completed"], [202, 303], "completed", "graph", id="303-with-body",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 200, V21_FAILED)],
        ["inProgress", "failed"], [202, 200], "failed", "sharepoint-v21", id="failed-as-200",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 500, V21_FAILED)],
        ["inProgress", "failed"], [202, 500], "failed", "graph", id="failed-as-500-json",
    ),
    pytest.param(
        [(0, 500, IN_PROGRESS), (0, 202, DONE)],
        ["inProgress", "completed"], [500, 202], "completed", "graph", id="500-json-in-progress",
    ),
    pytest.param(
        [(0, 200, {"status": "deletePending"}), (0, 200, {"status": "deleteFailed"})],
        ["deletePending", "deleteFailed"], [200, 200], "delete_failed", "graph", id="deleteFailed",
    ),
    pytest.param(
        [(0, 200, {"@odata.context": "https://x/$metadata#oneDrive.asynchronousOperationStatus",
                   "status": "cancelPending"}),
         (0, 200, {"status": "cancelled"})],
        ["cancelPending", "cancelled"], [200, 200], "cancelled", "consumer", id="cancelled",
    ),
    pytest.param(
        [(0, 202, {"status": "madeUpStatus", "percentageComplete": 5}), (0, 202, DONE)],
        ["madeUpStatus", "completed"], [202, 202], "completed", "graph", id="unknown-kept",
    ),
    pytest.param(
        [(0, 404, {"error": {"code": "itemNotFound", "message": "gone"}})],
        [None], [404], "monitor_expired", "graph", id="404-first",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 410, b"")],
        ["inProgress", None], [202, 410], "monitor_expired", "graph", id="410",
    ),
    pytest.param(
        [(0, 401, {"error": {"code": "unauthenticated", "message": "Authentication failed"}})],
        [None], [401], "unauthorized", "graph", id="401",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS),
         (0, 500, {"error": {"code": "operationNotFound",
                             "message": "The operation does not exist."}})],
        ["inProgress", None], [202, 500], "monitor_expired", "legacy", id="500-operationNotFound",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 503, b"<html>busy</html>"), (0, 202, DONE)],
        ["inProgress", None, "completed"], [202, 503, 202], "completed", "graph",
        id="html-503-without-retry-after",
    ),
    pytest.param(
        [(0, 202, IN_PROGRESS), (0, 200, b'{"status": "inProg'), (0, 200, DONE)],
        ["inProgress", None, "completed"], [202, 200, 200], "completed", "graph",
        id="truncated-json",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected", "http_codes", "outcome", "dialect"), CASES)
def test_records_every_dialect_and_http_behaviour(
    serve: Serve,
    make_timeline: MakeTimeline,
    tmp_path: Path,
    steps: list[Any],
    expected: list[str | None],
    http_codes: list[int],
    outcome: str,
    dialect: str,
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("job-1", steps, dialect=dialect))
    summary = run_record([url], tmp_path)
    obs = store.read(tmp_path)
    assert statuses(obs) == expected
    assert obs["http_status"].tolist() == http_codes
    assert obs["seq"].tolist() == list(range(len(expected)))
    assert set(obs["source"]) == {"http"}
    assert obs["latency_ms"].notna().all()
    assert outcome_of(tmp_path, "job-1") == outcome
    assert summary.outcomes == {outcome: 1}
    # No poll after the job ended: one request per row.
    assert len(server.requests(url)) == len(expected)


def test_error_fields_and_resource_id_are_kept(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    failed = server.add(make_timeline("f", [(0, 200, V21_FAILED)]))
    done = server.add(make_timeline("d", [(0, 202, DONE)]))
    run_record([failed, done], tmp_path)
    obs = store.read(tmp_path).set_index("job_id")
    assert obs.loc["f", "error_code"] == "nameAlreadyExists"
    assert obs.loc["f", "error_message"] == "Name already exists"
    assert obs.loc["d", "resource_id"] == "01MOWKYV"
    assert obs.loc["d", "percentage_complete"] == 100.0


def test_303_location_is_recorded_and_never_followed(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    item = f"{server.base_url}/drives/d/items/NEWITEM?force303=1&tempauth=FAKEitemSECRET"
    url = server.add(
        make_timeline("j303", [(0, 202, IN_PROGRESS), response(0, 303, b"", [("Location", item)])])
    )
    run_record([url], tmp_path)
    paths = [r.path for r in server.all_requests()]
    assert paths == ["/_api/v2.0/monitor/j303"] * 2  # the item URL was never requested
    obs = store.read(tmp_path)
    assert obs["http_status"].tolist() == [202, 303]
    assert outcome_of(tmp_path, "j303") == "completed"
    assert b"FAKEitemSECRET" not in _every_value(tmp_path)


def test_never_sends_authorization_even_when_given_one(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("a", [(0, 202, IN_PROGRESS), (0, 202, DONE)]))
    run_record([url], tmp_path, headers={"Authorization": "Bearer FAKEbearerSECRET"})
    requests = server.requests(url)
    assert len(requests) == 2
    assert not any(r.authorization_sent for r in requests)
    assert outcome_of(tmp_path, "a") == "completed"  # a sent header would have got 401


def test_gives_up_with_protocol_error_after_consecutive_garbage(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("g", [(0, 202, IN_PROGRESS), (0, 200, b"not json")]))
    summary = run_record([url], tmp_path, give_up_after=4)
    assert summary.outcomes == {"protocol_error": 1}
    assert len(server.requests(url)) == 1 + 4
    assert len(store.read(tmp_path)) == 5


def test_dropped_connections_count_as_not_understood_and_leave_no_row(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    dropped = Response(0, 200, drop=True)
    url = server.add(make_timeline("drop", [(0, 202, IN_PROGRESS), dropped, (0, 202, DONE)]))
    summary = run_record([url], tmp_path)
    assert summary.transport_errors >= 1
    assert statuses(store.read(tmp_path)) == ["inProgress", "completed"]
    assert outcome_of(tmp_path, "drop") == "completed"


def _gaps_after(server: MonitorServer, url: str, status: int) -> list[float]:
    """Seconds from each request answered ``status`` to the next request of the job."""
    requests = server.requests(url)
    return [
        (b.at - a.at).total_seconds()
        for a, b in itertools.pairwise(requests)
        if a.response_status == status
    ]


@pytest.mark.parametrize(
    ("retry_after", "wait_s"),
    [
        pytest.param("1", 1.0, id="seconds"),
        pytest.param(None, 1.0, id="http-date"),
    ],
)
def test_retry_after_is_honoured(
    serve: Serve,
    make_timeline: MakeTimeline,
    tmp_path: Path,
    retry_after: str | None,
    wait_s: float,
) -> None:
    server = serve(mode="step")
    # An HTTP date has whole seconds: 2 s ahead leaves at least 1 s to wait.
    value = retry_after or format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    throttled = response(0, 429, b"", [("Retry-After", value)])
    url = server.add(make_timeline("t", [(0, 202, IN_PROGRESS), throttled, (0, 202, DONE)]))
    run_record([url], tmp_path)
    (gap,) = _gaps_after(server, url, 429)
    assert gap >= wait_s - 0.02
    assert store.read(tmp_path)["retry_after_s"].iloc[1] > 0


def test_retry_after_is_capped_by_max_retry_after(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    throttled = response(0, 503, b"", [("Retry-After", "3600")])
    url = server.add(make_timeline("cap", [throttled, (0, 202, DONE)]))
    started = time.monotonic()
    run_record([url], tmp_path, max_retry_after=0.3)
    (gap,) = _gaps_after(server, url, 503)
    assert 0.28 <= gap < 2.0
    assert time.monotonic() - started < 5.0


def test_interval_backs_off_while_nothing_changes_and_resets_on_progress(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    stuck = [(0, 202, IN_PROGRESS)] * 5
    moved = [(0, 202, {**IN_PROGRESS, "percentageComplete": 50.0})]
    url = server.add(make_timeline("b", [*stuck, *moved, (0, 202, DONE)]))
    run_record([url], tmp_path, interval=0.05, max_interval=10.0)
    requests = server.requests(url)
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(requests)]
    # While stuck each gap is 1.5-2x the one before; after the move it is back to ~interval.
    assert all(later > earlier * 1.3 for earlier, later in itertools.pairwise(gaps[:4]))
    assert gaps[5] < gaps[4] / 3


def test_deadline_ends_a_job_as_timed_out(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("slow", [(0, 202, IN_PROGRESS)]))
    started = time.monotonic()
    summary = run_record([url], tmp_path, deadline=0.5)
    elapsed = time.monotonic() - started
    assert summary.outcomes == {"timed_out": 1}
    assert not summary.ok
    assert 0.45 <= elapsed < 3.0
    assert outcome_of(tmp_path, "slow") == "timed_out"
    last_request = server.requests(url)[-1].at
    assert len(store.read(tmp_path)) == len(server.requests(url))
    assert last_request is not None


def test_max_rps_caps_the_request_rate_over_all_jobs(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    stuck = [(0, 202, IN_PROGRESS)]
    urls = [server.add(make_timeline(f"r{i}", stuck)) for i in range(20)]
    run_record(urls, tmp_path, max_rps=40.0, deadline=1.0, interval=0.01, max_interval=0.01)
    requests = server.all_requests()
    span = (requests[-1].at - requests[0].at).total_seconds()
    burst = 4  # max(1, rate / 10)
    assert (len(requests) - burst) / span <= 40.0 * 1.1
    assert len(requests) >= 30  # and it did keep polling at about that rate


def test_concurrency_bounds_requests_in_flight(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    slow = Response(0, 202, b'{"status": "completed"}', delay_s=0.3)
    urls = [server.add(make_timeline(f"c{i}", [slow])) for i in range(6)]
    started = time.monotonic()
    run_record(urls, tmp_path, concurrency=2)
    # 6 slow responses, 2 at a time: three rounds of 0.3 s.
    assert time.monotonic() - started >= 0.85
    assert len(store.read(tmp_path)) == 6


def test_jobs_table_has_redacted_url_labels_and_size(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("lab", [(0, 202, DONE)]))
    spec = UrlSpec(url, labels={"batch": "7"}, size_bytes=123_456)
    run_record([spec], tmp_path, labels={"site": "contoso"})
    job = store.read_jobs(tmp_path).iloc[0]
    assert job["labels"] == '{"batch": "7", "site": "contoso"}'
    assert job["size_bytes"] == 123_456
    assert job["url"].startswith(f"{server.base_url}/_api/v2.0/monitor/lab")
    assert job["first_seen"] <= job["last_seen"]
    assert _credentials(url)[0] not in job["url"]


def _credentials(url: str) -> list[str]:
    """The fake secret query values of a monitor URL."""
    query = parse_qs(urlsplit(url).query)
    return [query["tempauth"][0], query["c"][0]]


def _every_value(root: Path) -> bytes:
    """Every byte of every file, plus every string value and metadata of every Parquet file."""
    chunks = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        chunks.append(path.read_bytes())
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            chunks.append(repr(table.schema.metadata).encode())
            for column in table.columns:
                chunks.extend(str(v).encode() for v in column.to_pylist())
    return b"\n".join(chunks)


def test_fake_credentials_appear_in_no_written_byte(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    steps = [
        (0, 202, IN_PROGRESS),
        response(0, 429, b"", [("Retry-After", "0")]),
        (0, 500, b"<html>error</html>"),
        (0, 202, DONE),
    ]
    urls = [server.add(make_timeline(f"s-{d}", steps, dialect=d)) for d in
            ("legacy", "graph", "sharepoint-v21", "consumer")]  # fmt: skip
    run_record(urls, tmp_path)
    written = _every_value(tmp_path)
    assert b"s-graph" in written  # the scan does see what was written
    secrets = [s for url in urls for s in _credentials(url)]
    assert secrets
    for secret in secrets:
        assert secret.encode() not in written
    result = scan(tmp_path)  # the project's own scanner: no secret of any known shape
    assert result.clean, [str(f) for f in result.findings]
    assert result.values > 0


def test_exiting_without_wait_abandons_running_jobs(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("run", [(0, 202, IN_PROGRESS)]))

    async def main() -> None:
        async with Recorder(tmp_path, **FAST) as rec:
            await rec.track(url)
            await asyncio.sleep(0.2)

    asyncio.run(main())
    assert outcome_of(tmp_path, "run") == "abandoned"
    assert len(store.read(tmp_path)) == len(server.requests(url)) > 1


def test_rerun_continues_seq_and_skips_ended_jobs(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    done = server.add(make_timeline("done", [(0, 202, IN_PROGRESS), (0, 202, DONE)]))
    later = server.add(make_timeline("later", [(0, 202, IN_PROGRESS)] * 10 + [(0, 202, DONE)]))

    async def first_run() -> None:
        async with Recorder(tmp_path, **FAST) as rec:
            await rec.track(done)
            await rec.track(later)
            # Until the recorder has read "done"'s completion (the server logging its second
            # request is too early: the response may still be on its way), however slow.
            while rec.progress().completed < 1:
                await asyncio.sleep(0.005)

    asyncio.run(first_run())
    assert outcome_of(tmp_path, "later") == "abandoned"
    polled = len(server.requests(done))
    summary = run_record([done, later], tmp_path)
    obs = store.read(tmp_path)
    assert len(server.requests(done)) == polled  # an ended job is not polled again
    assert summary.skipped == 1
    assert not obs.duplicated(["job_id", "seq"]).any()
    later_rows = obs[obs["job_id"] == "later"]
    assert later_rows["seq"].tolist() == list(range(len(later_rows)))
    assert outcome_of(tmp_path, "later") == "completed"


def test_observe_records_your_own_polls_without_asyncio(tmp_path: Path) -> None:
    t0 = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    with Recorder(tmp_path) as rec:
        rec.observe("mine", {"status": "inProgress", "percentageComplete": 10}, 202, ts=t0)
        rec.observe("mine", b'{"status": "completed"}', 200, ts=t0 + timedelta(seconds=5))
        rec.observe("other", {"status": "inProgress"}, 202, ts=t0)
    obs = store.read(tmp_path)
    assert set(obs["source"]) == {"api"}
    assert obs[obs["job_id"] == "mine"]["seq"].tolist() == [0, 1]
    assert obs["latency_ms"].isna().all()
    assert outcome_of(tmp_path, "mine") == "completed"
    assert outcome_of(tmp_path, "other") == "abandoned"


def test_observe_continues_seq_of_an_existing_recording(tmp_path: Path) -> None:
    for _ in range(2):
        with Recorder(tmp_path) as rec:
            rec.observe("j", {"status": "inProgress"}, 202)
    assert store.read(tmp_path)["seq"].tolist() == [0, 1]


def test_observe_rejects_naive_timestamps(tmp_path: Path) -> None:
    from replay.errors import UsageError

    with Recorder(tmp_path) as rec, pytest.raises(UsageError, match="time zone"):
        rec.observe("j", {"status": "inProgress"}, ts=datetime(2026, 1, 5))


def test_an_injected_transport_sees_no_authorization_and_a_replay_user_agent(
    tmp_path: Path,
) -> None:
    import httpx

    seen: list[httpx.Request] = []
    bodies = iter([b'{"status": "inProgress"}', b'{"status": "completed"}'])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, content=next(bodies))

    url = "https://user:pw@contoso.sharepoint.com/_api/v2.0/monitor/inj?tempauth=FAKEtempauthSECRET"
    summary = run_record(
        [url],
        tmp_path,
        transport=httpx.MockTransport(handler),
        headers={"authorization": "Bearer FAKEbearerSECRET", "X-Trace": "t1"},
    )
    assert summary.outcomes == {"completed": 1}
    assert [r.headers.get("Authorization") for r in seen] == [None, None]
    assert seen[0].headers["User-Agent"].startswith("replay/")
    assert seen[0].headers["X-Trace"] == "t1"
    written = _every_value(tmp_path)
    assert b"FAKEtempauthSECRET" not in written
    assert b"user:pw" not in written
    assert b"contoso.sharepoint.com/_api/v2.0/monitor/inj" in written


def test_small_flush_files_are_merged_at_close_without_losing_a_row(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    urls = [server.add(make_timeline(f"m{i}", [(0, 202, IN_PROGRESS)])) for i in range(3)]
    run_record(urls, tmp_path, deadline=0.8, flush_interval=0.05, max_interval=0.01)
    files = list((tmp_path / "observations").rglob("*.parquet"))
    obs = store.read(tmp_path)
    assert len(files) <= 2  # one per UTC date touched
    assert len(obs) == sum(len(server.requests(u)) for u in urls) > 30
    assert not obs.duplicated(["job_id", "seq"]).any()
    assert len(list((tmp_path / "jobs").glob("*.parquet"))) == 1


def test_small_files_are_merged_while_recording(
    serve: Serve, make_timeline: MakeTimeline, tmp_path: Path
) -> None:
    server = serve(mode="step")
    url = server.add(make_timeline("live", [(0, 202, IN_PROGRESS)]))
    # The job ends at its deadline, so no poll is still in flight (its request logged by the
    # server, its response never read) when the recorder closes.
    options = {
        **FAST,
        "max_interval": 0.01,
        "flush_interval": 0.05,
        "compact_every": 0.3,
        "deadline": 1.0,
    }

    async def main() -> int:
        async with Recorder(tmp_path, **options) as rec:
            await rec.track(url)
            await rec.wait()
            return len(list((tmp_path / "observations").rglob("*.parquet")))

    files_while_running = asyncio.run(main())
    assert files_while_running < 10  # ~20 flushes happened
    assert len(store.read(tmp_path)) == len(server.requests(url))


@pytest.mark.parametrize(
    ("dialect",), [("legacy",), ("graph",), ("sharepoint-v21",), ("consumer",)]
)
def test_every_simulated_scenario_is_recorded_as_served_with_its_outcome(
    serve: Serve, tmp_path: Path, dialect: str
) -> None:
    from replay.simulate import simulate
    from replay.simulate.scenarios import SCENARIOS

    names = [name for name, scenario in SCENARIOS.items() if scenario.over_http]
    fleet = simulate(len(names), seed=3, scenarios=names, dialects=[dialect])
    server = serve(mode="step")
    specs = [
        UrlSpec(server.add(t), labels=dict(t.labels), job_id=t.job_id) for t in fleet.timelines()
    ]
    # Long enough for the longest served job (78 responses) on a busy 2-core machine;
    # no_terminal and never_starts time out at it.
    summary = run_record(
        specs, tmp_path, deadline=5.0, max_interval=0.02, max_retry_after=0.05, concurrency=32
    )
    recorded = store.read(tmp_path)
    truth = fleet.observations()
    expected = fleet.jobs.set_index("job_id")["outcome"]
    jobs = store.read_jobs(tmp_path).set_index("job_id")
    assert sum(summary.outcomes.values()) == len(names)
    for job_id, rows in recorded.groupby("job_id", observed=True):
        served = truth[truth["job_id"] == job_id]
        scenario = json.loads(jobs.loc[job_id, "labels"])["scenario"]
        n = min(len(rows), len(served))
        assert statuses(rows)[:n] == statuses(served)[:n], scenario
        assert rows["http_status"].tolist()[:n] == served["http_status"].tolist()[:n], scenario
        assert jobs.loc[job_id, "outcome"] == expected[job_id], scenario
        if expected[job_id] not in ("timed_out", "protocol_error"):
            assert len(rows) == len(served), scenario  # stopped exactly at the end
