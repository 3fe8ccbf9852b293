"""Recorder benchmark: polls per second against 1,000 local monitors, next to bare httpx loops.

Run ``python -m benchmarks.bench_recorder`` from the repository root (``make bench`` does; one
minute of recording) or ``--minutes 10`` for the full memory run. The fake server runs in its
own process; each client (the recorder, three bare httpx loops, a sequential loop) runs in a
fresh interpreter in turn (``benchmarks._recorder_phases``). Results go to
``benchmarks/results/recorder.md``; exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from benchmarks import _recorder_phases as _phases
from benchmarks import _report
from benchmarks._report import Target

__all__ = ["main", "parquet_cost", "rss_trend"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "recorder.md"
TARGET_RPS = 1500.0
TARGET_RATIO = 0.70
#: RSS after the warm-up may grow at most this share by the end of the run ("flat").
FLAT_SHARE = 0.05
_BARE = {
    "client": "bare httpx: one AsyncClient, pool of {c}",
    "clients": "bare httpx: {c} AsyncClients (one lane each, pool of 4)",
    "transports": "bare httpx: {c} AsyncHTTPTransports used directly (the recorder's lanes)",
}

METHOD = """
- The fake server (`replay.server.MonitorServer`, aiohttp, time mode) runs in its own process
  and serves {jobs:,} copy jobs in the Graph dialect, with fake `tempauth` and `c` credentials
  in every URL (so redaction runs on every response), plus {jobs:,} more that answer after
  {delay:g} ms. Progress moves every 6 s of job time; no job ends during the run. On 2 cores the
  server has one core and the client under test the other; a client's CPU time is its own, the
  server's is measured apart (*server cores*: its CPU seconds per wall second during the run).
- Every client runs in a fresh interpreter, one after the other, against the same server and the
  same URLs, with {c} requests in flight, no rate cap and a 30 s request timeout. *polls/s*
  counts responses after a warm-up (2 s for the bare loops, 3 s for the recorder's short runs,
  5 s for its long run). *CPU s / 1,000 polls* is the client process's user + system time over
  the timed window (every thread: the recorder's Parquet flushes included).
- The recorder runs as `Recorder(DIR, interval=0.001, max_interval=0.001, deadline=None,
  concurrency={c}, max_rps=0, compact_every=...)`: every job is polled again as soon as a
  request slot frees up, and every response is normalised, redacted and written (flushed every
  second), as `replay record` does. In the long run the small files are merged every
  {compact:g} s (the default is 600 s), so that several merges, whose memory grows with the rows
  they merge (at most 250,000), fall inside the run; "after warm-up" is the first sample past 30%
  of the run, after the first merge.
- The bare loops GET the same URLs with the same headers and timeout, read each body, nothing
  else: one worker per request in flight, each cycling over its share of the URLs. Three setups,
  since one httpx pool slows down with many connections; the ceiling is the fastest.
- The recorder and the bare loops alternate in {rounds} rounds, so load from anything else on the
  machine hits both alike; the ratio compares their medians. Then the recorder runs once for
  {minutes:g} minute(s) (sustained rate, CPU, memory: RSS sampled every {every:g} s).
- The sequential loop is what a user writes first: one `httpx.Client`, `client.get(url).json()`
  for each URL in turn.
- Parquet: the rows of the long run are cut into batches of one second's rows; each batch is
  written through the recorder's write path (`WriteBuffer.write`: schema coercion, UTC date
  partitions, atomic rename into the dataset) and, as the floor, by a bare
  `pyarrow.parquet.write_table` to a file.
