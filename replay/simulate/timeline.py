"""A job's timeline: the HTTP responses its monitor URL gives over time, and its mutations."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from replay.errors import UsageError
from replay.simulate import mutations as _mutations
from replay.simulate._response import Response, response_fields
from replay.simulate._steps import Step, step_response
from replay.status import DIALECTS

__all__ = ["Response", "Step", "Timeline"]


@dataclass(frozen=True)
class Timeline:
    """The responses of one job in time order, with what generated them.

    Built by the simulator (``simulate(...).timelines()``), from hand-written steps
    (:meth:`from_steps`), a scenario (:meth:`from_scenario`) or one job of a recording
    (:meth:`from_dataset`); the mutations (:meth:`stall_at`, ...) return new timelines. Serve
    it with ``MonitorServer.add``, ``replay.testing.MonitorTransport`` or the pytest fixture.

    ``origin`` is the UTC time ``at_s = 0`` stood for, when known (a simulated job's start): a
    server re-bases Retry-After HTTP dates by it so that they lie ahead of each request.
    """

    job_id: str
    responses: tuple[Response, ...]
    scenario: str | None = None
    dialect: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    origin: datetime | None = None

    def __post_init__(self) -> None:
        if not self.responses:
            raise ValueError(f"timeline of job {self.job_id!r} has no responses")
        times = [r.at_s for r in self.responses]
        if times != sorted(times):
            raise ValueError(f"timeline of job {self.job_id!r} is not in time order")

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def from_responses(cls, job_id: str, responses: Iterable[Response], **meta: Any) -> Timeline:
        """Build a timeline from responses (sorted by ``at_s``, stable)."""
        ordered = tuple(sorted(responses, key=lambda r: r.at_s))
        return cls(job_id, ordered, **meta)

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
        ``Retry-After: 1``). A mapping step may also give ``headers`` and ``location``
        (``{"http": 303, "location": ...}`` is an empty-bodied legacy completion).
        """
        if dialect not in DIALECTS:
            raise UsageError(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
        if not steps:
            raise UsageError("from_steps needs at least one step, e.g. [('completed', 100)]")
        responses: list[Response] = []
        for index, step in enumerate(steps):
            default_at = responses[-1].at_s + interval_s if responses else 0.0
            responses.append(step_response(step, index, default_at, dialect, job_id))
        labels = {"source": "steps"}
        return cls.from_responses(job_id, responses, dialect=dialect, labels=labels)

    @classmethod
    def from_scenario(cls, name: str, dialect: str = "graph", seed: int = 0) -> Timeline:
        """One simulated job of scenario ``name`` in ``dialect`` (same seed, same timeline)."""
        from replay.simulate._draw import draw_fleet  # numpy and pandas: loaded when simulating
        from replay.simulate._render import fleet_job
        from replay.simulate.scenarios import SCENARIOS

        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise UsageError(f"unknown scenario {name!r}: expected one of {known}")
        frames = draw_fleet(1, seed=seed, scenarios=[name], dialects=[dialect])
        return cls(*fleet_job(frames, 0))

    @classmethod
    def from_dataset(cls, root: str | Path, job_id: str) -> Timeline:
        """The responses one job of a recording received, at the times it received them.

        Recorded bodies are served as stored (redacted); jobs recorded without bodies get them
        rendered in the dialect of the job's ``dialect`` label (default ``graph``). Times that
        went backwards (clock skew) are held at the previous time.
        """
        from replay.simulate._recorded import recorded_job  # pyarrow: loaded when reading

        job = recorded_job(root, job_id)
        return cls.from_responses(
            job_id, job.responses, scenario=job.scenario, dialect=job.dialect, labels=job.labels
        )

    # -- reading -----------------------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        """Seconds from the first response to the start of the last one."""
        return self.responses[-1].at_s - self.responses[0].at_s

    def at(self, elapsed_s: float) -> Response:
        """The response served ``elapsed_s`` seconds after the start (the last one stays)."""
        times = [r.at_s for r in self.responses]
        index = bisect.bisect_right(times, elapsed_s) - 1
        return self.responses[max(index, 0)]

    def step(self, index: int) -> Response:
        """The response to the ``index``-th request (0-based); past the end the last one stays."""
        return self.responses[min(max(index, 0), len(self.responses) - 1)]

    def statuses(self) -> list[str | None]:
        """The ``status`` of each response's body (None where it has none)."""
        return [response_fields(r)["status"] for r in self.responses]

    def percentages(self) -> list[float | None]:
        """The ``percentageComplete`` of each response's body (None where it has none)."""
        return [response_fields(r)["percentage_complete"] for r in self.responses]

    def __len__(self) -> int:
        return len(self.responses)

    # -- mutations ---------------------------------------------------------------------------

    def stall_at(self, pct: float, *, polls: int = 5, for_s: float | None = None) -> Timeline:
        """See :func:`replay.testing.stall_at`."""
        return _mutations.stall_at(self, pct, polls=polls, for_s=for_s)

    def insert_429_burst(
        self, *, at: int | None = None, count: int = 3, retry_after: str | None = "1"
    ) -> Timeline:
        """See :func:`replay.testing.insert_429_burst`."""
        return _mutations.insert_429_burst(self, at=at, count=count, retry_after=retry_after)

    def drop_terminal(self) -> Timeline:
        """See :func:`replay.testing.drop_terminal`."""
        return _mutations.drop_terminal(self)

    def inject_unknown_status(
        self, status: str = "unknownFutureValue", *, at: int | None = None
    ) -> Timeline:
        """See :func:`replay.testing.inject_unknown_status`."""
        return _mutations.inject_unknown_status(self, status, at=at)

    def expire_monitor(self, *, at: int | None = None) -> Timeline:
        """See :func:`replay.testing.expire_monitor`."""
        return _mutations.expire_monitor(self, at=at)
