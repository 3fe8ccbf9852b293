"""The soak benchmark's processes: the healthy fleet, the hostile monitors, the recorder.

``python -m benchmarks._soak_phases healthy --urls F --jobs N --seconds T`` serves a simulated
fleet whose jobs all end within the first 60% of ``T``; ``... hostile --urls F --each N`` serves
``N`` monitors of each hostile kind. Each writes its monitor URLs to ``F`` (JSON lines, as
``replay record --urls-file`` reads), prints one ready line, serves until stdin closes, then
prints what it served as one JSON line. ``... recorder --urls F --out DIR --seconds T`` records
them with a deadline of ``T`` as ``replay record`` does and prints when it tracked, ended and
closed (monotonic seconds) as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["HEALTHY_OUTCOMES", "KINDS", "gzip_bomb", "main"]

#: The outcomes of the scenarios served as the healthy fleet: every job of it ends by itself.
HEALTHY_OUTCOMES = ("completed", "failed", "delete_failed", "cancelled", "monitor_expired")
#: Left out of the healthy fleet: played in time mode, a dropped connection of server_errors
#: lasts the whole gap to the next response (70 s at the soak's speeds), so a careful poller
#: sees 10 in a row and rightly gives up (protocol_error).
NOT_HEALTHY = frozenset({"server_errors"})
#: What the recorder runs with besides the deadline: `replay record`'s defaults but a shorter
#: backoff cap and Retry-After cap (the jobs are short) and no rate cap.
RECORD: dict[str, Any] = {
    "interval": 1.0,
    "max_interval": 5.0,
    "max_retry_after": 5.0,
    "max_rps": 0,
    "concurrency": 64,
}
#: Jobs end between these shares of the run (each at its own speed), so every one is over well
#: before the recorder's deadline, the end of the run.
ENDS_WITHIN = (0.1, 0.6)
#: Seconds between two body bytes of a slow monitor (the issue's case).
SLOW_BYTE_S = 5.0
PROGRESS = b'{"status": "inProgress", "percentageComplete": 50.0}'


def healthy(urls_out: Path, n_jobs: int, seconds: float, seed: int) -> None:
    """Serve ``n_jobs`` simulated jobs (scenarios that end by themselves), each at the speed
    that ends it at a random point of ``ENDS_WITHIN`` of ``seconds``, until stdin closes; then
    print every job's answered requests and expected outcome."""
    from replay.server import MonitorServer
    from replay.simulate import simulate
    from replay.simulate.scenarios import SCENARIOS

    weights = {
        name: s.weight
        for name, s in SCENARIOS.items()
        if s.over_http and s.expected_outcome in HEALTHY_OUTCOMES and name not in NOT_HEALTHY
    }
    fleet = simulate(n_jobs, seed=seed, scenarios=weights)
    expected = fleet.jobs.set_index("job_id")["outcome"].astype(str).to_dict()
    rng = random.Random(seed)
    with MonitorServer(mode="time", log_limit=None) as server:
        lines = []
        for timeline in fleet.timelines():
            span = max(timeline.responses[-1].at_s, 1.0)
            speed = span / (rng.uniform(*ENDS_WITHIN) * seconds)
            url = server.add(timeline, speed=speed)
            lines.append(json.dumps({"url": url, "labels": {"kind": "healthy"}}) + "\n")
        urls_out.write_text("".join(lines))
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.read()
        answered = {
            job_id: sum(r.response_status is not None for r in server.requests(job_id))
            for job_id in expected
        }
        requests = len(server.all_requests())
    print(json.dumps({"answered": answered, "expected": expected, "requests": requests}))


