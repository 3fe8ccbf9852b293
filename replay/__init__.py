"""replay: record, replay and analyse Microsoft Graph AsyncJobStatus monitors."""

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
from replay.summary import outcome_counts, summarize
from replay.transitions import transitions
from replay.validate import Code, validate, violation_counts

__version__ = "0.1.0"

__all__ = [
    "OUTCOMES",
    "TERMINAL",
    "Code",
    "DatasetError",
    "DatasetNotFoundError",
    "PayloadError",
    "Policy",
    "PolicyError",
    "RecorderError",
    "ReplayError",
    "SchemaVersionError",
    "ServerError",
    "Status",
    "UsageError",
    "__version__",
    "compact",
    "default_policy",
    "load_policy",
    "outcome_counts",
    "read",
    "read_jobs",
    "summarize",
    "transitions",
    "validate",
    "violation_counts",
    "write_jobs",
    "write_observations",
]
