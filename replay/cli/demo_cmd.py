"""``replay demo``: serve + record over loopback HTTP + validate + summary + report."""

from __future__ import annotations

import argparse
from typing import Any

from replay.cli._numbers import count

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``demo`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="serve a simulated fleet on 127.0.0.1, record it over HTTP, validate, summarise, report",
        description="The whole flow on the embedded default: a fake monitor server on 127.0.0.1 "
        "serving a simulated fleet (every scenario and dialect, time compressed), recorded over "
        "real HTTP, validated, summarised and reported.",
    )
    parser.add_argument(
        "--jobs", type=count("jobs"), default=200, help="simulated copy jobs (default 200)"
    )
    parser.add_argument(
        "--seed", type=count("the seed", 0), default=0, help="simulator seed (default 0)"
    )
    parser.add_argument(
        "--out", default="demo-output", help="output folder (default ./demo-output)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when it completed."""
    from replay.cli._demo import run_demo
    from replay.errors import UsageError

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    run_demo(args.out, jobs=args.jobs, seed=args.seed)
    return 0
