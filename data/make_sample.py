"""Remake ``data/sample``: ``replay serve`` two simulated fleets, ``replay record`` them over HTTP."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["COMMANDS", "main"]

HERE = Path(__file__).resolve().parent
#: Job seconds per wall second: the slowest simulated job (about 7400 s) records in about 25 s.
SPEED = 300
#: Half the jobs are plain copies, half spread evenly over every other scenario served over HTTP.
HAPPY = ["happy_path"]
QUIRKS = [
    "instant_complete",
    "slow_queue",
    "stuck_percentage",
    "zero_then_hundred",
    "waiting_retry",
    "updating_phase",
    "failed_with_error",
    "delete_failed",
    "regression",
    "unknown_status",
    "out_of_range_pct",
    "no_terminal",
    "throttled",
    "server_errors",
    "expired_monitor",
    "completed_early",
    "requeued",
    "missing_status",
    "legacy_303",
    "unauthorized",
    "protocol_error",
    "operation_not_found",
    "v21_monitor_on_v20",
    "never_starts",
    "lowercase_operation",
    "move_job",
]

#: The exact commands, in order (``{tmp}`` is a scratch folder, ``{out}`` the recording).
COMMANDS = (
    f"replay serve --jobs 150 --seed 1 --speed {SPEED} --scenarios {' '.join(HAPPY)} "
    "--urls-out {tmp}/happy.jsonl",
    f"replay serve --jobs 150 --seed 2 --speed {SPEED} --scenarios {' '.join(QUIRKS)} "
    "--urls-out {tmp}/quirks.jsonl",
    "cat {tmp}/happy.jsonl {tmp}/quirks.jsonl > {tmp}/urls.jsonl",
    "replay record --urls-file {tmp}/urls.jsonl --out {out} --interval 0.05 --max-interval 0.5 "
    "--deadline 30 --max-retry-after 2 --concurrency 256 --max-rps 3000 --label source=sample",
)


def main(argv: list[str] | None = None) -> int:
    """Record the sample into ``--out`` (replacing it); return the recorder's exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE / "sample", help="(default data/sample)")
    out: Path = parser.parse_args(argv).out
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        servers = [_start(COMMANDS[i].format(tmp=tmp, out=out)) for i in (0, 1)]
        try:
            files = [_wait_for(tmp / "happy.jsonl"), _wait_for(tmp / "quirks.jsonl")]
            (tmp / "urls.jsonl").write_text("".join(f.read_text() for f in files))
            started = time.monotonic()
            code = subprocess.call(_argv(COMMANDS[3].format(tmp=tmp, out=out)))
            print(f"recorded in {time.monotonic() - started:.1f} s (exit {code})")
        finally:
            for server in servers:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=30)
    _describe(out)
    return 0 if code in (0, 1) else code  # 1: the timed_out/unauthorized jobs are on purpose


def _argv(command: str) -> list[str]:
    """``replay ARGS`` run with this interpreter, so the checkout's replay is the one used."""
    return [sys.executable, "-m", "replay", *command.split()[1:]]


def _start(command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(_argv(command), stdout=subprocess.DEVNULL)


def _wait_for(path: Path, timeout_s: float = 60.0) -> Path:
    """``path`` once the server wrote it (atomically); TimeoutError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"replay serve wrote no {path.name} within {timeout_s:g} s")
        time.sleep(0.05)
    return path


def _describe(out: Path) -> None:
    """Print what the recording holds, for the data card."""
    import replay

    replay.compact(out)
    (out / ".replay-compact.lock").unlink(missing_ok=True)  # scratch state, remade on demand
    if (out / ".replay-tmp").is_dir() and not any((out / ".replay-tmp").iterdir()):
        (out / ".replay-tmp").rmdir()
    obs, jobs = replay.read(out), replay.read_jobs(out)
    summary = replay.summarize(obs, jobs=jobs)
    labels = jobs["labels"].map(json.loads)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{len(jobs)} jobs, {len(obs)} observations, {size / 1e6:.2f} MB")
    print("outcomes:", replay.outcome_counts(summary))
    print("dialects:", labels.map(lambda x: x.get("dialect")).value_counts().to_dict())
    print("scenarios:", labels.map(lambda x: x.get("scenario")).value_counts().to_dict())
    print("violations:", replay.violation_counts(replay.validate(obs)))


if __name__ == "__main__":
    sys.exit(main())