"""


def _phase(args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks._recorder_phases", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"bench_recorder: phase {args[0]} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class _Server:
    """The fake server process; ``cpu()`` is its CPU seconds so far."""

    def __init__(self, urls: Path, args: argparse.Namespace) -> None:
        cmd = [sys.executable, "-m", "benchmarks._recorder_phases", "serve", "--urls", str(urls)]
        cmd += ["--jobs", str(args.jobs), "--minutes", str(args.minutes + 15)]
        cmd += ["--slow-jobs", str(args.jobs), "--delay-ms", str(args.delay_ms)]
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if not ready:
            raise SystemExit("bench_recorder: the server process did not start")

    def cpu(self) -> float:
        import psutil  # type: ignore[import-untyped]

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _measured(server: _Server, args: list[str], timeout: float) -> dict[str, Any]:
    cpu0, t0 = server.cpu(), time.perf_counter()
    result = _phase(args, timeout)
    result["server_cores"] = (server.cpu() - cpu0) / (time.perf_counter() - t0)
    result["rate"] = result["polls"] / result["elapsed_s"]
    result["cpu_per_1000"] = 1000 * result["cpu_s"] / max(result["polls"], 1)
    return result


def rss_trend(samples: Sequence[Sequence[float]], warm_share: float = 0.3) -> dict[str, float]:
    """Start (after the warm-up share of the run), end, max and slope (MiB/min) of RSS samples
    ``(seconds, MiB, polls)``."""
    t = np.array([s[0] for s in samples])
    mb = np.array([s[1] for s in samples])
    after = t >= warm_share * t[-1]
    slope = np.polyfit(t[after] / 60, mb[after], 1)[0] if after.sum() >= 2 else float("nan")
    start = float(mb[after][0])
    return {
        "first": float(mb[0]),
        "start": start,
        "start_at_s": float(t[after][0]),
        "end": float(mb[-1]),
        "max": float(mb.max()),
        "slope": float(slope),
        "growth": (float(mb[-1]) - start) / start,
        "minutes": float(t[-1] / 60),
    }


def parquet_cost(recording: Path, rows_per_flush: int, max_batches: int = 60) -> dict[str, float]:
    """Seconds per flush through the recorder's write path and through a bare write_table."""
    from replay.store.writer import WriteBuffer

    table = ds.dataset(recording / "observations", format="parquet", partitioning="hive")
    rows = table.head(rows_per_flush * max_batches).drop_columns(["date"])
    batches = [rows.slice(i, rows_per_flush) for i in range(0, rows.num_rows, rows_per_flush)]
    batches = [b for b in batches if b.num_rows == rows_per_flush] or batches[:1]
    with tempfile.TemporaryDirectory() as tmp:
        buffer = WriteBuffer(Path(tmp) / "replay")
        bare = Path(tmp) / "bare"
        bare.mkdir()
        store_s = _timed(lambda b, _: buffer.write(b, None), batches)
        bare_s = _timed(lambda b, i: pq.write_table(b, bare / f"{i}.parquet"), batches)
    return {
        "rows_per_flush": batches[0].num_rows,
        "batches": len(batches),
        "store_s": store_s,
        "bare_s": bare_s,
    }


def _timed(write: Any, batches: list[pa.Table]) -> float:
    times = []
    for index, batch in enumerate(batches):
        started = time.perf_counter()
        write(batch, index)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _stats(runs: Sequence[dict[str, Any]]) -> dict[str, float]:
    rates = [r["rate"] for r in runs]
    return {
        "rate": float(np.median(rates)),
        "lo": min(rates),
        "hi": max(rates),
        "cpu_per_1000": float(np.median([r["cpu_per_1000"] for r in runs])),
        "server_cores": float(np.median([r["server_cores"] for r in runs])),
        "elapsed_s": float(sum(r["elapsed_s"] for r in runs)),
        "n": len(runs),
    }


