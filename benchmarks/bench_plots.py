"""Plot benchmark: progress curves of simulated fleets to PNG, one LineCollection vs one plot per job.

Run ``python -m benchmarks.bench_plots`` from the repository root. Measures, on the 10k-job
recording (about 300k rows): ``progress_curves`` as one LineCollection to PNG, the same lines as
one ``Axes.plot`` call per job to PNG, and the quantile bands to PNG; then the bands (chosen
automatically) on the 100k-job recording; and the whole HTML report (``write_report``, reading
included) of the 200k-job recording. Writes ``benchmarks/results/plots.md``; exit status 1
with ``--strict`` when the curves take 2 s or more, are not 10x faster than one plot per job, or
the report takes ``REPORT_LIMIT_S`` or more.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import matplotlib
import numpy as np

from benchmarks import _report
from benchmarks._datasets import Dataset

matplotlib.use("Agg")

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results" / "plots.md"
#: The whole report of the report dataset (200k jobs by default) must take less (issue 13).
REPORT_LIMIT_S = 15.0
_METHOD = """
Datasets: `replay.simulate.simulate(n, seed)` written with `Fleet.write` and read back with
`replay.read` (cached in `benchmarks/.data/`); `replay.summarize` runs once, untimed, and is passed
in as the report does. Each timing covers the call and `savefig(format="png")` into memory at the
default 100 dpi on a 9x4 inch figure, then `plt.close`. The median of `--repeat` runs is shown,
except the per-job loop, which runs once (it is the slow side of the ratio, so one run can only
flatter it). All in one process, one after the other, on the Agg backend. CPU seconds are this
process's own (`time.process_time`), which other load on the machine does not inflate.
"""


class Seconds(NamedTuple):
    """Median wall-clock and CPU (this process) seconds of a measurement."""

    wall: float
    cpu: float


def _timed(draw: Callable[[], object], repeat: int) -> Seconds:
    """Median seconds of ``draw()`` plus writing the current figure as PNG."""
    import matplotlib.pyplot as plt

    walls, cpus = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        draw()
        plt.gcf().savefig(io.BytesIO(), format="png")
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
        plt.close("all")
    return Seconds(statistics.median(walls), statistics.median(cpus))


def _per_job(segments: list[np.ndarray]) -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(9, 4))
    for segment in segments:  # the baseline: what a first notebook does
        ax.plot(segment[:, 0], segment[:, 1], lw=0.7)


def _lines_vs_loop(path: Path, repeat: int) -> tuple[int, Seconds, Seconds, Seconds]:
    """Points drawn, then seconds of the LineCollection, the bands and one plot per job."""
    from replay.engine import summarize
    from replay.plots import progress_curves
    from replay.store import read

    obs = read(path)
    summary = summarize(obs)
    curves = progress_curves(obs, summary=summary, bands=False)
    assert curves.lines is not None
    segments = list(curves.lines.get_segments())
    lines_s = _timed(lambda: progress_curves(obs, summary=summary, bands=False), repeat)
    bands_s = _timed(lambda: progress_curves(obs, summary=summary, bands=True), repeat)
    per_job_s = _timed(lambda: _per_job(segments), 1)
    return sum(len(s) for s in segments), lines_s, bands_s, per_job_s


def _auto(path: Path, repeat: int) -> tuple[str, Seconds]:
    """What ``progress_curves`` chooses by itself, and its seconds to PNG."""
    from replay.engine import summarize
    from replay.plots import progress_curves
    from replay.store import read

    obs = read(path)
    summary = summarize(obs)
    auto = "lines" if progress_curves(obs, summary=summary).bands is None else "bands"
    return auto, _timed(lambda: progress_curves(obs, summary=summary), repeat)


def _report_seconds(path: Path) -> Seconds:
    """Seconds of ``write_report`` on a recording folder, reading included (as ``replay report``)."""
    import tempfile

    from replay.report import write_report

    with tempfile.TemporaryDirectory() as out:
        start, start_cpu = time.perf_counter(), time.process_time()
        write_report(path, Path(out) / "report.html")
        return Seconds(time.perf_counter() - start, time.process_time() - start_cpu)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print and write the results; return the exit code."""
    from benchmarks._datasets import simulated

    parser = argparse.ArgumentParser(prog="bench_plots", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs of the lines dataset")
    parser.add_argument("--band-jobs", type=int, default=100_000, help="jobs of the bands dataset")
    parser.add_argument(
        "--report-jobs", type=int, default=200_000, help="jobs of the report dataset (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="the Markdown results file")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)

    small = simulated(args.jobs, args.seed, f"{args.jobs // 1000}k jobs")
    points, lines_s, bands_small_s, per_job_s = _lines_vs_loop(small.path, args.repeat)
    big = simulated(args.band_jobs, args.seed, f"{args.band_jobs // 1000}k jobs")
    auto, bands_big_s = _auto(big.path, args.repeat)

    report_rows: list[tuple[Dataset, str, str, Seconds]] = []
    report_targets: list[_report.Target] = []
    if args.report_jobs:
        whole = simulated(args.report_jobs, args.seed, f"{args.report_jobs // 1000}k jobs")
        report_s = _report_seconds(whole.path)
        report_rows.append(
            (whole, f"{whole.n_rows:,} rows", "replay report (write_report)", report_s)
        )
        report_targets.append(
            _report.Target(
                f"{whole.n_jobs:,} jobs: the whole report under {REPORT_LIMIT_S:.0f} s",
                f"{report_s.wall:.1f} s ({report_s.cpu:.1f} s CPU)",
                report_s.wall < REPORT_LIMIT_S,
            )
        )

    speedup = per_job_s.wall / lines_s.wall
    cpu_speedup = per_job_s.cpu / lines_s.cpu
    targets = [
        _report.Target(
            f"{small.n_jobs:,} jobs ({points:,} points): LineCollection to PNG under 2 s",
            f"{lines_s.wall:.2f} s",
            lines_s.wall < 2,
        ),
        _report.Target(
            "LineCollection at least 10x faster than one plot call per job (same run)",
            f"x{speedup:.1f} wall ({per_job_s.wall:.2f} s vs {lines_s.wall:.2f} s); "
            f"x{cpu_speedup:.1f} CPU",
            speedup >= 10,
        ),
        *report_targets,
    ]
    rows = [
        (small, f"{points:,} points", "LineCollection (bands=False)", lines_s),
        (small, f"{points:,} points", "one Axes.plot per job", per_job_s),
        (small, f"{points:,} points", "quantile bands (bands=True)", bands_small_s),
        (big, f"{big.n_rows:,} rows", f"automatic ({auto})", bands_big_s),
        *report_rows,
    ]
    info = {**_report.machine(), "load average (1 min) at the end": f"{os.getloadavg()[0]:.2f}"}
    page = _page(info, targets, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page)
    print(page)
    passed = all(t.passed for t in targets)
    return 1 if args.strict and not passed else 0


def _page(
    info: dict[str, str],
    targets: list[_report.Target],
    rows: list[tuple[Dataset, str, str, Seconds]],
) -> str:

    lines = ["# Plot benchmark", "", "| machine | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in info.items()]
    lines += ["", "## Targets", "", _report.targets_table(targets), "", "## Timings", ""]
    lines += [
        "| dataset | drawn | how | seconds to PNG (wall) | CPU seconds |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    lines += [
        f"| {d.n_jobs:,} jobs | {n} | {how} | {t.wall:.2f} | {t.cpu:.2f} |" for d, n, how, t in rows
    ]
    lines += ["", "## How this was measured", "", _METHOD.strip(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
