"""Engine benchmark: replay's read/validate/summarize/transitions against the floor and peers.

Run ``python -m benchmarks.bench_engine`` from the repository root (``make bench`` does). Each
measurement runs in a fresh interpreter (``benchmarks._measure``); results go to
``benchmarks/results/engine.md``. Exit status 1 when an implementation's violations differ from
``replay.validate``'s (MISMATCH), or with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import _report
from benchmarks._datasets import DATA_DIR, Dataset, sample_of, simulated
from benchmarks._measure import ENGINE_OPS, NEEDED_COLUMNS, Measurement
from benchmarks._report import Section, Target, Timing
from benchmarks._verify import Agreement, agreement, restricted
from benchmarks.peers import CODES, PEERS

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "engine.md"
_LABELS = {"floor": "floor: pyarrow 5 columns + sort_by", "replay": "replay"} | {
    name: peer.label for name, peer in PEERS.items()
}
_TIMEOUT_S = 900
# The per-row loops run on the whole dataset up to this many rows, on a sample above.
_LOOP_MAX_ROWS = 1_000_000
_LOOPS = ("rowloop", "rowlists")

METHOD = """
- Every line is one measurement in a fresh Python process (`python -m benchmarks._measure`):
  the input is loaded first (untimed), then one warm-up run and {repeat} timed runs;
  *seconds* is the median of the timed runs (wall clock, `time.perf_counter`).
- *peak MB* is that process's peak resident set size (Linux `VmHWM` in `/proc/self/status`,
  the kernel's high-water mark, no sampling): interpreter, imports, the untimed input and the
  work. *input MB* is the same high-water mark once the untimed input was loaded.
- *x floor* divides by the floor on the same dataset: pyarrow reading the five columns the engine
  needs (`job_id, seq, ts, status, percentage_complete`) and `sort_by(job_id, seq)`.
- `replay` `validate`, `summarize` and `transitions` take the frame `replay.read` returned;
  `read+validate+summarize` is the whole user pipeline from the folder
  (`summarize(obs, violations=validate(obs))`, which reuses the preparation `validate` made);
  the `columns=needed` line passes `columns=replay.ENGINE_COLUMNS` ({needed}) to `replay.read`
  (for information: the target uses the default read of every column).
- The peers implement the same ten checks of `docs/semantics.md` on their own in-memory input,
  built untimed from the same six columns (the five above and `http_status`): the row loops and
  pandas take a pandas frame, Polars a `DataFrame`, DuckDB a table in an in-memory database.
  They return `job_id, seq, ts, code` ordered by job, seq and code; `replay.validate` also
  builds `severity` and the `detail` text. Polars and DuckDB use every core; replay uses one.
- All ten codes are compared; none is excluded from any implementation.
- Every implementation's `(job_id, seq, code)` set is compared with `replay.validate`'s; a
  difference is printed as MISMATCH here and on the console, and fails the run.
- The per-row loop is timed twice: as a user writes it first (`itertuples` over the sorted
  frame) and tuned (the columns turned into Python lists first, timestamps as integers).
- Above {loop_max:,} rows the per-row loops run on a sample of whole jobs (chosen at random with
  the seed) and their times are extrapolated linearly to the full row count; their peak MB is the
  sample's. Their violations are checked against replay's on the same jobs.
- Datasets come from `replay.simulate.simulate(n_jobs, seed=...)` (every scenario of the
  catalogue), cached in `benchmarks/.data/` by size and seed.
"""


@dataclass(frozen=True)
class Options:
    """What to run."""

    sizes: tuple[int, ...]
    seed: int
    repeat: int
    sample_jobs: int
    out: Path
    strict: bool


def main(argv: Sequence[str] | None = None) -> int:
    """Build or reuse the datasets, measure everything, verify, write and print the results."""
    opts = _options(argv)
    load_at_start = _load()
    sections, mismatched = [], False
    for n_jobs in opts.sizes:
        name = f"{n_jobs // 1000}k jobs" if n_jobs >= 1000 else f"{n_jobs} jobs"
        dataset = simulated(n_jobs, opts.seed, name)
        built = f" (built in {dataset.built_s:.1f} s)" if dataset.built_s else " (cached)"
        _say(f"{dataset.name}: {dataset.n_rows:,} rows in {dataset.path.name}{built}")
        section = _section(dataset, opts)
        mismatched |= not all(a.matches for a in section.agreements)
        sections.append(section)
    targets = _targets(sections[-1]) if sections else []
    info = _report.machine()
    # Other work on the machine slows the lines unevenly (the floor and the peers use every core).
    info["load average (1 min) at start, end"] = f"{load_at_start}, {_load()}"
    page = _report.render(
        info,
        sections,
        targets,
        METHOD.format(repeat=opts.repeat, loop_max=_LOOP_MAX_ROWS, needed=list(NEEDED_COLUMNS)),
    )
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(page)
    _say(_report.targets_table(targets))
    _say(f"results written to {opts.out}")
    if mismatched:
        _say("MISMATCH: some implementation found different violations than replay.validate")
        return 1
    return 1 if opts.strict and not all(t.passed for t in targets) else 0


def _options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench_engine", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=[10_000, 200_000],
        metavar="N",
        help="dataset sizes in jobs (default 10000 200000: ~300k and ~6M rows)",
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per line (default 3)")
    parser.add_argument(
        "--sample-jobs", type=int, default=10_000, help="jobs in the per-row loop's sample"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="the Markdown results file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    return Options(
        tuple(sorted(args.jobs)), args.seed, args.repeat, args.sample_jobs, args.out, args.strict
    )


def _section(dataset: Dataset, opts: Options) -> Section:
    """Measure every line on ``dataset`` and check every peer's violations."""
    found_dir = DATA_DIR / "found"
    found_dir.mkdir(parents=True, exist_ok=True)
    floor = _run("floor", "read", dataset, opts.repeat)
    timings = [_timing(floor)]
    expected_path = found_dir / f"{dataset.path.name}-replay.parquet"
    for op in ENGINE_OPS:
        found = expected_path if op == "validate" else None
        timings.append(_timing(_run("replay", op, dataset, opts.repeat, found)))
    expected = pq.read_table(expected_path)
    agreements = []
    for name in PEERS:
        timing, agreed = _peer(name, dataset, expected, found_dir, opts)
        timings.append(timing)
        agreements.append(agreed)
    return Section(
        dataset.name,
        dataset.n_jobs,
        dataset.n_rows,
        floor["median_s"],
        tuple(timings),
        tuple(agreements),
        _counts(expected),
    )


