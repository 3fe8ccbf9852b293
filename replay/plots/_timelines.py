"""Timelines: one job's statuses as a coloured strip, and the fleet over wall-clock time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay._human import duration
from replay.engine import Prepared, prepare
from replay.errors import UsageError
from replay.plots._style import (
    OUTCOME_COLOURS,
    STATUS_COLOURS,
    count_axis,
    duration_axis,
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
    from matplotlib.text import Text

__all__ = [
    "FleetTimeline",
    "StatusTimeline",
    "fleet_table",
    "fleet_timeline",
    "status_timeline",
    "violation_groups",
]

#: Bucket widths ``fleet_timeline`` picks from when ``freq`` is None: the first giving <= 120.
FREQS = ("1s", "5s", "15s", "1min", "5min", "15min", "30min", "1h", "3h", "6h", "1D", "7D")
_MAX_BUCKETS = 120
_THROTTLED = (429, 503)
_NOT_FAILED = ("completed", "abandoned")
_SERIES = {
    "running": "#332288",
    "started": "#777777",
    "completed": OUTCOME_COLOURS["completed"],
    "failed": OUTCOME_COLOURS["failed"],
    "throttled": "#999933",
}
#: How the fleet timeline's legend names each series.
_SERIES_LABELS = {
    "running": "jobs running",
    "started": "jobs started",
    "completed": "jobs completed",
    "failed": "jobs failed (any other end)",
    "throttled": "polls throttled (HTTP 429/503)",
}
_VIOLATION = OUTCOME_COLOURS["failed"]
_VIOLATION_TEXT = OUTCOME_COLOURS["delete_failed"]  # darker: names stay legible
UTC = dt.UTC
#: Width of one line of a rotated violation name, as a share of the axis (at 9 inches wide).
LABEL_WIDTH = 0.026
_LABEL_GAP = 0.008
#: A strip's own figure: fixed margins (dozens are drawn per report), its legend at the right.
_STRIP_MARGINS = {"left": 0.08, "right": 0.79, "bottom": 0.16, "top": 0.86}


@dataclass(frozen=True)
class StatusTimeline:
    """What ``status_timeline`` drew: ``segments`` (``status, start_s, end_s``: one per run of a
    status; a poll without a status continues the run before it, as in the summary's time in
    status), a strip per status, the percentage line, the violation marks and their labels
    (None and empty when absent), and the polls that carried no status."""

    ax: Axes
    job_id: str
    segments: pd.DataFrame
    strips: dict[str, PolyCollection]
    pct: Line2D | None
    violations: LineCollection | None
    labels: tuple[Text, ...] = ()
    unread: Line2D | None = None


@dataclass(frozen=True)
class FleetTimeline:
    """What ``fleet_timeline`` drew: ``table`` (per bucket start: running, started, completed,
    failed, throttled), a line per column, and its two panels (``axes``): the jobs running (a
    level), then the events per bucket (started, completed, failed jobs; throttled polls)."""

    ax: Axes
    freq: str
    table: pd.DataFrame
    lines: dict[str, Line2D]
    axes: tuple[Axes, ...] = ()


def status_timeline(
    obs: pd.DataFrame,
    job_id: str,
    *,
    violations: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> StatusTimeline:
    """Return one job's statuses as a coloured strip over the time since its first poll, its
    percentage overlaid, its ``violations`` (if given) as vertical marks named at the top (marks
    closer than their names are wide share one name), and polls without a status as crosses."""
    rows = obs[obs["job_id"].astype(str) == str(job_id)]
    if not len(rows):
        raise UsageError(f"no job {job_id!r} in these observations: use a job_id from the summary")
    p = prepare(rows)
    t = (p.ts - p.ts[0]) / 1e6
    segments = _segments(p, t)
    axes = new_axes(ax, (9, 3), constrained=False, margins=_STRIP_MARGINS)
    low = min(float(t.min()), 0.0)  # a clock that went back puts polls before the first
    axes.set_xlim(low, max(float(t.max()), low + 1.0))
    colours = palette(segments["status"], STATUS_COLOURS)
    strips = {}
    for status, colour in colours.items():  # one collection per status (a handful)
        mine = segments[segments["status"] == status]
        spans = list(zip(mine["start_s"], mine["end_s"] - mine["start_s"], strict=True))
        strips[status] = axes.broken_barh(spans, (0, 100), color=colour, alpha=0.5, label=status)
    pct = None
    if p.pct_valid.any():
        (pct,) = axes.plot(
            t[p.pct_valid], p.pct[p.pct_valid], color="black", lw=1.2, marker=".",
            label="percentage",
        )  # fmt: skip
    unread = None
    if (~p.observed).any():
        (unread,) = axes.plot(
            t[~p.observed], np.full(int((~p.observed).sum()), 4.0), "x", color="black",
            ms=6, label="poll without a status",
        )  # fmt: skip
    marks, labels = _violation_marks(axes, violations, job_id, p.ts[0])
    axes.set(xlabel="time since the job's first poll", ylabel="percentage complete", ylim=(0, 100))
    duration_axis(axes.xaxis, log=False)
    axes.set_title(f"job {job_id}", fontsize="small")
    if len(t) == 1:
        note(axes, "a single poll: no time passed between the first and the last observation")
    if strips or pct is not None:
        legend_outside(axes, title="status")
    return StatusTimeline(axes, str(job_id), segments, strips, pct, marks, labels, unread)


def _segments(p: Prepared, t: np.ndarray) -> pd.DataFrame:
    """Runs of one status (``status, start_s, end_s``) over the job's seconds ``t``."""
    starts = np.flatnonzero(p.run_start)
    ends = np.r_[t[starts[1:]], t[-1]] if len(starts) else np.zeros(0)
    names = p.status_text(starts).astype(str)
    return pd.DataFrame({"status": names, "start_s": t[starts], "end_s": ends})


