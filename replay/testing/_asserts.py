"""Assertions on a request log or an observed sequence, listing the offending requests and times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol

from replay.payload import parse_retry_after
from replay.status import COMPLETION_HTTP, STOP_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from replay.status import Policy

__all__ = [
    "assert_no_authorization",
    "assert_respects_retry_after",
    "assert_stops_after_terminal",
    "assert_valid_sequence",
]

#: Clock slack when comparing a request's arrival with the time a Retry-After named.
RETRY_SLACK_S = 0.05
_SHOWN = 20  # offending lines listed in one message


class _Request(Protocol):
    """What the assertions read of a request (``replay.server.RequestRecord`` has it all)."""

    @property
    def at(self) -> datetime: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def authorization_sent(self) -> bool: ...
    @property
    def response_status(self) -> int | None: ...
    @property
    def job_id(self) -> str | None: ...
    @property
    def retry_after(self) -> str | None: ...
    @property
    def job_status(self) -> str | None: ...
    @property
    def target(self) -> str: ...


def assert_no_authorization(log: Sequence[_Request]) -> None:
    """No request but a copy call carried an ``Authorization`` header (monitor URLs and the
    item URL a 303 names are pre-authenticated; the copy call itself needs the bearer)."""
    bad = [
        (i, "sent Authorization")
        for i, r in enumerate(log)
        if r.authorization_sent and r.target != "copy"
    ]
    _fail_if(
        bad,
        log,
        "sent an Authorization header to a monitor URL or a 303's Location (its tempauth= is "
        "the credential; a bearer token gets 401)",
    )


def assert_respects_retry_after(log: Sequence[_Request], *, slack_s: float = RETRY_SLACK_S) -> None:
    """Every request after a response with ``Retry-After`` came no earlier than it asked."""
    bad: list[tuple[int, str]] = []
    for job_rows in _by_job(log).values():
        for (i, before), (j, after) in pairwise(job_rows):
            wait = parse_retry_after(before.retry_after, now=before.at)
            waited = (after.at - before.at).total_seconds()
            if wait is not None and waited < wait - slack_s:
                bad.append(
                    (j, f"came {waited:.3f} s after #{i}, which said Retry-After {wait:g} s")
                )
    _fail_if(bad, log, "polled again before Retry-After had passed")


def assert_stops_after_terminal(log: Sequence[_Request]) -> None:
    """No job was polled after a terminal status (completed, failed, deleteFailed, cancelled)
    or a 303 redirect to the copied item."""
    bad: list[tuple[int, str]] = []
    for job_rows in _by_job(log).values():
        end = next((k for k, (_, r) in enumerate(job_rows) if _terminal(r)), None)
        if end is not None:
            first, ended = job_rows[end]
            what = ended.job_status or f"HTTP {ended.response_status}"
            bad += [(i, f"after #{first} said {what}") for i, _ in job_rows[end + 1 :]]
    _fail_if(bad, log, "polled after the job had ended")


def assert_valid_sequence(
    obs: pd.DataFrame | Sequence[Mapping[str, Any]],
    policy: Policy | str | None = None,
    *,
    fail_on: str = "error",
) -> None:
    """The observed sequence has no violation at ``fail_on`` severity or above under ``policy``.

    ``obs``: an observations frame (``replay.read``), or what a poller saw as a list of
    mappings with ``status`` and optionally ``percentage_complete``, ``ts``, ``job_id``.
    """
    from replay.engine import validate
    from replay.errors import UsageError

    if fail_on not in ("error", "warning"):
        raise UsageError(f"fail_on must be 'error' or 'warning', got {fail_on!r}")
    violations = validate(_as_frame(obs), policy)
    if fail_on == "error":
        violations = violations[violations["severity"] == "error"]
    if violations.empty:
        return
    lines = [
        f"  {row.job_id} seq {row.seq} at {_when(row.ts)}: {row.code} ({row.severity}) {row.detail}"
        for row in violations.head(_SHOWN).itertuples()
    ]
    raise AssertionError(
        f"{len(violations)} violation(s) in the observed sequence:\n"
        + "\n".join(lines)
        + _more(len(violations))
    )


# -- helpers -------------------------------------------------------------------------------


def _terminal(record: _Request) -> bool:
    return record.job_status in STOP_STATUSES or record.response_status in COMPLETION_HTTP


def _by_job(log: Sequence[_Request]) -> dict[str | None, list[tuple[int, _Request]]]:
    """Each job's monitor polls with their position in ``log``, in log order (a copy call and
    a GET of the item a 303 named are not polls)."""
    jobs: dict[str | None, list[tuple[int, _Request]]] = {}
    for i, record in enumerate(log):
        if record.target == "monitor":
            jobs.setdefault(record.job_id, []).append((i, record))
    return jobs


def _fail_if(bad: list[tuple[int, str]], log: Sequence[_Request], what: str) -> None:
    """Raise AssertionError naming each offending request, its time and why."""
    if not bad:
        return
    start = log[0].at
    lines = [_line(i, log[i], start, why) for i, why in sorted(bad)[:_SHOWN]]
    raise AssertionError(
        f"{len(bad)} of {len(log)} request(s) {what}:\n" + "\n".join(lines) + _more(len(bad))
    )


def _line(index: int, record: _Request, start: datetime, why: str) -> str:
    offset = (record.at - start).total_seconds()
    status = "dropped" if record.response_status is None else record.response_status
    return (
        f"  #{index} {_when(record.at)} (+{offset:.3f} s) {record.method} {record.path} "
        f"-> {status}: {why}"
    )


def _when(at: Any) -> str:
    return at.isoformat(timespec="milliseconds") if hasattr(at, "isoformat") else str(at)


def _more(count: int) -> str:
    return f"\n  ... and {count - _SHOWN} more" if count > _SHOWN else ""


def _as_frame(obs: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``obs`` as an observations frame (a list of mappings gets job_id, seq and ts filled)."""
    import pandas as pd

    if isinstance(obs, pd.DataFrame):
        return obs
    frame = pd.DataFrame.from_records(list(obs))
    if "status" not in frame.columns:
        frame["status"] = pd.Series([None] * len(frame), dtype=object)
    frame["job_id"] = frame["job_id"] if "job_id" in frame.columns else "job"
    frame["seq"] = frame.groupby("job_id").cumcount().astype("int32")
    if "ts" not in frame.columns:
        origin = pd.Timestamp("2000-01-01", tz="UTC")
        frame["ts"] = origin + pd.to_timedelta(frame["seq"], unit="s")
    return frame
