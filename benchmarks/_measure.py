"""One measurement in this process: warm-up, timed repeats, peak RSS; printed as one JSON line.

The harness runs each measurement in a fresh interpreter (``python -m benchmarks._measure``) so
that the peak resident set size belongs to that measurement alone. replay's steps each get a
frame freshly read for that run (untimed), as a user's first call gets it, never the frame an
earlier run already worked on.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from replay import ENGINE_COLUMNS

__all__ = ["ENGINE_OPS", "NEEDED_COLUMNS", "Measurement", "main", "measure", "peak_rss_mb"]

#: What is timed for replay itself: the engine functions, each on a fresh frame, and the user's
#: pipelines from the folder.
ENGINE_OPS: tuple[str, ...] = (
    "read",
    "validate",
    "summarize",
    "transitions",
    "validate+summarize",
    "read+validate+summarize",
    "read(columns=needed)+validate+summarize",
)
#: The columns validate and summarize read: ``replay.ENGINE_COLUMNS``, for ``replay.read(columns=...)``.
NEEDED_COLUMNS: tuple[str, ...] = ENGINE_COLUMNS
#: The floors: dictionary-encoded (the target's) and plain strings (for information).
FLOORS = ("floor", "floor_plain")

Measurement = dict[str, Any]
#: One timed run: its result and the seconds of each of its steps.
_Run = Callable[[], tuple[Any, dict[str, float]]]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this program's own memory
    (``ru_maxrss`` would also count the parent's memory at fork, which survives exec).
    Elsewhere: ``ru_maxrss`` (KiB, bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(impl: str, op: str, recording: Path, repeat: int, found_to: Path | None) -> Measurement:
    """Time ``op`` of ``impl`` on ``recording`` (median of ``repeat`` after one warm-up)."""
    run, n_rows = _workload(impl, op, recording)
    input_mb = peak_rss_mb()
    result, _ = run()  # warm-up
    times, parts = [], []
    for _ in range(repeat):
        del result
        gc.collect()
        result, steps = run()
        times.append(sum(steps.values()))
        parts.append(steps)
    if found_to is not None:
        _write_found(result, found_to)
    return {
        "impl": impl,
        "op": op,
        "rows": n_rows,
        "times": times,
        "median_s": statistics.median(times),
        "parts": {name: statistics.median(p[name] for p in parts) for name in parts[0]},
        "input_mb": input_mb,
        "peak_mb": peak_rss_mb(),
    }


def _timed(function: Callable[[], Any]) -> _Run:
    """A run that times ``function`` as one step."""

    def run() -> tuple[Any, dict[str, float]]:
        start = time.perf_counter()
        result = function()
        return result, {"all": time.perf_counter() - start}

    return run


def _workload(impl: str, op: str, recording: Path) -> tuple[_Run, int]:
    """The run to time and the number of rows it sees; its input is loaded here, untimed."""
    observations = recording / "observations"
    if impl in FLOORS:
        from benchmarks.peers import floor

        function = floor.floor if impl == "floor" else floor.floor_plain
        return _timed(lambda: function(observations)), _rows(observations)
    if impl == "replay":
        return _engine_workload(op, recording), _rows(observations)
    from benchmarks.peers import COLUMNS, PEERS, rules_of
    from benchmarks.peers.floor import read_columns

    peer, rules = PEERS[impl], rules_of()
    table = read_columns(observations, COLUMNS)
    data, n_rows = peer.native(table), table.num_rows
    del table
    return _timed(lambda: peer.validate(data, rules)), n_rows


def _engine_workload(op: str, recording: Path) -> _Run:
    """replay's ``op``: steps timed one by one, each on a frame no earlier run touched."""
    import replay

    columns = NEEDED_COLUMNS if op.startswith("read(columns=needed)") else None
    steps: dict[str, Callable[[Any], Any]] = {
        "validate": replay.validate,
        "summarize": replay.summarize,
        "transitions": replay.transitions,
    }
    names = op.removeprefix("read(columns=needed)+").removeprefix("read+").split("+")
    timed_read = op.startswith("read")

    def run() -> tuple[Any, dict[str, float]]:
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        obs = replay.read(recording, columns=columns)
        if timed_read:
            seconds["read"] = time.perf_counter() - start
        result = obs
        for name in names if op != "read" else []:
            start = time.perf_counter()
            found = steps[name](obs)
            seconds[name] = time.perf_counter() - start
            result = found if name == "validate" else result
        return result, seconds

    return run


def _rows(observations: Path) -> int:
    import pyarrow.dataset as ds

    return int(ds.dataset(observations, format="parquet", partitioning="hive").count_rows())


def _write_found(result: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    from benchmarks.peers import found

    pq.write_table(found(result), path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one measurement named on the command line; print it as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("impl", help="floor, floor_plain, replay, or a peer of benchmarks.peers")
    parser.add_argument("op", help=f"read (floors), validate (peers), or one of {ENGINE_OPS}")
    parser.add_argument("recording", type=Path, help="a recording folder")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the warm-up")
    parser.add_argument("--found", type=Path, help="write (job_id, seq, code) found here")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.impl, args.op, args.recording, args.repeat, args.found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
