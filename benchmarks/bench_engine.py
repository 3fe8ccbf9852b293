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
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import _report
from benchmarks._datasets import DATA_DIR, LAYOUTS, Dataset, layout_of, sample_of
from benchmarks._measure import ENGINE_OPS, FLOORS, NEEDED_COLUMNS, Measurement
from benchmarks._report import Section, Target, Timing
from benchmarks._verify import Agreement, agreement, restricted
from benchmarks.peers import CODES, PEERS

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "engine.md"
_LABELS = {
    "floor": "floor: pyarrow 5 columns (dictionaries) ordered by (job, seq)",
    "floor_plain": "pyarrow 5 columns (plain strings) + sort_by",
    "replay": "replay",
} | {name: peer.label for name, peer in PEERS.items()}
#: The whole processes timed alternately: the floor as a script, and the two commands.
_PROCESSES = {
    "floor script": ["-m", "benchmarks.peers.floor"],
    "replay validate DIR": ["-m", "replay", "validate"],
    "replay summary DIR": ["-m", "replay", "summary"],
}
_PROCESS = "whole process"
_TIMEOUT_S = 900
# The per-row loops run on the whole dataset up to this many rows, on a sample above.
_LOOP_MAX_ROWS = 1_000_000
_LOOPS = ("rowloop", "rowlists")

METHOD = """
- Every line is one measurement in a fresh Python process (`python -m benchmarks._measure`):
  the input is loaded first (untimed), then one warm-up run and {repeat} timed runs;
  *seconds* is the median of the timed runs (wall clock, `time.perf_counter`).
- replay's steps are each timed on a frame `replay.read` returned for that run (untimed unless
  the line starts with `read`), never on a frame an earlier run already worked on: a user's
  first call meets memory no call touched before. `validate+summarize` is
  `validate(obs)` then `summarize(obs)` (which counts the violations itself, as the plain call
  does); `read+validate+summarize` adds `obs = replay.read(DIR)` (every column), the note gives
  its three steps' medians. The `columns=needed` line passes `columns=replay.ENGINE_COLUMNS`
  ({needed}) to `replay.read`.
- *peak MB* is that process's peak resident set size (Linux `VmHWM` in `/proc/self/status`,
  the kernel's high-water mark, no sampling): interpreter, imports, the untimed input and the
  work. *input MB* is the same high-water mark once the untimed input was loaded.
- *x floor* divides by the floor on the same dataset: pyarrow reading the five columns the engine
  needs (`job_id, seq, ts, status, percentage_complete`; `job_id` and `status` dictionary-encoded,
  as `replay.read` reads them) and ordering them by (job id, seq) with pyarrow compute
  (`benchmarks/peers/floor.py`). The plain-string floor (`sort_by(job_id, seq)`) is shown too.
- *whole process* lines run `python -m benchmarks.peers.floor DIR` (the floor as a script),
  `replay validate DIR` and `replay summary DIR` (output to /dev/null) as fresh processes, in
  turn, {repeat} rounds after one warm-up round; seconds are the median wall time from start to
  exit, peak MB the child's `ru_maxrss`; *x floor* there divides by the floor script's median.
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
  catalogue), cached in `benchmarks/.data/` by size, seed and layout. *simulated layout*: as
  `Fleet.write` writes it, one file per UTC date sorted by (job_id, seq). *recorder layout*: as
  `replay record` writes it (`benchmarks._datasets.recorded`): every row in poll-time order (jobs
  interleaved), flushed once per simulated second through the recorder's `WriteBuffer` (one
  file per second and date), merged every 600 simulated seconds and at the end by the
  recorder's own compaction (files of at most 250,000 rows); each section gives the files and
  row groups that result.
"""


@dataclass(frozen=True)
class Options:
    """What to run."""

    sizes: tuple[int, ...]
    layouts: tuple[str, ...]
    seed: int
    repeat: int
    sample_jobs: int
    out: Path
    strict: bool
    peers: bool


