"""What the dataset commands share: their common options, loading, and output formats."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING, Any

from replay.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from replay.status import Policy
    from replay.store.files import BadFile

__all__ = [
    "add_dataset_arguments",
    "add_reading_options",
    "bad_file_mode",
    "engine_of",
    "frame_records",
    "load_dataset",
    "print_table",
    "require_observations",
    "to_json",
]


def add_dataset_arguments(parser: argparse.ArgumentParser, *, policy: bool = True) -> None:
    """Add DIR, --policy, --skip-bad-files, --engine and --scheduler to ``parser``."""
    parser.add_argument(
        "dir", metavar="DIR", help="a recording folder (with observations/ and jobs/)"
    )
    add_reading_options(parser, policy=policy)


def add_reading_options(
    parser: argparse.ArgumentParser, *, policy: bool = True, engine_help: str | None = None
) -> None:
    """Add --policy, --skip-bad-files, --engine and --scheduler (for commands with other DIRs)."""
    if policy:
        parser.add_argument(
            "--policy",
            metavar="F",
            help="a bundled policy name (graph-beta, onedrive) or a TOML file (default graph-beta)",
        )
    parser.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="skip corrupt or foreign Parquet files with a warning instead of failing",
    )
    parser.add_argument(
        "--engine",
        choices=("pandas", "dask"),
        default="pandas",
        help=engine_help
        or "pandas (in memory, default) or dask (a LocalCluster sized to this machine, "
        "or the cluster at --scheduler)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running dask scheduler, e.g. tcp://host:8786 (with --engine dask; its workers "
        "must see DIR at the same path)",
    )


def engine_of(args: argparse.Namespace) -> str:
    """The engine the options ask for (--scheduler only with --engine dask)."""
    if args.scheduler and args.engine != "dask":
        raise UsageError("--scheduler needs --engine dask: add it, or leave out --scheduler")
    return str(args.engine)


def bad_file_mode(args: argparse.Namespace) -> BadFile:
    """``skip`` with --skip-bad-files, else ``raise``."""
    return "skip" if args.skip_bad_files else "raise"


def load_policy_arg(args: argparse.Namespace) -> Policy:
    """The policy named by ``--policy`` (default graph-beta)."""
    from replay.status import load_policy

    return load_policy(getattr(args, "policy", None))


def require_observations(root: str, args: argparse.Namespace) -> None:
    """A DatasetError unless the recording at ``root`` holds at least one observation: a gate
    (``--fail-on``) never passes on a recording it could not read a row of."""
    from replay.errors import DatasetError
    from replay.store import files

    footers = files.observation_footers(files.recording_root(root), bad_file_mode(args))
    if not any(footer.num_rows for footer in footers):
        raise DatasetError(
            f"{root} holds no observations: nothing was recorded, or its Parquet files are not "
            f"under {root}/observations/date=YYYY-MM-DD/ where replay reads them",
            path=root,
        )


def load_dataset(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The observations (the engine's columns only) and jobs of ``args.dir``, in memory."""
    from replay.engine import ENGINE_COLUMNS
    from replay.store import read, read_jobs

    on_bad = bad_file_mode(args)
    obs = read(args.dir, columns=ENGINE_COLUMNS, on_bad_file=on_bad)
    jobs = read_jobs(args.dir, on_bad_file=on_bad)
    return obs, jobs


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: timestamps in ISO 8601 UTC, NaN and NA as null."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = out.astype(object).where(out.notna(), None).to_dict("records")
    records = [{str(key): value for key, value in row.items()} for row in rows]
    for record in records:
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                record[key] = None
            elif hasattr(value, "item"):
                record[key] = value.item()
    return records


def to_json(document: Any) -> str:
    """One JSON document, strict (no NaN), for stdout."""
    return json.dumps(document, allow_nan=False, default=str)


def print_table(frame: pd.DataFrame, *, limit: int, what: str) -> None:
    """Print up to ``limit`` rows of ``frame`` readably, saying how many were left out."""
    import pandas as pd

    if frame.empty:
        print(f"no {what}")
        return
    with pd.option_context(
        "display.width", 200, "display.max_colwidth", 90, "display.max_columns", 20
    ):
        print(frame.head(limit).to_string(index=False))
    if len(frame) > limit:
        print(f"... and {len(frame) - limit} more {what} (use --limit N, or --format json for all)")
