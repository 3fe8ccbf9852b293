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

__version__ = "0.1.0"

__all__ = [
    "OUTCOMES",
    "TERMINAL",
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
    "default_policy",
    "load_policy",
]
