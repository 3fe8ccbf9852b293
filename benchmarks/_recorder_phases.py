"""The recorder benchmark's processes: the server, the recorder and the bare loops, one each.

``python -m benchmarks._recorder_phases PHASE --urls F ...`` runs one phase in a fresh interpreter
and prints one JSON line, so CPU time and memory belong to that phase alone and the server never
shares a core's accounting with the client it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

__all__ = ["PHASES", "main", "rss_mb", "serve", "slow_urls"]

#: Seconds of job time between progress steps, and the steps (then the last one stays current).
STEP_S = 6.0
STEPS = 100
#: The recorder's (and so the bare loops') lanes: one per request in flight.
POOL = 4
#: The recorder's request timeout (seconds): the bare loops set the same one.
TIMEOUT_S = 30.0
HEADERS = {
    "User-Agent": "replay/bench",
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
}


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (``VmRSS``; psutil off Linux)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import psutil  # type: ignore[import-untyped]

    return float(psutil.Process().memory_info().rss) / 2**20


def cpu_s() -> float:
    """CPU seconds (user + system) of this process so far, every thread included."""
    times = os.times()
    return times.user + times.system


def serve(n_jobs: int, urls_out: Path, minutes: float, slow_jobs: int, delay_ms: float) -> None:
    """Serve ``n_jobs`` copies that outlast ``minutes`` (progress every STEP_S for STEPS steps)
    and ``slow_jobs`` more answering after ``delay_ms``, in time mode, until stdin closes; write
    their monitor URLs to ``urls_out`` and ``slow_urls(urls_out)``."""
    from replay.server import MonitorServer
    from replay.simulate import Timeline

    end_s = minutes * 600 + 3600
    with MonitorServer(mode="time", log_limit=1000) as server:
        for path, count, delay_s, prefix in (
            (urls_out, n_jobs, 0.0, "BENCH"),
            (slow_urls(urls_out), slow_jobs, delay_ms / 1000, "SLOW"),
        ):
            urls = []
            for index in range(count):
                job = f"{prefix}{index:05d}"
                responses = [
                    _response(k * STEP_S, "inProgress", min(k, 99), job, delay_s)
                    for k in range(STEPS)
                ]
                responses.append(_response(end_s, "completed", 100, job, delay_s))
                urls.append(server.add(Timeline(job, tuple(responses), dialect="graph")))
            path.write_text("".join(f"{u}\n" for u in urls))
        print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
        sys.stdin.read()


def slow_urls(urls: Path) -> Path:
    """Where ``serve`` writes the URLs of the jobs that answer late."""
    return urls.with_name(urls.stem + "-slow.txt")


def _response(at_s: float, status: str, pct: float, job: str, delay_s: float) -> Any:
    from replay.simulate import Response

    body = {
        "operation": "ItemCopy",
        "percentageComplete": float(pct),
        "resourceId": f"01{job}" if status == "completed" else None,
        "status": status,
    }
    headers = (("Content-Type", "application/json"),)
    code = 202 if status != "completed" else 200
    return Response(at_s, code, json.dumps(body).encode(), headers, delay_s=delay_s)


async def _timed(
    seconds: float, warm_s: float, counter: Callable[[], int], work: Awaitable[None]
) -> dict[str, float]:
    """Run ``work`` (a task) for ``seconds``; the rate counts from after ``warm_s``."""
    task = asyncio.ensure_future(work)
    await asyncio.sleep(warm_s)
    polls0, cpu0, t0 = counter(), cpu_s(), time.perf_counter()
    await asyncio.sleep(seconds)
    polls, cpu, elapsed = counter() - polls0, cpu_s() - cpu0, time.perf_counter() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return {"polls": polls, "elapsed_s": elapsed, "cpu_s": cpu}


async def bare(
    urls: Sequence[str], variant: str, concurrency: int, seconds: float
) -> dict[str, Any]:
    """A bare httpx loop: ``concurrency`` workers each GET their share of ``urls`` in turn.

    ``client``: one AsyncClient, a pool of ``concurrency``; ``clients``: one AsyncClient per
    worker (lanes, as the recorder); ``transports``: one AsyncHTTPTransport per worker, used
    directly (exactly the recorder's lanes, without the recorder).
    """
    done = [0]
    errors = [0]
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    options: dict[str, Any] = {"headers": HEADERS, "follow_redirects": False, "timeout": TIMEOUT_S}
    if variant == "client":
        big = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        senders: list[Any] = [httpx.AsyncClient(limits=big, **options)] * concurrency
    elif variant == "clients":
        senders = [httpx.AsyncClient(limits=limits, **options) for _ in range(concurrency)]
    else:
        senders = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(concurrency)]
    headers = httpx.Headers(HEADERS)
    extensions = {"timeout": httpx.Timeout(TIMEOUT_S).as_dict()}

    async def worker(index: int) -> None:
        mine = [httpx.URL(u) for u in urls[index::concurrency]]
        sender = senders[index]
        while True:
            for url in mine:
                try:
                    if variant == "transports":
                        response = await sender.handle_async_request(
                            httpx.Request("GET", url, headers=headers, extensions=extensions)
                        )
                        await response.aread()
                        await response.aclose()
                    else:
                        (await sender.get(url)).content  # noqa: B018
                    done[0] += 1
                except httpx.HTTPError:
                    errors[0] += 1

    async def run_all() -> None:
        await asyncio.gather(*(worker(i) for i in range(concurrency)))

    result: dict[str, Any] = await _timed(seconds, 2.0, lambda: done[0], run_all())
    for sender in {id(s): s for s in senders}.values():
        await sender.aclose()
    return {**result, "errors": errors[0], "rss_mb": rss_mb()}


def sequential(urls: Sequence[str], seconds: float) -> dict[str, Any]:
    """What a user writes first: one httpx.Client, one GET after another, JSON parsed."""
    polls = 0
    with httpx.Client(headers=HEADERS, follow_redirects=False, timeout=TIMEOUT_S) as client:
        client.get(urls[0])
        cpu0, t0 = cpu_s(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for url in urls:
                client.get(url).json()
                polls += 1
                if polls % 64 == 0 and time.perf_counter() - t0 >= seconds:
                    break
        elapsed, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    return {"polls": polls, "elapsed_s": elapsed, "cpu_s": cpu, "rss_mb": rss_mb()}


async def recorder(
    urls: Sequence[str],
    out: Path,
    concurrency: int,
    seconds: float,
    rss_every: float,
    warm: float,
    compact_every: float = 600.0,
) -> dict[str, Any]:
    """The recorder, as fast as the server answers, for ``seconds``; RSS sampled on the way."""
    from replay.recorder import Recorder

    rec = Recorder(
        out,
        interval=0.001,
        max_interval=0.001,
        deadline=None,
        concurrency=concurrency,
        max_rps=0,
        timeout=TIMEOUT_S,
        compact_every=compact_every,
        seed=1,
    )
    samples: list[tuple[float, float, int]] = []
    async with rec:
        for url in urls:
            await rec.track(url)
        started = time.perf_counter()

        async def sample() -> None:
            while True:
                polls = rec.progress().polls
                samples.append((time.perf_counter() - started, rss_mb(), polls))
                await asyncio.sleep(rss_every)

        sampler = asyncio.ensure_future(sample())
        result: dict[str, Any] = await _timed(
            seconds, warm, lambda: rec.progress().polls, asyncio.Event().wait()
        )
        sampler.cancel()
        closing = time.perf_counter()
    summary = rec.summary()
    return {
        **result,
        "close_s": time.perf_counter() - closing,
        "rows": summary.rows,
        "transport_errors": summary.transport_errors,
        "rss": samples,
        "outcomes": dict(summary.outcomes),
    }


PHASES = ("serve", "bare", "sequential", "recorder")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one phase; print its result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._recorder_phases")
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--urls", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--variant", default="clients", choices=("client", "clients", "transports"))
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rss-every", type=float, default=5.0)
    parser.add_argument("--warm", type=float, default=5.0)
    parser.add_argument("--compact-every", type=float, default=600.0)
    parser.add_argument("--slow-jobs", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.phase == "serve":
        serve(args.jobs, args.urls, args.minutes, args.slow_jobs, args.delay_ms)
        return 0
    urls = args.urls.read_text().split()
    if args.phase == "bare":
        result = asyncio.run(bare(urls, args.variant, args.concurrency, args.seconds))
    elif args.phase == "sequential":
        result = sequential(urls, args.seconds)
    else:
        result = asyncio.run(
            recorder(
                urls,
                args.out,
                args.concurrency,
                args.seconds,
                args.rss_every,
                args.warm,
                args.compact_every,
            )
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
