"""The recorder: follows many monitor URLs over HTTP (asyncio + httpx) into a crash-safe dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.recorder._recorder import (
        RECORD_FAILURES,
        Progress,
        Recorder,
        RecordSummary,
        UrlSpec,
        record,
        stop_outcome,
    )

__all__ = [
    "RECORD_FAILURES",
    "Progress",
    "RecordSummary",
    "Recorder",
    "UrlSpec",
    "record",
    "stop_outcome",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        dict.fromkeys(
            (
                "RECORD_FAILURES",
                "Progress",
                "RecordSummary",
                "Recorder",
                "UrlSpec",
                "record",
                "stop_outcome",
            ),
            "._recorder",
        ),
    )
