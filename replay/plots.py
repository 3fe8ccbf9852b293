"""Matplotlib figures of a recording: progress curves and failure modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay._engine import prepare

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection
    from matplotlib.container import BarContainer

__all__ = ["ProgressCurves", "failure_modes", "progress_curves"]

#: Fixed colours per outcome, so every figure and report reads the same way.
OUTCOME_COLOURS = {
    "completed": "#2ca02c",
    "failed": "#d62728",
    "delete_failed": "#8c564b",
    "cancelled": "#7f7f7f",
    "timed_out": "#ff7f0e",
    "monitor_expired": "#9467bd",
    "unauthorized": "#e377c2",
    "abandoned": "#bcbd22",
    "protocol_error": "#17becf",
}


@dataclass(frozen=True)
class ProgressCurves:
    """What ``progress_curves`` drew: one line per job (``job_ids`` in line order)."""

    ax: Axes
    lines: LineCollection
    job_ids: np.ndarray
    groups: np.ndarray


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 4))[1]


def progress_curves(
    obs: pd.DataFrame,
    by: str = "outcome",
    *,
    summary: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> ProgressCurves:
    """Return the percentage-against-seconds-since-first-poll lines, one per job, coloured by ``by``."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from replay.summary import summarize

    p = prepare(obs)
    valid = p.pct_valid
    t = (p.ts - p.ts[p.job_first]) / 1e6
    rows = np.flatnonzero(valid)
    blocks = p.block[rows]
    cuts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]]) if len(rows) else rows
    xy = np.column_stack((t[rows], p.pct[rows]))
    segments = np.split(xy, cuts[1:]) if len(rows) else []
    drawn = blocks[cuts] if len(rows) else np.zeros(0, np.int64)
    job_ids = p.job_ids[drawn].astype(str)
    summary = summarize(obs) if summary is None else summary
    groups = summary.set_index("job_id")[by].reindex(job_ids).astype(str).to_numpy()
    palette = _palette(groups)
    lines = LineCollection(segments, colors=[palette[g] for g in groups], linewidths=0.7, alpha=0.6)
    axes = _new_axes(ax)
    axes.add_collection(lines)
    axes.autoscale_view()
    axes.set(xlabel="seconds since first poll", ylabel="percentage complete", ylim=(-2, 102))
    handles = [Line2D([], [], color=c, label=g) for g, c in palette.items()]
    if handles:
        axes.legend(handles=handles, title=by, fontsize="small")
    return ProgressCurves(axes, lines, job_ids, groups)


def _palette(groups: np.ndarray) -> dict[str, str]:
    """A colour per group: the outcome colours, else matplotlib's tab10 cycle."""
    names = sorted(set(groups.tolist()))
    cycle = [f"C{i % 10}" for i in range(len(names))]
    return {g: OUTCOME_COLOURS.get(g, c) for g, c in zip(names, cycle, strict=True)}


def failure_modes(
    summary: pd.DataFrame, violations: pd.DataFrame, *, axes: list[Axes] | None = None
) -> dict[str, BarContainer]:
    """Return horizontal bars of outcome, error code and violation code counts, one panel each."""
    import matplotlib.pyplot as plt

    from replay.summary import outcome_counts
    from replay.validate import violation_counts

    counts = {
        "outcome": outcome_counts(summary) if len(summary) else {},
        "error_code": {str(k): int(v) for k, v in summary["error_code"].value_counts().items()},
        "violation": violation_counts(violations) if len(violations) else {},
    }
    panels = axes if axes is not None else list(plt.subplots(1, 3, figsize=(12, 4))[1])
    bars = {}
    for ax, (name, table) in zip(panels, counts.items(), strict=True):
        bars[name] = ax.barh(list(table), list(table.values()))
        ax.bar_label(bars[name])
        ax.invert_yaxis()
        ax.set_title(name.replace("_", " "))
    return bars
