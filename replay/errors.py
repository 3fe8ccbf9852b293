"""The ReplayError tree: every error replay raises on purpose."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DatasetError",
    "DatasetNotFoundError",
    "PayloadError",
    "PolicyError",
    "RecorderError",
    "ReplayError",
    "ReplayWarning",
    "SchemaVersionError",
    "ServerError",
    "UsageError",
]


class ReplayError(Exception):
    """Base of every error replay raises on purpose.

    Structured context (``path``, ``job_id``, ``url`` (always redacted), ``code``, ``key``) is kept
    as attributes; the message alone is the first argument, so errors pickle across dask workers.
    """

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        for name, value in context.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message


class UsageError(ReplayError, ValueError):
    """A bad argument or option given by the user."""


class PolicyError(ReplayError, ValueError):
    """A policy file that cannot be loaded: unknown key, unknown status, bad type."""


class PayloadError(ReplayError, ValueError):
    """A monitor response or imported line that cannot be turned into an observation."""


class DatasetError(ReplayError, ValueError):
    """A recording folder or Parquet file that cannot be read (corrupt, foreign, wrong layout)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """The recording folder does not exist."""


class SchemaVersionError(DatasetError):
    """A dataset written by a newer replay, with a schema version this one does not know."""


class RecorderError(ReplayError, RuntimeError):
    """The recorder cannot go on (bad URL list, output not writable)."""


class ServerError(ReplayError, RuntimeError):
    """The fake monitor server cannot start or serve what was asked."""


class ReplayWarning(UserWarning):
    """Something replay skipped or repaired instead of failing (a bad file in skip mode)."""
