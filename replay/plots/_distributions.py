"""Distributions per outcome: job durations as ECDFs, throughput as histograms with medians."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay import _human
from replay._human import duration
from replay.errors import UsageError
from replay.plots._style import (
    count_axis,
    duration_axis,
    figure_note,
    is_bottom,
    legend_outside,
    new_axes,
    new_panels,
    note,
    palette,
    require_columns,
)

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
    "spans_decades",
    "throughput",
]

#: The percentiles the duration plot marks on each curve.
PERCENTILES = (50, 90, 99)
_FIX = "pass the frame replay.summarize() returns"
_BINS = 40
#: Durations (or rates) spanning this many powers of ten get a logarithmic axis.
DECADES = 2
_CROWDED = 0.12  # percentile labels closer than this share of the axis get lifted


@dataclass(frozen=True)
class DurationDistribution:
    """What ``duration_distribution`` drew: a step line per group (its ``x`` the sorted durations,
    its ``y`` the fraction of jobs at or under them), the ``percentiles`` (group x p50/p90/p99),
    whether the time axis is logarithmic, and per group the jobs drawn (``counts``) and of
    those the jobs that lasted 0 s (``zero``); ``unknown`` jobs had no duration (left out)."""

    ax: Axes
    lines: dict[str, Line2D]
    marks: dict[str, PathCollection]
    percentiles: pd.DataFrame
    log: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    zero: dict[str, int] = field(default_factory=dict)
    unknown: int = 0


@dataclass(frozen=True)
class Throughput:
    """What ``throughput`` drew: per job ``values`` (``unit`` per second), ``medians`` per outcome
    (of the jobs drawn), and ``left_out``: why the other jobs of the summary are not drawn."""

    ax: Axes
    unit: str
    values: pd.DataFrame
    medians: dict[str, float]
    lines: dict[str, Line2D]
    left_out: dict[str, int] = field(default_factory=dict)


def spans_decades(values: np.ndarray) -> bool:
    """The positive finite ``values`` span at least ``DECADES`` powers of ten (log axis wanted)."""
    positive = values[np.isfinite(values) & (values > 0)]
    return bool(len(positive)) and float(positive.max()) >= float(positive.min()) * 10**DECADES


def duration_distribution(
    summary: pd.DataFrame, *, by: str = "outcome", ax: Axes | None = None
) -> DurationDistribution:
    """Return the empirical CDF of ``duration_s`` per ``by`` group, with p50, p90 and p99 marked.

    The time axis is logarithmic whenever the durations span ``DECADES`` powers of ten; jobs that
    lasted 0 s (a single poll) cannot sit on it, so each curve starts at their share, and a note
    says how many. The fleet's p50, p90 and p99 (the report's headline) label the top axis, each
    group's in the legend.
    """
    require_columns(summary, ("duration_s", by), "the summary", _FIX)
    durations = summary["duration_s"].to_numpy(dtype=np.float64, na_value=np.nan)
    groups = summary[by].astype(str).to_numpy()
    known = np.isfinite(durations)
    colours = palette(groups[known])
    axes = new_axes(ax, (11, 4.5))
    log = spans_decades(durations)
    lines, marks, table, counts, zero = {}, {}, {}, {}, {}
    for name, colour in colours.items():  # one pass per group (a handful)
        x = np.sort(durations[(groups == name) & known])
        y = np.arange(1, len(x) + 1) / len(x)
        table[name] = np.percentile(x, PERCENTILES)
        counts[name], zero[name] = len(x), int(np.count_nonzero(x <= 0))
        label = f"{name} ({len(x):,}): " + " · ".join(duration(v) for v in table[name])
        (lines[name],) = axes.step(x, y, where="post", color=colour, label=label)
        levels = np.array(PERCENTILES) / 100
        marks[name] = axes.scatter(table[name], levels, color=colour, marker="|", s=120, zorder=3)
    percentiles = pd.DataFrame.from_dict(
        table, orient="index", columns=[f"p{q}" for q in PERCENTILES]
    )
    for level in PERCENTILES:
        axes.axhline(level / 100, color="#dddddd", lw=0.6, zorder=0)
    _duration_axes(axes, durations[known], log=log)
    unknown = int(np.count_nonzero(~known))
    note(axes, _duration_note(sum(zero.values()), unknown, log=log))
    if lines:
        legend_outside(axes, title=f"{by} (jobs): p50 · p90 · p99")
    return DurationDistribution(
        axes, lines, marks, percentiles.rename_axis(by), log, counts, zero, unknown
    )


def _duration_axes(axes: Axes, durations: np.ndarray, *, log: bool) -> None:
    """Labels, limits and human ticks of the duration plot; the fleet's percentiles on top."""
    from matplotlib.ticker import PercentFormatter

    axes.set(xlabel="job duration (first to last poll)", ylabel="share of jobs done within")
    axes.set_ylim(0, 1.02)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    positive = durations[durations > 0]
    if log:
        axes.set_xscale("log")
        axes.set_xlim(float(positive.min()) / 1.5, float(positive.max()) * 1.5)
    elif len(durations):
        axes.set_xlim(0, max(float(durations.max()) * 1.05, 1.0))
    duration_axis(axes.xaxis, log=log)
    if len(durations):
        fleet = np.percentile(durations, PERCENTILES)
        for value in fleet:
            axes.axvline(value, color="#999999", lw=0.8, ls=":", zorder=0)
        top = axes.secondary_xaxis("top")
        top.set_xticks(fleet.tolist(), _percentile_labels(axes, fleet), fontsize="small")
        top.tick_params(length=3)


