"""Explorer benchmark: building it on a simulated fleet, and redrawing after each kind of filter change.

Run ``python -m benchmarks.bench_widgets`` from the repository root. Prints the seconds to build
the explorer and the seconds of each redraw (mask, job list, fleet figure, job view, PNGs), the
first time a job set is drawn and again (the explorer then reuses its fleet view); exit status 1
with ``--strict`` when a first-time redraw takes 1 s or more.
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
        explorer._fleet_cache.clear()  # the first change draws; repeats reuse the fleet view
        times, kept = [], 0
        for _ in range(args.repeat):
            widget.value = value
            times.append(explorer.redraw_s)
            kept = len(explorer.job_ids)
            widget.value = empty
        worst = max(worst, times[0])
        print(
            f"  {what:32} {kept:>6} jobs kept: redraw {times[0]:.3f} s, "
            f"again {statistics.median(times[1:] or times):.3f} s (fleet view reused)"
        )
    cold = []
    for _ in range(args.repeat):
        explorer._fleet_cache.clear()
        explorer.outcome.value = ()
        explorer._on_filter()
        cold.append(explorer.redraw_s)
    worst = max(worst, *cold)
    print(
        f"  {'every job, nothing reused':32} {len(explorer.job_ids):>6} jobs kept: "
        f"redraw {statistics.median(cold):.3f} s (median of {args.repeat})"
    )
    print(f"slowest redraw {worst:.3f} s (target: under 1 s)")
    return 1 if args.strict and worst >= 1.0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
