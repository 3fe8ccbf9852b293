"""The violation rules as one table: code, severity, check and detail, one row per code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from replay.engine import _checks as checks
from replay.engine import _details as details
from replay.engine._prepare import Prepared

__all__ = ["RULES", "SEVERITY", "Code", "Rule", "Severity"]


class Code(StrEnum):
    """The violation codes (a stable contract: never renamed), in the order of :data:`RULES`."""

    UNKNOWN_STATUS = "unknown_status"
    MISSING_STATUS = "missing_status"
    ILLEGAL_TRANSITION = "illegal_transition"
    AFTER_TERMINAL = "after_terminal"
    PCT_OUT_OF_RANGE = "pct_out_of_range"
    TS_NOT_INCREASING = "ts_not_increasing"
    PCT_REGRESSION = "pct_regression"
    COMPLETED_NOT_100 = "completed_not_100"
    STALLED = "stalled"
    NO_TERMINAL = "no_terminal"


class Severity(StrEnum):
    """How bad a violation is: ``--fail-on`` compares against it (errors first)."""

    ERROR = "error"
    WARNING = "warning"


class Rule(NamedTuple):
    """One violation rule: its code and severity, the rows it flags, and what it says of them."""

    code: Code
    severity: Severity
    check: Callable[[Prepared], np.ndarray]
    detail: Callable[[Prepared, np.ndarray], np.ndarray]


E, W = Severity.ERROR, Severity.WARNING
#: Every rule, in contract order (the order of :class:`Code`).
RULES: tuple[Rule, ...] = (
    Rule(Code.UNKNOWN_STATUS, E, checks.unknown_status, details.unknown_status),
    Rule(Code.MISSING_STATUS, E, checks.missing_status, details.missing_status),
    Rule(Code.ILLEGAL_TRANSITION, E, checks.illegal_transition, details.illegal_transition),
    Rule(Code.AFTER_TERMINAL, E, checks.after_terminal, details.after_terminal),
    Rule(Code.PCT_OUT_OF_RANGE, E, checks.pct_out_of_range, details.pct_out_of_range),
    Rule(Code.TS_NOT_INCREASING, E, checks.ts_not_increasing, details.ts_not_increasing),
    Rule(Code.PCT_REGRESSION, W, checks.pct_regression, details.pct_regression),
    Rule(Code.COMPLETED_NOT_100, W, checks.completed_not_100, details.completed_not_100),
    Rule(Code.STALLED, W, checks.stalled, details.stalled),
    Rule(Code.NO_TERMINAL, W, checks.no_terminal, details.no_terminal),
)
del E, W

if tuple(rule.code for rule in RULES) != tuple(Code):  # a code without its rule fails at import
    raise RuntimeError("replay.engine: RULES must hold exactly one rule per Code, in Code's order")

#: The severity of each code, from the table.
SEVERITY: Mapping[str, str] = {str(rule.code): str(rule.severity) for rule in RULES}
