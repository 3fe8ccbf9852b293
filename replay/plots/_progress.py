"""Progress curves: one line per job in a single LineCollection, or quantile bands past 5,000 jobs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay._human import duration, jobs
from replay.engine import Prepared, prepare
from replay.errors import UsageError
from replay.plots._distributions import spans_decades
from replay.plots._style import (
    duration_axis,
    figure_note,
    is_bottom,
    legend_outside,
    new_axes,
    new_panels,
    note,
    palette,
)

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
    #: Every axes drawn on: one per group (small multiples of the bands), else just ``ax``.
    axes: tuple[Axes, ...] = ()
    #: Whether the time axis is logarithmic (relative time spanning decades).
    log: bool = False
    #: Jobs of ``obs`` without any percentage in 0..100: no curve.
    left_out: int = 0
    #: Jobs still polled past the end of a clipped (linear) time axis.
    clipped: int = 0


def progress_curves(
    obs: pd.DataFrame,
    *,
    by: str = "outcome",
    time: str = "relative",
    summary: pd.DataFrame | None = None,
    bands: bool | None = None,
    panels: bool | None = None,
    ax: Axes | None = None,
) -> ProgressCurves:
    """Return percentage-against-time curves, one per job with a percentage, coloured by ``by``.

    ``time="relative"`` counts seconds since each job's first poll (on a log axis when the jobs'
    lengths span ``DECADES`` powers of ten, else up to the time ``TAIL_QUANTILE`` of them had
    ended, the clipped tail said in a note), ``"absolute"`` uses UTC wall-clock time. ``bands``
    (None: automatic past ``BAND_THRESHOLD`` jobs) draws the median, 50% and 90% bands per group
    instead of the lines; a job keeps its last percentage after its last poll, and before its
    first one counts as 0% (relative time) or not at all (absolute time: a job not started yet is
    left out of the quantiles). ``panels`` (None: when drawing bands on a figure of its own) puts
    each group's bands in a panel of its own, all on the same axes, its job count in its title.
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
    use_bands = p.n_jobs > BAND_THRESHOLD if bands is None else bool(bands)
    split = use_bands and (ax is None if panels is None else bool(panels)) and len(colours) > 1
    where = _panels(ax, list(colours)) if split else dict.fromkeys(colours, _one_axes(ax))
    ends = ((p.ts[p.last] - p.ts[p.first]) / 1e6)[drawn]
    log = time == "relative" and spans_decades(ends)
    if use_bands:
        job_of_point = np.repeat(np.arange(len(cuts)), np.diff(np.r_[cuts, len(rows)]))
        before = 0.0 if time == "relative" else np.nan
        points = (job_of_point, x[rows], p.pct[rows], before)
        found = _draw_bands(where, points, groups, colours, log=log)
        lines = None
    else:
        axes = next(iter(where.values()), _one_axes(ax))
        xy = np.column_stack((x[rows], p.pct[rows]))
        lines = _draw_lines(axes, xy, cuts, groups, colours)
        found = None
    drawn_on = tuple(dict.fromkeys(where.values())) or (_one_axes(ax),)
    clipped = _time_axis(drawn_on, time, ends, x[rows], log=log)
    left_out = p.n_jobs - len(job_ids)
    _decorate(drawn_on, time, by, colours, found, own=ax is None)
    if ax is None:  # on the caller's axes the caller says what it wants (``left_out``)
        words = _progress_note(len(job_ids), left_out, clipped, ends, log=log)
        (figure_note if split else note)(drawn_on[0], words)
    return ProgressCurves(
        drawn_on[0], lines, job_ids, groups, found, drawn_on, log, left_out, clipped
    )


def _one_axes(ax: Axes | None) -> Axes:
    """The caller's axes, else those of a new figure (fixed margins: 10k lines draw faster)."""
    return new_axes(ax, (10, 4.5), constrained=False) if ax is None else ax