def _peer(
    name: str, dataset: Dataset, expected: pa.Table, found_dir: Path, opts: Options
) -> tuple[Timing, Agreement]:
    """Time one peer's validate (on a sample for the row loops on big data) and check it."""
    use_sample = name in _LOOPS and dataset.n_rows > _LOOP_MAX_ROWS
    target = sample_of(dataset, opts.sample_jobs, opts.seed) if use_sample else dataset
    found = found_dir / f"{target.path.name}-{name}.parquet"
    result = _run(name, "validate", target, opts.repeat, found)
    if use_sample:
        expected = restricted(expected, target.path)
        scale = dataset.n_rows / target.n_rows
        result["median_s"] *= scale
        note = (
            f"extrapolated x{scale:.1f} from a sample of {target.n_jobs:,} jobs "
            f"({target.n_rows:,} rows); peak MB of the sample"
        )
    else:
        note = ""
    return _timing(result, note), agreement(PEERS[name].label, pq.read_table(found), expected)


def _run(
    impl: str, op: str, dataset: Dataset, repeat: int, found: Path | None = None
) -> Measurement:
    """Run one measurement in a fresh interpreter; return what it printed."""
    cmd = [sys.executable, "-m", "benchmarks._measure", impl, op, str(dataset.path)]
    cmd += ["--repeat", str(repeat)] + (["--found", str(found)] if found else [])
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"measurement {impl} {op} on {dataset.name} failed:\n{done.stderr}")
    result: Measurement = json.loads(done.stdout.strip().splitlines()[-1])
    where = f"  (on the {dataset.n_rows:,}-row sample)" if "sample" in dataset.name else ""
    _say(
        f"  {_LABELS[impl]:<36} {op:<40} {result['median_s']:7.3f} s"
        f"  peak {result['peak_mb']:6,.0f} MB{where}"
    )
    return result


def _timing(result: Measurement, note: str = "") -> Timing:
    return Timing(
        _LABELS[result["impl"]],
        result["op"],
        result["median_s"],
        result["peak_mb"],
        result["input_mb"],
        note,
    )


def _counts(violations: pa.Table) -> dict[str, int]:
    codes = violations["code"].to_pylist()
    return {code: codes.count(code) for code in CODES}


def _targets(section: Section) -> list[Target]:
    """The goals of the issue, checked on ``section`` (the largest dataset)."""
    by = {(t.impl, t.op): t for t in section.timings}
    pipeline = by["replay", "read+validate+summarize"]
    validate = by["replay", "validate"].seconds
    polars = by[PEERS["polars"].label, "validate"].seconds
    duckdb = by[PEERS["duckdb"].label, "validate"].seconds
    loop = by[PEERS["rowloop"].label, "validate"].seconds
    lists = by[PEERS["rowlists"].label, "validate"].seconds
    peak = max(t.peak_mb for t in section.timings if t.impl == "replay")
    rows = f"{section.n_rows / 1e6:.1f}M rows"
    ratio = pipeline.seconds / section.floor_s
    return [
        Target(
            f"{rows}: read+validate+summarize within 2.5x the floor",
            f"{pipeline.seconds:.2f} s = {ratio:.2f}x floor ({section.floor_s:.2f} s)",
            ratio <= 2.5,
        ),
        Target(
            f"{rows}: validate faster than Polars and DuckDB",
            f"replay {validate:.2f} s, Polars {polars:.2f} s, DuckDB {duckdb:.2f} s",
            validate < polars and validate < duckdb,
        ),
        Target(
            f"{rows}: validate at least 15x faster than the per-row loop (itertuples)",
            f"{loop / validate:.0f}x (loop {loop:.1f} s, extrapolated from a sample); "
            f"the same loop over column lists: {lists / validate:.0f}x ({lists:.1f} s)",
            loop / validate >= 15,
        ),
        Target(
            f"{rows}: replay's peak memory under 2 GB",
            f"{peak:,.0f} MB (largest of replay's lines)",
            peak < 2048,
        ),
    ]


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
