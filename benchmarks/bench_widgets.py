"""Explorer benchmark: building it on a simulated fleet, and redrawing after each kind of filter change.

Run ``python -m benchmarks.bench_widgets`` from the repository root. Prints the seconds to build
the explorer and the seconds of each redraw (mask, job list, fleet figure, job view, PNGs) when
the job set is drawn for the first time (median, with its CPU seconds: a busy machine inflates
only the former) and again (the explorer then reuses its fleet view); exit status 1 with
``--strict`` when a median first-time redraw takes 1 s or more.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

__all__ = ["main"]

#: (what, control, value): each change is timed, then undone.
CHANGES: tuple[tuple[str, str, Any], ...] = (
    ("outcome: failed", "outcome", ("failed",)),
    ("outcome: completed (most jobs)", "outcome", ("completed",)),
    ("violation: stalled", "code", ("stalled",)),
    ("label: scenario happy_path", "label_values", ("happy_path",)),
    ("search: 2 characters", "search", "ab"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return the exit code."""
    from benchmarks._datasets import simulated
    from replay.store import read, read_jobs
    from replay.widgets import Explorer

    parser = argparse.ArgumentParser(prog="bench_widgets", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)
    dataset = simulated(args.jobs, args.seed, f"{args.jobs} jobs")
    obs, jobs = read(dataset.path), read_jobs(dataset.path)

    start = time.perf_counter()
    explorer = Explorer(obs, jobs=jobs)
    built_s = time.perf_counter() - start
    print(f"{dataset.n_jobs:,} jobs, {len(obs):,} rows: explorer built in {built_s:.2f} s")
    worst = 0.0
    for what, control, value in CHANGES:
        widget = getattr(explorer, control)
        empty = widget.value
        wall, cpu, kept = [], [], 0
        for _ in range(args.repeat):
            explorer._fleet_cache.clear()  # a first draw of this job set, every time
            started = time.process_time()
            widget.value = value
            cpu.append(time.process_time() - started)
            wall.append(explorer.redraw_s)
            kept = len(explorer.job_ids)
            widget.value = empty
        widget.value = value  # drawn just before: the fleet view is reused
        again = explorer.redraw_s
        widget.value = empty
        worst = max(worst, statistics.median(wall))
        print(
            f"  {what:32} {kept:>6} jobs kept: redraw {statistics.median(wall):.3f} s "
            f"(CPU {statistics.median(cpu):.3f} s), again {again:.3f} s"
        )
    wall, cpu = [], []
    for _ in range(args.repeat):
        explorer._fleet_cache.clear()
        started = time.process_time()
        explorer._on_filter()
        cpu.append(time.process_time() - started)
        wall.append(explorer.redraw_s)
    worst = max(worst, statistics.median(wall))
    print(
        f"  {'every job':32} {len(explorer.job_ids):>6} jobs kept: redraw "
        f"{statistics.median(wall):.3f} s (CPU {statistics.median(cpu):.3f} s)"
    )
    print(f"slowest median redraw {worst:.3f} s (target: under 1 s); medians of {args.repeat}")
    return 1 if args.strict and worst >= 1.0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
