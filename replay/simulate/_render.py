"""One simulated job's rows rendered as the responses a monitor serves: bodies and headers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd

from replay.payload import render_body
from replay.simulate._frames import FleetFrames
from replay.simulate._item import item_location
from replay.simulate._response import Response

__all__ = ["FleetJob", "fleet_job"]

_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The service is temporarily unavailable.</p></body></html>"
)


class FleetJob(NamedTuple):
    """The fields of one simulated job's timeline."""

    job_id: str
    responses: tuple[Response, ...]
    scenario: str
    dialect: str
    labels: dict[str, str]
    origin: datetime


def fleet_job(frames: FleetFrames, index: int) -> FleetJob:
    """Job number ``index`` of ``frames`` with real bodies and headers, for a server to serve."""
    job_id = str(frames.jobs["job_id"].iloc[index])
    rows = frames.responses.iloc[frames.bounds[index] : frames.bounds[index + 1]]
    labels = json.loads(str(frames.jobs["labels"].iloc[index]))
    dialect = str(frames.dialects[index])
    records: list[dict[str, Any]] = (
        rows.astype(object).where(rows.notna(), None).to_dict("records")  # type: ignore[assignment]
    )
    first = rows.iloc[0]
    origin = first["ts"] - pd.to_timedelta(float(first["t_s"]), unit="s")
    return FleetJob(
        job_id,
        tuple(_response(rec, dialect, job_id) for rec in records),
        labels["scenario"],
        dialect,
        labels,
        origin.round("us").to_pydatetime(),
    )


def _response(rec: Mapping[str, Any], dialect: str, job_id: str) -> Response:
    """One timeline response from a row of the responses frame."""
    kind = rec["body_kind"]
    headers: list[tuple[str, str]] = []
    if kind in ("json", "truncated"):
        headers.append(("Content-Type", "application/json"))
    elif kind == "html":
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    if rec["retry_after_header"] is not None:
        headers.append(("Retry-After", str(rec["retry_after_header"])))
    if rec["http_status"] == 303:
        headers.append(("Location", item_location(dialect, job_id, rec["resource_id"])))
    return Response(
        at_s=float(rec["t_s"]),
        http_status=int(rec["http_status"]),
        body=_body(rec, dialect, job_id),
        headers=tuple(headers),
        delay_s=float(rec["delay_s"]),
        drop=bool(rec["drop"]),
    )


def _body(rec: Mapping[str, Any], dialect: str, job_id: str) -> bytes:
    """The bytes of a response: the dialect's JSON, an error object, HTML, truncated or empty."""
    kind = rec["body_kind"]
    if kind == "empty":
        return b""
    if kind == "html":
        return _HTML
    if kind == "json" and rec["status"] is None:
        error = {"code": rec["error_code"], "message": rec["error_message"]}
        return json.dumps({"error": error} if rec["error_code"] else {}).encode()
    body = render_body(
        dialect,
        status=rec["status"] or "inProgress",
        percentage_complete=rec["percentage_complete"],
        operation=rec["operation"],
        resource_id=rec["resource_id"],
        error_code=rec["error_code"],
        error_message=rec["error_message"],
        job_id=job_id,
    )
    return body[: len(body) // 2] if kind == "truncated" else body
