"""The report's figures, drawn with ``replay.plots`` and embedded as PNG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replay.report._data import Recording

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["Figure_", "comparison_figures", "data_uri", "job_strip", "plot", "recording_figures"]

_DPI = 80
_COMPARE_JOBS = 5_000  # jobs per recording whose curves feed the overlaid progress bands


@dataclass(frozen=True)
class Figure_:
    """One embedded figure: ``uri`` is None when this replay has no such plot (``missing`` says why)."""

    key: str
    title: str
    uri: str | None
    missing: str = ""


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


def plot(name: str) -> Callable[..., Any] | None:
    """``replay.plots.<name>``, or None when this version of replay has no such plot."""
    import replay.plots

    found = getattr(replay.plots, name, None)
    return found if callable(found) else None


def _figure(key: str, title: str, name: str, draw: Callable[[Callable[..., Any]], Any]) -> Figure_:
    """Draw ``replay.plots.<name>`` with ``draw`` and embed it (or say it is missing)."""
    function = plot(name)
    if function is None:
        return Figure_(key, title, None, f"replay.plots.{name} is not available in this version")
    drawn = draw(function)
    return Figure_(key, title, data_uri(_axes_of(drawn).figure))


def _axes_of(drawn: Any) -> Axes:
    axes: Axes = drawn.ax
    return axes


def recording_figures(rec: Recording) -> list[Figure_]:
    """The figures of one recording, in the report's order."""
    obs, summary, violations = rec.obs, rec.summary, rec.violations
    sample_summary = summary if rec.engine == "pandas" else _only(summary, obs)
    return [
        _figure(
            "progress-curves",
            "Progress curves",
            "progress_curves",
            lambda f: f(obs, summary=sample_summary),
        ),
        _figure(
            "failure-modes", "Failure modes", "failure_modes", lambda f: f(summary, violations)
        ),
        _figure(
            "duration-distribution",
            "Duration distributions",
            "duration_distribution",
            lambda f: f(summary),
        ),
        _figure("time-in-status", "Time in status", "time_in_status", lambda f: f(summary)),
        _figure("throughput", "Throughput", "throughput", lambda f: f(summary, rec.jobs)),
        _figure(
            "fleet-timeline",
            "Fleet timeline",
            "fleet_timeline",
            lambda f: f(obs, sample_summary),
        ),
    ]


def _only(summary: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The summary rows of the jobs in ``obs``."""
    return summary[summary["job_id"].isin(obs["job_id"].astype(str).unique())]


def comparison_figures(a: Recording, b: Recording) -> list[Figure_]:
    """Duration ECDFs and progress bands of two recordings overlaid, each labelled."""
    summary = pd.concat(
        [_labelled(a.summary, a.name), _labelled(b.summary, b.name)], ignore_index=True
    )
    obs, sample = _overlaid_obs([a, b])
    return [
        _figure(
            "duration-distribution",
            "Duration distributions (overlaid)",
            "duration_distribution",
            lambda f: f(summary, by="recording"),
        ),
        _figure(
            "progress-bands",
            "Progress bands (overlaid: median, 50% and 90% of jobs)",
            "progress_curves",
            lambda f: f(obs, by="recording", summary=sample, bands=True),
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


def job_strip(obs: pd.DataFrame, job_id: str, violations: pd.DataFrame) -> str | None:
    """The job's status strip (``replay.plots.status_timeline``) as a data URI, if available."""
    function = plot("status_timeline")
    if function is None:
        return None
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(9, 1.8), layout="constrained")
    drawn = function(obs, job_id, violations=violations, ax=ax)
    return data_uri(_axes_of(drawn).figure, tight=False)
