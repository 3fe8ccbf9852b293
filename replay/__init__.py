"""replay: record, replay and analyse Microsoft Graph AsyncJobStatus monitors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports
from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    PayloadError,
    PolicyError,
    RecorderError,
    ReplayError,
    ReplayWarning,
    SchemaVersionError,
    ServerError,
    UsageError,
)

if TYPE_CHECKING:
    from replay.engine import (
        ENGINE_COLUMNS,
        Analysis,
        Code,
        analyse,
        outcome_counts,
        summarize,
        transitions,
        validate,
        violation_counts,
    )
    from replay.importer import import_files
    from replay.recorder import Recorder, RecordSummary, UrlSpec, record
    from replay.server import MonitorServer
    from replay.simulate import SCENARIOS, Fleet, simulate_job
    from replay.status import (
        OUTCOMES,
        STOP_STATUSES,
        TERMINAL,
        Policy,
        Status,
        default_policy,
        load_policy,
    )
    from replay.store import compact, read, read_jobs, write_jobs, write_observations

__version__ = "0.1.0"

__all__ = [
    "ENGINE_COLUMNS",
    "OUTCOMES",
    "SCENARIOS",
    "STOP_STATUSES",
    "TERMINAL",
    "Analysis",
    "Code",
    "DatasetError",
    "DatasetNotFoundError",
    "Fleet",
    "MonitorServer",
    "PayloadError",
    "Policy",
    "PolicyError",
    "RecordSummary",
    "Recorder",
    "RecorderError",
    "ReplayError",
    "ReplayWarning",
    "SchemaVersionError",
    "ServerError",
    "Status",
    "UrlSpec",
    "UsageError",
    "__version__",
    "analyse",
    "compact",
    "default_policy",
    "import_files",
    "load_policy",
    "outcome_counts",
    "read",
    "read_jobs",
    "record",
    "simulate_job",
    "summarize",
    "transitions",
    "validate",
    "violation_counts",
    "write_jobs",
    "write_observations",
]

#: Where each exported name lives. Everything but the errors is imported on first use, so
#: ``import replay`` costs milliseconds: the pytest plugin, the CLI's ``--help`` and code that
#: only catches ``replay.ReplayError`` never load pandas, pyarrow or an HTTP stack. Any other
#: name is tried as a submodule (``replay.store``, ``replay.simulate``).
if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            **dict.fromkeys(
                (
                    "ENGINE_COLUMNS",
                    "Analysis",
                    "Code",
                    "analyse",
                    "outcome_counts",
                    "summarize",
                    "transitions",
                    "validate",
                    "violation_counts",
                ),
                "replay.engine",
            ),
            "import_files": "replay.importer",
            **dict.fromkeys(("Recorder", "RecordSummary", "UrlSpec", "record"), "replay.recorder"),
            "MonitorServer": "replay.server",
            **dict.fromkeys(("SCENARIOS", "Fleet", "simulate_job"), "replay.simulate"),
            **dict.fromkeys(
                (
                    "OUTCOMES",
                    "STOP_STATUSES",
                    "TERMINAL",
                    "Policy",
                    "Status",
                    "default_policy",
                    "load_policy",
                ),
                "replay.status",
            ),
            **dict.fromkeys(
                ("compact", "read", "read_jobs", "write_jobs", "write_observations"), "replay.store"
            ),
        },
        submodules=True,
    )
