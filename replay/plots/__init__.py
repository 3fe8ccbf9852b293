"""Matplotlib figures of a recording: progress, failure modes, durations, timelines and ETAs."""

from replay.plots._bars import FailureModes, TimeInStatus, failure_modes, time_in_status
from replay.plots._distributions import (
    DurationDistribution,
    Throughput,
    duration_distribution,
    job_throughput,
    throughput,
)
from replay.plots._eta import EtaPlot, eta_plot
from replay.plots._progress import ProgressBands, ProgressCurves, progress_curves
from replay.plots._style import OTHER_COLOUR, OUTCOME_COLOURS, STATUS_COLOURS, palette
from replay.plots._timelines import (
    FleetTimeline,
    StatusTimeline,
    fleet_table,
    fleet_timeline,
    status_timeline,
)

__all__ = [
    "OTHER_COLOUR",
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "DurationDistribution",
    "EtaPlot",
    "FailureModes",
    "FleetTimeline",
    "ProgressBands",
    "ProgressCurves",
    "StatusTimeline",
    "Throughput",
    "TimeInStatus",
    "duration_distribution",
    "eta_plot",
    "failure_modes",
    "fleet_table",
    "fleet_timeline",
    "job_throughput",
    "palette",
    "progress_curves",
    "status_timeline",
    "throughput",
    "time_in_status",
]
