"""The replay engine on dask: the dataset as a dask DataFrame, shuffled by job, engine per partition."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.distributed._dataset import (
        CONNECT_TIMEOUT_S,
        ENGINE_COLUMNS,
        PARTITION_ROWS,
        client_for,
        read,
        summarize,
        summarize_dataset,
        transitions,
        validate,
        validate_and_summarize,
        validate_and_summarize_dataset,
        validate_dataset,
    )

__all__ = [
    "CONNECT_TIMEOUT_S",
    "ENGINE_COLUMNS",
    "PARTITION_ROWS",
    "client_for",
    "read",
    "summarize",
    "summarize_dataset",
    "transitions",
    "validate",
    "validate_and_summarize",
    "validate_and_summarize_dataset",
    "validate_dataset",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        dict.fromkeys(
            (
                "CONNECT_TIMEOUT_S",
                "ENGINE_COLUMNS",
                "PARTITION_ROWS",
                "client_for",
                "read",
                "summarize",
                "summarize_dataset",
                "transitions",
                "validate",
                "validate_and_summarize",
                "validate_and_summarize_dataset",
                "validate_dataset",
            ),
            "._dataset",
        ),
    )