#: One hostile answer: writes to the connection; True to keep it open for the next request.
Answer = Callable[[asyncio.StreamWriter], Awaitable[bool]]


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of a JSON object padded to ``inflated`` bytes: about 1 KB on the wire per
    MiB inflated. Built from one compressed MiB repeated (a full flush makes every such block
    the same), so a GiB takes a second to build, not a minute."""
    head, tail, block = b'{"status": "inProgress", "padding": "', b'"}', b"0" * 2**20
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    packed = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush(zlib.Z_FINISH)
    blocks = inflated // len(block)
    crc = zlib.crc32(head)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + blocks * len(block) + len(tail)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + start + packed * blocks + end + trailer


def _head(status: int, *headers: str, length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", *headers]
    return ("\r\n".join([*lines, f"Content-Length: {length}"]) + "\r\n\r\n").encode()


async def _progress(writer: asyncio.StreamWriter) -> bool:
    writer.write(_head(202, length=len(PROGRESS)) + PROGRESS)
    await writer.drain()
    return True


async def _slow_body(writer: asyncio.StreamWriter) -> bool:
    writer.write(_head(202, length=1000))
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(SLOW_BYTE_S)


def _bomb_answer(bomb: bytes) -> Answer:
    async def answer(writer: asyncio.StreamWriter) -> bool:
        writer.write(_head(202, "Content-Encoding: gzip", length=len(bomb)) + bomb)
        await writer.drain()
        return True

    return answer


async def _lone_surrogate(writer: asyncio.StreamWriter) -> bool:
    body = b'{"status": "\\ud800", "percentageComplete": 50.0}'
    writer.write(_head(202, length=len(body)) + body)
    await writer.drain()
    return True


async def _retry_after_0(writer: asyncio.StreamWriter) -> bool:
    writer.write(_head(429, "Retry-After: 0", length=0))
    await writer.drain()
    return True


async def _reset(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # with a zero linger: an RST, not a FIN
    return False


#: The hostile kinds. ``every``: all requests get the hostile answer; ``alternate``: every
#: other one does, the rest a plain inProgress, so that the job stays alive to its deadline.
KINDS: dict[str, str] = {
    "slow_body": "alternate",
    "gzip_bomb": "alternate",
    "lone_surrogate": "every",
    "retry_after_0": "every",
    "reset": "alternate",
}


async def hostile(urls_out: Path, each: int, kinds: Sequence[str]) -> dict[str, Any]:
    """Serve ``each`` monitors of every kind in ``kinds`` until stdin closes; return what was
    served: requests per kind and per job, and when the first request came (monotonic)."""
    answers: dict[str, Answer] = {
        "slow_body": _slow_body,
        "gzip_bomb": _bomb_answer(gzip_bomb(2**30)),
        "lone_surrogate": _lone_surrogate,
        "retry_after_0": _retry_after_0,
        "reset": _reset,
    }
    per_job: Counter[str] = Counter()
    first: list[float] = []

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not first:
                    first.append(time.monotonic())
                job = head.split(b" ", 2)[1].split(b"?")[0].rsplit(b"/", 1)[-1].decode()
                kind, turn = job.rsplit("-", 1)[0], per_job[job]
                per_job[job] += 1
                mine = KINDS.get(kind) == "every" or turn % 2 == 1
                answer = answers[kind] if mine and kind in answers else _progress
                if not await answer(writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server is shutting down
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lines = []
    for kind in kinds:
        for index in range(each):
            url = f"http://127.0.0.1:{port}/_api/v2.0/monitor/{kind}-{index:02d}?tempauth=FAKEsoak"
            lines.append(json.dumps({"url": url, "labels": {"kind": kind}}) + "\n")
    urls_out.write_text("".join(lines))
    print(json.dumps({"ready": True}), flush=True)
    await _stdin_closed()
    server.close()
    by_kind: Counter[str] = Counter()
    for job, n in per_job.items():
        by_kind[job.rsplit("-", 1)[0]] += n
    started = first[0] if first else None
    return {"requests": dict(by_kind), "jobs": dict(per_job), "first_request_at": started}


async def _stdin_closed() -> None:
    """Return once stdin is closed (read on a thread, so the event loop keeps serving)."""
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def read() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(closed.set)

    threading.Thread(target=read, name="soak-stdin", daemon=True).start()
    await closed.wait()


async def recorder(urls: Path, out: Path, seconds: float) -> dict[str, Any]:
    """Follow every URL of ``urls`` with a deadline of ``seconds``, as ``replay record`` does;
    the summary line and when tracking ended, the last job ended and the recorder closed."""
    from replay.recorder import Recorder
    from replay.recorder.urls import read_urls_file

    specs = read_urls_file(urls)
    marks: dict[str, Any] = {"started_at": time.monotonic()}
    rec = Recorder(out, deadline=seconds, **RECORD)
    try:
        async with rec:
            for spec in specs:
                await rec.track(spec.url, labels=spec.labels)
            marks["tracked_at"] = time.monotonic()
            await rec.wait()
            marks["ended_at"] = time.monotonic()
    except Exception as err:  # what a crash of the recorder says, for the results page
        marks["error"] = f"{type(err).__name__}: {err}"
    marks["closed_at"] = time.monotonic()
    return {**marks, "summary": rec.summary().line()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one phase; print what it did as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._soak_phases")
    parser.add_argument("phase", choices=("healthy", "hostile", "recorder"))
    parser.add_argument("--urls", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args(argv)
    if args.phase == "healthy":
        healthy(args.urls, args.jobs, args.seconds, args.seed)
        return 0
    if args.phase == "hostile":
        served = asyncio.run(hostile(args.urls, args.each, args.kinds.split(",")))
        print(json.dumps(served))
        return 0
    done = asyncio.run(recorder(args.urls, args.out, args.seconds))
    print(json.dumps(done))
    return 1 if "error" in done else 0


if __name__ == "__main__":
    sys.exit(main())
