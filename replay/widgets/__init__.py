"""The ipywidgets explorer: filter jobs, pick one, see its progress, statuses and violations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.widgets._explorer import (
        Explorer,
        Filters,
        Recording,
        load_recording,
        resolve_data,
    )

__all__ = [
    "Explorer",
    "Filters",
    "Recording",
    "load_recording",
    "resolve_data",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        dict.fromkeys(
            (
                "Explorer",
                "Filters",
                "Recording",
                "load_recording",
                "resolve_data",
            ),
            "._explorer",
        ),
    )
