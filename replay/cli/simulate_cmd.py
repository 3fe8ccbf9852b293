"""``replay simulate``: write a simulated recording directly (no HTTP)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from replay.cli._numbers import count
from replay.errors import UsageError

__all__ = ["parse_dialects", "parse_scenarios", "register", "run"]


def register(sub: Any) -> None:
    """Add the ``simulate`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate",
        help="write a simulated recording (no HTTP)",
        description="Simulate a fleet of copy jobs from the scenario catalogue and write it as a "
        "recording (observations + jobs). Same seed, same dataset.",
    )
    parser.add_argument(
        "--jobs", type=count("jobs"), required=True, metavar="N", help="jobs to simulate"
    )
    parser.add_argument(
        "--seed", type=count("the seed", 0), default=0, metavar="S", help="random seed (default 0)"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="a new or empty folder for the recording"
    )
    parser.add_argument(
        "--scenarios",
        metavar="SPEC",
        help="names (a,b,c: equal weights) or weights (a=5,b=1); default: the catalogue's mix",
    )
    parser.add_argument(
        "--dialects", metavar="LIST", help="comma-separated dialects (default: all, uniformly)"
    )
    parser.add_argument(
        "--start",
        metavar="TIME",
        help="ISO 8601 start of the fleet window (default 2026-01-05T22:00Z)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Simulate and write ``args.out``; print one line; return 0."""
    from replay.simulate import simulate

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {args.out!r} is not an empty folder: give a new or empty one")
    started = time.perf_counter()
    fleet = simulate(
        args.jobs,
        seed=args.seed,
        scenarios=parse_scenarios(args.scenarios),
        dialects=parse_dialects(args.dialects),
        start=args.start,
    )
    observations = fleet.observations()
    fleet.write(out)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {len(observations)} observations of {len(fleet.jobs)} jobs to {out} in {elapsed:.1f} s"
    )
    return 0


def parse_scenarios(text: str | None) -> dict[str, float] | list[str] | None:
    """``a,b`` as names, ``a=5,b=1`` as weights, None as the default mix; UsageError otherwise."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError("--scenarios is empty: give names (a,b) or weights (a=5,b=1)")
    if not any("=" in item for item in items):
        return items
    return dict(_weight(item) for item in items)


def _weight(item: str) -> tuple[str, float]:
    name, sep, value = item.partition("=")
    try:
        if not sep:
            raise ValueError(item)
        return name.strip(), float(value)
    except ValueError:
        raise UsageError(
            f"bad --scenarios item {item!r}: write NAME=WEIGHT for every item, e.g. happy_path=5"
        ) from None


def parse_dialects(text: str | None) -> list[str] | None:
    """Comma-separated dialect names, or None for all."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]
