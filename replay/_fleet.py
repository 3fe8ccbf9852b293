"""A simulated fleet: its responses as timelines a server can serve, its observations and jobs."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from replay.errors import UsageError
from replay.scenarios import DIALECT_SHAPES, SCENARIOS
from replay.schema import OBSERVATION_COLUMNS
from replay.timeline import Response, Timeline

__all__ = ["BODY_KINDS", "Fleet", "jobs_table", "responses_frame"]

BODY_KINDS = ("json", "empty", "html", "truncated")

_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The service is temporarily unavailable.</p></body></html>"
)


def jobs_table(
    r: dict[str, np.ndarray], jobs: dict[str, np.ndarray], shapes: tuple[str, ...]
) -> pd.DataFrame:
    """The jobs table a recorder would write for the fleet (outcome: the scenario's)."""
    names = np.array(list(SCENARIOS))[jobs["scenario"]]
    dialect = np.array(shapes)[jobs["dialect"]]
    templates = [DIALECT_SHAPES[name].monitor_url.split("{id}") for name in shapes]
    url = pc.binary_join_element_wise(
        pa.array(np.array([p for p, _ in templates])[jobs["dialect"]]),
        pa.array(jobs["job_id"]),
        pa.array(np.array([s for _, s in templates])[jobs["dialect"]]),
        "",
    )
    labels = pc.binary_join_element_wise(
        '{"scenario": "', pa.array(names), '", "dialect": "', pa.array(dialect), '"}', ""
    )
    starts = r["bounds"][:-1]
    kept_ts = np.where(r["drop"], np.iinfo(np.int64).max, r["ts"])
    first = np.minimum.reduceat(kept_ts, starts)
    last = np.maximum.reduceat(np.where(r["drop"], np.iinfo(np.int64).min, r["ts"]), starts)
    outcomes = np.array([s.expected_outcome for s in SCENARIOS.values()])[jobs["scenario"]]
    return pd.DataFrame(
        {
            "job_id": pd.array(jobs["job_id"], dtype="str"),
            "url": pd.array(url.to_numpy(zero_copy_only=False), dtype="str"),
            "labels": pd.array(labels.to_numpy(zero_copy_only=False), dtype="str"),
            "size_bytes": jobs["size"],
            "first_seen": pd.DatetimeIndex(first.astype("datetime64[us]")).tz_localize("UTC"),
            "last_seen": pd.DatetimeIndex(last.astype("datetime64[us]")).tz_localize("UTC"),
            "outcome": pd.array(outcomes, dtype="str"),
        }
    )


@dataclass(frozen=True)
class Fleet:
    """A simulated fleet: every response of every job, and the jobs table.

    ``responses`` holds one row per response (dropped connections included) with ``t_s``
    (seconds since the job's first poll), ``body_kind``, ``retry_after_header``, ``delay_s``
    and ``drop`` (a dropped connection: no answer, so no observation; its ``http_status`` 502 is
    what a proxy would report); ``jobs`` is what a recorder would write (redacted URL, labels
    with scenario and dialect, size, first and last observation, the scenario's outcome).
    """

    responses: pd.DataFrame
    jobs: pd.DataFrame
    _bounds: np.ndarray = field(repr=False)
    _dialects: np.ndarray = field(repr=False)

    def observations(self) -> pd.DataFrame:
        """The observation rows a recorder would write: dropped responses left out, seq renumbered."""
        frame = self.responses
        keep = ~frame["drop"].to_numpy()
        rows = np.flatnonzero(keep)
        counted = np.cumsum(keep)
        starts = self._bounds[:-1]
        before = (counted[starts] - keep[starts])[frame["job_id"].cat.codes.to_numpy()[rows]]
        out = frame.take(rows).reset_index(drop=True)
        out["seq"] = (counted[rows] - before - 1).astype(np.int32)
        out["source"] = pd.Categorical.from_codes(
            np.zeros(len(out), np.int8), pd.Index(["simulated"])
        )
        out["body"] = pd.arrays.ArrowExtensionArray(pa.nulls(len(out), pa.string()))
        return out[list(OBSERVATION_COLUMNS)]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {job: i for i, job in enumerate(self.jobs["job_id"].astype(str))}

    def timeline(self, job_id: str) -> Timeline:
        """The responses of ``job_id`` with real bodies and headers, for a server to serve."""
        index = self._positions.get(job_id)
        if index is None:
            raise UsageError(f"no job {job_id!r} in this fleet: use a job_id from fleet.jobs")
        rows = self.responses.iloc[self._bounds[index] : self._bounds[index + 1]]
        labels = json.loads(str(self.jobs["labels"].iloc[index]))
        dialect = str(self._dialects[index])
        records: list[dict[str, Any]] = (
            rows.astype(object).where(rows.notna(), None).to_dict("records")  # type: ignore[assignment]
        )
        first = rows.iloc[0]
        origin = first["ts"] - pd.to_timedelta(float(first["t_s"]), unit="s")
        return Timeline(
            job_id,
            tuple(_response(rec, dialect, job_id) for rec in records),
            scenario=labels["scenario"],
            dialect=dialect,
            labels=labels,
            origin=origin.round("us").to_pydatetime(),
        )

    def timelines(self) -> Iterator[Timeline]:
        """Every job's timeline, in the jobs table's order."""
        for job_id in self.jobs["job_id"].astype(str):
            yield self.timeline(job_id)

    def write(self, out_dir: str | Path) -> Path:
        """Write the observations and jobs as a recording at ``out_dir``; return its path."""
        from replay import store

        store.write_observations(out_dir, self.observations())
        store.write_jobs(out_dir, self.jobs)
        return Path(out_dir)


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
        headers.append(("Location", _item_location(dialect, job_id, rec["resource_id"])))
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
    from replay.payload import render_body

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


def _item_location(dialect: str, job_id: str, item: str | None) -> str:
    """A 303 Location: the copied item's URL carrying a fake, JWT-shaped ``tempauth``."""
    digest = hashlib.sha256(job_id.encode()).hexdigest()

    def b64(document: dict[str, str]) -> str:
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"aud": "00000003-0000-0ff1-ce00-000000000000", "ver": "hashedprooftoken"}
    tempauth = f"{b64({'typ': 'JWT', 'alg': 'none'})}.{b64({**claims, 'nonce': digest[:16]})}."
    return DIALECT_SHAPES[dialect].item_url.format(
        drive=digest[16:40], item=item or f"01{digest[40:64].upper()}", tempauth=tempauth
    )


