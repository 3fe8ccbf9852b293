"""Distributed benchmark: the in-memory engine against dask with 2 workers, and an out-of-core run.

Run ``python -m benchmarks.bench_distributed`` from the repository root (``benchmarks/run.py``
runs it with the others). The default is a quick look: 30k jobs (about 0.9M rows, a few
minutes), written to ``benchmarks/.data/`` (not committed). ``--full`` runs 700k jobs (about 20M
rows; 15-30 minutes on 2 cores) and writes ``benchmarks/results/distributed.md``. Exit status 1
when dask's violations differ from the in-memory engine's, or when a run fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks._datasets import DATA_DIR, Dataset, simulated
from benchmarks._measure import Measurement
from benchmarks._verify import Agreement, agreement

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "distributed.md"
_FULL_JOBS = 700_000
_QUICK_JOBS = 30_000
_TIMEOUT_S = 3600
_MIB = 1024 * 1024
#: Rows per partition in the out-of-core run, at most: one 256k-row group of the files each.
_OOC_ROWS = 250_000

METHOD = """
- *in-memory*: `replay.read` (all columns) then `validate` and `summarize(..., violations=...)`
  in one fresh process (`python -m benchmarks._measure replay read+validate+summarize`, one
  warm-up then one timed run); *peak MB* is that process's peak RSS (`VmHWM`).
- *dask*: `read()` partitions as noted (*validate+summarize* is `validate_and_summarize`, one
  shuffle for both, as `replay report --engine dask` runs it); a fresh `distributed.LocalCluster(n_workers={workers}, threads_per_worker=1,
  processes=True)` per line; the line times `replay.distributed.validate(read(DIR))` or
  `summarize(read(DIR), jobs=read_jobs(DIR))` from the folder (read, shuffle by job_id, engine per
  partition, results gathered and ordered), cold, once. *peak MB* is the largest worker's
  `VmHWM` at the end of the line (each worker is a fresh process); the scheduler and client run
  in the benchmark's own process and are not counted.
- *out-of-core*: the same with each worker's `memory_limit` set below the dataset's in-memory
  size (the frame `replay.read` returns: `memory_usage(deep=True)`); the p2p shuffle stages its
  data on disk and the workers spill results past 60% of their limit.
- dask's violations are compared with the in-memory engine's as `(job_id, seq, code)` sets;
  the unit tests check full equality row for row on smaller recordings.
"""


@dataclass(frozen=True)
class Options:
    """What to run."""

    n_jobs: int
    seed: int
    workers: int
    memory_limit_mb: float | None
    partition_rows: int
    out: Path


@dataclass(frozen=True)
class Line:
    """One line of the results table."""

    label: str
    op: str
    seconds: float
    peak_mb: float
    note: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    """Build or reuse the dataset, run in memory and on dask, verify, write and print results."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--frame-size"]:
        print(json.dumps(_frame_size(Path(args[1]))))
        return 0
    opts = _options(args)
    # The p2p shuffle logs every shuffle at WARNING in the scheduler (this process): noise here.
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
    name = f"{opts.n_jobs // 1000}k jobs" if opts.n_jobs >= 1000 else f"{opts.n_jobs} jobs"
    dataset = simulated(opts.n_jobs, opts.seed, name)
    _say(f"{dataset.name}: {dataset.n_rows:,} rows in {dataset.path.name}")
    sizes = _subprocess_json([sys.executable, "-m", "benchmarks.bench_distributed",
                              "--frame-size", str(dataset.path)])  # fmt: skip
    _say(
        f"  in-memory frame {sizes['all_mb']:,.0f} MB (engine columns {sizes['engine_mb']:,.0f} MB)"
    )
    expected_path = DATA_DIR / "found" / f"{dataset.path.name}-replay.parquet"
    lines = [_in_memory(dataset, expected_path)]
    expected = pq.read_table(expected_path)
    limit = opts.memory_limit_mb or _default_limit(sizes["all_mb"])
    failed, agreements = False, []
    runs = (
        ("dask", None, opts.partition_rows),
        ("dask, 1M-row partitions", None, 1_000_000),
        ("dask out-of-core", limit, min(opts.partition_rows, _OOC_ROWS)),
    )
    for label, mem, rows in runs:
        for op in ("validate", "summarize", *(("validate+summarize",) if mem is None else ())):
            line, found = _dask_line(dataset, opts, label, op, mem, rows)
            failed |= line.seconds != line.seconds  # NaN: the run failed
            lines.append(line)
            if found is not None:
                agreements.append(agreement(f"{label} {op}", found, expected))
    page = _render(dataset, sizes, lines, agreements, opts, limit)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(page)
    _say(f"results written to {opts.out}")
    mismatched = not all(a.matches for a in agreements)
    if mismatched:
        _say("MISMATCH: dask found different violations than the in-memory engine")
    return 1 if mismatched or failed else 0


