"""check-poller benchmark: the whole default matrix with the careful example, and grading cost.

Run ``python -m benchmarks.bench_check_poller`` from the repository root. Prints the wall and CPU
seconds of ``check_poller`` over every scenario x dialect at the default ``--parallel 4`` with the
careful example poller, the sum of the pollers' own run times, and the seconds to grade one run
whose poller busy-looped 20,000 requests. Exit status 1 with ``--strict`` when the whole matrix
takes 60 s or more (the target: well under a minute for a careful poller).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["main"]

CAREFUL = Path(__file__).resolve().parents[1] / "examples" / "pollers" / "careful.py"
TARGET_S = 60.0


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _matrix(parallel: int) -> tuple[float, float, float, int]:
    from replay.check import check_poller

    command = [sys.executable, str(CAREFUL), "--interval", "0.01", "--max-interval", "0.05"]
    started, cpu = time.perf_counter(), _cpu_s()
    report = check_poller([*command, "--deadline", "10", "{url}"], parallel=parallel)
    wall, used = time.perf_counter() - started, _cpu_s() - cpu
    if not report.passed:
        raise SystemExit(f"the careful poller failed:\n{report.table()}")
    return wall, used, sum(r.process.duration_s for r in report.runs), len(report.runs)


def _grading_s(requests: int) -> float:
    from replay.check import Grading, ProcessResult, plan_jobs
    from replay.check._grade import grade
    from replay.serving import RequestRecord

    (job,) = plan_jobs(["throttled"], ["legacy"])
    start = datetime.now(UTC)
    log = [
        RequestRecord(start + timedelta(milliseconds=i), "GET", "/m", (), (), False, 202, "j", i)
        for i in range(requests)
    ]
    process = ProcessResult(1, False, 20.0, "", "")
    started = time.perf_counter()
    grade(job, process, log, Grading())
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return the exit code."""
    parser = argparse.ArgumentParser(prog="bench_check_poller", description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--strict", action="store_true", help=f"exit 1 when >= {TARGET_S:g} s")
    args = parser.parse_args(argv)
    wall, cpu, pollers, runs = _matrix(args.parallel)
    print(f"matrix: {runs} runs, --parallel {args.parallel}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"  pollers' own run time: {pollers:.1f} s in total ({pollers / runs:.2f} s per run)")
    print(f"grading one run of 20,000 requests: {_grading_s(20_000) * 1000:.0f} ms")
    return 1 if args.strict and wall >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
