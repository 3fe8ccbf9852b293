"""Distributions per outcome: job durations as ECDFs, throughput as histograms with medians."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.errors import UsageError
from replay.plots._style import new_axes, palette, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

__all__ = [
    "PERCENTILES",
    "DurationDistribution",
    "Throughput",
    "duration_distribution",
    "job_throughput",
    "throughput",
]

#: The percentiles the duration plot marks on each curve.
PERCENTILES = (50, 90, 99)
_FIX = "pass the frame replay.summarize() returns"
_BINS = 40


@dataclass(frozen=True)
class DurationDistribution:
    """What ``duration_distribution`` drew: a step line per group (its ``x`` the sorted durations,
    its ``y`` the fraction of jobs at or under them) and the ``percentiles`` (group x p50/p90/p99)."""

    ax: Axes
    lines: dict[str, Line2D]
    marks: dict[str, PathCollection]
    percentiles: pd.DataFrame


@dataclass(frozen=True)
class Throughput:
    """What ``throughput`` drew: per job ``values`` (``unit`` per second), ``medians`` per outcome."""

    ax: Axes
    unit: str
    values: pd.DataFrame
    medians: dict[str, float]
    lines: dict[str, Line2D]


def duration_distribution(
    summary: pd.DataFrame, *, by: str = "outcome", ax: Axes | None = None
) -> DurationDistribution:
    """Return the empirical CDF of ``duration_s`` per ``by`` group, with p50, p90 and p99 marked."""
    require_columns(summary, ("duration_s", by), "the summary", _FIX)
    durations = summary["duration_s"].to_numpy(dtype=np.float64)
    groups = summary[by].astype(str).to_numpy()
    colours = palette(groups)
    axes = new_axes(ax)
    lines, marks, table = {}, {}, {}
    for name, colour in colours.items():  # one pass per group (a handful)
        x = np.sort(durations[(groups == name) & np.isfinite(durations)])
        if not len(x):
            continue
        y = np.arange(1, len(x) + 1) / len(x)
        (lines[name],) = axes.step(x, y, where="post", color=colour, label=f"{name} ({len(x)})")
        table[name] = np.percentile(x, PERCENTILES)
        levels = np.array(PERCENTILES) / 100
        marks[name] = axes.scatter(table[name], levels, color=colour, marker="|", s=120, zorder=3)
    percentiles = pd.DataFrame.from_dict(
        table, orient="index", columns=[f"p{q}" for q in PERCENTILES]
    )
    for level in PERCENTILES:
        axes.axhline(level / 100, color="#dddddd", lw=0.6, zorder=0)
    axes.set(xlabel="job duration (s)", ylabel="fraction of jobs", ylim=(0, 1.02))
    if len(durations) and np.nanmin(durations) > 0:
        axes.set_xscale("log")
    if lines:
        axes.legend(fontsize="small", title=by)
    return DurationDistribution(axes, lines, marks, percentiles.rename_axis(by))


def job_throughput(summary: pd.DataFrame, jobs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return ``job_id, outcome, rate, unit`` per job of positive duration.

    Bytes per second where ``size_bytes`` is known (``jobs`` table or summary column) for any
    job: the size times the share copied (``max_pct``; all of it for a completed job without
    one). Otherwise percent per second (``max_pct`` over the duration).
    """
    require_columns(summary, ("job_id", "outcome", "duration_s"), "the summary", _FIX)
    sizes = _sizes(summary, jobs)
    duration = summary["duration_s"].to_numpy(dtype=np.float64)
    use_bytes = bool(np.isfinite(sizes).any())
    if not use_bytes:
        require_columns(summary, ("max_pct",), "the summary", _FIX)
    pct = summary["max_pct"].to_numpy(dtype=np.float64) if "max_pct" in summary else sizes * np.nan
    done = (summary["outcome"].astype(str) == "completed").to_numpy()
    share = np.where(done, 1.0, pct / 100)
    amount = sizes * share if use_bytes else pct
    keep = np.isfinite(amount) & (duration > 0)
    return pd.DataFrame(
        {
            "job_id": summary["job_id"].to_numpy()[keep],
            "outcome": summary["outcome"].astype(str).to_numpy()[keep],
            "rate": amount[keep] / duration[keep],
            "unit": "bytes" if use_bytes else "percent",
        }
    )


def throughput(
    summary: pd.DataFrame, jobs: pd.DataFrame | None = None, *, ax: Axes | None = None
) -> Throughput:
    """Return histograms of per-job throughput per outcome (log scale), each median a dashed line."""
    values = job_throughput(summary, jobs)
    unit = str(values["unit"].iloc[0]) if len(values) else "percent"
    axes = new_axes(ax)
    rates = values["rate"].to_numpy()
    positive = rates[rates > 0]
    bins: int | list[float] = (
        np.geomspace(positive.min(), positive.max() * 1.0001, _BINS).tolist()
        if len(positive) and positive.max() > positive.min()
        else _BINS
    )
    colours = palette(values["outcome"])
    medians, lines = {}, {}
    for name, colour in colours.items():  # one pass per outcome (a handful)
        mine = rates[(values["outcome"] == name).to_numpy() & (rates > 0)]
        if not len(mine):
            continue
        axes.hist(mine, bins=bins, histtype="step", color=colour, label=f"{name} ({len(mine)})")
        medians[name] = float(np.median(mine))
        lines[name] = axes.axvline(medians[name], color=colour, ls="--", lw=1)
    if isinstance(bins, list):
        axes.set_xscale("log")
    axes.set(xlabel=f"{unit} per second (dashed: median)", ylabel="jobs")
    if medians:
        axes.legend(fontsize="small", title="outcome")
    return Throughput(axes, unit, values, medians, lines)


def _sizes(summary: pd.DataFrame, jobs: pd.DataFrame | None) -> np.ndarray:
    """``size_bytes`` per summary row as float (NaN unknown): the summary's column, else ``jobs``'."""
    if "size_bytes" in summary.columns:
        return pd.to_numeric(summary["size_bytes"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if jobs is None or "size_bytes" not in jobs.columns:
        if jobs is not None:
            raise UsageError("the jobs table has no size_bytes column: pass replay's jobs table")
        return np.full(len(summary), np.nan)
    known = jobs.drop_duplicates("job_id", keep="last")
    sizes = pd.to_numeric(known["size_bytes"], errors="coerce")
    sizes.index = pd.Index(known["job_id"].astype(str))
    return sizes.reindex(summary["job_id"].astype(str)).to_numpy(dtype=np.float64, na_value=np.nan)