def _rate_table(rows: list[tuple[str, dict[str, float]]], ceiling: float) -> list[str]:
    lines = [
        "| client | polls/s (median) | range | vs ceiling | CPU s / 1,000 polls | server cores "
        "| runs x s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, x in rows:
        spread = f"{x['lo']:,.0f}-{x['hi']:,.0f}" if x["n"] > 1 else ""
        lines.append(
            f"| {label} | {x['rate']:,.0f} | {spread} | {x['rate'] / ceiling:.0%} | "
            f"{x['cpu_per_1000']:.3f} | {x['server_cores']:.2f} | "
            f"{x['n']} x {x['elapsed_s'] / x['n']:.0f} |"
        )
    return lines


def _report_page(info: dict[str, str], r: dict[str, Any], args: argparse.Namespace) -> str:
    c = args.concurrency
    bare = {k: _stats(runs) for k, runs in r["bare"].items()}
    best = max(bare, key=lambda k: bare[k]["rate"])
    ceiling = bare[best]["rate"]
    rounds, long_run = _stats(r["rounds"]), _stats([r["recorder"]])
    ratio = rounds["rate"] / ceiling
    mem, pq_cost = r["rss"], r["parquet"]
    slow_ceiling = r["slow"]["bare"]["rate"]
    targets = [
        Target(
            f"recorder >= {TARGET_RPS:,.0f} polls/s with {args.jobs:,} concurrent jobs",
            f"{long_run['rate']:,.0f} polls/s sustained over {args.minutes:g} min; "
            f"{rounds['rate']:,.0f} in the short rounds; with a whole core: "
            f"{1e3 / long_run['cpu_per_1000']:,.0f} (polls per CPU second)",
            min(long_run["rate"], rounds["rate"]) >= TARGET_RPS,
        ),
        Target(
            f"recorder >= {TARGET_RATIO:.0%} of the fastest bare httpx loop, same run",
            f"{ratio:.0%}: {rounds['rate']:,.0f} against {ceiling:,.0f} polls/s "
            f"({_BARE[best].format(c=c)}), medians of {rounds['n']} alternating rounds",
            ratio >= TARGET_RATIO,
        ),
        Target(
            f"memory flat over {mem['minutes']:.1f} min (end within {FLAT_SHARE:.0%} of the "
            f"RSS at {mem['start_at_s']:.0f} s)",
            f"{mem['start']:.0f} -> {mem['end']:.0f} MiB ({mem['growth']:+.1%}), "
            f"slope {mem['slope']:+.2f} MiB/min",
            mem["growth"] <= FLAT_SHARE,
        ),
    ]
    lines = ["# Recorder benchmark", "", _report._machine_table(info), ""]
    lines += ["## Targets", "", _report.targets_table(targets), ""]
    cpu_ratio = bare[best]["cpu_per_1000"] / rounds["cpu_per_1000"]
    lines += [
        f"By CPU time per poll, which load from other processes disturbs less than rates, the "
        f"recorder runs at {cpu_ratio:.0%} of the fastest bare loop's efficiency "
        f"({rounds['cpu_per_1000']:.3f} against {bare[best]['cpu_per_1000']:.3f} CPU s per "
        f"1,000 polls). Load average (1 min) at the start and the end of the run: "
        f"{r['load'][0]:.2f}, {r['load'][1]:.2f} on {info['cores']} cores.",
        "",
    ]
    lines += [f"## Polling on loopback: {args.jobs:,} jobs, {c} requests in flight", ""]
    rows = [
        (f"replay Recorder, {rounds['n']} short rounds", rounds),
        (f"replay Recorder, one {args.minutes:g}-minute run", long_run),
    ]
    rows += [(_BARE[k].format(c=c), bare[k]) for k in _BARE]
    rows.append(
        ("sequential: one httpx.Client, get + json, one URL after another", r["sequential"])
    )
    lines += _rate_table(rows, ceiling)
    lines += [
        "",
        "On loopback a response takes a fraction of a millisecond, so every client here is "
        "bound by its own CPU (one core; the server uses the other, *server cores* shows how "
        "little), and even the sequential loop is fast. Real monitors answer in tens to hundreds "
        "of milliseconds; the next table adds latency.",
        "",
        f"## With {args.delay_ms:g} ms of server latency: {args.jobs:,} more jobs",
        "",
    ]
    slow = r["slow"]
    lines += _rate_table(
        [
            ("replay Recorder", slow["recorder"]),
            (_BARE["transports"].format(c=c), slow["bare"]),
            ("sequential: one httpx.Client, get + json", slow["sequential"]),
        ],
        slow_ceiling,
    )
    lines += [
        "",
        f"{c} requests in flight at {args.delay_ms:g} ms each allow at most "
        f"{c * 1000 / args.delay_ms:,.0f} polls/s; one request at a time allows "
        f"{1000 / args.delay_ms:,.0f}.",
        "",
        f"The {args.minutes:g}-minute run wrote {r['recorder']['rows']:,} rows "
        f"({r['recorder']['transport_errors']} transport errors); closing the recorder (flush, "
        f"every running job written `abandoned`, compaction) took {r['recorder']['close_s']:.1f} s.",
        "",
        "## Parquet writes",
        "",
        "| writer | ms per flush | µs per row | x bare |",
        "| --- | ---: | ---: | ---: |",
    ]
    n = pq_cost["rows_per_flush"]
    for label, key in (
        ("recorder's write path (`WriteBuffer.write`)", "store_s"),
        ("bare `pyarrow.parquet.write_table`", "bare_s"),
    ):
        s = pq_cost[key]
        lines.append(
            f"| {label} | {s * 1e3:.1f} | {s * 1e6 / n:.2f} | {s / pq_cost['bare_s']:.2f} |"
        )
    lines += [
        "",
        f"Median of {pq_cost['batches']} flushes of {n:,} rows (one second of polling at the "
        f"recorder's rate): the recorder's write path takes {pq_cost['store_s']:.1%} of each "
        "second, on a worker thread.",
        "",
        f"## Memory over {mem['minutes']:.1f} minutes",
        "",
        "| first sample | after warm-up | end | max | slope after warm-up |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {mem['first']:.0f} MiB | {mem['start']:.0f} MiB | {mem['end']:.0f} MiB | "
        f"{mem['max']:.0f} MiB | {mem['slope']:+.2f} MiB/min |",
        "",
        f"RSS of the recorder process, sampled every {args.rss_every:g} s (a subset):",
        "",
        "```",
        *_thinned(r["recorder"]["rss"], 20),
        "```",
        "",
        "## How this was measured",
        "",
        METHOD.format(
            jobs=args.jobs,
            c=c,
            minutes=args.minutes,
            every=args.rss_every,
            rounds=args.rounds,
            delay=args.delay_ms,
            compact=args.compact_every,
        ).strip(),
        "",
        "Command: `" + " ".join(["python -m benchmarks.bench_recorder", *args.argv]) + "`",
        "",
    ]
    return "\n".join(lines)


def _thinned(samples: Sequence[Sequence[float]], keep: int) -> list[str]:
    step = max(1, len(samples) // keep)
    chosen = list(samples[::step])
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    return [f"{t:7.0f} s  {mb:7.1f} MiB  {int(p):>10,} polls" for t, mb, p in chosen]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_recorder", description=__doc__
    )
    parser.add_argument("--jobs", type=int, default=1000, help="concurrent jobs (default 1000)")
    parser.add_argument("--minutes", type=float, default=1.0, help="the long run (default 1)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating short rounds")
    parser.add_argument("--seconds", type=float, default=10.0, help="each short timed run")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="latency of the slow jobs")
    parser.add_argument("--rss-every", type=float, default=5.0, help="RSS sampling (seconds)")
    parser.add_argument(
        "--compact-every",
        type=float,
        default=120.0,
        help="the long run's merges of small files (seconds; the recorder's default is 600)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase, write the results page; return the exit status."""
    args = _parse(argv)
    conc = ["--concurrency", str(args.concurrency)]
    short = ["--seconds", str(args.seconds), *conc]
    results: dict[str, Any] = {"bare": {k: [] for k in _BARE}, "rounds": [], "slow": {}}
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as tmp:
        urls = Path(tmp) / "urls.txt"
        slow = str(_phases.slow_urls(urls))
        server = _Server(urls, args)
        try:
            for n in range(args.rounds):
                print(f"round {n + 1}/{args.rounds}: bare loops, recorder", flush=True)
                for key in _BARE:
                    phase = ["bare", "--urls", str(urls), "--variant", key, *short]
                    results["bare"][key].append(_measured(server, phase, 300))
                phase = ["recorder", "--urls", str(urls), "--out", f"{tmp}/round{n}", *short]
                results["rounds"].append(_measured(server, [*phase, "--warm", "3"], 300))
            print("sequential loop", flush=True)
            phase = ["sequential", "--urls", str(urls), "--seconds", str(args.seconds)]
            results["sequential"] = _stats([_measured(server, phase, 300)])
            print(f"{args.delay_ms:g} ms latency: recorder, bare loop, sequential", flush=True)
            phase = ["recorder", "--urls", slow, "--out", f"{tmp}/slow", *short, "--warm", "3"]
            results["slow"]["recorder"] = _stats([_measured(server, phase, 300)])
            phase = ["bare", "--urls", slow, "--variant", "transports", *short]
            results["slow"]["bare"] = _stats([_measured(server, phase, 300)])
            phase = ["sequential", "--urls", slow, "--seconds", str(args.seconds)]
            results["slow"]["sequential"] = _stats([_measured(server, phase, 300)])
            print(f"recorder: {args.minutes:g} min", flush=True)
            recording = Path(tmp) / "recording"
            phase = ["recorder", "--urls", str(urls), "--out", str(recording), *conc]
            phase += ["--seconds", str(args.minutes * 60), "--rss-every", str(args.rss_every)]
            phase += ["--compact-every", str(args.compact_every)]
            results["recorder"] = _measured(server, phase, args.minutes * 60 + 600)
        finally:
            server.close()
        results["load"] = (load_at_start, os.getloadavg()[0])
        rec = results["recorder"]
        results["rss"] = rss_trend(rec["rss"])
        results["parquet"] = parquet_cost(recording, max(1, round(rec["rate"])))
    page = _report_page(_report.machine(), results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page)
    head = page.split("## Polling")[0]
    print(head)
    print(f"-> {args.out}")
    return 1 if "**FAIL**" in head and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
