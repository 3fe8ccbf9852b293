"""Bar charts of per-job summaries: failure modes and time in each status per outcome."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay._human import jobs
from replay.errors import UsageError
from replay.plots._style import (
    OUTCOME_COLOURS,
    STATUS_COLOURS,
    count_axis,
    duration_axis,
    legend_outside,
    new_axes,
    new_panels,
    palette,
    require_columns,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer

__all__ = ["FailureModes", "TimeInStatus", "failure_modes", "other_label", "time_in_status"]

#: Bar colours of the error-code panel and of the violation panel by severity.
PANEL_COLOURS = {"error_code": "#332288", "error": "#CC6677", "warning": "#DDCC77"}
_FIX = "pass the frame replay.summarize() returns"
_ROOM = 1.3  # the count axis runs this far past the longest bar: its label stays inside
_BAR_INCHES = 0.26
_PANEL_INCHES = 0.7  # a panel's title and axis, whatever its bars


@dataclass(frozen=True)
class FailureModes(Mapping[str, "BarContainer"]):
    """What ``failure_modes`` drew: a panel (``axes``) per group (``outcome``, ``error_code``,
    ``violation``), each with its own count scale, bars largest first, and ``counts`` (name ->
    jobs or violations, in bar order); indexing it by panel gives the bars."""

    ax: Axes
    bars: dict[str, BarContainer]
    counts: dict[str, dict[str, int]]
    axes: dict[str, Axes] = field(default_factory=dict)

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
    """Return horizontal bars of outcome, error code and violation code counts: a panel each,
    each on its own scale, largest first, every count written inside its panel."""
    require_columns(summary, ("job_id", "outcome", "error_code"), "the summary", _FIX)
    counts = _failure_counts(summary, violations)
    heights = [max(len(table), 1) * _BAR_INCHES + _PANEL_INCHES for table in counts.values()]
    panels = new_panels(ax, (3, 1), (10, sum(heights) + 0.3), heights=heights)
    titles = _panel_titles(summary, violations)
    bars: dict[str, BarContainer] = {}
    for axes, (panel, table) in zip(panels, counts.items(), strict=True):
        bars[panel] = _panel_bars(axes, panel, table, len(summary))
        axes.set_title(titles[panel], loc="left", fontsize="medium", fontweight="bold")
    return FailureModes(panels[0], bars, counts, dict(zip(counts, panels, strict=True)))


def _failure_counts(summary: pd.DataFrame, violations: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Outcomes (jobs), last error codes (jobs) and violation codes (violations), largest first."""
    from replay.engine import outcome_counts, violation_counts

    tables = {
        "outcome": outcome_counts(summary) if len(summary) else {},
        "error_code": {str(k): int(v) for k, v in summary["error_code"].value_counts().items()},
        "violation": violation_counts(violations) if len(violations) else {},
    }
    return {
        panel: dict(sorted(((k, v) for k, v in table.items() if v), key=lambda kv: -kv[1]))
        for panel, table in tables.items()
    }


def _panel_titles(summary: pd.DataFrame, violations: pd.DataFrame) -> dict[str, str]:
    """Each panel's heading, with the total it adds up to."""
    coded = int(summary["error_code"].notna().sum())
    hit = int(violations["job_id"].nunique()) if len(violations) else 0
    return {
        "outcome": f"outcomes: how the {jobs(len(summary))} ended",
        "error_code": f"last error code: {coded:,} of {jobs(len(summary))} reported one",
        "violation": f"violations of the status model: {len(violations):,} in {jobs(hit)}",
    }


def _panel_bars(axes: Axes, panel: str, table: dict[str, int], jobs: int) -> BarContainer:
    """One panel's bars, largest at the top, each labelled with its count inside the axes."""

    from replay.engine import SEVERITY

    names, values = list(table), np.array(list(table.values()), dtype=np.int64)
    if panel == "outcome":
        colours = [OUTCOME_COLOURS.get(k, "#777777") for k in names]
    elif panel == "violation":
        colours = [PANEL_COLOURS.get(SEVERITY.get(k, "error"), "#777777") for k in names]
    else:
        colours = [PANEL_COLOURS["error_code"]] * len(names)
    y = np.arange(len(names))
    bars = axes.barh(y, values, color=colours)
    shares = [f" ({100 * v / jobs:.1f}%)" if panel == "outcome" and jobs else "" for v in values]
    axes.bar_label(bars, [f"{v:,}{s}" for v, s in zip(values, shares, strict=True)], padding=3)
    axes.set_yticks(y, names)
    axes.set_ylim(len(names) - 0.5 if len(names) else 0.5, -0.5)  # largest first, on top
    axes.set_xlim(0, max(int(values.max()) if len(values) else 1, 1) * _ROOM)
    axes.set_xlabel("violations" if panel == "violation" else "jobs", fontsize="small")
    count_axis(axes.xaxis)
    if not len(names):
        axes.set_yticks([])
        axes.text(0.5, 0.5, "none", transform=axes.transAxes, ha="center", va="center")
    elif panel == "violation":
        from matplotlib.patches import Patch

        kinds = dict.fromkeys(SEVERITY.get(k, "error") for k in names)
        keys = [Patch(color=PANEL_COLOURS[k], label=k) for k in ("error", "warning") if k in kinds]
        legend_outside(axes, handles=keys, title="severity")
    return bars


def other_label(other: Iterable[str] | None) -> str:
    """How a legend names ``other``: the statuses it holds, when they are known."""
    held = sorted({str(s) for s in other}) if other is not None else []
    if other is None:
        return "other (any status outside the policy)"
    if not held:
        return "other (no status outside the policy)"
    return f"other (outside the policy): {', '.join(held)}"


def time_in_status(
    summary: pd.DataFrame,
    *,
    stat: str = "mean",
    other: Iterable[str] | None = None,
    ax: Axes | None = None,
) -> TimeInStatus:
    """Return stacked horizontal bars of the ``stat`` (mean or total) seconds in each status per
    outcome, from the summary's ``time_in_<status>_s`` columns (statuses never entered left out).

    ``other`` names the statuses outside the policy that ``time_in_other_s`` holds (the report
    passes those it found), so the legend can say what ``other`` is.
    """
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
    sizes = summary["outcome"].astype(str).value_counts()
    axes = new_axes(ax, (11, 1.5 + 0.4 * len(values)))
    colours = palette(values.columns, STATUS_COLOURS)
    rows = [f"{name} ({jobs(int(sizes.get(name, 0)))})" for name in values.index]
    left = np.zeros(len(values))
    bars = {}
    for status in values.columns:  # one bar set per status (a handful)
        widths = values[status].to_numpy()
        label = other_label(other) if status == "other" else status
        bars[status] = axes.barh(rows, widths, left=left, color=colours[status], label=label)
        left = left + widths
    axes.invert_yaxis()
    axes.set(xlabel=f"{stat} time per job in each status", title=f"time in each status ({stat})")
    duration_axis(axes.xaxis, log=False)
    if bars:
        legend_outside(axes, title="status")
    return TimeInStatus(axes, values, bars, stat)
