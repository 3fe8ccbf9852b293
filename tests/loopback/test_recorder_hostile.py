"""The recorder against hostile monitors on loopback: bounded in time and memory whatever they do."""

from __future__ import annotations

import asyncio
import itertools
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pandas as pd
import pytest

from replay import store
from replay.errors import UsageError
from replay.payload import BODY_LIMIT
from replay.recorder import Recorder, RecordSummary, record
from replay.recorder._http import Lanes
from replay.recorder._recorder import MAX_CONCURRENCY

#: One answer to one request: writes to the connection; True to keep it open for the next one.
Answer = Callable[[asyncio.StreamWriter], Awaitable[bool]]

#: Fast polling, no rate cap: what is left to bound a job is its deadline and the timeout.
FAST: dict[str, Any] = {"interval": 0.01, "max_interval": 0.05, "max_rps": 0}
#: Seconds between two bytes of a trickling server: far below any per-read timeout.
TRICKLE_S = 0.1
IN_PROGRESS = b'{"status": "inProgress", "percentageComplete": 27.8}'
DONE = b'{"status": "completed", "percentageComplete": 100.0}'


class Hostile:
    """A raw HTTP/1.1 server on 127.0.0.1 that gives every request ``answer``; ``arrivals``
    holds the monotonic time each request arrived."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.arrivals: list[float] = []

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/_api/v2.0/monitor/hostile?tempauth=FAKEtempauthSECRET"

    async def __aenter__(self) -> Hostile:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # a GET: its head is all there is
                self.arrivals.append(time.monotonic())
                if not await self._answer(writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # by __aexit__: the test is over
            pass
        finally:
            writer.close()
            self._handlers.discard(task)


def head(status: int, *headers: str, length: int | None = None) -> bytes:
    """A response head: status line, headers, Content-Length (or Connection: close)."""
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", *headers]
    lines.append("Connection: close" if length is None else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def trickled_body(writer: asyncio.StreamWriter) -> bool:
    """Headers at once, then one body byte every TRICKLE_S (of 10,000: never done)."""
    writer.write(head(200, length=10_000))
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(TRICKLE_S)


async def trickled_headers(writer: asyncio.StreamWriter) -> bool:
    """The status line, then one byte of a header every TRICKLE_S, never ending the head."""
    writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while True:
        writer.write(b"z")
        await writer.drain()
        await asyncio.sleep(TRICKLE_S)


async def silent(writer: asyncio.StreamWriter) -> bool:
    """Reads the request and never answers."""
    await asyncio.Event().wait()
    return False


def throttled(status: int, retry_after: str, body: bytes = b"") -> Answer:
    """An answer with ``Retry-After: retry_after``, on a connection kept open."""

    async def answer(writer: asyncio.StreamWriter) -> bool:
        writer.write(head(status, f"Retry-After: {retry_after}", length=len(body)) + body)
        await writer.drain()
        return True

    return answer


def flood(encoding: str, inflated: int) -> Answer:
    """A JSON body of ``inflated`` bytes in ``encoding`` (identity, gzip, deflate), compressed on
    the fly as it is sent: a gzip bomb is a few kilobytes on the wire per 64 MiB."""

    async def answer(writer: asyncio.StreamWriter) -> bool:
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
        packer = None if wbits is None else zlib.compressobj(6, zlib.DEFLATED, wbits)
        writer.write(head(200, f"Content-Encoding: {encoding}"))
        block = b"0" * 2**16
        pieces = itertools.chain(
            [b'{"status": "inProgress", "padding": "'],
            itertools.repeat(block, inflated // len(block)),
            [b'"}'],
        )
        for piece in pieces:
            writer.write(piece if packer is None else packer.compress(piece))
            await writer.drain()
        if packer is not None:
            writer.write(packer.flush())
        await writer.drain()
        return False

    return answer


async def recorded(answer: Answer, out: Path, *, limit_s: float, **options: Any) -> Any:
    """Record the hostile server's one job; (summary, seconds taken, server), or TimeoutError
    when the recorder outlasts ``limit_s``."""
    async with Hostile(answer) as server:
        started = time.monotonic()
        job = record([server.url], out, **{**FAST, **options})
        summary: RecordSummary = await asyncio.wait_for(job, limit_s)
        return summary, time.monotonic() - started, server


def run(answer: Answer, out: Path, *, limit_s: float, **options: Any) -> Any:
    return asyncio.run(recorded(answer, out, limit_s=limit_s, **options))


HOSTILE = [
    pytest.param(trickled_body, id="trickled-body"),
    pytest.param(trickled_headers, id="trickled-headers"),
    pytest.param(silent, id="never-answers"),
]


@pytest.mark.parametrize("answer", HOSTILE)
def test_a_job_ends_at_its_deadline_whatever_the_server_does(
    tmp_path: Path, answer: Answer
) -> None:
    deadline = 1.0
    summary, took, _ = run(answer, tmp_path, limit_s=deadline + 10, deadline=deadline)
    assert summary.outcomes == {"timed_out": 1}
    assert deadline - 0.05 <= took < deadline + 1.5  # the default 30 s timeout played no part
    assert store.read_jobs(tmp_path)["outcome"].tolist() == ["timed_out"]


@pytest.mark.parametrize("answer", HOSTILE)
def test_every_request_ends_within_its_timeout_however_slowly_the_server_sends(
    tmp_path: Path, answer: Answer
) -> None:
    timeout, tries = 0.3, 3
    summary, took, server = run(
        answer, tmp_path, limit_s=10, deadline=None, timeout=timeout, give_up_after=tries
    )
    assert summary.outcomes == {"protocol_error": 1}
    assert summary.transport_errors == len(server.arrivals) == tries
    assert tries * timeout * 0.9 <= took < tries * timeout + 1.5


@pytest.mark.parametrize("encoding", ["identity", "gzip", "deflate"])
def test_a_body_is_read_no_further_than_the_cap_on_the_wire_and_once_decoded(
    tmp_path: Path, encoding: str
) -> None:
    inflated = 64 * 2**20
    # A first recording imports what the recorder imports lazily: not part of what is measured.
    run(throttled(200, "0", DONE), tmp_path / "warm-up", limit_s=10)
    tracemalloc.start()
    try:
        summary, took, server = run(
            flood(encoding, inflated), tmp_path / "rec", limit_s=30, deadline=5.0, give_up_after=2
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # what reading the whole body takes is 64 MiB and more
    # A body cut short is kept (as the store keeps every body: its first BODY_LIMIT bytes)
    # but not understood: two of them in a row end the job.
    assert summary.outcomes == {"protocol_error": 1}
    obs = store.read(tmp_path / "rec")
    assert len(obs) == len(server.arrivals) == 2
    assert obs["http_status"].tolist() == [200, 200]
    assert obs["status"].isna().all()
    for body in obs["body"]:
        assert body.startswith('{"status": "inProgress", "padding": "000')
        assert len(body.encode()) <= BODY_LIMIT
    assert took < 5.0


PAST = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(throttled(429, "0"), id="429-zero"),
        pytest.param(throttled(429, "-5"), id="429-negative"),
        pytest.param(throttled(503, PAST), id="503-date-in-the-past"),
        pytest.param(throttled(202, "0", IN_PROGRESS), id="202-in-progress-zero"),
    ],
)
def test_a_job_is_never_polled_faster_than_its_interval_whatever_retry_after_says(
    tmp_path: Path, answer: Answer
) -> None:
    interval, deadline = 0.1, 1.0
    summary, _, server = run(
        answer, tmp_path, limit_s=10, deadline=deadline, interval=interval, max_interval=interval
    )
    assert summary.outcomes == {"timed_out": 1}
    gaps = [b - a for a, b in itertools.pairwise(server.arrivals)]
    assert len(server.arrivals) <= deadline / interval + 1
    assert min(gaps) >= interval * 0.9
    assert pd.notna(store.read(tmp_path)["retry_after_s"]).all()  # the header was read


def test_lanes_are_opened_as_requests_need_them_never_up_front(tmp_path: Path) -> None:
    async def main() -> list[int]:
        async with Hostile(throttled(202, "1", IN_PROGRESS)) as server:
            lanes = Lanes(MAX_CONCURRENCY, timeout=5.0)
            url = httpx.URL(server.url)
            opened = [lanes.opened]
            await asyncio.gather(*(lanes.get(url) for _ in range(3)))
            opened.append(lanes.opened)
            for _ in range(3):  # one at a time: the lane freed last serves the next
                await lanes.get(url)
            opened.append(lanes.opened)
            await lanes.aclose()
            return opened

    assert asyncio.run(main()) == [0, 3, 3]


@pytest.mark.parametrize("concurrency", [MAX_CONCURRENCY + 1, 100_000_000])
def test_a_recorder_refuses_more_requests_in_flight_than_a_process_can_hold(
    tmp_path: Path, concurrency: int
) -> None:
    with pytest.raises(UsageError, match=r"at most 10,000 .* --shard K/N"):
        Recorder(tmp_path, concurrency=concurrency)
