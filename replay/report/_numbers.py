"""The report's numbers and tables: headline, outcomes, error codes, unknown statuses, differences."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from replay import _human
from replay.report._data import Recording
from replay.status import DIALECT_STATUSES

__all__ = [
    "Metric",
    "difference",
    "error_codes",
    "headline",
    "job_anchor",
    "outcome_mix",
    "seconds",
    "unknown_statuses",
]

_SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]+")


@dataclass(frozen=True)
class Metric:
    """One headline number: ``value`` (None when unknown), its text, and how to compare it."""

    name: str
    value: float | None
    text: str
    kind: str  # "count", "share" (0..1, compared in percentage points) or "size" (relative)


def seconds(value: float | None) -> str:
    """A duration for people: ``45 s``, ``12 min 05 s``, ``1 h 02 min`` (``n/a`` unknown)."""
    return _human.duration(value)


def headline(rec: Recording) -> list[Metric]:
    """Jobs, success rate, p50/p90/p99 duration and throughput (median per job, and fleet)."""
    from replay.plots import job_throughput

    summary = rec.summary
    n = len(summary)
    done = float((summary["outcome"].astype(str) == "completed").mean()) if n else None
    metrics = [
        Metric("jobs", float(n), f"{n:,}", "count"),
        Metric("success rate", done, _human.share(done), "share"),
    ]
    durations = summary["duration_s"].to_numpy(dtype=np.float64)
    durations = durations[np.isfinite(durations)]
    for q in (50, 90, 99):
        value = float(np.percentile(durations, q)) if len(durations) else None
        metrics.append(Metric(f"p{q} duration", value, seconds(value), "size"))
    rates = job_throughput(summary, rec.jobs) if n else pd.DataFrame({"rate": [], "unit": []})
    unit = str(rates["unit"].iloc[0]) if len(rates) else "percent"
    median = float(rates["rate"].median()) if len(rates) else None
    metrics.append(
        Metric(f"throughput (median job, {unit})", median, _human.rate(median, unit), "size")
    )
    fleet = _fleet_rate(summary, rates)
    metrics.append(Metric(f"fleet throughput ({unit})", fleet, _human.rate(fleet, unit), "size"))
    return metrics


def _fleet_rate(summary: pd.DataFrame, rates: pd.DataFrame) -> float | None:
    """Everything copied over the recording's wall-clock span."""
    if not len(rates):
        return None
    duration = summary.set_index("job_id")["duration_s"].reindex(rates["job_id"]).to_numpy()
    span = (summary["last_ts"].max() - summary["first_ts"].min()).total_seconds()
    return float(np.nansum(rates["rate"].to_numpy() * duration) / span) if span > 0 else None


def difference(a: Metric, b: Metric) -> str:
    """How ``b`` differs from ``a``: ``+3.2 pp`` for shares, ``-12%`` for sizes and counts."""
    if a.value is None or b.value is None:
        return "n/a"
    if a.name != b.name:  # throughput in bytes/s against percent/s
        return "not comparable (different units)"
    if a.kind == "share":
        return f"{100 * (b.value - a.value):+.1f} pp"
    change = b.value - a.value
    relative = f"{100 * change / a.value:+.0f}%" if a.value else "new"
    return f"{change:+,.0f} ({relative})" if a.kind == "count" else relative


def outcome_mix(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Jobs per outcome (``n0, share0, n1, ...``) for each summary, in the contract's order."""
    from replay.status import OUTCOMES

    columns: dict[str, pd.Series] = {}
    for i, summary in enumerate(summaries):
        counts = summary["outcome"].astype(str).value_counts()
        columns[f"n{i}"] = counts
        columns[f"share{i}"] = counts / max(len(summary), 1)
    frame = pd.DataFrame(columns).fillna(0.0)
    order = [o for o in OUTCOMES if o in frame.index] + sorted(set(frame.index) - set(OUTCOMES))
    return frame.loc[order].rename_axis("outcome").reset_index()


def error_codes(summary: pd.DataFrame) -> pd.DataFrame:
    """Jobs per last error code and outcome, most frequent first."""
    with_code = summary.loc[summary["error_code"].notna(), ["error_code", "outcome"]]
    return (
        with_code.astype(str)
        .value_counts()
        .rename("jobs")
        .reset_index()
        .sort_values(["jobs", "error_code"], ascending=[False, True], kind="stable")
    )


def unknown_statuses(rec: Recording) -> pd.DataFrame:
    """Each status outside the policy: when it first appeared, in how many jobs, how often."""
    obs = rec.obs if rec.unknown_obs is None else rec.unknown_obs
    status = obs["status"]
    is_cat = isinstance(status.dtype, pd.CategoricalDtype)
    values = status.cat.categories if is_cat else pd.unique(status.dropna())
    outside = [str(v) for v in values if str(v) not in set(rec.policy.statuses)]
    rows = obs.loc[status.isin(outside), ["job_id", "status", "ts"]]
    if not len(rows):
        return pd.DataFrame(columns=["status", "first_seen", "first_job", "jobs", "observations"])
    rows = rows.assign(status=rows["status"].astype(str), job_id=rows["job_id"].astype(str))
    first = rows.sort_values("ts", kind="stable").drop_duplicates("status")
    table = rows.groupby("status").agg(jobs=("job_id", "nunique"), observations=("ts", "size"))
    table = table.join(first.set_index("status")[["ts", "job_id"]])
    table = table.rename(columns={"ts": "first_seen", "job_id": "first_job"})
    table["known_as"] = [DIALECT_STATUSES.get(s, "") for s in table.index]
    return table.sort_values("first_seen").rename_axis("status").reset_index()


def job_anchor(job_id: str) -> str:
    """The HTML id of a job's section: ``job-<id>``, hashed when the id has other characters."""
    if _SAFE_ID.fullmatch(job_id):
        return f"job-{job_id}"
    return "job-" + hashlib.sha1(job_id.encode(), usedforsecurity=False).hexdigest()[:16]
