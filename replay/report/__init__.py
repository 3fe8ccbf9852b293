"""The self-contained HTML copy-performance report of a recording, and two compared side by side."""

from replay.report._data import Recording, load_recording
from replay.report._render import (
    render,
    render_comparison,
    render_report,
    write_comparison,
    write_report,
)

__all__ = [
    "Recording",
    "load_recording",
    "render",
    "render_comparison",
    "render_report",
    "write_comparison",
    "write_report",
]
