"""Soak benchmark: one recorder against 1,000 healthy and 50 hostile monitors on loopback.

Run ``python -m benchmarks.bench_soak`` from the repository root (one minute: a smoke run) or
``--minutes 10`` (``benchmarks/run.py soak -- --minutes 10``) for the real soak. The healthy
fleet (``replay.server.MonitorServer``), the hostile monitors (raw asyncio) and the recorder
each run in a process of their own (``benchmarks._soak_phases``); the recorder's RSS is sampled
from here (psutil), its CPU time and peak RSS come from ``wait4``. Results go to
``benchmarks/results/soak.md``; exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _report
from benchmarks._report import Target
from benchmarks._soak_phases import ENDS_WITHIN, KINDS, NOT_HEALTHY, RECORD, SLOW_BYTE_S
from benchmarks.bench_recorder import FLAT_SHARE, rss_trend

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "soak.md"
RSS_CAP_MB = 400.0
#: Seconds past the deadline by which the recorder must be done.
OVERRUN_S = 2.0

METHOD = """
- The healthy fleet is `replay.simulate.simulate({healthy}, seed={seed})` restricted to the
  scenarios that end by themselves over HTTP (outcomes {outcomes}: happy paths, slow queues,
  stuck percentages, throttling with `Retry-After`, 303s, expired monitors, failures...; not
  {left_out}, whose dropped connections last a whole gap between two responses when played in
  time mode: 70 s here, and a poller rightly gives up after 10 of them in a row), served by
  `replay.server.MonitorServer` in time mode, each job at the speed that ends its timeline at a
  random point between {lo:.0%} and {hi:.0%} of the run. It runs in its own process and logs
  every request it answers.
- The hostile monitors, {each} of each kind, are a raw asyncio HTTP/1.1 server in another
  process. *slow_body*: the head at once, then one body byte every {slow:g} s; *gzip_bomb*: a
  valid gzip body of {bomb_wire:,} bytes that inflates to 1 GiB; *lone_surrogate*:
  `{{"status": "\\ud800"}}` (a JSON escape of a lone surrogate); *retry_after_0*: `429` with
  `Retry-After: 0`; *reset*: the connection reset (RST) instead of an answer. slow_body,
  gzip_bomb and reset answer every other request that way and the others with a plain
  `inProgress`, so that the jobs stay alive (and hostile) up to the deadline; lone_surrogate
  and retry_after_0 answer every request that way.
- The recorder is `replay.recorder.Recorder(DIR, deadline={deadline:g}, {record})` following
  every URL, as `replay record --deadline {deadline:g}` does with those options (the default
  30 s request timeout, flushes every second, small files merged every 600 s and at close), in
  its own process. Its RSS is sampled every {every:g} s with psutil; CPU time and peak RSS come
  from `wait4` when it exits. *While recording* is up to a second before the deadline; then come
  the last polls, the last flush and the merge of the small files (*closing*).
- *After the deadline* counts from the deadline of the jobs tracked last (tracking the
  {jobs:,} URLs took {tracking:.1f} s): when the last job ended, and when the recorder had
  closed; the whole process (interpreter start and tracking included) is shown too.
- *Lost rows*: for every healthy job, the answers the server logged minus the rows in the
  recording. *Finished*: the job's outcome in the recording is its scenario's.
