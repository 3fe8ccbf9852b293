"""Bar charts of per-job summaries: failure modes and time in each status per outcome."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.errors import UsageError
from replay.plots._style import OUTCOME_COLOURS, STATUS_COLOURS, new_axes, palette, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer

__all__ = ["FailureModes", "TimeInStatus", "failure_modes", "time_in_status"]

_PANEL_COLOURS = {"error_code": "#9c9ede", "violation": "#e7969c"}
_FIX = "pass the frame replay.summarize() returns"


@dataclass(frozen=True)
class FailureModes(Mapping[str, "BarContainer"]):
    """What ``failure_modes`` drew: per panel (``outcome``, ``error_code``, ``violation``) its bars
    and ``counts`` (name -> jobs or violations); indexing it by panel gives the bars."""

    ax: Axes
    bars: dict[str, BarContainer]
    counts: dict[str, dict[str, int]]

    def __getitem__(self, panel: str) -> BarContainer:
        return self.bars[panel]

    def __iter__(self) -> Iterator[str]:
        return iter(self.bars)

    def __len__(self) -> int:
        return len(self.bars)


@dataclass(frozen=True)
class TimeInStatus:
    """What ``time_in_status`` drew: ``values`` (outcome x status seconds) and a bar set per status."""

    ax: Axes
    values: pd.DataFrame
    bars: dict[str, BarContainer]
    stat: str


def failure_modes(
    summary: pd.DataFrame, violations: pd.DataFrame, *, ax: Axes | None = None
) -> FailureModes:
    """Return horizontal bars of outcome, error code and violation code counts, in three sections."""
    from replay.engine import outcome_counts, violation_counts

    require_columns(summary, ("job_id", "outcome", "error_code"), "the summary", _FIX)
    counts = {
        "outcome": outcome_counts(summary) if len(summary) else {},
        "error_code": {str(k): int(v) for k, v in summary["error_code"].value_counts().items()},
        "violation": violation_counts(violations) if len(violations) else {},
    }
    axes = new_axes(ax, (9, 1.5 + 0.28 * sum(len(c) + 1 for c in counts.values())))
    bars: dict[str, BarContainer] = {}
    ticks: list[int] = []
    labels: list[str] = []
    headers: list[int] = []
    y = 0
    for panel, table in counts.items():
        headers.append(len(ticks))
        ticks.append(y)
        labels.append(
            f"{panel.replace('_', ' ')}s" if table else f"{panel.replace('_', ' ')}s: none"
        )
        rows = np.arange(y + 1, y + 1 + len(table))
        colours = [
            OUTCOME_COLOURS.get(k, "C0") if panel == "outcome" else _PANEL_COLOURS[panel]
            for k in table
        ]
        bars[panel] = axes.barh(rows, list(table.values()), color=colours)
        axes.bar_label(bars[panel], fontsize="small")
        ticks.extend(rows.tolist())
        labels.extend(table)
        y += len(table) + 1
    axes.set_yticks(ticks, labels, fontsize="small")
    for header in headers:
        axes.get_yticklabels()[header].set_fontweight("bold")
    axes.invert_yaxis()
    axes.set(xlabel="count", title="failure modes")
    return FailureModes(axes, bars, counts)


def time_in_status(
    summary: pd.DataFrame, *, stat: str = "mean", ax: Axes | None = None
) -> TimeInStatus:
    """Return stacked horizontal bars of the ``stat`` (mean or total) seconds in each status per
    outcome, from the summary's ``time_in_<status>_s`` columns (statuses never entered left out)."""
    if stat not in ("mean", "total"):
        raise UsageError(f"stat must be 'mean' or 'total', got {stat!r}")
    columns = [c for c in summary.columns if c.startswith("time_in_") and c.endswith("_s")]
    require_columns(summary, ("outcome",), "the summary", _FIX)
    if not columns:
        raise UsageError(f"the summary has no time_in_<status>_s columns: {_FIX}")
    grouped = summary.groupby(summary["outcome"].astype(str), sort=True)[columns]
    values = grouped.mean() if stat == "mean" else grouped.sum()
    values.columns = [c[len("time_in_") : -len("_s")] for c in columns]
    values = values.loc[:, (values > 0).any(axis=0)]
    axes = new_axes(ax, (9, 1.5 + 0.4 * len(values)))
    colours = palette(values.columns, STATUS_COLOURS)
    left = np.zeros(len(values))
    bars = {}
    for status in values.columns:  # one bar set per status (a handful)
        widths = values[status].to_numpy()
        bars[status] = axes.barh(
            values.index, widths, left=left, color=colours[status], label=status
        )
        left = left + widths
    axes.invert_yaxis()
    axes.set(xlabel=f"{stat} seconds in status", title=f"time in each status ({stat} per job)")
    if bars:
        axes.legend(fontsize="small", title="status")
    return TimeInStatus(axes, values, bars, stat)
