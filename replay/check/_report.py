"""check-poller's results: the terminal table and the JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from replay.check._grade import CHECKS, Grading, RunResult
from replay.redact import redact_text

__all__ = ["CheckReport"]

#: Column headings of the table, per check.
_HEADINGS = {
    "ended": "ended",
    "conclusion": "conclusion",
    "no_authorization": "no-auth",
    "retry_after": "retry-after",
    "stops_after_terminal": "stops",
    "gives_up": "gives-up",
    "paced": "paced",
    "backs_off": "backoff",
    "polls": "polls-ok",
    "after_303": "after-303",
    "copy_call": "copy",
}
_MARK = {True: "PASS", False: "FAIL", None: "-"}


@dataclass(frozen=True)
class CheckReport:
    """Every run of one ``check-poller`` invocation, in scenario x dialect order."""

    command: tuple[str, ...]
    runs: tuple[RunResult, ...]
    grading: Grading
    timeout_s: float

    @property
    def passed(self) -> bool:
        """Whether every check of every run passed (checks that did not apply count as passed)."""
        return all(run.passed for run in self.runs)

    def failures(self) -> dict[str, int]:
        """Failed runs per check name (every check listed, zeros included)."""
        return {name: sum(run.checks[name].passed is False for run in self.runs) for name in CHECKS}

    def table(self) -> str:
        """The table for the terminal: one row per run, PASS/FAIL per check, and why."""
        header = ["scenario", "dialect", *(_HEADINGS[c] for c in CHECKS), "polls", "result", "why"]
        rows = [header, *(_row(run) for run in self.runs)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = [
            "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
            for r in rows
        ]
        failed = sum(not run.passed for run in self.runs)
        verdict = "all checks passed" if not failed else f"{failed} of {len(self.runs)} runs FAILED"
        counts = ", ".join(f"{name} {n}" for name, n in self.failures().items() if n)
        summary = f"{len(self.runs)} runs: {verdict}" + (f" (failures: {counts})" if counts else "")
        return "\n".join([*lines, "", summary])

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: settings, one entry per run, failures per check, overall pass."""
        return {
            "command": list(self.command),
            "mode": self.grading.mode,
            "speed": self.grading.speed,
            "timeout_s": self.timeout_s,
            "give_up_after": self.grading.give_up_after,
            "expect_stdout": self.grading.expect_stdout,
            "reject_authorization": self.grading.reject_authorization,
            "tls": self.grading.tls,
            "runs": [_run_dict(run) for run in self.runs],
            "failures": self.failures(),
            "passed": self.passed,
        }


def _row(run: RunResult) -> list[str]:
    marks = [_MARK[run.checks[name].passed] for name in CHECKS]
    result = "PASS" if run.passed else "FAIL"
    return [run.scenario, run.dialect, *marks, str(run.polls), result, run.why()]


def _run_dict(run: RunResult) -> dict[str, Any]:
    process = run.process
    return {
        "scenario": run.scenario,
        "dialect": run.dialect,
        "expected_outcome": run.expected_outcome,
        "exit_code": process.exit_code,
        "timed_out": process.timed_out,
        "duration_s": round(process.duration_s, 3),
        "polls": run.polls,
        "passed": run.passed,
        "checks": {name: asdict(run.checks[name]) for name in CHECKS},
        "crash": run.crash,
        "stdout_tail": _tail(process.stdout),
        "stderr_tail": _tail(process.stderr),
    }


def _tail(text: str, lines: int = 5) -> str:
    """The last few lines of ``text``, redacted (a poller may print its monitor URL)."""
    kept: Sequence[str] = text.rstrip().splitlines()[-lines:]
    return redact_text("\n".join(kept))
