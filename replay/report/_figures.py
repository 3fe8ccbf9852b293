"""The report's figures, drawn with ``replay.plots`` and embedded as PNG data URIs."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.report._data import Recording
from replay.report._numbers import unknown_statuses

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["Embedded", "comparison_figures", "data_uri", "job_strip", "recording_figures"]

_DPI = 80
_COMPARE_JOBS = 5_000  # jobs per recording whose curves feed the overlaid progress bands


@dataclass(frozen=True)
class Embedded:
    """One figure of the report: its section id, title and PNG data URI."""

    key: str
    title: str
    uri: str


def data_uri(fig: Figure | SubFigure, *, tight: bool = True) -> str:
    """The figure as a base64 PNG data URI (the figure is closed).

    ``tight=False`` for figures laid out already (constrained layout): a tight bounding box
    draws the figure twice, which doubles the cost of the per-job strips.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight" if tight else None)
    plt.close(fig.figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _embed(key: str, title: str, ax: Axes) -> Embedded:
    return Embedded(key, title, data_uri(ax.figure))


def recording_figures(rec: Recording) -> list[Embedded]:
    """The figures of one recording, in the report's order."""
    from replay import plots

    obs, summary, violations = rec.obs, rec.summary, rec.violations
    sampled = summary if rec.engine == "pandas" else _only(summary, obs)
    return [
        _embed(
            "progress-curves", "Progress curves", plots.progress_curves(obs, summary=sampled).ax
        ),
        _embed("failure-modes", "Failure modes", plots.failure_modes(summary, violations).ax),
        _embed(
            "duration-distribution",
            "Duration distributions",
            plots.duration_distribution(summary).ax,
        ),
        _embed(
            "time-in-status",
            "Time in status",
            plots.time_in_status(summary, other=unknown_statuses(rec)["status"]).ax,
        ),
        _embed("throughput", "Throughput", plots.throughput(summary, rec.jobs).ax),
        _embed("fleet-timeline", "Fleet timeline", plots.fleet_timeline(obs, sampled).ax),
    ]


def _only(summary: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The summary rows of the jobs in ``obs``."""
    return summary[summary["job_id"].isin(obs["job_id"].astype(str).unique())]


def comparison_figures(a: Recording, b: Recording) -> list[Embedded]:
    """Duration ECDFs and progress bands of two recordings overlaid, each labelled."""
    from replay import plots

    summary = pd.concat(
        [_labelled(a.summary, a.name), _labelled(b.summary, b.name)], ignore_index=True
    )
    obs, sample = _overlaid_obs([a, b])
    ecdf = plots.duration_distribution(summary, by="recording")
    bands = plots.progress_curves(obs, by="recording", summary=sample, bands=True)
    return [
        _embed("duration-distribution", "Duration distributions (overlaid)", ecdf.ax),
        _embed(
            "progress-bands", "Progress bands (overlaid: median, 50% and 90% of jobs)", bands.ax
        ),
    ]


def _labelled(summary: pd.DataFrame, label: str) -> pd.DataFrame:
    """``summary`` with job ids prefixed by ``label`` (ids may repeat across recordings)."""
    out = summary.assign(recording=label)
    out["job_id"] = label + "/" + summary["job_id"].astype(str)
    return out


def _overlaid_obs(recs: list[Recording]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observations of up to ``_COMPARE_JOBS`` jobs of each recording, ids prefixed by its name."""
    parts, summaries = [], []
    columns = ["job_id", "seq", "ts", "status", "percentage_complete", "http_status"]
    for rec in recs:
        ids = rec.obs["job_id"].astype(str)
        unique = pd.unique(ids)
        keep = unique[np.linspace(0, len(unique) - 1, min(_COMPARE_JOBS, len(unique))).astype(int)]
        part = rec.obs.loc[ids.isin(keep).to_numpy(), columns].copy()
        part["job_id"] = rec.name + "/" + part["job_id"].astype(str)
        part["status"] = part["status"].astype(object)
        parts.append(part)
        summaries.append(_labelled(rec.summary[rec.summary["job_id"].isin(keep)], rec.name))
    return pd.concat(parts, ignore_index=True), pd.concat(summaries, ignore_index=True)


def job_strip(obs: pd.DataFrame, job_id: str, violations: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The job's status timeline (statuses as a strip, percentage and violations overlaid), and
    its runs of one status (``status, start_s, end_s``) that the HTML strip shows the same way."""
    from replay.plots import status_timeline

    drawn = status_timeline(obs, job_id, violations=violations)
    return data_uri(drawn.ax.figure, tight=False), drawn.segments