def _violation_marks(
    axes: Axes, violations: pd.DataFrame | None, job_id: str, t0_us: int
) -> tuple[LineCollection | None, tuple[Text, ...]]:
    if violations is None or not len(violations):
        return None, ()
    mine = violations[violations["job_id"].astype(str) == str(job_id)]
    if not len(mine):
        return None, ()
    ts = pd.to_datetime(mine["ts"], utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    x = (ts.view(np.int64) - t0_us) / 1e6
    marks = axes.vlines(x, 0, 100, colors=_VIOLATION, linestyles="dashed", lw=1)
    labels = []
    low, high = axes.get_xlim()
    for at, codes, side in violation_groups(x, mine["code"].astype(str).to_numpy(), (low, high)):
        labels.append(
            axes.text(
                at, 97, "\n".join(codes), fontsize="small", rotation=90, va="top", ha=side,
                color=_VIOLATION_TEXT, linespacing=1.5, clip_on=True,
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1},
            )
        )  # fmt: skip
    return marks, tuple(labels)


def violation_groups(
    x: np.ndarray, codes: np.ndarray, limits: tuple[float, float]
) -> list[tuple[float, list[str], str]]:
    """Violation names grouped so no two labels overlap: (where, distinct codes, which side of
    the mark the label sits: ``left`` puts it right of the mark) per group.

    Each label is about ``LABEL_WIDTH`` of the axis wide per line of its rotated text. It sits
    right of its group's first mark, or left of it near the right edge; a mark whose label
    would overlap the previous one joins that group instead.
    """
    low, high = limits
    span = max(high - low, 1e-9)
    order = np.argsort(x, kind="stable")
    groups: list[tuple[float, list[str], str]] = []
    ends = [-np.inf]  # where each group's label ends, as a share of the axis
    for xi, code in zip(x[order], codes[order], strict=True):  # a job's violations: a few
        at = min(max(float(xi), low), high)
        share = (at - low) / span
        fits_right = share + LABEL_WIDTH <= 1
        crowded = share < ends[-1] + _LABEL_GAP
        if not crowded and not fits_right:  # near the right edge: the label goes left of it
            crowded = share - LABEL_WIDTH < ends[-1] + _LABEL_GAP
        if groups and crowded:
            first, names, _ = groups[-1]
            if str(code) not in names:
                names.append(str(code))
        else:
            groups.append((at, [str(code)], "left"))
            ends.append(-np.inf)
        first, names, _ = groups[-1]
        start = (first - low) / span
        side = "left" if start + LABEL_WIDTH * len(names) <= 1 else "right"
        groups[-1] = (first, names, side)
        ends[-1] = start + LABEL_WIDTH * len(names) if side == "left" else np.inf
    return groups


