"""``replay summary``: per-job summary and outcome counts."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replay.cli._common import (
    add_dataset_arguments,
    bad_file_mode,
    engine_of,
    frame_records,
    load_dataset,
    load_policy_arg,
    print_table,
    require_observations,
    to_json,
)
from replay.cli._numbers import count

__all__ = ["register", "run"]

_TABLE_COLUMNS = [
    "job_id",
    "outcome",
    "final_status",
    "duration_s",
    "n_obs",
    "max_pct",
    "error_code",
    "n_violations",
]


def register(sub: Any) -> None:
    """Add the ``summary`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "summary",
        help="per-job summary and outcome counts",
        description="Summarise each job (duration, time in each status, outcome) and count outcomes.",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument(
        "--limit", type=count("rows", 0), default=50, help="jobs of the table to print (default 50)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Summarise ``args.dir``; return the exit code."""
    from replay.engine import outcome_counts, summarize

    policy = load_policy_arg(args)
    require_observations(args.dir, args)
    if engine_of(args) == "dask":
        from replay.distributed import summarize_dataset

        summary = summarize_dataset(
            args.dir, policy=policy, scheduler=args.scheduler, on_bad_file=bad_file_mode(args)
        )
    else:
        obs, jobs = load_dataset(args)
        summary = summarize(obs, policy, jobs=jobs)
    outcomes = outcome_counts(summary) if len(summary) else {}
    if args.format == "json":
        print(to_json({"jobs": frame_records(summary), "outcomes": outcomes}))
    elif args.format == "csv":
        summary.to_csv(sys.stdout, index=False)
    else:
        _print_report(summary, outcomes, args.limit)
    return 0


def _print_report(summary: Any, outcomes: dict[str, int], limit: int) -> None:
    total = len(summary)
    print(f"{total} job(s)")
    for outcome, n in outcomes.items():
        print(f"  {outcome:<16} {n:>8}  {100 * n / total:5.1f}%")
    if total:
        q = summary["duration_s"].quantile([0.5, 0.9, 0.99])
        print(f"duration p50 {q[0.5]:.0f} s, p90 {q[0.9]:.0f} s, p99 {q[0.99]:.0f} s")
        print()
        print_table(summary[_TABLE_COLUMNS].round(1), limit=limit, what="jobs")
