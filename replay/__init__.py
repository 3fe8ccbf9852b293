"""replay: record, replay and analyse Microsoft Graph AsyncJobStatus monitors."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from replay._engine import ENGINE_COLUMNS
from replay._files import ReplayWarning
from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    PayloadError,
    PolicyError,
    RecorderError,
    ReplayError,
    SchemaVersionError,
    ServerError,
    UsageError,
)
from replay.status import OUTCOMES, TERMINAL, Policy, Status, default_policy, load_policy
from replay.store import compact, read, read_jobs, write_jobs, write_observations
from replay.summary import analyse, outcome_counts, summarize
from replay.transitions import transitions
from replay.validate import Code, validate, violation_counts

if TYPE_CHECKING:
    from replay.importer import import_files
    from replay.recorder import Recorder, RecordSummary, UrlSpec, record
    from replay.server import MonitorServer
    from replay.simulate import SCENARIOS, Fleet, simulate_job

__version__ = "0.1.0"

#: Names whose modules pull in an HTTP stack or the simulator: imported on first use, so
#: ``import replay`` stays as cheap as the engine. (``simulate`` and ``scan`` are not here: they
#: are also module names, ``replay.simulate.simulate`` and ``replay.scan.scan``.)
_LAZY = {
    "Recorder": "replay.recorder",
    "RecordSummary": "replay.recorder",
    "UrlSpec": "replay.recorder",
    "record": "replay.recorder",
    "import_files": "replay.importer",
    "MonitorServer": "replay.server",
    "SCENARIOS": "replay.simulate",
    "Fleet": "replay.simulate",
    "simulate_job": "replay.simulate",
}


def __getattr__(name: str) -> Any:
    """Import the lazily exported ``name`` from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'replay' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ENGINE_COLUMNS",
    "OUTCOMES",
    "SCENARIOS",
    "TERMINAL",
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
