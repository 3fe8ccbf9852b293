"""``replay report``: the self-contained HTML report of a recording, or two compared."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from replay.cli._common import add_reading_options, engine_of, require_observations
from replay.cli._numbers import count
from replay.errors import UsageError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``report`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="self-contained HTML report (two recordings side by side with --compare)",
        description="Write one self-contained HTML report of a recording (images embedded, no "
        "external URL), or of two recordings side by side with --compare.",
    )
    parser.add_argument(
        "dirs", metavar="DIR", nargs="+", help="a recording folder (two with --compare)"
    )
    parser.add_argument(
        "-o", "--output", "--out", dest="output", type=Path, default=Path("report.html"),
        help="the HTML file to write (default report.html)",
    )  # fmt: skip
    parser.add_argument(
        "--compare", action="store_true", help="compare two recordings: DIR_A DIR_B"
    )
    parser.add_argument(
        "--labels", metavar="A,B", help="the two recordings' labels (default: folder names)"
    )
    parser.add_argument(
        "--top",
        type=count("rows", 0),
        default=50,
        help="violations to list, each linked to its job (50)",
    )
    add_reading_options(
        parser,
        engine_help="pandas (in memory, default) or dask (numbers on a cluster, curves from a "
        "sample)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the report of ``args.dirs`` to ``args.output``; return the exit code."""
    import matplotlib

    matplotlib.use("Agg")
    from replay.report import write_comparison, write_report

    _check(args)
    for folder in args.dirs:
        require_observations(folder, args)
    options: dict[str, Any] = {
        "policy": args.policy,
        "on_bad_file": "skip" if args.skip_bad_files else "raise",
        "engine": args.engine,
        "scheduler": args.scheduler,
    }
    if args.compare:
        labels = _labels(args.labels)
        out = write_comparison(
            args.dirs[0], args.dirs[1], args.output, labels=labels, top=args.top, **options
        )
    else:
        out = write_report(args.dirs[0], args.output, top=args.top, **options)
    print(f"report written to {out}")
    return 0


def _check(args: argparse.Namespace) -> None:
    if args.compare and len(args.dirs) != 2:
        raise UsageError(f"--compare needs exactly two recording folders, got {len(args.dirs)}")
    if not args.compare and len(args.dirs) != 1:
        raise UsageError("give one recording folder, or two with --compare")
    if args.labels and not args.compare:
        raise UsageError("--labels names the two recordings of --compare; add --compare")
    if args.top < 0:
        raise UsageError(f"--top must be 0 or more, got {args.top}")
    engine_of(args)


def _labels(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise UsageError(
            f"--labels takes two different names, e.g. --labels before,after; got {text!r}"
        )
    return parts[0], parts[1]