def _options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="bench_distributed", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=_QUICK_JOBS, help=f"jobs (default {_QUICK_JOBS}: ~0.9M rows)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"{_FULL_JOBS:,} jobs (~20M rows; 15-30 min), results in {RESULTS.name}",
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--workers", type=int, default=2, help="dask workers (default 2)")
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        help="each worker's limit in the out-of-core run (default: 40%% of the in-memory frame, "
        "at least 600)",
    )
    parser.add_argument(
        "--partition-rows", type=int, default=None, help="rows per partition of read()"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"the Markdown results file (default: results/{RESULTS.name} with --full, else a "
        "file under benchmarks/.data/, so a quick run never replaces the committed figures)",
    )
    args = parser.parse_args(argv)
    from replay.distributed import PARTITION_ROWS

    n_jobs = _FULL_JOBS if args.full else args.jobs
    out = args.out or (RESULTS if args.full else DATA_DIR / f"distributed-{n_jobs}jobs.md")
    return Options(
        n_jobs,
        args.seed,
        args.workers,
        args.memory_limit_mb,
        args.partition_rows or PARTITION_ROWS,
        out,
    )


def _default_limit(frame_mb: float) -> float:
    """A worker memory limit below the in-memory frame, but enough for a worker to start."""
    return max(0.4 * frame_mb, 600.0)


def _frame_size(recording: Path) -> dict[str, float]:
    """MiB of the frame ``replay.store.read`` returns, all columns and the engine's only."""
    from replay.distributed import ENGINE_COLUMNS
    from replay.store import read

    all_mb = float(read(recording).memory_usage(deep=True).sum()) / _MIB
    engine = read(recording, columns=[*ENGINE_COLUMNS, "error_code"])
    return {"all_mb": all_mb, "engine_mb": float(engine.memory_usage(deep=True).sum()) / _MIB}


def _in_memory(dataset: Dataset, found: Path) -> Line:
    """The in-memory pipeline in a fresh process; its violations go to ``found``."""
    found.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "benchmarks._measure", "replay", "read+validate+summarize",
           str(dataset.path), "--repeat", "1", "--found", str(found)]  # fmt: skip
    result: Measurement = _subprocess_json(cmd)
    line = Line("in-memory (1 process)", "read+validate+summarize", result["median_s"],
                result["peak_mb"])  # fmt: skip
    _print(line)
    return line


