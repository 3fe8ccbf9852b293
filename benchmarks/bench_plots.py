"""Plot benchmark: progress curves of a simulated fleet to PNG, one LineCollection vs one plot per job.

Run ``python -m benchmarks.bench_plots`` from the repository root. Prints the seconds of each and
the speed-up; exit status 1 with ``--strict`` when the curves take 2 s or more or are not 10x faster.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return the exit code."""
    import matplotlib.pyplot as plt

    from benchmarks._datasets import simulated
    from replay.plots import progress_curves
    from replay.store import read
    from replay.summary import summarize

    parser = argparse.ArgumentParser(prog="bench_plots", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)
    dataset = simulated(args.jobs, args.seed, f"{args.jobs} jobs")
    obs = read(dataset.path)
    summary = summarize(obs)

    start = time.perf_counter()
    curves = progress_curves(obs, summary=summary)
    curves.ax.figure.savefig(io.BytesIO(), format="png")
    collection_s = time.perf_counter() - start
    plt.close("all")

    start = time.perf_counter()
    _, ax = plt.subplots(figsize=(9, 4))
    for segment in curves.lines.get_segments():
        ax.plot(segment[:, 0], segment[:, 1], lw=0.7)
    ax.figure.savefig(io.BytesIO(), format="png")
    per_job_s = time.perf_counter() - start
    plt.close("all")

    speedup = per_job_s / collection_s
    print(
        f"{dataset.n_jobs:,} jobs, {len(obs):,} rows: LineCollection {collection_s:.2f} s, "
        f"one plot per job {per_job_s:.2f} s, x{speedup:.1f}"
    )
    passed = collection_s < 2 and speedup >= 10
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
