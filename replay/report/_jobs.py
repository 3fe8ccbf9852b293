"""Per-job sections of the report: the jobs the top violations point at, each with its strip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replay.report._data import Recording
from replay.report._figures import job_strip
from replay.report._numbers import job_anchor, seconds

__all__ = ["JobSection", "Segment", "job_sections"]

_NO_STATUS = "(none)"


@dataclass(frozen=True)
class Segment:
    """One run of a status in a job's strip: its share of the job's time, in percent."""

    status: str
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class JobSection:
    """What the report shows of one job."""

    job_id: str
    anchor: str
    facts: dict[str, str]
    segments: list[Segment]
    image: str | None
    transitions: list[dict[str, Any]]
    violations: list[dict[str, Any]]


def job_sections(rec: Recording, top: pd.DataFrame) -> list[JobSection]:
    """One section per job named in ``top``, in order of first mention."""
    from replay.engine import transitions

    ids = list(dict.fromkeys(top["job_id"].astype(str)))
    if not ids:
        return []
    obs = rec.obs[rec.obs["job_id"].astype(str).isin(ids).to_numpy()]
    obs = obs.assign(job_id=obs["job_id"].astype(str))
    moves = transitions(obs, rec.policy) if len(obs) else pd.DataFrame({"job_id": []})
    strips = _segments(obs)
    summary = rec.summary.assign(job_id=rec.summary["job_id"].astype(str)).set_index("job_id")
    mine = rec.violations[rec.violations["job_id"].astype(str).isin(ids).to_numpy()]
    by_job = dict(list(mine.groupby(mine["job_id"].astype(str), sort=False)))
    moves_by_job = dict(list(moves.groupby("job_id", sort=False)))
    sections = []
    for job_id in ids:  # one section per linked job (at most --top), never per observation
        own = by_job.get(job_id, mine.iloc[:0])
        sections.append(
            JobSection(
                job_id,
                job_anchor(job_id),
                _facts(summary, job_id),
                strips.get(job_id, []),
                job_strip(obs, job_id, own) if job_id in strips else None,
                _records(moves_by_job.get(job_id)),
                _records(own.drop(columns=["job_id"])),
            )
        )
    return sections


def _facts(summary: pd.DataFrame, job_id: str) -> dict[str, str]:
    if job_id not in summary.index:
        return {}
    row: dict[Any, Any] = summary.loc[job_id].to_dict()
    return {
        "outcome": str(row["outcome"]),
        "final status": str(row["final_status"]),
        "duration": seconds(float(row["duration_s"])),
        "observations": str(int(row["n_obs"])),
        "max percentage": "n/a" if pd.isna(row["max_pct"]) else f"{float(row['max_pct']):.0f}",
        "error code": "none" if pd.isna(row["error_code"]) else str(row["error_code"]),
        "first poll (UTC)": f"{row['first_ts']:%Y-%m-%d %H:%M:%S}",
    }


def _segments(obs: pd.DataFrame) -> dict[str, list[Segment]]:
    """Runs of one status per job, as shares of each job's polled time (vectorised over rows)."""
    from replay.plots import STATUS_COLOURS

    if not len(obs):
        return {}
    frame = obs.sort_values(["job_id", "seq"], kind="stable")
    job = frame["job_id"].to_numpy()
    status = frame["status"].astype(object).where(frame["status"].notna(), _NO_STATUS).to_numpy()
    ts = (frame["ts"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    new_job = np.r_[True, job[1:] != job[:-1]]
    start = np.flatnonzero(new_job | np.r_[True, status[1:] != status[:-1]])
    job_end = np.flatnonzero(np.r_[new_job[1:], True])  # last row of each job
    last_of_job = job_end[np.cumsum(new_job)[start] - 1]
    nxt = np.r_[start[1:], len(frame)]
    same_job = nxt <= last_of_job
    end_ts = np.where(same_job, ts[np.minimum(nxt, len(ts) - 1)], ts[last_of_job])
    first_ts = ts[np.flatnonzero(new_job)][np.cumsum(new_job)[start] - 1]
    span = np.maximum(ts[last_of_job] - first_ts, 1e-9)
    width = np.maximum(100 * (end_ts - ts[start]) / span, 0.0)
    out: dict[str, list[Segment]] = {}
    for j, s, w, a, b in zip(job[start], status[start], width, ts[start], end_ts, strict=True):
        colour = STATUS_COLOURS.get(str(s), "#000000")
        title = f"{s}: {seconds(float(b - a))}"
        out.setdefault(str(j), []).append(Segment(str(s), round(float(w), 3), colour, title))
    return out


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or not len(frame):
        return []
    shown = frame.drop(columns=["job_id"], errors="ignore").astype(object)
    return list(shown.where(shown.notna(), "").to_dict("records"))  # type: ignore[arg-type]