def main(argv: Sequence[str] | None = None) -> int:
    """Build or reuse the datasets, measure everything, verify, write and print the results."""
    opts = _options(argv)
    load_at_start = _load()
    sections, mismatched = [], False
    for n_jobs in opts.sizes:
        for layout in opts.layouts:
            name = f"{n_jobs // 1000}k jobs" if n_jobs >= 1000 else f"{n_jobs} jobs"
            dataset = LAYOUTS[layout](n_jobs, opts.seed, f"{name}, {layout} layout")
            built = f" (built in {dataset.built_s:.1f} s)" if dataset.built_s else " (cached)"
            _say(f"{dataset.name}: {dataset.n_rows:,} rows in {dataset.path.name}{built}")
            section = _section(dataset, opts)
            mismatched |= not all(a.matches for a in section.agreements)
            sections.append(section)
    targets = [t for layout in opts.layouts for t in _targets(_largest(sections, layout), opts)]
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
    parser.add_argument(
        "--layouts",
        nargs="+",
        choices=list(LAYOUTS),
        default=["recorder", "simulated"],
        help="recording layouts (default both: recorder simulated)",
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per line (default 3)")
    parser.add_argument(
        "--sample-jobs", type=int, default=10_000, help="jobs in the per-row loop's sample"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="the Markdown results file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument(
        "--no-peers", action="store_true", help="replay, the floors and the processes only"
    )
    args = parser.parse_args(argv)
    return Options(
        tuple(sorted(args.jobs)),
        tuple(args.layouts),
        args.seed,
        args.repeat,
        args.sample_jobs,
        args.out,
        args.strict,
        not args.no_peers,
    )


def _section(dataset: Dataset, opts: Options) -> Section:
    """Measure every line on ``dataset`` and check every peer's violations."""
    found_dir = DATA_DIR / "found"
    found_dir.mkdir(parents=True, exist_ok=True)
    files, groups = layout_of(dataset.path)
    _say(f"  {files} observation files, {groups} row groups")
    floors = [_run(name, "read", dataset, opts.repeat) for name in FLOORS]
    timings = [_timing(f) for f in floors]
    expected_path = found_dir / f"{dataset.path.name}-replay.parquet"
    for op in ENGINE_OPS:
        found = expected_path if op == "validate" else None
        timings.append(_timing(_run("replay", op, dataset, opts.repeat, found)))
    timings += _processes(dataset, opts.repeat)
    expected = pq.read_table(expected_path)
    agreements = []
    for name in PEERS if opts.peers else ():
        timing, agreed = _peer(name, dataset, expected, found_dir, opts)
        timings.append(timing)
        agreements.append(agreed)
    return Section(
        dataset.name,
        dataset.n_jobs,
        dataset.n_rows,
        floors[0]["median_s"],
        tuple(timings),
        tuple(agreements),
        _counts(expected),
        f"{files} observation files, {groups} row groups",
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


def _processes(dataset: Dataset, repeat: int) -> list[Timing]:
    """The floor script and the two commands as whole processes, run in turn each round."""
    seconds: dict[str, list[float]] = {name: [] for name in _PROCESSES}
    peaks: dict[str, float] = dict.fromkeys(_PROCESSES, 0.0)
    for round_no in range(repeat + 1):  # round 0 warms the page cache and the bytecode caches
        for name, args in _PROCESSES.items():
            wall, peak_mb = _process(args, dataset.path)
            if round_no:
                seconds[name].append(wall)
                peaks[name] = max(peaks[name], peak_mb)
    floor_s = statistics.median(seconds["floor script"])
    timings = []
    for name in _PROCESSES:
        median = statistics.median(seconds[name])
        _say(f"  {name:<36} {_PROCESS:<40} {median:7.3f} s  peak {peaks[name]:6,.0f} MB")
        note = f"{median / floor_s:.2f}x the floor script; runs: " + ", ".join(
            f"{s:.2f}" for s in seconds[name]
        )
        timings.append(Timing(name, _PROCESS, median, peaks[name], 0.0, note))
    return timings


def _process(args: list[str], recording: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of one process run on ``recording`` (see ``_LAUNCHER``)."""
    command = [sys.executable, *args, str(recording)]
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args} on {recording} failed:\n{done.stderr}")
    wall, peak_kib = json.loads(done.stdout.strip().splitlines()[-1])
    return float(wall), float(peak_kib) / 1024


# A small launcher forks and execs the command with its stdout on /dev/null, then reports the
# child's wall time and ru_maxrss. Linux keeps the high-water mark of the memory a process had
# before exec, so a child forked from this big benchmark process would report this process's
# size; forked from the launcher, it reports its own. Exit 1 is fine (validate found violations).
_LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
print(json.dumps([wall, usage.ru_maxrss]))
sys.exit(0 if code in (0, 1) else 2)
"""


def _timing(result: Measurement, note: str = "") -> Timing:
    parts = result.get("parts", {})
    if len(parts) > 1 and not note:
        note = "steps: " + ", ".join(f"{name} {s:.3f}" for name, s in parts.items())
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


def _largest(sections: list[Section], layout: str) -> Section:
    return max(
        (s for s in sections if s.title.endswith(f"{layout} layout")), key=lambda s: s.n_rows
    )


def _targets(section: Section, opts: Options) -> list[Target]:
    """The goals of the issue, checked on ``section`` (the largest dataset of a layout)."""
    by = {(t.impl, t.op): t for t in section.timings}
    floor = section.floor_s
    pipeline = by["replay", "read+validate+summarize"].seconds
    engine = by["replay", "validate+summarize"].seconds
    validate = by["replay", "validate"].seconds
    peak = by["replay", "read+validate+summarize"].peak_mb
    floor_process = by["floor script", _PROCESS].seconds
    where = f"{section.n_rows / 1e6:.1f}M rows, {section.title.split(', ')[-1]}"
    targets = [
        Target(
            f"{where}: read+validate+summarize at most 2.0x the floor",
            f"{pipeline:.2f} s = {pipeline / floor:.2f}x floor ({floor:.2f} s)",
            pipeline / floor <= 2.0,
        ),
        Target(
            f"{where}: validate+summarize at most 0.6x the floor",
            f"{engine:.2f} s = {engine / floor:.2f}x floor",
            engine / floor <= 0.6,
        ),
    ]
    for command in ("replay validate DIR", "replay summary DIR"):
        seconds = by[command, _PROCESS].seconds
        targets.append(
            Target(
                f"{where}: `{command}` at most 1.5x the floor script (whole processes)",
                f"{seconds:.2f} s = {seconds / floor_process:.2f}x ({floor_process:.2f} s)",
                seconds / floor_process <= 1.5,
            )
        )
    targets.append(
        Target(
            f"{where}: peak memory of read+validate+summarize under 1.2 GB",
            f"{peak:,.0f} MB",
            peak < 1.2 * 1024,
        )
    )
    if opts.peers:
        peers = {
            t.impl: t.seconds
            for t in section.timings
            if t.op == "validate" and t.impl != "replay" and "loop" not in t.impl
        }
        fastest = min(peers, key=peers.__getitem__)
        loop = by[PEERS["rowloop"].label, "validate"].seconds
        targets += [
            Target(
                f"{where}: validate faster than every peer idiom",
                f"replay {validate:.2f} s, fastest peer {fastest} {peers[fastest]:.2f} s",
                validate < peers[fastest],
            ),
            Target(
                f"{where}: the same violations as every peer and the per-row loop",
                f"{len(section.agreements)} implementations compared on (job_id, seq, code)",
                all(a.matches for a in section.agreements),
            ),
            Target(
                f"{where}: validate at least 15x faster than the per-row loop (itertuples)",
                f"{loop / validate:.0f}x (loop {loop:.1f} s, extrapolated from a sample)",
                loop / validate >= 15,
            ),
        ]
    return targets


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
