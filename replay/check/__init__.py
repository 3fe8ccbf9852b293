"""Poller conformance: run a poller command against every scenario and dialect, grade each run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.check._poller import (
        CHECKS,
        COPY_STARTS,
        DIALECTS,
        GIVE_UP_STATUSES,
        SUCCESS_OUTCOMES,
        TERMINAL_STATUSES,
        Check,
        CheckJob,
        CheckReport,
        Grading,
        ProcessResult,
        RunResult,
        check_poller,
        over_http_scenarios,
        plan_jobs,
    )

__all__ = [
    "CHECKS",
    "COPY_STARTS",
    "DIALECTS",
    "GIVE_UP_STATUSES",
    "SUCCESS_OUTCOMES",
    "TERMINAL_STATUSES",
    "Check",
    "CheckJob",
    "CheckReport",
    "Grading",
    "ProcessResult",
    "RunResult",
    "check_poller",
    "over_http_scenarios",
    "plan_jobs",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        dict.fromkeys(
            (
                "CHECKS",
                "COPY_STARTS",
                "DIALECTS",
                "GIVE_UP_STATUSES",
                "SUCCESS_OUTCOMES",
                "TERMINAL_STATUSES",
                "Check",
                "CheckJob",
                "CheckReport",
                "Grading",
                "ProcessResult",
                "RunResult",
                "check_poller",
                "over_http_scenarios",
                "plan_jobs",
            ),
            "._poller",
        ),
    )
