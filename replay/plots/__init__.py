"""Matplotlib figures of a recording: progress, failure modes, durations, timelines and ETAs."""

from replay.plots._bars import FailureModes, TimeInStatus, failure_modes, time_in_status
from replay.plots._progress import ProgressBands, ProgressCurves, progress_curves
from replay.plots._style import OUTCOME_COLOURS, STATUS_COLOURS

__all__ = [
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "FailureModes",
    "ProgressBands",
    "ProgressCurves",
    "TimeInStatus",
    "failure_modes",
    "progress_curves",
    "time_in_status",
]