def _panels(ax: Axes | None, names: list[str]) -> dict[str, Axes]:
    """A panel per group, rows of up to four, all sharing both axes."""
    cols = len(names) if len(names) <= 3 else (-(-len(names) // 2) if len(names) <= 8 else 4)
    rows = -(-len(names) // cols)
    height = 1.0 + 2.3 * rows
    margins = {
        "left": 0.07, "right": 0.82, "bottom": 0.62 / height, "top": 1 - 0.75 / height,
        "wspace": 0.08, "hspace": 0.45,
    }  # fmt: skip
    panels = new_panels(ax, (rows, cols), (11, height), share=True, margins=margins)
    for extra in panels[len(names) :]:
        extra.set_axis_off()
    return dict(zip(names, panels, strict=False))


def _time_axis(
    panels: tuple[Axes, ...], time: str, ends: np.ndarray, x: np.ndarray, *, log: bool
) -> int:
    """Scale and limits of the time axis; returns how many jobs a clipped axis cuts short."""
    from matplotlib.ticker import NullLocator

    if time == "absolute" or not len(x):
        return 0
    axes = panels[0]
    if log:
        high = float(x.max()) * 1.2
        low = max(float(x[x > 0].min()), high * 1e-5) / 1.2
        for panel in panels:
            panel.set_xscale("log")
            panel.set_xlim(low, high)
            duration_axis(panel.xaxis, log=True)
            if len(panels) > 1:  # small multiples: no minor ticks (they cost more than they say)
                panel.xaxis.set_minor_locator(NullLocator())
        return 0
    tail = float(np.quantile(ends, TAIL_QUANTILE)) if len(ends) else 0.0
    clipped = int(np.count_nonzero(ends > tail * 1.02))
    right = tail * 1.02 if clipped else max(float(x.max()), 1.0) * 1.02
    for panel in panels:
        panel.set_xlim(0, max(right, 1.0))
        duration_axis(panel.xaxis, log=False)
    return clipped if axes.get_xlim()[1] < float(x.max()) else 0


def _progress_note(drawn: int, left_out: int, clipped: int, ends: np.ndarray, *, log: bool) -> str:
    """What the progress figure leaves out or bends, in words."""
    parts = [f"{jobs(drawn)} drawn"]
    if left_out:
        parts.append(f"{jobs(left_out)} reported no percentage in 0..100 (no curve)")
    if log:
        parts.append("log time axis (the jobs' lengths span decades)")
    if clipped:
        tail = duration(float(np.quantile(ends, TAIL_QUANTILE)))
        parts.append(
            f"time axis ends at {tail}, when {TAIL_QUANTILE:.0%} of the jobs had had their last "
            f"poll: {jobs(clipped)} polled longer"
        )
    return "; ".join(parts)


def on_grid(
    job: np.ndarray, x: np.ndarray, y: np.ndarray, grid: np.ndarray, *, left: float = 0.0
) -> np.ndarray:
    """Each job's ``y`` linearly interpolated at ``grid``: a (jobs, grid) array.

    ``job`` numbers the points 0..n_jobs-1 (every number present); before a job's first point
    its value is ``left``, after its last point (in time order) it keeps its value there
    (``numpy.interp`` with ``left=left``, ``right=y[-1]`` per job), for all jobs at once.
    """
    points = _Points.of(job, x, y, grid, left)
    return points.at(np.arange(points.n_jobs), grid)


@dataclass(frozen=True)
class _Points:
    """Points ready for interpolation: one sort key (job, then time), the slope to the next
    point, each job's first point; ``at`` reads any set of jobs on a grid."""

    key: np.ndarray
    y: np.ndarray
    slope: np.ndarray
    start: np.ndarray
    low: float
    width: float
    left: float

    @property
    def n_jobs(self) -> int:
        return len(self.start)

    @classmethod
    def of(
        cls, job: np.ndarray, x: np.ndarray, y: np.ndarray, grid: np.ndarray, left: float
    ) -> _Points:
        low = min(float(x.min()), float(grid.min())) if len(x) else 0.0
        width = max(float(x.max()), float(grid.max())) - low + 1.0 if len(x) else 1.0
        key = job * width + (x - low)  # orders by job, then time: one sort key
        job, key, y = _sorted_by_key(job, key, y)
        n_jobs = int(job[-1]) + 1 if len(job) else 0
        start = np.searchsorted(job, np.arange(n_jobs), side="left")
        end = np.r_[start[1:], len(job)] - 1
        return cls(key, y, _slopes(key, y, end), start, low, width, left)

    def at(self, jobs: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """The ``jobs``' values at ``grid``: a (len(jobs), grid) array, in chunks of jobs."""
        out = np.empty((len(jobs), len(grid)))
        for first in range(0, len(jobs), _CHUNK):  # a few chunks, never a loop per job
            mine = jobs[first : first + _CHUNK]
            query = mine[:, None] * self.width + (grid[None, :] - self.low)
            start = self.start[mine, None]
            out[first : first + len(mine)] = _interpolate(
                self.key, self.y, self.slope, query, start, self.left
            )
        return out


def _sorted_by_key(job: np.ndarray, key: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """``job``, ``key`` and ``y`` in key order. Points come by job in poll order, so only the
    jobs whose clock went back need sorting: their rows are sorted among themselves."""
    back = np.flatnonzero(key[1:] < key[:-1])
    if not len(back):
        return job, key, y
    if bool((job[1:] < job[:-1]).any()):  # not grouped by job: sort it all
        order = np.argsort(key, kind="stable")
        return job[order], key[order], y[order]
    skewed = np.zeros(int(job.max()) + 1, dtype=bool)
    skewed[job[back]] = True
    rows = np.flatnonzero(skewed[job])  # every row of those jobs, in job order
    order = rows[np.argsort(key[rows], kind="stable")]
    key, y = key.copy(), y.copy()
    key[rows], y[rows] = key[order], y[order]
    return job, key, y


def _slopes(key: np.ndarray, y: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per point: the slope to the next point of its job; 0 at each job's last point (it keeps
    its value after it) and where two points share a time (never interpolated from)."""
    slope = np.zeros(len(key))
    if len(key) > 1:
        step = np.diff(key)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope[:-1] = np.where(step > 0, np.diff(y) / step, 0.0)
        slope[end] = 0.0
    return slope


def _interpolate(
    key: np.ndarray,
    y: np.ndarray,
    slope: np.ndarray,
    query: np.ndarray,
    start: np.ndarray,
    fill: float,
) -> np.ndarray:
    """``y`` at each ``query`` key: the last point at or before it plus its slope times the gap
    (a job's keys all lie below the next job's, so that point is never of a later job)."""
    left = np.searchsorted(key, query, side="right") - 1
    before = left < start
    np.maximum(left, 0, out=left)
    value = query - key[left]
    value *= slope[left]
    value += y[left]
    value[before] = fill
    return value


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
    where: dict[str, Axes],
    points: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    groups: np.ndarray,
    colours: dict[str, str],
    *,
    log: bool,
) -> ProgressBands:
    job, x, y, before = points
    grid = _grid(job, x, whole=np.isnan(before), log=log)
    names = tuple(colours)
    code = pd.Index(names).get_indexer(pd.Index(groups))
    counts = np.bincount(code, minlength=len(names)).astype(np.int64)
    ready = _Points.of(job, x, y, grid, before)
    quantiles = np.empty((len(names), len(BAND_LEVELS), len(grid)))
    fills: list[PolyCollection] = []
    medians: list[Line2D] = []
    for g, name in enumerate(names):  # one pass per group (a handful), not per job
        axes = where[name]
        quantiles[g] = _quantiles(ready.at(np.flatnonzero(code == g), grid))  # then dropped
        q05, q25, q50, q75, q95 = quantiles[g]
        fills.append(axes.fill_between(grid, q05, q95, color=colours[name], alpha=0.2, lw=0))
        fills.append(axes.fill_between(grid, q25, q75, color=colours[name], alpha=0.45, lw=0))
        medians.extend(axes.plot(grid, q50, color=colours[name], lw=1.8))
    return ProgressBands(grid, names, BAND_LEVELS, quantiles, counts, tuple(fills), tuple(medians))


def _grid(job: np.ndarray, x: np.ndarray, *, whole: bool, log: bool = False) -> np.ndarray:
    """The common grid: the whole span, or (``whole=False``) up to the time 99% of jobs have
    had their last poll, so a few very long jobs do not squeeze everyone else to the left; on
    a ``log`` axis the whole span, evenly spaced in log from the first positive time."""
    if not len(x):
        return np.zeros(0)
    end = float(x.max())
    if log and end > 0:
        start = max(float(x[x > 0].min()), end * 1e-5)
        return np.geomspace(start, end, GRID_POINTS)
    if not whole:
        starts = np.flatnonzero(np.r_[True, job[1:] != job[:-1]])
        end = float(np.quantile(np.maximum.reduceat(x, starts), TAIL_QUANTILE))
    return np.linspace(float(x.min()), max(end, float(x.min()) + 1e-9), GRID_POINTS)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``BAND_LEVELS`` quantiles per grid column; NaN (a job not started yet) left out. Each
    column's values are reordered in the process (partitioned in place, not copied)."""
    if not len(values):
        return np.full((len(BAND_LEVELS), values.shape[1]), np.nan)
    if not np.isnan(values).any():
        return np.quantile(values, BAND_LEVELS, axis=0, overwrite_input=True)
    with warnings.catch_warnings():  # a column before any job started is all NaN: NaN it stays
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, BAND_LEVELS, axis=0, overwrite_input=True)


def _decorate(
    panels: tuple[Axes, ...],
    time: str,
    by: str,
    colours: dict[str, str],
    bands: ProgressBands | None,
    *,
    own: bool,
) -> None:
    """Labels and legends: a title with its job count per panel, the key outside the data
    (``own``: on a figure of its own, whose right margin is free for it)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    xlabel = "time since the job's first poll" if time == "relative" else "time (UTC)"
    counts = {} if bands is None else dict(zip(bands.groups, bands.counts.tolist(), strict=True))
    split = len(panels) > 1
    for axes in panels:
        axes.set_ylim(-2, 102)
        if time == "absolute":
            axes.xaxis_date(tz="UTC")
    for name, axes in zip(colours, panels, strict=False) if split else ():
        axes.set_title(f"{name}: {jobs(counts.get(name, 0))}", fontsize="medium")
    for axes in panels:
        spec = axes.get_subplotspec()
        if not split or spec is None or spec.is_first_col():
            axes.set_ylabel("percentage complete")
        if not split or is_bottom(axes, len(colours)):
            axes.set_xlabel(xlabel)
    if split:
        for axes in panels:
            spec = axes.get_subplotspec()
            first_col = spec is None or spec.is_first_col()
            axes.tick_params(labelbottom=is_bottom(axes, len(colours)), labelleft=first_col)
        _band_key(panels, Line2D, Patch, own=own)
        return
    handles = [
        Line2D([], [], color=c, label=f"{g} ({counts[g]:,})" if g in counts else g)
        for g, c in colours.items()
    ]
    if handles:
        legend_outside(panels[0], handles=handles, title=by)


def _band_key(panels: tuple[Axes, ...], line: type, patch: type, *, own: bool) -> None:
    """What the shades mean, once for all the panels, right of them."""
    handles = [
        line([], [], color="#555555", lw=1.8, label="median job"),
        patch(color="#555555", alpha=0.45, lw=0, label="middle 50% of jobs"),
        patch(color="#555555", alpha=0.2, lw=0, label="middle 90% of jobs"),
    ]
    figure = panels[0].figure
    if figure.get_layout_engine() is not None:
        figure.legend(handles=handles, loc="outside right upper", fontsize="small")
    elif own:  # our fixed margins leave the right of the figure free for it
        top = panels[0].get_position().y1
        figure.legend(
            handles=handles, loc="upper right", bbox_to_anchor=(0.995, top), fontsize="small"
        )
        figure.legends[-1].set(zorder=3)
    else:
        legend_outside(panels[-1], handles=handles)