def _percentile_labels(axes: Axes, values: np.ndarray) -> list[str]:
    """``p50 2 min 30 s`` per fleet percentile; one lifted above when it crowds the previous."""
    where = axes.transScale.transform(np.column_stack((values, np.zeros(len(values)))))[:, 0]
    low, high = axes.transScale.transform(np.column_stack((axes.get_xlim(), [0, 0])))[:, 0]
    labels, lifted = [], False
    for i, (q, v) in enumerate(zip(PERCENTILES, values, strict=True)):
        close = i > 0 and abs(where[i] - where[i - 1]) < _CROWDED * abs(high - low)
        lifted = close and not lifted
        labels.append(f"p{q}\n{duration(v)}" + ("\n\n" if lifted else ""))
    return labels


def _duration_note(zero: int, unknown: int, *, log: bool) -> str:
    """What the duration plot cannot show, in words."""
    parts = []
    if zero and log:
        parts.append(
            f"{_human.jobs(zero)} lasted 0 s (a single poll): a log axis has no 0, so each curve "
            "starts at its share of them"
        )
    elif zero:
        parts.append(f"{_human.jobs(zero)} lasted 0 s (a single poll)")
    if unknown:
        parts.append(f"{_human.jobs(unknown)} without a duration left out")
    scale = "log time axis" if log else ""
    return "; ".join([scale, *parts] if scale else parts)


