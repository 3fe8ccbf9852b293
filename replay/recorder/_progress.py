"""How a recording is going and how it went: the live progress line and the final summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FAILED_OUTCOMES", "RECORD_FAILURES", "Progress", "RecordSummary"]

#: Outcomes that mean a job could not be recorded to its end: ``replay record`` exits 1.
RECORD_FAILURES: frozenset[str] = frozenset({"timed_out", "protocol_error", "unauthorized"})
#: Outcomes the progress line counts as failed copies.
FAILED_OUTCOMES: frozenset[str] = frozenset({"failed", "delete_failed", "cancelled"})


@dataclass(frozen=True)
class Progress:
    """A snapshot for the live progress line."""

    active: int
    completed: int
    failed: int
    other: int
    polls: int

    def line(self, polls_per_s: float) -> str:
        """``active 3 · completed 10 · failed 1 · other 0 · 812 polls/s``."""
        return (
            f"active {self.active} · completed {self.completed} · failed {self.failed} · "
            f"other {self.other} · {polls_per_s:,.0f} polls/s"
        )


@dataclass(frozen=True)
class RecordSummary:
    """What a recording did: jobs by outcome, polls, rows written, time taken."""

    out: Path
    jobs: int
    outcomes: Mapping[str, int]
    polls: int
    rows: int
    skipped: int
    transport_errors: int
    elapsed_s: float

    @property
    def ok(self) -> bool:
        """Every job ended on its own (none timed out or failed to record)."""
        return not any(self.outcomes.get(o) for o in RECORD_FAILURES)

    @property
    def polls_per_s(self) -> float:
        """Polls per second over the whole recording."""
        return self.polls / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        """The one-line summary ``replay record`` prints at the end."""
        counts = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "none"
        skipped = f", {self.skipped} had ended before" if self.skipped else ""
        return (
            f"recorded {self.jobs} job(s) ({counts}{skipped}) in {self.elapsed_s:.1f} s: "
            f"{self.polls} polls ({self.polls_per_s:,.0f}/s), {self.rows} rows, "
            f"{self.transport_errors} transport error(s) -> {self.out}"
        )
