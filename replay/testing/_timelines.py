"""Timelines for tests: from hand-written steps, a scenario, or one job of a recorded dataset."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from replay import timeline as _timeline
from replay.errors import UsageError
from replay.payload import DIALECTS, normalize, render_body
from replay.scenarios import DIALECT_SHAPES
from replay.timeline import Response

__all__ = ["ERROR_CODES", "TERMINAL_STATUSES", "Step", "Timeline", "response_fields"]

#: Statuses that end a job in some known dialect (reference section 4).
TERMINAL_STATUSES = frozenset({"completed", "failed", "deleteFailed", "cancelled"})
#: The Graph error code a bare HTTP status step answers with.
ERROR_CODES: Mapping[int, str] = {
    400: "invalidRequest",
    401: "unauthenticated",
    403: "accessDenied",
    404: "itemNotFound",
    410: "resourceGone",
    429: "tooManyRequests",
    500: "generalException",
    502: "badGateway",
    503: "serviceNotAvailable",
}
_JSON = (("Content-Type", "application/json"),)
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
_STEP_KEYS = frozenset(
    {"status", "pct", "http", "at_s", "retry_after", "body", "error_code", "error_message"}
    | {"delay_s", "drop", "resource_id"}
)

#: One hand-written step: a status, ``(status, pct)``, ``(status, pct, http)``, a bare HTTP
#: error code (``404``, ``429``), a mapping of :data:`_STEP_KEYS`, or a ready Response.
Step = str | int | tuple[Any, ...] | Mapping[str, Any] | Response


@dataclass(frozen=True)
class Timeline(_timeline.Timeline):
    """A job's responses, with constructors for tests and mutations returning new timelines.

    Serve it with ``monitor_server.add_job(timeline=...)``, ``MonitorServer.add`` or
    :class:`~replay.testing.MonitorTransport`.
    """

    @classmethod
    def of(cls, timeline: _timeline.Timeline) -> Timeline:
        """``timeline`` as a testing Timeline (the same responses and metadata)."""
        if isinstance(timeline, cls):
            return timeline
        fields = {f.name: getattr(timeline, f.name) for f in dataclasses.fields(timeline)}
        return cls(**fields)

    @classmethod
    def from_steps(
        cls,
        steps: Sequence[Step],
        *,
        job_id: str = "job-1",
        dialect: str = "graph",
        interval_s: float = 1.0,
    ) -> Timeline:
        """A timeline from hand-written steps, ``interval_s`` apart unless a step gives ``at_s``.

        ``Timeline.from_steps(["notStarted", ("inProgress", 40), 429, ("completed", 100)])``:
        bodies are rendered in ``dialect``'s shape, HTTP codes are the dialect's (200 at a
        terminal status), a bare code answers a Graph error body (429 and 503 with
        ``Retry-After: 1``).
        """
        if dialect not in DIALECTS:
            raise UsageError(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
        if not steps:
            raise UsageError("from_steps needs at least one step, e.g. [('completed', 100)]")
        responses: list[Response] = []
        for index, step in enumerate(steps):
            default_at = responses[-1].at_s + interval_s if responses else 0.0
            responses.append(_step_response(step, index, default_at, dialect, job_id))
        labels = {"source": "steps"}
        return cls.of(cls.from_responses(job_id, responses, dialect=dialect, labels=labels))

    @classmethod
    def from_scenario(cls, name: str, dialect: str = "graph", seed: int = 0) -> Timeline:
        """One simulated job of scenario ``name`` in ``dialect`` (same seed, same timeline)."""
        from replay.simulate import SCENARIOS, simulate_job

        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise UsageError(f"unknown scenario {name!r}: expected one of {known}")
        return cls.of(simulate_job(name, dialect=dialect, seed=seed))

    @classmethod
    def from_dataset(cls, root: str | Path, job_id: str) -> Timeline:
        """The responses one job of a recording received, at the times it received them.

        Recorded bodies are served as stored (redacted); jobs recorded without bodies get them
        rendered in the dialect of the job's ``dialect`` label (default ``graph``). Times that
        went backwards (clock skew) are held at the previous time.
        """
        from replay import store

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
        shape = dialect if dialect in DIALECTS else "graph"
        timeline = cls.from_responses(
            job_id,
            _recorded_responses(obs, shape, job_id),
            scenario=labels.get("scenario"),
            dialect=dialect if dialect in DIALECTS else None,
            labels={**labels, "source": "recording"},
        )
        return cls.of(timeline)

    # -- reading -----------------------------------------------------------------------------

    def statuses(self) -> list[str | None]:
        """The ``status`` of each response's body (None where it has none)."""
        return [response_fields(r)["status"] for r in self.responses]

    def percentages(self) -> list[float | None]:
        """The ``percentageComplete`` of each response's body (None where it has none)."""
        return [response_fields(r)["percentage_complete"] for r in self.responses]

    # -- mutations ---------------------------------------------------------------------------

    def stall_at(self, pct: float, *, polls: int = 5, for_s: float | None = None) -> Timeline:
        """See :func:`replay.testing.stall_at`."""
        from replay.testing._mutations import stall_at

        return stall_at(self, pct, polls=polls, for_s=for_s)

    def insert_429_burst(
        self, *, at: int | None = None, count: int = 3, retry_after: str | None = "1"
    ) -> Timeline:
        """See :func:`replay.testing.insert_429_burst`."""
        from replay.testing._mutations import insert_429_burst

        return insert_429_burst(self, at=at, count=count, retry_after=retry_after)

    def drop_terminal(self) -> Timeline:
        """See :func:`replay.testing.drop_terminal`."""
        from replay.testing._mutations import drop_terminal

        return drop_terminal(self)

    def inject_unknown_status(
        self, status: str = "unknownFutureValue", *, at: int | None = None
    ) -> Timeline:
        """See :func:`replay.testing.inject_unknown_status`."""
        from replay.testing._mutations import inject_unknown_status

        return inject_unknown_status(self, status, at=at)

    def expire_monitor(self, *, at: int | None = None) -> Timeline:
        """See :func:`replay.testing.expire_monitor`."""
        from replay.testing._mutations import expire_monitor

        return expire_monitor(self, at=at)


