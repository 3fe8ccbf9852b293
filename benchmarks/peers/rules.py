"""The validation rules of docs/semantics.md as plain data every peer implementation shares."""

from __future__ import annotations

from dataclasses import dataclass

from replay.status import Policy, load_policy

__all__ = ["CODES", "COLUMNS", "SEVERITY", "Rules", "rules_of"]

#: The violation codes of the contract, in the order results list them within one row.
CODES: tuple[str, ...] = (
    "unknown_status",
    "missing_status",
    "illegal_transition",
    "after_terminal",
    "pct_out_of_range",
    "ts_not_increasing",
    "pct_regression",
    "completed_not_100",
    "stalled",
    "no_terminal",
)

SEVERITY: dict[str, str] = {code: ("error" if i < 6 else "warning") for i, code in enumerate(CODES)}

#: The observation columns validation reads.
COLUMNS: tuple[str, ...] = ("job_id", "seq", "ts", "status", "percentage_complete", "http_status")


@dataclass(frozen=True)
class Rules:
    """A policy flattened for peers: known statuses, terminal ones, allowed (from, to) pairs."""

    statuses: tuple[str, ...]
    terminal: frozenset[str]
    allowed: frozenset[tuple[str, str]]
    stall_after_us: int

    @property
    def forbidden(self) -> tuple[tuple[str, str], ...]:
        """Pairs of distinct known statuses, from a non-terminal one, that the policy forbids.

        Like ``replay.validate``, a change after a terminal status is ``after_terminal`` only,
        never also ``illegal_transition``.
        """
        return tuple(
            (a, b)
            for a in self.statuses
            for b in self.statuses
            if a != b and a not in self.terminal and (a, b) not in self.allowed
        )


def rules_of(policy: Policy | str | None = None) -> Rules:
    """Return the rules of ``policy`` (default: the bundled default policy)."""
    pol = load_policy(policy)
    allowed = frozenset((a, b) for a, targets in pol.transitions.items() for b in targets)
    return Rules(
        statuses=pol.statuses,
        terminal=frozenset(pol.terminal),
        allowed=allowed,
        stall_after_us=round(pol.stall_after_s * 1_000_000),
    )
