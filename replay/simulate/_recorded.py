"""One job of a recording as the responses it received, at the times it received them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from replay import store
from replay.errors import UsageError
from replay.payload import render_body
from replay.simulate._item import item_location
from replay.simulate._response import JSON_HEADERS, Response
from replay.status import DIALECTS

__all__ = ["RecordedJob", "recorded_job"]

_RECORDED_COLUMNS = (
    "status",
    "percentage_complete",
    "body",
    "retry_after_s",
    "resource_id",
    "error_code",
    "error_message",
    "operation",
)


class RecordedJob(NamedTuple):
    """What a timeline of a recorded job is made of."""

    responses: list[Response]
    scenario: str | None
    dialect: str | None
    labels: dict[str, str]


def recorded_job(root: str | Path, job_id: str) -> RecordedJob:
    """The responses job ``job_id`` of the recording at ``root`` received.

    Recorded bodies are served as stored (redacted); jobs recorded without bodies get them
    rendered in the dialect of the job's ``dialect`` label (default ``graph``). Times that
    went backwards (clock skew) are held at the previous time.
    """
    obs = store.read(root, jobs=[job_id])
    if obs.empty:
        known = store.read(root, columns=["job_id"])["job_id"].astype(str).unique()
        shown = ", ".join(sorted(known)[:5]) + (", ..." if len(known) > 5 else "")
        raise UsageError(
            f"no job {job_id!r} in the recording {str(root)!r}: pick one of its "
            f"{len(known)} job ids ({shown or 'none'})",
            job_id=job_id,
        )
    labels = _job_labels(root, job_id)
    dialect = labels.get("dialect")
    known_dialect = dialect if dialect in DIALECTS else None
    return RecordedJob(
        _recorded_responses(obs, known_dialect or "graph", job_id),
        labels.get("scenario"),
        known_dialect,
        {**labels, "source": "recording"},
    )


def _job_labels(root: str | Path, job_id: str) -> dict[str, str]:
    jobs = store.read_jobs(root)
    row = jobs[jobs["job_id"].astype(str) == job_id]
    if row.empty or not isinstance(row["labels"].iloc[0], str):
        return {}
    try:
        labels = json.loads(row["labels"].iloc[0])
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _recorded_responses(obs: Any, dialect: str, job_id: str) -> list[Response]:
    """One response per observation (columns gathered once, one Response built per row)."""
    ts = obs["ts"].to_numpy(dtype="datetime64[us]").astype("int64")
    at_s = np.maximum.accumulate((ts - ts[0]) / 1e6)
    http = obs["http_status"].astype("Int64").fillna(200).to_numpy(dtype="int64")
    columns = {
        name: obs[name].astype(object).where(obs[name].notna(), None).tolist()
        if name in obs.columns
        else [None] * len(obs)
        for name in _RECORDED_COLUMNS
    }
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    return [
        _recorded(float(t), int(h), row, dialect, job_id)
        for t, h, row in zip(at_s, http, rows, strict=True)
    ]


def _recorded(
    at_s: float, http: int, row: Mapping[str, Any], dialect: str, job_id: str
) -> Response:
    body: bytes = row["body"].encode() if row["body"] is not None else b""
    if not body and (row["status"] is not None or row["error_code"] is not None):
        pct = row["percentage_complete"]
        body = render_body(
            dialect,
            status=row["status"],
            percentage_complete=None if pct is None else float(pct),
            operation=row["operation"],
            resource_id=row["resource_id"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            job_id=job_id,
        )
    headers = list(JSON_HEADERS) if body.lstrip().startswith(b"{") else []
    if row["retry_after_s"] is not None:
        headers.append(("Retry-After", str(max(math.ceil(float(row["retry_after_s"])), 0))))
    if http == 303:  # the recording keeps no Location: the dialect's, for the recorded item
        headers.append(("Location", item_location(dialect, job_id, row["resource_id"])))
    return Response(at_s, http, body, tuple(headers))
