"""``replay import``: JSON-lines payload logs into a recording folder."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]

_EPILOG = """\
Each line is one payload, either
  {"job_id": "J1", "ts": "2026-01-05T23:00:00Z", "status": "inProgress", "percentageComplete": 40}
or
  {"ts": 1767654000.5, "url": "https://.../monitor/ID?tempauth=...", "body": {...}, "http_status": 202}
ts is ISO 8601 (read as UTC without an offset) or epoch seconds. Files may be gzip-compressed.
Rows of a job take seq in file order, after what the folder already holds. Credentials in URLs
and bodies are redacted before anything is written.

exit status: 0 imported (bad lines, if any, are listed on stderr and counted); 2 bad arguments,
an unreadable file, or any bad line with --strict (then nothing is written).
"""


def register(sub: Any) -> None:
    """Add the ``import`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "import",
        help="import JSON lines of monitor payloads from your own logs",
        description="Import monitor payloads from JSON-lines logs into a recording folder.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON-lines files (or .gz)")
    parser.add_argument("--out", metavar="DIR", required=True, help="the recording folder")
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 2, write nothing) on any bad line"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import ``args.files``; return the exit code."""
    from replay.errors import PayloadError
    from replay.importer import import_files

    try:
        summary = import_files(args.files, args.out, strict=args.strict)
    except PayloadError as err:
        for bad in getattr(err, "bad_lines", ()):
            print(f"replay import: {bad}", file=sys.stderr)
        raise
    for bad in summary.bad_lines:
        print(f"replay import: {bad}", file=sys.stderr)
    print(summary.line())
    if summary.rows == 0 and not summary.skipped:  # a file imported before is no failure
        print(
            "replay import: nothing imported: no line of the given file(s) is a monitor payload "
            '(lines like {"job_id": ..., "ts": ..., "status": ...}; see replay import --help)',
            file=sys.stderr,
        )
        return 2
    return 0
