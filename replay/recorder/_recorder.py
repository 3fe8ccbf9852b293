"""Polling many monitors into a recording: the Recorder, its jobs, and `record`."""

from __future__ import annotations

import asyncio
import math
import random
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from replay import payload
from replay.errors import RecorderError, ReplayWarning, UsageError
from replay.recorder._http import Lanes
from replay.recorder._progress import FAILED_OUTCOMES, RECORD_FAILURES, Progress, RecordSummary
from replay.recorder._schedule import JobSchedule, SchedulePolicy, TokenBucket
from replay.recorder._verdict import JobState, Verdict, stop_outcome
from replay.recorder.shard import parse_shard, shard_of
from replay.recorder.urls import UrlSpec, check_url, job_id_of, url_spec, without_userinfo
from replay.store.writer import JobRow, WriteBuffer, escaped_text, labels_json, micros, now_us

__all__ = [
    "RECORD_FAILURES",
    "Progress",
    "RecordSummary",
    "Recorder",
    "UrlSpec",
    "record",
    "stop_outcome",
]

#: Ended jobs with this outcome are followed again when the same recording is resumed.
_RESUMABLE = "abandoned"
#: Requests in flight at most: each holds a socket and a lane; more belong in more processes.
MAX_CONCURRENCY = 10_000
#: Seconds a request in flight at its job's deadline may still take to be answered (and kept).
DEADLINE_GRACE_S = 0.5
#: The verdict on a poll that the job's deadline cut short.
_TIMED_OUT = Verdict("timed_out", False, None)


@dataclass(slots=True, eq=False)
class _Job:
    row: JobRow
    url: httpx.URL | None  # the real URL, credentials included: kept in memory, never written
    seq: int
    state: JobState
    schedule: JobSchedule | None = None
    task: asyncio.Task[None] | None = None


