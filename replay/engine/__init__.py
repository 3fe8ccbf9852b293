"""The replay engine: one preparation, one rule table, and the tables computed from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.engine._analysis import Analysis, analyse
    from replay.engine._eta import ETA_COLUMNS, OVERDUE_FACTOR, RATE_POINTS, eta, fleet_rates
    from replay.engine._prepare import ENGINE_COLUMNS, Prepared, prepare
    from replay.engine._rules import RULES, SEVERITY, Code, Rule, Severity
    from replay.engine._summary import outcome_counts, summarize
    from replay.engine._transitions import TRANSITION_COLUMNS, transitions
    from replay.engine._violations import validate, violation_counts

__all__ = [
    "ENGINE_COLUMNS",
    "ETA_COLUMNS",
    "OVERDUE_FACTOR",
    "RATE_POINTS",
    "RULES",
    "SEVERITY",
    "TRANSITION_COLUMNS",
    "Analysis",
    "Code",
    "Prepared",
    "Rule",
    "Severity",
    "analyse",
    "eta",
    "fleet_rates",
    "outcome_counts",
    "prepare",
    "summarize",
    "transitions",
    "validate",
    "violation_counts",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            **dict.fromkeys(("Analysis", "analyse"), "._analysis"),
            **dict.fromkeys(
                ("ETA_COLUMNS", "OVERDUE_FACTOR", "RATE_POINTS", "eta", "fleet_rates"), "._eta"
            ),
            **dict.fromkeys(("ENGINE_COLUMNS", "Prepared", "prepare"), "._prepare"),
            **dict.fromkeys(("RULES", "SEVERITY", "Code", "Rule", "Severity"), "._rules"),
            **dict.fromkeys(("outcome_counts", "summarize"), "._summary"),
            **dict.fromkeys(("TRANSITION_COLUMNS", "transitions"), "._transitions"),
            **dict.fromkeys(("validate", "violation_counts"), "._violations"),
        },
    )
