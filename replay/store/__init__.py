"""The Parquet dataset of a recording: reads, atomic appends, the writer, compaction, files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.errors import ReplayWarning
    from replay.store._compact import CompactResult, compact
    from replay.store._dataset import (
        ReadPlan,
        dataset_files,
        next_seq,
        plan_read,
        read,
        read_jobs,
        write_jobs,
        write_observations,
    )
    from replay.store._frames import column_array

__all__ = [
    "CompactResult",
    "ReadPlan",
    "ReplayWarning",
    "column_array",
    "compact",
    "dataset_files",
    "next_seq",
    "plan_read",
    "read",
    "read_jobs",
    "write_jobs",
    "write_observations",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            "ReplayWarning": "replay.errors",
            **dict.fromkeys(("CompactResult", "compact"), "._compact"),
            "column_array": "._frames",
            **dict.fromkeys(
                (
                    "ReadPlan",
                    "dataset_files",
                    "next_seq",
                    "plan_read",
                    "read",
                    "read_jobs",
                    "write_jobs",
                    "write_observations",
                ),
                "._dataset",
            ),
        },
    )