def response_fields(response: Response) -> dict[str, Any]:
    """The observation fields of one response (``status``, ``percentage_complete``, ...)."""
    headers = dict(response.headers)
    return normalize(response.body or None, http_status=response.http_status, headers=headers)


def error_response(at_s: float, http_status: int, retry_after: str | None = None) -> Response:
    """A Graph error response for ``http_status`` (with Retry-After when given)."""
    code = ERROR_CODES.get(http_status, "generalException")
    body = json.dumps({"error": {"code": code, "message": f"HTTP {http_status}"}}).encode()
    headers = _JSON + ((("Retry-After", retry_after),) if retry_after is not None else ())
    return Response(at_s, http_status, body, headers)


def _step_response(step: Step, index: int, at_s: float, dialect: str, job_id: str) -> Response:
    if isinstance(step, Response):
        return step
    if isinstance(step, bool):
        raise UsageError(f"step {index} is {step!r}: give a status, (status, pct) or an HTTP code")
    if isinstance(step, int):
        return error_response(at_s, step, "1" if step in (429, 503) else None)
    if isinstance(step, str):
        step = {"status": step}
    elif isinstance(step, tuple):
        if not 1 <= len(step) <= 3:
            raise UsageError(
                f"step {index} {step!r}: expected (status, pct) or (status, pct, http)"
            )
        step = dict(zip(("status", "pct", "http"), step, strict=False))
    if not isinstance(step, Mapping):
        raise UsageError(f"step {index} is a {type(step).__name__}: expected str, tuple or dict")
    unknown = set(step) - _STEP_KEYS
    if unknown:
        raise UsageError(
            f"step {index} has unknown key(s) {', '.join(sorted(unknown))}: "
            f"expected some of {', '.join(sorted(_STEP_KEYS))}"
        )
    return _mapping_response(step, at_s, dialect, job_id, first=index == 0)


def _mapping_response(
    step: Mapping[str, Any], at_s: float, dialect: str, job_id: str, *, first: bool
) -> Response:
    status = step.get("status")
    http = step.get("http") or _default_http(status, dialect, first)
    body = step.get("body")
    if isinstance(body, Mapping):
        body = json.dumps(body).encode()
    elif body is None and (status is not None or step.get("error_code")):
        body = render_body(
            dialect,
            status=status,
            percentage_complete=step.get("pct"),
            resource_id=step.get("resource_id"),
            error_code=step.get("error_code"),
            error_message=step.get("error_message"),
            job_id=job_id,
        )
    elif body is None:
        return error_response(float(step.get("at_s", at_s)), int(http), step.get("retry_after"))
    retry = step.get("retry_after")
    headers = _JSON + ((("Retry-After", str(retry)),) if retry is not None else ())
    return Response(
        float(step.get("at_s", at_s)),
        int(http),
        body if isinstance(body, bytes) else str(body).encode(),
        headers,
        float(step.get("delay_s", 0.0)),
        bool(step.get("drop", False)),
    )


def _default_http(status: str | None, dialect: str, first: bool) -> int:
    """The dialect's code: 200 at a terminal status, its first-poll code, else its progress code."""
    shape = DIALECT_SHAPES[dialect]
    if status in TERMINAL_STATUSES:
        return 200
    return shape.first_http if first and shape.first_http is not None else shape.progress_http


def _job_labels(root: str | Path, job_id: str) -> dict[str, str]:
    from replay import store

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
    headers = list(_JSON) if body.lstrip().startswith(b"{") else []
    if row["retry_after_s"] is not None:
        headers.append(("Retry-After", str(max(math.ceil(float(row["retry_after_s"])), 0))))
    if http == 303:
        item = row["resource_id"] or "item"
        headers.append(("Location", f"https://contoso.sharepoint.com/_api/v2.0/items/{item}"))
    return Response(at_s, http, body, tuple(headers))