def _categorical(codes: np.ndarray, categories: Sequence[str] | np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(categories))


def _lookup(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes of ``values`` among their distinct non-empty values (-1: empty; last entry -1)."""
    distinct = list(dict.fromkeys(v for v in values if v))
    return np.array([distinct.index(v) if v else -1 for v in values] + [-1]), distinct


def _arrow_float(values: np.ndarray, null: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A double[pyarrow] column where ``null`` rows are null and NaN stays NaN."""
    return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.float64(), mask=null))


def responses_frame(
    r: dict[str, np.ndarray],
    jobs: dict[str, np.ndarray],
    statuses: tuple[str, ...],
    errors: tuple[tuple[str, str], ...],
) -> pd.DataFrame:
    """The responses frame: one row per response, dropped connections included.

    ``r`` holds the simulator's per-row columns, ``jobs`` its per-job ones; ``statuses`` and
    ``errors`` are what the row codes ``r["status"]`` and ``r["error"]`` index.
    """
    json_status = (r["status"] >= 0) & (r["body"] == 0)
    completed = json_status & (r["status"] == statuses.index("completed"))
    operations = list(dict.fromkeys(s.operation for s in SCENARIOS.values()))
    scenario_op = np.array([operations.index(s.operation) for s in SCENARIOS.values()])
    error_lut, codes = _lookup([e[0] for e in errors])
    message_lut, messages = _lookup([e[1] for e in errors])
    header, header_values = _retry_headers(r)
    return pd.DataFrame(
        {
            "job_id": _categorical(r["job"], jobs["job_id"]),
            "seq": r["seq"].astype(np.int32),
            "t_s": r["t_s"],
            "ts": pd.DatetimeIndex(r["ts"].astype("datetime64[us]")).tz_localize("UTC"),
            "http_status": r["http"],
            "status": _categorical(r["status"], statuses),
            "percentage_complete": _arrow_float(r["pct"], r["pct_null"]),
            "operation": _categorical(
                np.where(json_status, scenario_op[jobs["scenario"][r["job"]]], -1), operations
            ),
            "resource_id": _categorical(np.where(completed, r["job"], -1), jobs["item"]),
            "error_code": _categorical(error_lut[r["error"]], codes),
            "error_message": _categorical(message_lut[r["error"]], messages),
            "retry_after_s": _arrow_float(r["retry_s"], np.isnan(r["retry_s"])),
            "retry_after_header": _categorical(header, header_values),
            "body_kind": _categorical(r["body"], BODY_KINDS),
            "delay_s": r["delay_s"],
            "drop": r["drop"],
            "latency_ms": r["latency_ms"],
        }
    )


def _retry_headers(r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Retry-After header values as categorical codes: seconds, or an HTTP date at ts + seconds."""
    kind, seconds = r["retry_kind"], r["retry_s"]
    given = np.flatnonzero(kind >= 0)
    text = np.full(len(given), "", dtype=object)
    plain = kind[given] == 0
    text[plain] = seconds[given[plain]].astype(np.int64).astype(str)
    dated = given[kind[given] == 1]
    due = (r["ts"][dated] // 1_000_000 + seconds[dated].astype(np.int64)).astype("datetime64[s]")
    text[kind[given] == 1] = pd.DatetimeIndex(due).strftime("%a, %d %b %Y %H:%M:%S GMT")
    values, inverse = np.unique(text[kind[given] < 2].astype(str), return_inverse=True)
    codes = np.full(len(kind), -1)
    codes[given[kind[given] < 2]] = inverse
    return codes, values
