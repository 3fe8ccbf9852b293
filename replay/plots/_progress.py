"""Progress curves: one line per job in a single LineCollection, or quantile bands past 5,000 jobs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.engine import Prepared, prepare
from replay.errors import UsageError
from replay.plots._style import new_axes, palette

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D

__all__ = [
    "BAND_LEVELS",
    "BAND_THRESHOLD",
    "GRID_POINTS",
    "ProgressBands",
    "ProgressCurves",
    "on_grid",
    "progress_curves",
]

#: Past this many jobs ``bands=None`` draws quantile bands instead of one line per job.
BAND_THRESHOLD = 5_000
#: The quantiles of the bands: the 90% band (5-95), the 50% band (25-75) and the median.
BAND_LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
#: Points of the common time grid the bands are computed on.
GRID_POINTS = 120
#: In relative time the bands' grid ends when this share of jobs have had their last poll.
TAIL_QUANTILE = 0.99
_CHUNK = 20_000  # jobs interpolated at once: bounds the (jobs x grid) working arrays
_TIMES = ("relative", "absolute")


@dataclass(frozen=True)
class ProgressBands:
    """Quantile bands per group: ``values[g, k, i]`` is quantile ``levels[k]`` of group ``g`` at
    ``grid[i]``, over the jobs of the group (``counts``)."""

    grid: np.ndarray
    groups: tuple[str, ...]
    levels: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    fills: tuple[PolyCollection, ...]
    medians: tuple[Line2D, ...]


@dataclass(frozen=True)
class ProgressCurves:
    """What ``progress_curves`` drew: one line per job (``job_ids`` in line order), or bands.

    ``lines`` is None when bands were drawn instead; ``groups`` is each job's group either way.
    """

    ax: Axes
    lines: LineCollection | None
    job_ids: np.ndarray
    groups: np.ndarray
    bands: ProgressBands | None = None


def progress_curves(
    obs: pd.DataFrame,
    *,
    by: str = "outcome",
    time: str = "relative",
    summary: pd.DataFrame | None = None,
    bands: bool | None = None,
    ax: Axes | None = None,
) -> ProgressCurves:
    """Return percentage-against-time curves, one per job with a percentage, coloured by ``by``.

    ``time="relative"`` counts seconds since each job's first poll, ``"absolute"`` uses UTC
    wall-clock time. ``bands`` (None: automatic past ``BAND_THRESHOLD`` jobs) draws the median,
    50% and 90% bands per group instead of the lines; a job keeps its last percentage after
    its last poll, and before its first one counts as 0% (relative time) or not at all (absolute
    time: a job not started yet is left out of the quantiles).
    """
    if time not in _TIMES:
        raise UsageError(f"time must be one of {', '.join(_TIMES)}, got {time!r}")
    p = prepare(obs)
    x = _x_values(p, time)
    rows = np.flatnonzero(p.pct_valid)
    blocks = p.block[rows]
    cuts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]]) if len(rows) else rows
    drawn = blocks[cuts] if len(rows) else np.zeros(0, np.int64)
    job_ids = p.job_ids[drawn].astype(str)
    groups = _groups(obs, summary, by, job_ids)
    colours = palette(groups)
    axes = new_axes(ax, constrained=False)
    use_bands = p.n_jobs > BAND_THRESHOLD if bands is None else bool(bands)
    if use_bands:
        job_of_point = np.repeat(np.arange(len(cuts)), np.diff(np.r_[cuts, len(rows)]))
        before = 0.0 if time == "relative" else np.nan
        found = _draw_bands(axes, (job_of_point, x[rows], p.pct[rows], before), groups, colours)
        lines = None
    else:
        lines = _draw_lines(axes, np.column_stack((x[rows], p.pct[rows])), cuts, groups, colours)
        found = None
    _decorate(axes, time, by, colours)
    return ProgressCurves(axes, lines, job_ids, groups, found)


def on_grid(
    job: np.ndarray, x: np.ndarray, y: np.ndarray, grid: np.ndarray, *, left: float = 0.0
) -> np.ndarray:
    """Each job's ``y`` linearly interpolated at ``grid``: a (jobs, grid) array.

    ``job`` numbers the points 0..n_jobs-1 (every number present); before a job's first point
    its value is ``left``, after its last point (in time order) it keeps its value there
    (``numpy.interp`` with ``left=left``, ``right=y[-1]`` per job), for all jobs at once.
    """
    order = np.lexsort((x, job))
    job, x, y = job[order], x[order], y[order]
    n_jobs = int(job[-1]) + 1 if len(job) else 0
    start = np.searchsorted(job, np.arange(n_jobs), side="left")
    end = np.r_[start[1:], len(job)] - 1
    low = min(float(x.min()), float(grid.min())) if len(x) else 0.0
    width = max(float(x.max()), float(grid.max())) - low + 1.0 if len(x) else 1.0
    key = job * width + (x - low)
    out = np.empty((n_jobs, len(grid)))
    for first in range(0, n_jobs, _CHUNK):  # a few chunks, never a loop per job
        jobs = np.arange(first, min(first + _CHUNK, n_jobs))
        query = jobs[:, None] * width + (grid[None, :] - low)
        out[jobs] = _interpolate(key, y, query, start[jobs, None], end[jobs, None], left)
    return out


def _interpolate(
    key: np.ndarray,
    y: np.ndarray,
    query: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    fill: float,
) -> np.ndarray:
    left = np.searchsorted(key, query, side="right") - 1
    before = left < start
    after = left >= end
    k0 = np.clip(left, 0, len(key) - 1)
    k1 = np.clip(left + 1, 0, len(key) - 1)
    span = np.where(before | after, 1.0, key[k1] - key[k0])
    frac = np.where(before | after, 0.0, (query - key[k0]) / span)
    value = y[k0] + (y[k1] - y[k0]) * frac
    return np.where(before, fill, np.where(after, y[np.minimum(end, len(y) - 1)], value))


def _x_values(p: Prepared, time: str) -> np.ndarray:
    if time == "relative":
        return (p.ts - p.ts[p.job_first]) / 1e6
    import matplotlib.dates as mdates

    days = mdates.date2num(p.ts.astype("datetime64[us]"))  # type: ignore[no-untyped-call]
    return np.asarray(days, dtype=np.float64)


def _groups(
    obs: pd.DataFrame, summary: pd.DataFrame | None, by: str, job_ids: np.ndarray
) -> np.ndarray:
    from replay.engine import summarize

    summary = summarize(obs) if summary is None else summary
    if by not in summary.columns:
        raise UsageError(
            f"cannot colour by {by!r}: the summary has no such column; use one of "
            f"{', '.join(map(str, summary.columns))}"
        )
    return summary.set_index("job_id")[by].reindex(job_ids).astype(str).to_numpy()


def _draw_lines(
    axes: Axes, xy: np.ndarray, cuts: np.ndarray, groups: np.ndarray, colours: dict[str, str]
) -> LineCollection:
    from matplotlib.collections import LineCollection

    segments = np.split(xy, cuts[1:]) if len(xy) else []
    from matplotlib.colors import to_rgba_array

    names = list(colours)
    rgba = to_rgba_array([colours[n] for n in names], alpha=0.6)  # converted once per group
    index = pd.Index(names).get_indexer(pd.Index(groups))
    lines = LineCollection(segments, colors=rgba[index] if len(index) else "C0", linewidths=0.7)
    axes.add_collection(lines)
    axes.autoscale_view()
    return lines


def _draw_bands(
    axes: Axes,
    points: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    groups: np.ndarray,
    colours: dict[str, str],
) -> ProgressBands:
    job, x, y, before = points
    grid = _grid(job, x, whole=np.isnan(before))
    values = on_grid(job, x, y, grid, left=before)
    names = tuple(colours)
    quantiles = np.empty((len(names), len(BAND_LEVELS), len(grid)))
    fills: list[PolyCollection] = []
    medians: list[Line2D] = []
    for g, name in enumerate(names):  # one pass per group (a handful), not per job
        quantiles[g] = _quantiles(values[groups == name])
        q05, q25, q50, q75, q95 = quantiles[g]
        fills.append(axes.fill_between(grid, q05, q95, color=colours[name], alpha=0.15, lw=0))
        fills.append(axes.fill_between(grid, q25, q75, color=colours[name], alpha=0.3, lw=0))
        medians.extend(axes.plot(grid, q50, color=colours[name], lw=1.5))
    counts = np.array([np.count_nonzero(groups == name) for name in names], dtype=np.int64)
    return ProgressBands(grid, names, BAND_LEVELS, quantiles, counts, tuple(fills), tuple(medians))


def _grid(job: np.ndarray, x: np.ndarray, *, whole: bool) -> np.ndarray:
    """The common grid: the whole span, or (``whole=False``) up to the time 99% of jobs have
    had their last poll, so a few very long jobs do not squeeze everyone else to the left."""
    if not len(x):
        return np.zeros(0)
    end = float(x.max())
    if not whole:
        starts = np.flatnonzero(np.r_[True, job[1:] != job[:-1]])
        end = float(np.quantile(np.maximum.reduceat(x, starts), TAIL_QUANTILE))
    return np.linspace(float(x.min()), max(end, float(x.min()) + 1e-9), GRID_POINTS)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``BAND_LEVELS`` quantiles per grid column; NaN (a job not started yet) left out."""
    if not np.isnan(values).any():
        return np.quantile(values, BAND_LEVELS, axis=0)
    with warnings.catch_warnings():  # a column before any job started is all NaN: NaN it stays
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, BAND_LEVELS, axis=0)


def _decorate(axes: Axes, time: str, by: str, colours: dict[str, str]) -> None:
    from matplotlib.lines import Line2D

    xlabel = "seconds since first poll" if time == "relative" else "time (UTC)"
    axes.set(xlabel=xlabel, ylabel="percentage complete", ylim=(-2, 102))
    if time == "absolute":
        axes.xaxis_date(tz="UTC")
    handles = [Line2D([], [], color=c, label=g) for g, c in colours.items()]
    if handles:
        axes.legend(handles=handles, title=by, fontsize="small")