def fleet_table(
    obs: pd.DataFrame, summary: pd.DataFrame | None = None, *, freq: str | None = None
) -> pd.DataFrame:
    """Per wall-clock bucket (``freq``, automatic by default): jobs running at any time in it,
    jobs started, completed and failed (any other ending outcome) in it, and throttled polls
    (HTTP 429/503)."""
    from replay.engine import summarize

    summary = summarize(obs) if summary is None else summary
    if not len(summary):
        return pd.DataFrame(columns=list(_SERIES), dtype=np.int64)
    first = _us(summary["first_ts"])
    last = _us(summary["last_ts"])
    freq = _freq(int(first.min()), int(last.max())) if freq is None else freq
    edges = _edges(int(first.min()), int(last.max()), freq)
    outcome = summary["outcome"].astype(str).to_numpy()
    failed = ~np.isin(outcome, _NOT_FAILED)
    codes = obs["http_status"] if "http_status" in obs.columns else pd.Series(0, index=obs.index)
    http = pd.to_numeric(codes, errors="coerce").to_numpy(dtype=float, na_value=0)
    throttled = _us(obs["ts"])[np.isin(http, _THROTTLED)]
    running = np.searchsorted(np.sort(first), edges[1:], side="left") - np.searchsorted(
        np.sort(last), edges[:-1], side="left"
    )
    table = {
        "running": running,
        "started": np.histogram(first, edges)[0],
        "completed": np.histogram(last[outcome == "completed"], edges)[0],
        "failed": np.histogram(last[failed], edges)[0],
        "throttled": np.histogram(throttled, edges)[0],
    }
    index = pd.DatetimeIndex(edges[:-1].astype("datetime64[us]"), name="bucket").tz_localize("UTC")
    frame = pd.DataFrame(table, index=index).astype(np.int64)
    frame.attrs["freq"] = freq
    return frame


def fleet_timeline(
    obs: pd.DataFrame,
    summary: pd.DataFrame | None = None,
    *,
    freq: str | None = None,
    ax: Axes | None = None,
) -> FleetTimeline:
    """Return the fleet over wall-clock time (see ``fleet_table``), one step line per series, in
    two panels: the jobs running (a level), then per bucket the jobs started, completed and
    failed and the polls throttled (counts of events)."""
    import matplotlib.dates as mdates

    table = fleet_table(obs, summary, freq=freq)
    used = str(table.attrs.get("freq", freq or "bucket"))
    level, events = new_panels(ax, (2, 1), (11, 5), heights=(2, 3))
    events.sharex(level)
    lines = {}
    x = pd.DatetimeIndex(table.index).tz_localize(None).to_numpy()
    for name, colour in _SERIES.items():  # five series
        where = level if name == "running" else events
        (lines[name],) = where.step(
            x, table[name].to_numpy(), where="post", color=colour, label=_SERIES_LABELS[name]
        )
    per = f"per {bucket_words(used)}"
    level.set(
        ylabel="jobs running", title=f"the fleet over time ({len(table):,} buckets of {per[4:]})"
    )
    events.set(xlabel="time (UTC)", ylabel=per)
    for axes in (level, events):
        locator = mdates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
        count_axis(axes.yaxis)
        legend_outside(axes)
    level.tick_params(labelbottom=False)
    return FleetTimeline(level, used, table, lines, (level, events))


def bucket_words(freq: str) -> str:
    """A bucket width for people: ``15 min``, ``1 h``, ``1 d``."""
    try:
        return duration(pd.Timedelta(freq).total_seconds())
    except ValueError:
        return freq


def _us(values: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(values, utc=True).dt.tz_localize(None)
    return ts.to_numpy(dtype="datetime64[us]").view(np.int64)


def _freq(start_us: int, end_us: int) -> str:
    span = pd.Timedelta(microseconds=end_us - start_us)
    for freq in FREQS:
        if span / pd.Timedelta(freq) < _MAX_BUCKETS:
            return freq
    return FREQS[-1]


def _edges(start_us: int, end_us: int, freq: str) -> np.ndarray:
    try:
        step = pd.Timedelta(freq)
    except ValueError:
        raise UsageError(
            f"freq must be a fixed duration such as '5min' or '1h', got {freq!r}"
        ) from None
    start = pd.Timestamp(start_us, unit="us").floor(step)
    edges = pd.date_range(start, pd.Timestamp(end_us, unit="us") + step, freq=step)
    return edges.to_numpy(dtype="datetime64[us]").view(np.int64)
