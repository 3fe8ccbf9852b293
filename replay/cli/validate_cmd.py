"""``replay validate``: print violations and counts; exit 1 at or above --fail-on."""

from __future__ import annotations

import argparse
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


def register(sub: Any) -> None:
    """Add the ``validate`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="check every job's sequence against a policy",
        description="Check every job's status sequence against a policy and print the violations. "
        "Exit 0 clean, 1 violations at or above --fail-on, 2 bad input.",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="the lowest severity that makes the exit code 1 (default error)",
    )
    parser.add_argument(
        "--limit", type=count("rows", 0), default=50, help="rows of the table to print (default 50)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.dir``; return the exit code."""
    from replay.engine import validate, violation_counts

    policy = load_policy_arg(args)
    require_observations(args.dir, args)
    if engine_of(args) == "dask":
        from replay.distributed import validate_dataset

        violations = validate_dataset(
            args.dir, policy=policy, scheduler=args.scheduler, on_bad_file=bad_file_mode(args)
        )
    else:
        obs, _ = load_dataset(args)
        violations = validate(obs, policy)
    counts = violation_counts(violations)
    if args.format == "json":
        print(to_json({"violations": frame_records(violations), "counts": counts}))
    else:
        _print_report(violations, counts, policy.name, args.limit)
    levels = ("error",) if args.fail_on == "error" else ("error", "warning")
    return 1 if violations["severity"].isin(levels).any() else 0


def _print_report(violations: Any, counts: dict[str, int], policy: str, limit: int) -> None:
    from replay.engine import SEVERITY

    found = {code: n for code, n in counts.items() if n}
    jobs = violations["job_id"].nunique() if len(violations) else 0
    print(f"policy {policy}: {len(violations)} violation(s) in {jobs} job(s)")
    for code, n in found.items():
        print(f"  {code:<20} {SEVERITY[code]:<8} {n}")
    if found:
        print()
        print_table(violations, limit=limit, what="violations")
