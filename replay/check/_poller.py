"""check-poller: run a poller command against every scenario and dialect, grade each run."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from replay.check._grade import CHECKS, Check, Grading, RunResult, grade
from replay.check._plan import (
    CHECK_ORIGIN,
    COPY_STARTS,
    DIALECTS,
    GIVE_UP_STATUSES,
    SUCCESS_OUTCOMES,
    TERMINAL_STATUSES,
    CheckJob,
    over_http_scenarios,
    plan_jobs,
)
from replay.check._report import CheckReport
from replay.check._run import (
    ProcessResult,
    Running,
    checked_command,
    command_for,
    run_command,
    starts_the_copy,
)
from replay.errors import UsageError

if TYPE_CHECKING:
    from replay.server import MonitorServer

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


def check_poller(
    command: Sequence[str],
    *,
    scenarios: Sequence[str] | None = None,
    dialects: Sequence[str] | None = None,
    parallel: int = 4,
    timeout_s: float = 20.0,
    grading: Grading | None = None,
    seed: int = 0,
    on_run: Callable[[RunResult], None] | None = None,
) -> CheckReport:
    """Run ``command`` (with ``{url}``, or ``{copy_url}`` for a poller that starts the copy)
    once per scenario x dialect on a loopback server; grade it.

    ``parallel`` runs at once, each killed (with its process group) after ``timeout_s``.
    ``on_run`` is called with each result as it is graded (in completion order). With
    ``grading.tls`` the server speaks HTTPS and each run's environment names its CA file.
    """
    from replay.server import MonitorServer

    argv = checked_command(command)
    chosen = grading or Grading()
    _check_numbers(parallel, timeout_s, chosen)
    jobs = plan_jobs(scenarios, dialects, seed=seed, copy=starts_the_copy(argv))
    server = MonitorServer(
        mode=chosen.mode,
        speed=chosen.speed,
        reject_authorization=chosen.reject_authorization,
        log_limit=None,  # a busy loop must not push its first requests out of the log
        tls=chosen.tls,
    )
    running = Running()
    with server:
        env = {**os.environ, **server.ca_environment()} if chosen.tls else None
        urls = [_served(server, job) for job in jobs]

        def one(position: int) -> RunResult:
            process = run_command(command_for(argv, urls[position]), timeout_s, running, env)
            result = grade(jobs[position], process, server.requests(urls[position]), chosen)
            if on_run is not None:
                on_run(result)
            return result

        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="check-poller")
        try:
            runs = tuple(pool.map(one, range(len(jobs))))
        except BaseException:
            # Ctrl-C does not reach the runs (each has its own session): end them here.
            pool.shutdown(wait=False, cancel_futures=True)
            running.kill_all()
            raise
        finally:
            pool.shutdown(wait=True)
    return CheckReport(tuple(argv), runs, chosen, timeout_s)


def _served(server: MonitorServer, job: CheckJob) -> str:
    """The URL the run's command gets: the job's monitor, or the copy call that starts it."""
    if job.copy_status is not None and not job.has_monitor:
        return server.add_copy(status=job.copy_status)
    # Each job in its timeline's own URL shape: a v2.0 copy may get a v2.1 monitor.
    monitor = server.add(job.timeline, origin=CHECK_ORIGIN)
    return monitor if job.copy_status is None else server.add_copy(monitor)


def _check_numbers(parallel: int, timeout_s: float, grading: Grading) -> None:
    if parallel < 1:
        raise UsageError(f"--parallel must be at least 1, got {parallel}")
    if not timeout_s > 0:
        raise UsageError(f"--timeout must be a number of seconds > 0, got {timeout_s}")
    if grading.give_up_after < 0:
        raise UsageError(f"--give-up-after must be 0 or more, got {grading.give_up_after}")
    if not grading.speed > 0:
        raise UsageError(f"--speed must be > 0, got {grading.speed}")
    if grading.expect_stdout is not None:
        try:
            re.compile(grading.expect_stdout.replace("{outcome}", "completed"))
        except re.error as err:
            raise UsageError(
                f"--expect-stdout {grading.expect_stdout!r} is not a regular expression ({err}): "
                "escape special characters, e.g. 'outcome=\\w+'"
            ) from None
