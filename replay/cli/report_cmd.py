"""``replay report``: the self-contained HTML report of a recording."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from replay.cli._common import add_dataset_arguments, load_dataset

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``report`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="self-contained HTML report",
        description="Write one self-contained HTML report.",
    )
    add_dataset_arguments(parser, policy=False)
    parser.add_argument("-o", "--out", type=Path, default=Path("report.html"), help="the HTML file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the report of ``args.dir`` to ``args.out``; return the exit code."""
    from replay.report import render_report

    obs, _jobs = load_dataset(args)
    args.out.write_text(render_report(obs, name=Path(args.dir).name), encoding="utf-8")
    return 0