def _dask_line(
    dataset: Dataset, opts: Options, label: str, op: str, limit_mb: float | None, rows: int
) -> tuple[Line, Any]:
    """Time ``op`` on a fresh cluster; return the line and (for validate) the violations found."""
    import dask
    from distributed import Client, LocalCluster

    from benchmarks.peers import found as found_of

    memory: Any = "auto" if limit_mb is None else int(limit_mb * _MIB)
    # p2p buffers up to 1 GiB of outgoing shards per worker by default: more than the limit.
    buffer = "1 GiB" if limit_mb is None else f"{int(limit_mb / 8)} MiB"
    note = f"partitions of {rows:,} rows" + (
        ""
        if limit_mb is None
        else f", memory_limit {limit_mb:,.0f} MB per worker, p2p comm buffer {buffer}"
    )
    with (
        dask.config.set({"distributed.p2p.comm.buffer": buffer}),
        LocalCluster(n_workers=opts.workers, threads_per_worker=1, processes=True,
                     memory_limit=memory, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        start = time.perf_counter()
        try:
            result = _dask_op(op, dataset.path, rows)
        except Exception as err:  # the benchmark reports a failed run instead of stopping
            line = Line(f"{label}, {opts.workers} workers", op, float("nan"), float("nan"),
                        f"FAILED {type(err).__name__}: {str(err)[:200]}")  # fmt: skip
            _print(line)
            return line, None
        seconds = time.perf_counter() - start
        peaks = client.run(_worker_peak_mb)
        spilled = client.run(_worker_spilled_mb)
    spill = sum(spilled.values())
    if limit_mb is not None:
        note += f"; spilled {spill:,.0f} MB" if spill else "; nothing spilled by the worker store"
    line = Line(f"{label}, {opts.workers} workers", op, seconds, max(peaks.values()), note)
    _print(line)
    if op == "summarize":
        return line, None
    return line, found_of(result if op == "validate" else result[0])


def _dask_op(op: str, path: Path, partition_rows: int) -> Any:
    from replay import distributed
    from replay.store import read_jobs

    ddf = distributed.read(path, partition_rows=partition_rows)
    if op == "validate":
        return distributed.validate(ddf)
    if op == "validate+summarize":  # what replay report --engine dask runs: one shuffle
        return distributed.validate_and_summarize(ddf, jobs=read_jobs(path))
    return distributed.summarize(ddf, jobs=read_jobs(path))


def _worker_peak_mb() -> float:
    """In a worker: its process's peak RSS (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_spilled_mb(dask_worker: Any) -> float:
    """In a worker: MiB its store has written to disk so far (0 when it never spilled)."""
    total = getattr(dask_worker.data, "spilled_total", None)
    return float(getattr(total, "disk", 0) or 0) / _MIB


def _subprocess_json(cmd: list[str]) -> Any:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=_TIMEOUT_S,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:4])} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _render(
    dataset: Dataset,
    sizes: dict[str, float],
    lines: list[Line],
    agreements: list[Agreement],
    opts: Options,
    limit: float,
) -> str:
    from benchmarks._report import machine

    info = machine()
    rows = [
        f"| {line.label} | {line.op} | {line.seconds:.1f} | {line.peak_mb:,.0f} | {line.note} |"
        for line in lines
    ]
    checks = [
        f"- {a.impl}: {'same' if a.matches else 'MISMATCH'} ({a.n_found:,} violations, "
        f"in-memory {a.n_expected:,})"
        for a in agreements
    ]
    per_million = max(line.peak_mb for line in lines if "dask" in line.label) / (
        dataset.n_rows / 1e6
    )
    return "\n".join(
        [
            "# replay.distributed: the engine on dask",
            "",
            *(f"- {key}: {value}" for key, value in info.items()),
            "",
            f"## {dataset.name}: {dataset.n_rows:,} observations",
            "",
            f"In-memory frame: {sizes['all_mb']:,.0f} MB (all columns), "
            f"{sizes['engine_mb']:,.0f} MB (the engine's columns). Out-of-core limit: "
            f"{limit:,.0f} MB per worker.",
            "",
            "| run | op | seconds | peak MB | note |",
            "| --- | --- | ---: | ---: | --- |",
            *rows,
            "",
            "## Agreement",
            "",
            *checks,
            "",
            f"Largest dask worker peak per million observations of the dataset: "
            f"{per_million:,.0f} MB. A worker's peak grows with the partition size, not with "
            "the dataset: compare the 250k- and 1M-row lines, and the runs at other sizes.",
            "",
            "## Method",
            METHOD.format(workers=opts.workers),
        ]
    )


def _print(line: Line) -> None:
    _say(f"  {line.label:<32} {line.op:<24} {line.seconds:8.1f} s  peak {line.peak_mb:7,.0f} MB"
         f"  {line.note}")  # fmt: skip


_say: Callable[[str], None] = lambda text: print(text, flush=True)  # noqa: E731


if __name__ == "__main__":
    sys.exit(main())