class Recorder:
    """Follows monitor URLs until their jobs end and writes every response to ``out``.

    ``async with Recorder(DIR) as rec: await rec.track(url); await rec.wait()``. For polling in
    your own code, ``with Recorder(DIR) as rec: rec.observe(job_id, body)`` works without asyncio.
    Re-running on the same folder continues it: ``seq`` goes on, ended jobs are not polled again
    (``abandoned`` ones are followed again).

    Args:
        interval, max_interval: the first wait between polls of a job, and the cap of its backoff
            (x1.5-x2 with jitter while nothing changes; back to ``interval`` when it moves).
        deadline: seconds a job is followed (from when this recorder starts following it)
            before it ends as ``timed_out``; None for no deadline.
        concurrency, max_rps: requests in flight (1 to ``MAX_CONCURRENCY``; lanes are opened
            as requests need them), and requests per second over all jobs (0 or ``inf``: no cap).
        max_retry_after: cap on a server's ``Retry-After``.
        flush_interval: seconds between writes; a killed recorder loses at most this much.
        compact_every: seconds between merges of the small files flushes leave (and once at
            close); None to merge only at close. Merged files hold up to 250,000 rows.
        give_up_after: consecutive responses without a status (transport errors included,
            429/503 with Retry-After not) before a job ends as ``protocol_error``.
        timeout: seconds one request may take in all (connecting, headers and body), however
            slowly the server sends; a request never outlasts its job's deadline either.
        transport: an httpx transport to send through instead of the network (tests).
        headers: extra request headers; ``Authorization`` is always dropped.
        seed: seeds the backoff jitter.
        shard: ``"K/N"`` or ``(K, N)``: this recorder writes only the jobs of shard K of N (by
            job id, see ``replay.recorder.shard``), so recorders of disjoint shards may share
            ``out``; without it, a second live recorder on ``out`` is refused.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        interval: float = 1.0,
        max_interval: float = 60.0,
        deadline: float | None = 86400.0,
        concurrency: int = 64,
        max_rps: float = 100.0,
        max_retry_after: float = 600.0,
        flush_interval: float = 1.0,
        labels: Mapping[str, str] | None = None,
        give_up_after: int = 10,
        compact_every: float | None = 600.0,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        seed: int | None = None,
        shard: str | tuple[int, int] | None = None,
    ) -> None:
        self._policy = SchedulePolicy(interval, max_interval, deadline, max_retry_after)
        _check_concurrency(concurrency)
        _check_count("give_up_after", give_up_after)
        if not flush_interval > 0:
            raise UsageError(f"flush_interval must be positive seconds, got {flush_interval!r}")
        if not 0 < timeout < math.inf:
            raise UsageError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.out = Path(out)
        self._shard = None if shard is None else _shard(shard)
        self._buffer = WriteBuffer(self.out, shard=self._shard, writer="record")
        self._bucket = TokenBucket(max_rps if max_rps > 0 else math.inf, time.monotonic)
        self._concurrency = concurrency
        self._flush_interval = flush_interval
        self._labels = dict(labels or {})
        self._give_up_after = give_up_after
        self._compact_every = math.inf if compact_every is None else compact_every
        self._transport = transport
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._rng = random.Random(seed)
        self._jobs: dict[str, _Job] = {}
        self._seq: dict[str, int] | None = None
        self._known: dict[str, JobRow] = {}
        self._ended: Counter[str] = Counter()
        self._skipped = 0
        self._polls = 0
        self._transport_errors = 0
        self._started = time.monotonic()
        self._last_flush = time.monotonic()
        self._lanes: Lanes | None = None
        self._stopping: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self._done = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Recorder:
        self._open_dataset()
        self._lanes = Lanes(
            self._concurrency,
            timeout=self._timeout,
            headers=self._headers,
            transport=self._transport,
        )
        self._stopping = asyncio.Event()
        self._flusher = asyncio.create_task(self._flush_every_interval())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop following running jobs (outcome ``abandoned``), flush everything, close.

        When the last flush fails, RecorderError says so and the rows stay in memory: calling
        ``aclose()`` again tries again.
        """
        if self._done:
            return
        if not self._closed:
            self._closed = True
            running = [j.task for j in self._jobs.values() if j.task and not j.task.done()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            self._abandon_running()
            if self._stopping is not None and self._flusher is not None:
                self._stopping.set()
                await asyncio.gather(self._flusher, return_exceptions=True)
            if self._lanes is not None:
                await self._lanes.aclose()
        await asyncio.to_thread(self._buffer.flush)
        await asyncio.to_thread(self._finish)

    def _finish(self) -> None:
        """After the last flush: merge the small files, give the folder up."""
        self._done = True
        try:
            self._buffer.compact()
        finally:
            self._buffer.close()

    def __enter__(self) -> Recorder:
        self._open_dataset()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close a recorder used without asyncio (jobs not ended become abandoned).

        When the last flush fails, RecorderError says so and the rows stay in memory: calling
        ``close()`` again tries again.
        """
        if self._lanes is not None:
            raise RecorderError("this recorder runs under 'async with': use 'await rec.aclose()'")
        if self._done:
            return
        self._closed = True
        self._abandon_running()
        self._buffer.flush()
        self._finish()

    def __del__(self) -> None:
        pending = getattr(self, "_buffer", None)
        unwritten = 0 if pending is None or getattr(self, "_done", True) else pending.pending()
        if unwritten:
            warnings.warn(
                f"a Recorder({str(self.out)!r}) was dropped with {unwritten} observation(s) not "
                "written: use it as 'with Recorder(DIR) as rec:' (or 'async with'), or call "
                "close(), so that what it holds reaches the disk",
                ReplayWarning,
                stacklevel=2,
            )

    def _open_dataset(self) -> None:
        if self._seq is None:
            self._seq, self._known = self._buffer.open()

    # -- following jobs ----------------------------------------------------------------------

    async def track(
        self,
        url: str,
        *,
        labels: Mapping[str, str] | None = None,
        size_bytes: int | None = None,
        job_id: str | None = None,
    ) -> str:
        """Start following ``url`` in the background; return its job id."""
        if self._lanes is None or self._closed:
            raise RecorderError(
                "track() needs a running recorder: 'async with Recorder(DIR) as rec'"
            )
        redacted = payload.redact_url(without_userinfo(url))
        check_url(url, redacted)
        job_id = job_id_of(url, job_id)
        if job_id in self._jobs:
            return job_id
        earlier = self._known.get(job_id)
        if earlier is not None and earlier.outcome not in (None, _RESUMABLE):
            self._jobs[job_id] = _Job(earlier, None, self._next_seq(job_id), self._state())
            self._skipped += 1
            return job_id
        job = self._new_job(job_id, url, labels, size_bytes)
        job.schedule = JobSchedule(self._policy, time.monotonic(), self._rng)
        job.task = asyncio.create_task(self._follow(job), name=f"replay-record-{job_id}")
        return job_id

    def _new_job(
        self, job_id: str, url: str | None, labels: Mapping[str, str] | None, size: int | None
    ) -> _Job:
        if self._shard is not None and shard_of(job_id, self._shard[1]) != self._shard[0]:
            k, n = self._shard
            raise UsageError(
                f"job {job_id!r} is in shard {shard_of(job_id, n)}/{n}, and this recorder writes "
                f"shard {k}/{n} only: give it to the recorder of its shard",
                job_id=job_id,
            )
        now = now_us()
        row = self._known.get(job_id) or JobRow(job_id, first_seen=now)
        # read_jobs keeps the row with the latest last_seen: this run's rows must win.
        row.last_seen = max(row.last_seen or now, now)
        if url is not None:
            row.url = payload.redact_url(without_userinfo(url))
        if labels or self._labels or row.labels == "{}":
            row.labels = payload.redact_text(labels_json({**self._labels, **(labels or {})}))
        row.size_bytes = size if size is not None else row.size_bytes
        row.outcome = None
        parsed = None if url is None else httpx.URL(url)
        job = _Job(row, parsed, self._next_seq(job_id), self._state())
        self._jobs[job_id] = job
        self._buffer.touch(row)
        return job

    def _state(self) -> JobState:
        return JobState(self._give_up_after)

    def _next_seq(self, job_id: str) -> int:
        assert self._seq is not None
        return self._seq.get(job_id, 0)

    async def wait(self) -> RecordSummary:
        """Wait until every tracked job has ended; return the summary."""
        while pending := [j.task for j in self._jobs.values() if j.task and not j.task.done()]:
            await asyncio.wait(pending)
        for job in self._jobs.values():
            if job.task is not None and not job.task.cancelled() and job.task.exception():
                raise RecorderError(
                    f"following job {job.row.job_id} failed: {job.task.exception()!r}",
                    job_id=job.row.job_id,
                )
        if self._flusher is not None and self._flusher.done() and self._flusher.exception():
            raise self._flusher.exception()  # type: ignore[misc]
        return self.summary()

    async def _follow(self, job: _Job) -> None:
        assert job.schedule is not None
        while True:
            verdict = await self._poll(job)
            if verdict.outcome is not None:
                self._end(job, verdict.outcome)
                return
            next_at = job.schedule.next_poll_at(
                time.monotonic(), changed=verdict.changed, retry_after_s=verdict.retry_after_s
            )
            if next_at is None:
                await asyncio.sleep(max(0.0, job.schedule.deadline_at - time.monotonic()))
                self._end(job, "timed_out")
                return
            await asyncio.sleep(next_at - time.monotonic())

    async def _poll(self, job: _Job) -> Verdict:
        """Poll the job once, write the response's row; return what it means.

        Waiting for the rate cap and for a lane end at the job's deadline, the request itself
        ``DEADLINE_GRACE_S`` later, whatever the server does (outcome ``timed_out``)."""
        assert self._lanes is not None and job.url is not None and job.schedule is not None
        deadline_at = job.schedule.deadline_at
        wait = self._bucket.reserve()
        if wait >= deadline_at - time.monotonic():
            await asyncio.sleep(max(0.0, deadline_at - time.monotonic()))
            return _TIMED_OUT
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            left = deadline_at - time.monotonic()
            fetched = await self._lanes.get(job.url, within=left, grace=DEADLINE_GRACE_S)
        except (httpx.HTTPError, OSError):  # OSError: TimeoutError too
            if job.schedule.expired(time.monotonic()):
                return _TIMED_OUT
            self._transport_errors += 1
            return Verdict(job.state.miss(), False, None)
        self._polls += 1
        received = now_us()
        fields = payload.normalize(
            fetched.body,
            http_status=fetched.status,
            headers=fetched.headers,
            now=datetime.fromtimestamp(received / 1e6, UTC),
            whole=not fetched.cut,
        )
        latency_ms = fetched.latency_ms
        return self._absorb(job, fields, received, latency_ms, "http")

    def _absorb(
        self,
        job: _Job,
        fields: Mapping[str, Any],
        received: int,
        latency_ms: float | None,
        source: str,
    ) -> Verdict:
        """Buffer one response's row; return what it means for the job."""
        row = dict(fields)
        row.update(job_id=job.row.job_id, seq=job.seq, ts=received)
        row.update(latency_ms=latency_ms, source=source)
        self._buffer.observations.append(row)
        job.seq += 1
        job.row.last_seen = max(job.row.last_seen or received, received)
        return job.state.absorb(fields)

    def _end(self, job: _Job, outcome: str) -> None:
        job.row.outcome = outcome
        job.row.last_seen = job.row.last_seen or now_us()
        self._ended[outcome] += 1
        self._buffer.touch(job.row)

    def _abandon_running(self) -> None:
        for job in self._jobs.values():
            if job.row.outcome is None:
                self._end(job, "abandoned")

    # -- observations from the user's own polling --------------------------------------------

    def observe(
        self,
        job_id: str,
        body: Any,
        http_status: int | None = None,
        ts: datetime | float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Record one response your own code received for ``job_id`` (source ``api``)."""
        if self._closed:
            raise RecorderError("this recorder is closed; open a new Recorder(DIR) to go on")
        self._open_dataset()
        received = micros(ts)
        job_id = escaped_text(job_id)
        job = self._jobs.get(job_id) or self._new_job(job_id, None, None, None)
        fields = payload.normalize(
            body,
            http_status=http_status,
            headers=headers,
            now=datetime.fromtimestamp(received / 1e6, UTC),
        )
        outcome = self._absorb(job, fields, received, None, "api").outcome
        if outcome is not None and job.row.outcome is None and job.task is None:
            self._end(job, outcome)
        if self._lanes is None and time.monotonic() - self._last_flush >= self._flush_interval:
            self._buffer.write_or_keep(*self._buffer.take())
            self._last_flush = time.monotonic()

    # -- flushing and reporting --------------------------------------------------------------

    async def _flush_every_interval(self) -> None:
        assert self._stopping is not None
        try:
            await self._buffer.flush_every(
                self._flush_interval, self._stopping, self._compact_every
            )
        except BaseException:
            for job in self._jobs.values():
                if job.task is not None:
                    job.task.cancel()
            raise

    def progress(self) -> Progress:
        """Jobs active, completed, failed and otherwise ended so far, and polls sent."""
        ended = self._ended
        failed = sum(ended[o] for o in FAILED_OUTCOMES)
        done = sum(ended.values())
        return Progress(
            active=len(self._jobs) - self._skipped - done,
            completed=ended["completed"],
            failed=failed,
            other=done - ended["completed"] - failed,
            polls=self._polls,
        )

    def summary(self) -> RecordSummary:
        """What this recorder did so far (jobs that ended in an earlier run count as skipped)."""
        outcomes = Counter(j.row.outcome for j in self._jobs.values() if j.row.outcome)
        return RecordSummary(
            out=self.out,
            jobs=len(self._jobs),
            outcomes=dict(outcomes),
            polls=self._polls,
            rows=self._buffer.rows_written + len(self._buffer.observations),
            skipped=self._skipped,
            transport_errors=self._transport_errors,
            elapsed_s=time.monotonic() - self._started,
        )


def _shard(value: str | tuple[int, int]) -> tuple[int, int]:
    """``value`` ("K/N" or (K, N)) checked as a shard."""
    if isinstance(value, str):
        return parse_shard(value)
    k, n = value
    return parse_shard(f"{k}/{n}")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a whole number of at least 1, got {value!r}")


def _check_concurrency(value: int) -> None:
    _check_count("concurrency", value)
    if value > MAX_CONCURRENCY:
        raise UsageError(
            f"concurrency must be at most {MAX_CONCURRENCY:,} requests in flight, got {value:,}: "
            "each holds a socket and its buffers; to follow more jobs at once, split them over "
            "processes with --shard K/N"
        )


async def record(
    urls: Iterable[str | UrlSpec | Mapping[str, Any]], out: str | Path, **options: Any
) -> RecordSummary:
    """Follow every URL until its job ends, writing to ``out``; return the summary.

    ``options`` are those of :class:`Recorder`.
    """
    specs = [url_spec(u) for u in urls]
    async with Recorder(out, **options) as recorder:
        for spec in specs:
            await recorder.track(
                spec.url, labels=spec.labels, size_bytes=spec.size_bytes, job_id=spec.job_id
            )
        return await recorder.wait()
