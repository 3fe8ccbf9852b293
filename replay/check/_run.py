"""Running the user's poller command: ``{url}`` substituted, no shell, killed with its group."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from replay.errors import UsageError

__all__ = [
    "COPY_URL_PLACEHOLDER",
    "URL_PLACEHOLDER",
    "ProcessResult",
    "Running",
    "checked_command",
    "command_for",
    "run_command",
    "starts_the_copy",
]

#: Where the command takes the monitor URL, or instead the copy call's URL (it POSTs it first).
URL_PLACEHOLDER = "{url}"
COPY_URL_PLACEHOLDER = "{copy_url}"
#: Seconds to collect the output of a killed command before giving up on its pipes.
_REAP_S = 5.0
#: Characters of stdout and stderr kept per run (the end, where a poller prints its conclusion).
OUTPUT_TAIL = 4000


@dataclass(frozen=True)
class ProcessResult:
    """How one run of the command ended: exit code (None when killed at the timeout) and output."""

    exit_code: int | None
    timed_out: bool
    duration_s: float
    stdout: str
    stderr: str


def checked_command(command: Sequence[str]) -> list[str]:
    """``command`` as an argv list; UsageError when it is empty, has neither ``{url}`` nor
    ``{copy_url}`` (or both), or is not found."""
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("no poller command: give it after --, e.g. -- python poller.py {url}")
    given = [p for p in (URL_PLACEHOLDER, COPY_URL_PLACEHOLDER) if any(p in arg for arg in argv)]
    if not given:
        raise UsageError(
            f"the command has no {URL_PLACEHOLDER} placeholder: write {URL_PLACEHOLDER} where the "
            "poller takes the monitor URL, e.g. -- python poller.py {url} (or "
            f"{COPY_URL_PLACEHOLDER} where it takes the copy call's URL to POST)"
        )
    if len(given) == 2:
        raise UsageError(
            f"the command has both {URL_PLACEHOLDER} and {COPY_URL_PLACEHOLDER}: give the poller "
            f"the monitor URL ({URL_PLACEHOLDER}) or the copy call that answers it "
            f"({COPY_URL_PLACEHOLDER}), not both"
        )
    if shutil.which(argv[0]) is None:
        raise UsageError(
            f"command not found: {argv[0]!r} (not on PATH and not an executable file); "
            "give a full path or install it"
        )
    return argv


def starts_the_copy(argv: Sequence[str]) -> bool:
    """Whether the command takes the copy call's URL (``{copy_url}``) rather than a monitor's."""
    return any(COPY_URL_PLACEHOLDER in arg for arg in argv)


def command_for(argv: Sequence[str], url: str) -> list[str]:
    """``argv`` with its placeholder (``{url}`` or ``{copy_url}``, inside arguments too)
    replaced by ``url``."""
    return [arg.replace(URL_PLACEHOLDER, url).replace(COPY_URL_PLACEHOLDER, url) for arg in argv]


class Running:
    """The process groups of the runs in flight, so an interrupted check can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self._stopped = False

    def add(self, pid: int) -> bool:
        """Track ``pid``; False (and the caller kills it) once ``kill_all`` has run."""
        with self._lock:
            if not self._stopped:
                self._pids.add(pid)
            return not self._stopped

    def discard(self, pid: int) -> None:
        with self._lock:
            self._pids.discard(pid)

    def kill_all(self) -> None:
        """Kill every tracked process group and refuse new ones."""
        with self._lock:
            self._stopped = True
            pids, self._pids = self._pids, set()
        for pid in pids:
            _kill_group(pid)


def run_command(
    argv: Sequence[str],
    timeout_s: float,
    running: Running | None = None,
    env: Mapping[str, str] | None = None,
) -> ProcessResult:
    """Run ``argv`` in its own process group (in ``env``, default this process's environment);
    kill the whole group at ``timeout_s``."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv),
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as err:
        raise UsageError(f"cannot run {argv[0]!r}: {err.strerror or err}") from None
    if running is not None and not running.add(process.pid):
        _kill_group(process.pid)
    timed_out = False
    try:
        out, errors = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process.pid)
        out, errors = _reap(process)
    finally:
        if running is not None:
            running.discard(process.pid)
    return ProcessResult(
        exit_code=None if timed_out else process.returncode,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        stdout=out[-OUTPUT_TAIL:],
        stderr=errors[-OUTPUT_TAIL:],
    )


def _kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (the poller and anything it started)."""
    with contextlib.suppress(ProcessLookupError):  # it ended between the timeout and the kill
        os.killpg(pid, signal.SIGKILL)


def _reap(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The output of a killed process; empty when a detached child still holds its pipes."""
    try:
        out, err = process.communicate(timeout=_REAP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return "", ""
    return out or "", err or ""