def job_throughput(summary: pd.DataFrame, jobs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return ``job_id, outcome, rate, unit`` per job of positive duration.

    Bytes per second where ``size_bytes`` is known (``jobs`` table or summary column) for any
    job: the size times the share copied (``max_pct``; all of it for a completed job without
    one). Otherwise percent per second (``max_pct`` over the duration).
    """
    amount, seconds, unit = _amounts(summary, jobs)
    keep = np.isfinite(amount) & (seconds > 0)
    return pd.DataFrame(
        {
            "job_id": summary["job_id"].to_numpy()[keep],
            "outcome": summary["outcome"].astype(str).to_numpy()[keep],
            "rate": amount[keep] / seconds[keep],
            "unit": unit,
        }
    )


def _amounts(
    summary: pd.DataFrame, jobs: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Per summary row: what it copied (bytes or percent), its seconds, and the unit."""
    require_columns(summary, ("job_id", "outcome", "duration_s"), "the summary", _FIX)
    sizes = _sizes(summary, jobs)
    seconds = summary["duration_s"].to_numpy(dtype=np.float64, na_value=np.nan)
    use_bytes = bool(np.isfinite(sizes).any())
    if not use_bytes:
        require_columns(summary, ("max_pct",), "the summary", _FIX)
    pct = (
        summary["max_pct"].to_numpy(dtype=np.float64, na_value=np.nan)
        if "max_pct" in summary
        else sizes * np.nan
    )
    done = (summary["outcome"].astype(str) == "completed").to_numpy()
    share = np.where(done, 1.0, pct / 100)
    return (sizes * share if use_bytes else pct), seconds, "bytes" if use_bytes else "percent"


def throughput(
    summary: pd.DataFrame, jobs: pd.DataFrame | None = None, *, ax: Axes | None = None
) -> Throughput:
    """Return a histogram of per-job throughput per outcome, a panel each (log scale, shared),
    each median a dashed line; the title of each panel and a note count the jobs left out."""
    values = job_throughput(summary, jobs)
    unit = str(values["unit"].iloc[0]) if len(values) else _amounts(summary, jobs)[2]
    rates = values["rate"].to_numpy()
    positive = rates > 0
    colours = palette(values["outcome"][positive])
    panels = _rate_panels(ax, max(len(colours), 1))
    bins = _rate_bins(rates[positive])
    totals = summary["outcome"].astype(str).value_counts()
    medians, lines = {}, {}
    for axes, (name, colour) in zip(panels, colours.items(), strict=False):  # one per outcome
        mine = rates[(values["outcome"] == name).to_numpy() & positive]
        axes.hist(mine, bins=bins, histtype="stepfilled", color=colour, alpha=0.8)
        medians[name] = float(np.median(mine))
        lines[name] = axes.axvline(medians[name], color="black", ls="--", lw=1)
        axes.set_title(
            f"{name}: {len(mine):,} of {_human.jobs(int(totals.get(name, 0)))}, "
            f"median {_human.rate(medians[name], unit)}",
            fontsize="small",
        )
    for axes in panels[len(colours) :]:
        axes.set_axis_off()
    _rate_axes(panels[: max(len(colours), 1)], rates[positive], unit)
    left_out = _throughput_left_out(summary, jobs, rates)
    figure_note(panels[0], _left_out_note(left_out, len(summary)))
    return Throughput(panels[0], unit, values, medians, lines, left_out)


def _rate_panels(ax: Axes | None, groups: int) -> list[Axes]:
    """A panel per outcome, two columns, sharing the rate axis (each its own count axis)."""
    cols = 1 if groups == 1 else 2
    rows = -(-groups // cols)
    height = 1.0 + 1.5 * rows
    margins = {
        "left": 0.07, "right": 0.98, "bottom": 0.62 / height, "top": 1 - 0.6 / height,
        "wspace": 0.18, "hspace": 0.6,
    }  # fmt: skip
    panels = new_panels(ax, (rows, cols), (11, height), margins=margins)
    for axes in panels[1:]:
        axes.sharex(panels[0])
    return panels


def _rate_bins(rates: np.ndarray) -> list[float]:
    """Logarithmic bins over ``rates`` (a factor of 2 either side of a single value)."""
    if not len(rates):
        return [1.0, 10.0]
    low, high = float(rates.min()), float(rates.max())
    if high <= low * 1.0001:
        low, high = low / 2, high * 2
    return np.geomspace(low, high * 1.0001, _BINS).tolist()


def _rate_axes(panels: list[Axes], rates: np.ndarray, unit: str) -> None:
    """Log rate axis with human labels (``1 MB/s``) on the bottom panels, counts on the left."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    narrow = not spans_decades(rates) if len(rates) > 1 else True
    per = "bytes" if unit == "bytes" else "percent"
    for axes in panels:
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(
            LogLocator(base=10, subs=(1.0, 2.0, 5.0) if narrow else (1.0,))
        )
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _human.rate(v, unit)))
        axes.xaxis.set_minor_locator(NullLocator())  # no minor ticks: seven panels draw faster
        count_axis(axes.yaxis, most=3)
        axes.set_ylabel("jobs", fontsize="small")
        bottom = is_bottom(axes, len(panels))
        axes.tick_params(labelbottom=bottom)
        if bottom:
            axes.set_xlabel(f"{per} copied per second of the job (dashed: median)")


def _throughput_left_out(
    summary: pd.DataFrame, jobs: pd.DataFrame | None, rates: np.ndarray
) -> dict[str, int]:
    """Why jobs of the summary have no bar: reason -> jobs (reasons with none left out)."""
    if not len(summary):
        return {}
    amount, seconds, unit = _amounts(summary, jobs)
    what = "no known size" if unit == "bytes" else "no percentage reported"
    reasons = {
        "lasted 0 s (a single poll: no rate)": int(np.count_nonzero(seconds <= 0)),
        "no duration": int(np.count_nonzero(~np.isfinite(seconds))),
        what: int(np.count_nonzero(np.isfinite(seconds) & (seconds > 0) & ~np.isfinite(amount))),
        "copied nothing (a rate of 0 has no place on a log axis)": int(
            np.count_nonzero(rates <= 0)
        ),
    }
    return {k: v for k, v in reasons.items() if v}


def _left_out_note(left_out: dict[str, int], total: int) -> str:
    """``1,234 of 20,000 jobs not drawn: 1,000 lasted 0 s, ...``, or nothing when none is."""
    if not left_out:
        return f"every one of the {total:,} jobs is drawn" if total else ""
    why = ", ".join(f"{n:,} {reason}" for reason, n in left_out.items())
    return f"{sum(left_out.values()):,} of {_human.jobs(total)} not drawn: {why}"


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
