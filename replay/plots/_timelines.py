"""Timelines: one job's statuses as a coloured strip, and the fleet over wall-clock time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.engine import prepare
from replay.errors import UsageError
from replay.plots._style import OUTCOME_COLOURS, STATUS_COLOURS, new_axes, palette

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D

__all__ = ["FleetTimeline", "StatusTimeline", "fleet_table", "fleet_timeline", "status_timeline"]

#: Bucket widths ``fleet_timeline`` picks from when ``freq`` is None: the first giving <= 120.
FREQS = ("1s", "5s", "15s", "1min", "5min", "15min", "30min", "1h", "3h", "6h", "1D", "7D")
_MAX_BUCKETS = 120
_THROTTLED = (429, 503)
_NOT_FAILED = ("completed", "abandoned")
_SERIES = {
    "running": "#1f77b4",
    "started": "#7f7f7f",
    "completed": OUTCOME_COLOURS["completed"],
    "failed": OUTCOME_COLOURS["failed"],
    "throttled": "#ff7f0e",
}


@dataclass(frozen=True)
class StatusTimeline:
    """What ``status_timeline`` drew: ``segments`` (``status, start_s, end_s``: one per run of a
    status), a strip per status, the percentage line and the violation marks (None when absent)."""

    ax: Axes
    job_id: str
    segments: pd.DataFrame
    strips: dict[str, PolyCollection]
    pct: Line2D | None
    violations: LineCollection | None


@dataclass(frozen=True)
class FleetTimeline:
    """What ``fleet_timeline`` drew: ``table`` (per bucket start: running, started, completed,
    failed, throttled) and a line per column."""

    ax: Axes
    freq: str
    table: pd.DataFrame
    lines: dict[str, Line2D]


def status_timeline(
    obs: pd.DataFrame,
    job_id: str,
    *,
    violations: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> StatusTimeline:
    """Return one job's statuses as a coloured strip over seconds since its first poll, its
    percentage overlaid, and its ``violations`` (if given) as vertical marks."""
    rows = obs[obs["job_id"].astype(str) == str(job_id)]
    if not len(rows):
        raise UsageError(f"no job {job_id!r} in these observations: use a job_id from the summary")
    p = prepare(rows)
    t = (p.ts - p.ts[0]) / 1e6
    starts = np.flatnonzero(p.run_start)
    ends = np.r_[t[starts[1:]], t[-1]] if len(starts) else np.zeros(0)
    names = p.status_text(starts).astype(str)
    segments = pd.DataFrame({"status": names, "start_s": t[starts], "end_s": ends})
    axes = new_axes(ax, (9, 2.5))
    colours = palette(names, STATUS_COLOURS)
    strips = {}
    for status, colour in colours.items():  # one collection per status (a handful)
        mine = segments[segments["status"] == status]
        spans = list(zip(mine["start_s"], mine["end_s"] - mine["start_s"], strict=True))
        strips[status] = axes.broken_barh(spans, (0, 100), color=colour, alpha=0.45, label=status)
    pct = None
    if p.pct_valid.any():
        (pct,) = axes.plot(t[p.pct_valid], p.pct[p.pct_valid], color="black", lw=1.2, marker=".")
    marks = _violation_marks(axes, violations, job_id, p.ts[0])
    axes.set(xlabel="seconds since first poll", ylabel="percentage", ylim=(0, 100))
    axes.set_title(f"job {job_id}", fontsize="small")
    if strips:
        axes.legend(fontsize="small", loc="upper left", title="status")
    return StatusTimeline(axes, str(job_id), segments, strips, pct, marks)


def _violation_marks(
    axes: Axes, violations: pd.DataFrame | None, job_id: str, t0_us: int
) -> LineCollection | None:
    if violations is None or not len(violations):
        return None
    mine = violations[violations["job_id"].astype(str) == str(job_id)]
    if not len(mine):
        return None
    ts = pd.to_datetime(mine["ts"], utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    x = (ts.view(np.int64) - t0_us) / 1e6
    marks = axes.vlines(x, 0, 100, colors="#d62728", linestyles="dashed", lw=1)
    for xi, code in zip(x, mine["code"].astype(str), strict=True):  # one label per violation
        axes.annotate(code, (xi, 98), fontsize="x-small", rotation=90, va="top", color="#d62728")
    return marks


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
    """Return the fleet over wall-clock time: running, started, completed, failed and throttled
    per bucket (see ``fleet_table``), one step line each."""
    table = fleet_table(obs, summary, freq=freq)
    used = str(table.attrs.get("freq", freq or "bucket"))
    axes = new_axes(ax)
    lines = {}
    x = pd.DatetimeIndex(table.index).tz_localize(None).to_numpy()
    for name, colour in _SERIES.items():  # five series
        (lines[name],) = axes.step(
            x, table[name].to_numpy(), where="post", color=colour, label=name
        )
    axes.set(xlabel="time (UTC)", ylabel=f"jobs or polls per {used}")
    axes.legend(fontsize="small")
    return FleetTimeline(axes, used, table, lines)


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
