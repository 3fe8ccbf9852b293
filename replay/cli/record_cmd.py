"""``replay record``: follow monitor URLs over HTTP until their jobs end, into a recording."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from replay.cli._numbers import seconds, times

__all__ = ["register", "run"]

_EPILOG = """\
exit status:
  0  every job was followed to its end: outcome completed, failed, delete_failed, cancelled or
     monitor_expired (404/410 before a final status); or the recording was stopped by
     SIGINT/SIGTERM: running jobs are then written as 'abandoned' and running the same command
     again follows them further
  1  some job could not be recorded to its end: outcome timed_out (--deadline passed),
     unauthorized (401/403) or protocol_error (10 responses in a row without a status, bodies
     over 128 KiB included, or transport errors: unreachable host, dropped connections,
     requests over 30 s)
  2  bad arguments, a bad URL or URLs file, an output folder that cannot be written, or one
     another live recorder writes (unless both were given disjoint --shard K/N)

The recording is flushed at least once per second: a killed recorder loses at most the last
second, and running the same command again continues the same dataset (jobs that ended are not
polled again). No Authorization header is ever sent and credentials in URLs never reach disk.
"""


def register(sub: Any) -> None:
    """Add the ``record`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "record",
        help="poll monitor URLs until every job ends; live progress on a terminal",
        description="Poll Graph copy-monitor URLs (the Location header of a copy request) until\n"
        "every job ends, writing each response to a recording folder.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="monitor URLs to follow")
    parser.add_argument(
        "--urls-file",
        metavar="F",
        help='a file of URLs, one a line, or JSON lines {"url", "size_bytes", "labels"}',
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="the recording folder")
    _seconds(parser, "--interval", 1.0, "first interval between polls of a job")
    _seconds(parser, "--max-interval", 60.0, "cap of the backoff while nothing changes")
    _seconds(parser, "--deadline", 86400.0, "give up on a job after this long (0: never)", "never")
    _seconds(parser, "--max-retry-after", 600.0, "cap on a server's Retry-After", "no wait")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=64,
        metavar="N",
        help="requests in flight (default 64, at most 10000)",
    )
    parser.add_argument(
        "--max-rps",
        type=times("requests per second", zero="no cap"),
        default=100.0,
        metavar="R",
        help="requests per second over all jobs (default 100; 0: no cap)",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="follow only the jobs of shard K of N (by job id), to split a fleet over processes "
        "(recorders of disjoint shards may share one --out folder)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        help="a label for every job (repeatable), stored in the jobs table",
    )
    parser.set_defaults(run=run)


def _seconds(
    parser: argparse.ArgumentParser, flag: str, default: float, text: str, zero: str | None = None
) -> None:
    parser.add_argument(
        flag,
        type=seconds(zero=zero),
        default=default,
        metavar="S",
        help=f"{text} (default {default:g} s)",
    )


def run(args: argparse.Namespace) -> int:
    """Record every URL of ``args``; return the exit code."""
    from replay import payload
    from replay.errors import UsageError
    from replay.recorder import Recorder
    from replay.recorder.urls import (
        check_url,
        parse_label,
        read_urls_file,
        url_spec,
        without_userinfo,
    )

    specs = [url_spec(u) for u in args.urls]
    if args.urls_file:
        specs += read_urls_file(args.urls_file)
    if not specs:
        raise UsageError("no monitor URLs: give URLs as arguments or --urls-file F")
    for spec in specs:
        check_url(spec.url, payload.redact_url(without_userinfo(spec.url)))
    if args.shard:
        specs = _in_shard(specs, args.shard)
    recorder = Recorder(
        args.out,
        interval=args.interval,
        max_interval=args.max_interval,
        deadline=args.deadline or None,
        concurrency=args.concurrency,
        max_rps=args.max_rps,
        max_retry_after=args.max_retry_after,
        labels=dict(parse_label(text) for text in args.label),
        shard=args.shard,
    )
    summary, interrupted = asyncio.run(_record(recorder, specs, live=sys.stderr.isatty()))
    print(summary.line())
    if interrupted:
        abandoned = summary.outcomes.get("abandoned", 0)
        print(
            f"replay record: interrupted; {abandoned} running job(s) written as abandoned "
            "(run the same command again to follow them further)",
            file=sys.stderr,
        )
    return 0 if summary.ok else 1


def _in_shard(specs: Sequence[Any], text: str) -> list[Any]:
    """The specs whose job id falls in shard ``text`` (``K/N``)."""
    from replay.recorder.shard import parse_shard, shard_of
    from replay.recorder.urls import job_id_of

    k, n = parse_shard(text)
    return [s for s in specs if shard_of(job_id_of(s.url, s.job_id), n) == k]


async def _record(recorder: Any, specs: Sequence[Any], *, live: bool) -> tuple[Any, bool]:
    """Track every spec and wait; a SIGINT/SIGTERM stops early. Return (summary, interrupted)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal() -> None:
        stop.set()
        for sig in signals:  # a second signal acts at once
            loop.remove_signal_handler(sig)

    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with recorder:
            for spec in specs:
                await recorder.track(
                    spec.url, labels=spec.labels, size_bytes=spec.size_bytes, job_id=spec.job_id
                )
            interrupted = await _until_done_or(stop, recorder, live=live)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    return recorder.summary(), interrupted


async def _until_done_or(stop: asyncio.Event, recorder: Any, *, live: bool) -> bool:
    """Wait for every job or for ``stop``; True when stopped first."""
    waiting = asyncio.create_task(recorder.wait())
    stopping = asyncio.create_task(stop.wait())
    ticker = asyncio.create_task(_show_progress(recorder)) if live else None
    try:
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopping, ticker):
            if task is not None:
                task.cancel()
        if ticker is not None:
            await asyncio.gather(ticker, return_exceptions=True)
            sys.stderr.write("\r\x1b[K")
    if waiting.done():
        waiting.result()  # raises what went wrong
        return False
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    return True


async def _show_progress(recorder: Any, every_s: float = 0.5) -> None:
    """Redraw one progress line on stderr every ``every_s`` seconds."""
    polls, since = 0, time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        progress, now = recorder.progress(), time.monotonic()
        rate = (progress.polls - polls) / max(now - since, 1e-9)
        polls, since = progress.polls, now
        sys.stderr.write("\r\x1b[K" + progress.line(rate))
        sys.stderr.flush()