"""


def _start(phase: list[str]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "benchmarks._soak_phases", *phase]
    process = subprocess.Popen(
        cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    if not process.stdout.readline():
        raise SystemExit(f"bench_soak: the {phase[0]} server did not start")
    return process


def _served(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Close the server's stdin; what it says it served."""
    out, _ = process.communicate(timeout=120)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _record(urls: Path, out: Path, logs: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run the recorder to its end in its own process, sampling its RSS; what it did."""
    import psutil  # type: ignore[import-untyped]

    deadline = args.minutes * 60
    cmd = [sys.executable, "-m", "benchmarks._soak_phases", "recorder", "--urls", str(urls)]
    cmd += ["--out", str(out), "--seconds", str(deadline)]
    with (logs / "stdout").open("w") as stdout, (logs / "stderr").open("w") as stderr:
        launched = time.monotonic()
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=stderr)
        samples: list[tuple[float, float, int]] = []
        status, usage = _sampled(psutil.Process(process.pid), samples, deadline + 300, args)
        exited = time.monotonic()
    lines = (logs / "stdout").read_text().strip().splitlines()
    done: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    errors = (logs / "stderr").read_text().strip().splitlines()
    counts = re.search(r" (\d+) polls .*, (\d+) rows, (\d+) transport", done.get("summary", ""))
    return {
        **done,
        "exit": status,
        "launched": launched,
        "exited": exited,
        "error": done.get("error") or (errors[-1] if errors else ""),
        "polls": int(counts.group(1)) if counts else 0,
        "rows": int(counts.group(2)) if counts else 0,
        "transport_errors": int(counts.group(3)) if counts else 0,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "rss": samples,
    }


def _sampled(
    watched: Any, samples: list[tuple[float, float, int]], limit_s: float, args: argparse.Namespace
) -> tuple[int | None, Any]:
    """Sample the RSS of ``watched`` every ``args.rss_every`` seconds until it exits (killed
    past ``limit_s``); its exit status (None when killed) and resource usage."""
    import psutil

    started = time.monotonic()
    while True:
        done, status, usage = os.wait4(watched.pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), usage
        if time.monotonic() - started > limit_s:
            watched.kill()
            return None, os.wait4(watched.pid, 0)[2]
        with contextlib.suppress(psutil.NoSuchProcess):  # it exited between the two calls
            samples.append((time.monotonic() - started, watched.memory_info().rss / 2**20, 0))
        time.sleep(args.rss_every)


def _recorded(out: Path) -> tuple[dict[str, int], dict[str, str], str]:
    """Rows per job, outcome per job, and what went wrong reading the recording ('' if all)."""
    import replay

    try:
        rows = replay.read(out).groupby("job_id", observed=True).size()
        jobs = replay.read_jobs(out).set_index("job_id")["outcome"].astype(str)
    except Exception as err:  # a crashed recorder may leave anything
        return {}, {}, f"{type(err).__name__}: {err}"
    return {str(k): int(v) for k, v in rows.items()}, {str(k): v for k, v in jobs.items()}, ""


def _healthy_verdict(
    served: dict[str, Any], rows: dict[str, int], outcomes: dict[str, str]
) -> dict[str, Any]:
    answered, expected = served["answered"], served["expected"]
    lost = {j: n - rows.get(j, 0) for j, n in answered.items() if n > rows.get(j, 0)}
    wrong = {j: (o, outcomes.get(j)) for j, o in expected.items() if outcomes.get(j) != o}
    return {
        "jobs": len(expected),
        "answered": sum(answered.values()),
        "rows": sum(rows.get(j, 0) for j in expected),
        "lost": sum(lost.values()),
        "lost_jobs": len(lost),
        "finished": len(expected) - len(wrong),
        "wrong": dict(list(wrong.items())[:5]),
    }


def _hostile_table(
    served: dict[str, Any], rows: dict[str, int], outcomes: dict[str, str], seconds: float
) -> list[str]:
    lines = [
        "| kind | jobs | requests served | most requests/s to one job | rows | outcomes |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind, n in served["requests"].items():
        jobs = [j for j in served["jobs"] if j.rsplit("-", 1)[0] == kind]
        most = max(served["jobs"][j] for j in jobs) / seconds
        counts = Counter(outcomes.get(j, "none") for j in jobs)
        shown = ", ".join(f"{o} {c}" for o, c in sorted(counts.items()))
        lines.append(
            f"| {kind} | {len(jobs)} | {n:,} | {most:.2f} | "
            f"{sum(rows.get(j, 0) for j in jobs):,} | {shown} |"
        )
    return lines


def _timeline(rec: dict[str, Any], deadline: float) -> dict[str, float | None]:
    """Seconds after the deadline of the jobs tracked last: when the last job ended, when the
    recorder had closed, when its process exited; and the recording window of the RSS samples."""
    if "tracked_at" not in rec:  # it crashed before following anything
        return {"ended": None, "closed": None, "exited": None, "until": None}
    due = rec["tracked_at"] + deadline
    ended = rec.get("ended_at")
    return {
        "ended": None if ended is None else ended - due,
        "closed": rec["closed_at"] - due,
        "exited": rec["exited"] - due,
        "life": rec["exited"] - rec["launched"] - deadline,
        "until": due - 1.0 - rec["launched"],
    }


def _targets(rec: dict[str, Any], health: dict[str, Any], args: argparse.Namespace) -> list[Target]:
    deadline = args.minutes * 60
    times = _timeline(rec, deadline)
    until = times["until"]
    recording = [s for s in rec["rss"] if until is not None and s[0] <= until]
    mem = rss_trend(recording) if len(recording) >= 2 else None
    closing = max((s[1] for s in rec["rss"][len(recording) :]), default=None)
    ended, closed = times["ended"], times["closed"]
    return [
        Target(
            "the recorder runs to its end (no crash)",
            f"exit {rec['exit']}" + (f": `{rec['error']}`" if rec["error"] else ""),
            rec["exit"] == 0 and not rec["error"],
        ),
        Target(
            f"every healthy job ({health['jobs']:,}) finishes with its scenario's outcome",
            f"{health['finished']:,} of {health['jobs']:,}"
            + (
                f"; first others (expected, recorded): {health['wrong']}" if health["wrong"] else ""
            ),
            health["finished"] == health["jobs"] > 0,
        ),
        Target(
            "healthy jobs lose no row (every answer their server logged is in the recording)",
            f"{health['lost']:,} lost over {health['lost_jobs']} job(s); "
            f"{health['rows']:,} rows for {health['answered']:,} answers",
            health["lost"] == 0 and health["answered"] > 0,
        ),
        Target(
            f"RSS under {RSS_CAP_MB:.0f} MiB",
            f"peak {rec['peak_mb']:.0f} MiB (wait4); sampled: "
            + (f"at most {mem['max']:.0f} MiB while recording" if mem else "n/a")
            + (f", {closing:.0f} MiB while closing" if closing else ""),
            rec["peak_mb"] < RSS_CAP_MB,
        ),
        Target(
            f"RSS flat while recording (end within {FLAT_SHARE:.0%} of the RSS after warm-up)",
            "n/a"
            if mem is None
            else f"{mem['start']:.0f} MiB at {mem['start_at_s']:.0f} s -> {mem['end']:.0f} MiB "
            f"({mem['growth']:+.1%}), slope {mem['slope']:+.2f} MiB/min",
            mem is not None and mem["growth"] <= FLAT_SHARE,
        ),
        Target(
            f"every job ends within its deadline + {OVERRUN_S:g} s",
            "n/a" if ended is None else f"the last one {ended:+.1f} s after the deadline",
            ended is not None and ended <= OVERRUN_S,
        ),
        Target(
            f"the recorder is done (flushed, merged, closed) within deadline + {OVERRUN_S:g} s",
            "n/a"
            if closed is None
            else f"{closed:+.1f} s (its process exited {times['exited']:+.1f} s, "
            f"{times['life']:+.1f} s counting from its launch)",
            closed is not None and closed <= OVERRUN_S,
        ),
    ]


def _page(info: dict[str, str], r: dict[str, Any], args: argparse.Namespace) -> str:
    rec, health, seconds = r["recorder"], r["healthy_verdict"], args.minutes * 60
    times = _timeline(rec, seconds)
    lines = ["# Soak benchmark", "", _report._machine_table(info), ""]
    lines += ["## Targets", "", _report.targets_table(_targets(rec, health, args)), ""]
    lines += [
        f"{args.healthy:,} healthy and {r['hostile_jobs']} hostile monitors "
        f"({', '.join(r['kinds'])}), one recorder, {args.minutes:g} minute(s). Load average "
        f"(1 min) at the start and the end: {r['load'][0]:.2f}, {r['load'][1]:.2f} on "
        f"{info['cores']} cores.",
        "",
        "## The recorder",
        "",
        # The summary line without its "-> DIR": a temporary folder of this machine.
        f"Summary line: `{rec.get('summary', '(none)').split(' -> ')[0]}`",
        "",
        f"CPU {rec['cpu_s']:.0f} s over the run ({rec['cpu_s'] / seconds:.2f} cores); "
        f"{rec['polls']:,} polls, {rec['rows']:,} rows, {rec['transport_errors']:,} transport "
        f"errors. Exit status {rec['exit']}"
        + (f"; what went wrong: `{rec['error']}`." if rec["error"] else "."),
        "",
    ]
    if times["ended"] is not None and times["closed"] is not None:
        lines += [
            f"The last job ended {times['ended']:+.1f} s after the deadline; the last flush and "
            f"the merge of the small files took {times['closed'] - times['ended']:.1f} s more.",
            "",
        ]
    if r["read_error"]:
        lines += [f"Reading the recording failed: `{r['read_error']}`", ""]
    lines += ["## Hostile monitors", "", *r["hostile_table"], ""]
    dropped = r["healthy_requests"] - health["answered"]
    lines += [
        f"The healthy server answered {health['answered']:,} requests"
        + (f" and dropped {dropped:,} on purpose (its scenarios')." if dropped else "."),
        "",
        f"## RSS of the recorder, sampled every {args.rss_every:g} s (a subset)",
        "",
        "```",
        *[f"{t:7.0f} s  {mb:7.1f} MiB" for t, mb, _ in _thinned(rec["rss"], 20)],
        "```",
        "",
        "## How this was measured",
        "",
        METHOD.format(
            healthy=args.healthy,
            seed=args.seed,
            outcomes=", ".join(f"`{o}`" for o in r["outcomes"]),
            left_out=", ".join(f"`{n}`" for n in sorted(NOT_HEALTHY)),
            lo=ENDS_WITHIN[0],
            hi=ENDS_WITHIN[1],
            each=args.each,
            slow=SLOW_BYTE_S,
            bomb_wire=r["bomb_wire"],
            deadline=seconds,
            record=", ".join(f"{k}={v:g}" for k, v in RECORD.items()),
            every=args.rss_every,
            jobs=args.healthy + r["hostile_jobs"],
            tracking=rec.get("tracked_at", 0.0) - rec.get("started_at", 0.0),
        ).strip(),
        "",
        "Command: `" + " ".join(["python -m benchmarks.bench_soak", *args.argv]) + "`",
        "",
    ]
    return "\n".join(lines)


def _thinned(samples: Sequence[Any], keep: int) -> list[Any]:
    if not samples:
        return []
    step = max(1, len(samples) // keep)
    chosen = list(samples[::step])
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    return chosen


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=1.0, help="the run (default 1)")
    parser.add_argument("--healthy", type=int, default=1000, help="healthy jobs (default 1000)")
    parser.add_argument("--each", type=int, default=10, help="hostile jobs of each kind")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"hostile kinds (default {','.join(KINDS)})"
    )
    parser.add_argument("--seed", type=int, default=7, help="the healthy fleet's seed")
    parser.add_argument("--rss-every", type=float, default=2.0, help="RSS sampling (seconds)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    args.kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown hostile kind(s) {sorted(unknown)}; choose from {', '.join(KINDS)}")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve both fleets, run the recorder, check what it wrote; write the results page."""
    from benchmarks._soak_phases import HEALTHY_OUTCOMES, gzip_bomb

    args = _parse(argv)
    seconds = args.minutes * 60
    results: dict[str, Any] = {"load": [os.getloadavg()[0]], "outcomes": HEALTHY_OUTCOMES}
    results.update(bomb_wire=len(gzip_bomb(2**30)), kinds=args.kinds)
    with tempfile.TemporaryDirectory(prefix="replay-soak-") as tmp:
        here = Path(tmp)
        print(f"serving {args.healthy:,} healthy and hostile monitors", flush=True)
        healthy = _start(
            ["healthy", "--urls", f"{tmp}/healthy.jsonl", "--jobs", str(args.healthy),
             "--seconds", str(seconds), "--seed", str(args.seed)]
        )  # fmt: skip
        hostile = _start(
            ["hostile", "--urls", f"{tmp}/hostile.jsonl", "--each", str(args.each),
             "--kinds", ",".join(args.kinds)]
        )  # fmt: skip
        try:
            urls = here / "urls.jsonl"
            urls.write_text(
                (here / "healthy.jsonl").read_text() + (here / "hostile.jsonl").read_text()
            )
            print(f"recording for {args.minutes:g} min", flush=True)
            results["recorder"] = _record(urls, here / "recording", here, args)
        finally:
            served_healthy, served_hostile = _served(healthy), _served(hostile)
        rows, outcomes, results["read_error"] = _recorded(here / "recording")
    results["load"].append(os.getloadavg()[0])
    results["healthy_requests"] = served_healthy["requests"]
    results["healthy_verdict"] = _healthy_verdict(served_healthy, rows, outcomes)
    results["hostile_jobs"] = args.each * len(args.kinds)
    results["hostile_table"] = _hostile_table(served_hostile, rows, outcomes, seconds)
    page = _page(_report.machine(), results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page)
    head = page.split("## The recorder")[0]
    print(head)
    print(f"-> {args.out}")
    return 1 if "**FAIL**" in head and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
