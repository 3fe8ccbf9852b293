"""What check-poller serves: one job per scenario and dialect, with the conclusion it expects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from replay.errors import UsageError
from replay.serving import SHORT_ORIGIN, retry_date_ahead_s, shortened_retry_after
from replay.simulate import Response, Timeline, response_fields
from replay.simulate.scenarios import SCENARIOS
from replay.status import COMPLETION_HTTP, DIALECTS, ERROR_OUTCOME, GIVE_UP_HTTP, STOP_STATUSES

__all__ = [
    "CHECK_ORIGIN",
    "COPY_STARTS",
    "DIALECTS",
    "GIVE_UP_STATUSES",
    "SUCCESS_OUTCOMES",
    "TERMINAL_STATUSES",
    "CheckJob",
    "over_http_scenarios",
    "plan_jobs",
]

#: Statuses that end a job in some known dialect (reference section 4): a poller stops there.
TERMINAL_STATUSES = STOP_STATUSES
#: The scenario outcomes a poller should report as success (exit 0); every other is a failure.
SUCCESS_OUTCOMES = frozenset({"completed"})
#: HTTP codes after which a poller should give up instead of polling on.
GIVE_UP_STATUSES = GIVE_UP_HTTP
#: The time a served timeline's ``at_s = 0`` stands for, so the server re-bases HTTP dates.
CHECK_ORIGIN = SHORT_ORIGIN
#: With ``{copy_url}``, the runs that end at the copy call: what it answers and the outcome.
#: (Every catalogue scenario is then started by a copy call answering 202 with its monitor;
#: in the sharepoint-v21 dialect that Location has no "monitor" in it, python-o365#628.)
COPY_STARTS: dict[str, tuple[int, str]] = {
    "copy_200_empty": (200, "completed"),  # msgraph-sdk-dotnet#1566: copied, nothing to poll
    "copy_409_conflict": (409, "failed"),  # onedrive-api-docs#981: nameAlreadyExists at once
}


@dataclass(frozen=True)
class CheckJob:
    """One run of the poller: a scenario in a dialect, its served timeline, what it should end in.

    Per response of ``timeline``: ``terminal`` (a terminal status, or a 303: the job is over),
    ``retry_s`` (the Retry-After wait in seconds; NaN when none), ``retry_date`` (served as an
    HTTP date rather than seconds), ``completes`` (a ``completed`` body or a 303: the one
    answer after which a poller may report success) and ``gone`` (an error code after which
    polling cannot help, such as ``operationNotFound``, whatever the HTTP status).

    ``copy_status``: with ``{copy_url}``, what the copy call answers first (202 with the
    monitor of ``timeline``; 200 or 409, and ``timeline`` is that one answer); None: the
    poller is given the monitor URL.
    """

    scenario: str
    dialect: str
    timeline: Timeline
    expected_outcome: str
    terminal: np.ndarray
    retry_s: np.ndarray
    retry_date: np.ndarray
    completes: np.ndarray
    gone: np.ndarray
    copy_status: int | None = None

    @property
    def expects_success(self) -> bool:
        """Whether the poller should conclude success (exit 0) on this job."""
        return self.expected_outcome in SUCCESS_OUTCOMES

    @property
    def has_monitor(self) -> bool:
        """Whether the poller gets a monitor to poll (not a copy call that ends the job)."""
        return self.copy_status in (None, 202)

    @property
    def serves_retry_after(self) -> bool:
        """Whether any response of this job carries a Retry-After header."""
        return bool(np.isfinite(self.retry_s).any())


def over_http_scenarios() -> tuple[str, ...]:
    """The catalogue's scenarios the server can serve, in catalogue order (those of weight 0,
    quirks served only by name, left out)."""
    return tuple(name for name, s in SCENARIOS.items() if s.over_http and s.weight > 0)


def plan_jobs(
    scenarios: Sequence[str] | None = None,
    dialects: Sequence[str] | None = None,
    *,
    seed: int = 0,
    copy: bool = False,
) -> list[CheckJob]:
    """One job per scenario x dialect (scenario-major), simulated with ``seed``; with ``copy``
    each is started by a copy call, and the runs of :data:`COPY_STARTS` come last."""
    from replay.simulate import simulate

    every = over_http_scenarios()
    servable = tuple(name for name, s in SCENARIOS.items() if s.over_http)
    copies = tuple(COPY_STARTS) if copy else ()
    names = _chosen("scenario", scenarios, servable + copies) if scenarios else [*every, *copies]
    shapes = _chosen("dialect", dialects, DIALECTS)
    quirks = [name for name in names if name not in every and name not in COPY_STARTS]
    by_pair: dict[tuple[str, str], Timeline] = {}
    for dialect in shapes:
        # The whole default catalogue each time, so a job does not change when the choice
        # narrows; quirks (served by name only) are simulated apart.
        for group in (every, quirks) if quirks else (every,):
            fleet = simulate(
                len(group), seed=seed + DIALECTS.index(dialect), scenarios=group, dialects=[dialect]
            )
            by_pair.update({(str(t.scenario), dialect): t for t in fleet.timelines()})
    return [
        _copy_job(name, dialect)
        if name in COPY_STARTS
        else _job(name, dialect, by_pair[name, dialect], copy)
        for name in names
        for dialect in shapes
    ]


def _chosen(what: str, asked: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    """``asked`` (comma-separated items allowed) checked against ``known``; all when None."""
    if not asked:
        return list(known)
    names = list(dict.fromkeys(n.strip() for a in asked for n in a.split(",") if n.strip()))
    offline = [n for n in names if n in SCENARIOS and not SCENARIOS[n].over_http]
    if what == "scenario" and offline:
        raise UsageError(
            f"scenario(s) {', '.join(map(repr, offline))} cannot be served over HTTP (they exist "
            f"in imported logs only): choose from {', '.join(known)}"
        )
    copy_only = [n for n in names if n in COPY_STARTS and n not in known]
    if what == "scenario" and copy_only:
        raise UsageError(
            f"scenario(s) {', '.join(map(repr, copy_only))} end at the copy call: give the "
            "command {copy_url} (the copy call's URL, to POST) instead of {url}"
        )
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UsageError(
            f"unknown {what}(s) {', '.join(map(repr, unknown)) or '(none given)'}: "
            f"choose from {', '.join(known)}"
        )
    return names


def _job(scenario: str, dialect: str, timeline: Timeline, copy: bool = False) -> CheckJob:
    # Retry-After shortened as the pytest plugin serves it by default: one mechanism for both.
    served = shortened_retry_after(timeline)
    responses = served.responses
    retry = [_retry_wait(r, served) for r in responses]
    return CheckJob(
        scenario=scenario,
        dialect=dialect,
        timeline=served,
        expected_outcome=SCENARIOS[scenario].expected_outcome,
        terminal=np.array([_ends_job(r) for r in responses], dtype=bool),
        retry_s=np.array([w for w, _ in retry], dtype=float),
        retry_date=np.array([d for _, d in retry], dtype=bool),
        completes=np.array([_completes(r) for r in responses], dtype=bool),
        gone=np.array([_ends_monitor(r) for r in responses], dtype=bool),
        copy_status=202 if copy else None,
    )


def _copy_job(scenario: str, dialect: str) -> CheckJob:
    """A run that ends at the copy call: its timeline is that one answer, never a monitor's."""
    status, outcome = COPY_STARTS[scenario]
    answer = Response(0.0, status)
    return CheckJob(
        scenario=scenario,
        dialect=dialect,
        timeline=Timeline(f"{scenario}-{dialect}", (answer,), scenario=scenario, dialect=dialect),
        expected_outcome=outcome,
        terminal=np.array([True]),
        retry_s=np.array([np.nan]),
        retry_date=np.array([False]),
        completes=np.array([outcome == "completed"]),
        gone=np.array([False]),
        copy_status=status,
    )


def _retry_wait(response: Response, timeline: Timeline) -> tuple[float, bool]:
    """The Retry-After wait of ``response`` (NaN: none) and whether it is an HTTP date."""
    value = response.header("Retry-After")
    if value is None:
        return float("nan"), False
    ahead = retry_date_ahead_s(response, timeline.origin)
    if ahead is not None:
        return ahead, True
    return (float(value), False) if value.strip().isdigit() else (float("nan"), False)


def _ends_job(response: Response) -> bool:
    """Whether ``response`` is a job's final answer: a 303, or a body with a terminal status."""
    return response.http_status in COMPLETION_HTTP or _body_status(response) in TERMINAL_STATUSES


def _completes(response: Response) -> bool:
    """Whether ``response`` says the copy succeeded: a 303, or a ``completed`` body."""
    return response.http_status in COMPLETION_HTTP or _body_status(response) == "completed"


def _ends_monitor(response: Response) -> bool:
    """Whether ``response`` carries an error code that ends its job (status.ERROR_OUTCOME)."""
    return response_fields(response)["error_code"] in ERROR_OUTCOME


def _body_status(response: Response) -> object:
    try:
        document = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return document.get("status") if isinstance(document, dict) else None
