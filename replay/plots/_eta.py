"""The ETA chart: each running job's estimated end and range, stuck jobs in red."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.plots._style import OUTCOME_COLOURS, new_axes, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PathCollection

__all__ = ["EtaPlot", "eta_plot"]

#: Marker colours: stuck jobs, estimates from the job's own rate, from the fleet's history.
ETA_COLOURS = {"stuck": OUTCOME_COLOURS["failed"], "own": "#332288", "fleet": "#777777"}
_LABELLED = 40  # up to this many jobs get their id on the y axis


@dataclass(frozen=True)
class EtaPlot:
    """What ``eta_plot`` drew: jobs bottom-up in ``job_ids`` order (soonest end first), a range
    line per job with an estimate, and a marker at each estimated end."""

    ax: Axes
    job_ids: np.ndarray
    ranges: LineCollection
    points: PathCollection
    stuck: np.ndarray


def eta_plot(eta_frame: pd.DataFrame, *, ax: Axes | None = None) -> EtaPlot:
    """Return the running jobs of ``replay.eta.eta()`` as ranges from ``eta_low`` to ``eta_high``
    with a marker at ``eta``: red when stuck, blue from the job's own rate, grey from the fleet's."""
    from matplotlib.lines import Line2D

    need = ("job_id", "eta", "eta_low", "eta_high", "basis", "stuck")
    require_columns(eta_frame, need, "the ETA frame", "pass the frame replay.eta.eta() returns")
    frame = eta_frame.sort_values(["eta", "job_id"], na_position="last", kind="stable")
    y = np.arange(len(frame))
    low, mid, high = (_days(frame[c]) for c in ("eta_low", "eta", "eta_high"))
    stuck = frame["stuck"].to_numpy(dtype=bool)
    kind = np.where(stuck, "stuck", frame["basis"].astype(str).to_numpy())
    colours = np.array([ETA_COLOURS.get(k, "#bbbbbb") for k in kind], dtype=object)
    known = np.isfinite(mid)
    axes = new_axes(ax, (9, 1.5 + min(len(frame), _LABELLED) * 0.22))
    ranges = axes.hlines(
        y[known], low[known], high[known], colors=list(colours[known]), lw=2.5, alpha=0.5
    )
    points = axes.scatter(mid[known], y[known], c=list(colours[known]), s=18, zorder=3)
    axes.xaxis_date(tz="UTC")
    if len(frame) <= _LABELLED:
        axes.set_yticks(y, [str(j)[:8] for j in frame["job_id"]], fontsize="x-small")
    axes.set(xlabel="estimated end (UTC)", ylabel="running job", title="ETA of running jobs")
    handles = [Line2D([], [], color=c, marker="o", lw=2, label=k) for k, c in ETA_COLOURS.items()]
    axes.legend(handles=handles, fontsize="small", loc="lower right")
    return EtaPlot(axes, frame["job_id"].astype(str).to_numpy(), ranges, points, stuck)


def _days(values: pd.Series) -> np.ndarray:
    """Timestamps as matplotlib date numbers; NaN where unknown."""
    import matplotlib.dates as mdates

    ts = pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    days = np.asarray(mdates.date2num(ts), dtype=np.float64)  # type: ignore[no-untyped-call]
    return np.where(np.isnat(ts), np.nan, days)
