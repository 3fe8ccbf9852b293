"""``replay scan``: look for secrets in every file of a folder, Parquet values and metadata."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replay.cli._numbers import count

__all__ = ["register", "run"]

_EPILOG = """\
Findings are printed as 'PATH: WHERE (KIND)', e.g.
  observations/date=2026-01-01/part-0.parquet: column body, row 17 (tempauth)
without the secret itself. Anything that cannot be read (a file, a folder that cannot be
listed, a symlinked folder, a FIFO) is named on stderr. Exit 0 clean, 1 secrets found,
2 bad input or something unreadable.
"""


def register(sub: Any) -> None:
    """Add the ``scan`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "scan",
        help="look for secrets in every file, Parquet value and metadata of a folder",
        description="Look for unredacted credentials (tempauth, c, sig, JWTs, bearer tokens, ...) "
        "in every file under DIR: Parquet string values, column names and metadata, and any "
        "other file as text (gzip decompressed), in what they mean: JSON escapes, "
        "percent-encoding, UTF-16 and full-width forms are decoded first.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dir", metavar="DIR", help="the folder (or one file) to scan")
    parser.add_argument(
        "--limit",
        type=count("rows", 0),
        default=200,
        metavar="N",
        help="findings to print (default 200; 0 prints all)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Scan ``args.dir``; return 0 when clean, 1 when secrets were found, 2 when unreadable."""
    from replay.scan import scan

    result = scan(args.dir)
    shown = result.findings if args.limit <= 0 else result.findings[: args.limit]
    for finding in shown:
        print(finding)
    if len(shown) < len(result.findings):
        print(f"... and {len(result.findings) - len(shown)} more (--limit 0 prints all)")
    for path, reason in result.unreadable:
        print(f"replay scan: cannot read {path}: {reason}", file=sys.stderr)
    if result.findings:
        files = len({finding.path for finding in result.findings})
        print(
            f"replay scan: {len(result.findings)} secret(s) in {files} of {result.files} files; "
            "redact or delete them before sharing the folder",
            file=sys.stderr,
        )
        return 1
    if result.unreadable:
        return 2
    print(f"clean: {result.files} files, {result.values} values checked")
    return 0
