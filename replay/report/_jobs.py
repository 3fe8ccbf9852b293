"""Per-job sections of the report: the jobs the top violations point at, each with its strip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from replay import _human
from replay.report._data import Recording
from replay.report._figures import job_strip
from replay.report._numbers import job_anchor

__all__ = ["JobSection", "Segment", "job_sections"]


@dataclass(frozen=True)
class Segment:
    """One run of a status in a job's strip: its share of the job's time, in percent."""

    status: str
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class JobSection:
    """What the report shows of one job: its facts, strip (and the strip's key), timeline image,
    transitions and violations, every value already in words."""

    job_id: str
    anchor: str
    facts: dict[str, str]
    segments: list[Segment]
    image: str | None
    transitions: list[dict[str, str]]
    violations: list[dict[str, str]]
    key: dict[str, str]


def job_sections(rec: Recording, top: pd.DataFrame) -> list[JobSection]:
    """One section per job named in ``top``, in order of first mention."""
    from replay.engine import transitions

    ids = list(dict.fromkeys(top["job_id"].astype(str)))
    if not ids:
        return []
    obs = rec.obs[rec.obs["job_id"].isin(ids).to_numpy()]  # categories compared, not converted
    obs = obs.assign(job_id=obs["job_id"].astype(str))
    moves = transitions(obs, rec.policy) if len(obs) else pd.DataFrame({"job_id": []})
    present = set(obs["job_id"])
    summary = rec.summary.assign(job_id=rec.summary["job_id"].astype(str)).set_index("job_id")
    mine = rec.violations[rec.violations["job_id"].isin(ids).to_numpy()]
    mine = mine.assign(job_id=mine["job_id"].astype(str))  # once: not per strip
    by_job = dict(list(mine.groupby("job_id", sort=False)))
    moves_by_job = dict(list(moves.groupby("job_id", sort=False)))
    sections = []
    for job_id in ids:  # one section per linked job (at most --top), never per observation
        own = by_job.get(job_id, mine.iloc[:0])
        image, runs = job_strip(obs, job_id, own) if job_id in present else (None, None)
        segments = strip_segments(runs)
        sections.append(
            JobSection(
                job_id,
                job_anchor(job_id),
                _facts(summary, job_id),
                segments,
                image,
                transition_rows(moves_by_job.get(job_id)),
                violation_rows(own),
                {s.status: s.colour for s in segments},
            )
        )
    return sections


def _facts(summary: pd.DataFrame, job_id: str) -> dict[str, str]:
    if job_id not in summary.index:
        return {}
    row: dict[Any, Any] = summary.loc[job_id].to_dict()
    final = row["final_status"]
    return {
        "outcome": str(row["outcome"]),
        "final status": "none (no poll carried a status)" if pd.isna(final) else str(final),
        "duration": _human.duration(row["duration_s"]),
        "observations": _human.count(row["n_obs"]),
        "max percentage": _human.pct(row["max_pct"]),
        "error code": "none" if pd.isna(row["error_code"]) else str(row["error_code"]),
        "first poll": _human.timestamp(row["first_ts"]),
    }


def strip_segments(runs: pd.DataFrame | None) -> list[Segment]:
    """The runs of one status of the job's timeline as shares of its polled time, coloured as
    the timeline colours them (a poll without a status continues the run before it)."""
    from replay.plots import STATUS_COLOURS, palette

    if runs is None or not len(runs):
        return []
    colours = palette(runs["status"], STATUS_COLOURS)
    start, end = runs["start_s"].to_numpy(float), runs["end_s"].to_numpy(float)
    span = float(end.max() - start.min())
    out = []
    for i, (status, a, b) in enumerate(zip(runs["status"].astype(str), start, end, strict=True)):
        last = i == len(runs) - 1
        length = "at the last poll" if last and b <= a else _human.duration(b - a)
        share = max(b - a, 0.0) / span if span > 0 else 1 / len(runs)  # one poll: all of it
        width = round(100 * share, 3)
        out.append(Segment(status, width, colours[status], f"{status}: {length}"))
    return out


def transition_rows(frame: pd.DataFrame | None) -> list[dict[str, str]]:
    """The job's changes of status, each value in words (times to the second, with the zone)."""
    if frame is None or not len(frame):
        return []
    return [
        {
            "from": str(row["from_status"]),
            "to": str(row["to_status"]),
            "at": _human.timestamp(row["ts_to"]),
            "after": _human.duration(row["dwell_s"]),
            "pct_from": _human.pct(row["pct_from"]),
            "pct_to": _human.pct(row["pct_to"]),
            "allowed": "yes" if bool(row["allowed"]) else "no",
        }
        for row in frame.to_dict("records")
    ]


def violation_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """The job's violations, each value in words."""
    return [
        {
            "seq": _human.count(row["seq"]),
            "ts": _human.timestamp(row["ts"]),
            "code": str(row["code"]),
            "severity": str(row["severity"]),
            "detail": str(row["detail"]),
        }
        for row in frame.to_dict("records")
    ]
