"""Grading one run of a poller from its exit, its output and the server's request log."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from replay.check._plan import GIVE_UP_STATUSES, CheckJob
from replay.check._run import ProcessResult
from replay.serving import MONITOR_PATHS, RequestRecord
from replay.simulate import response_fields

__all__ = ["CHECKS", "Check", "Grading", "RunResult", "crash_sign", "grade"]

#: The checks of a run, in table order (stable names: they are keys of the JSON output).
CHECKS: tuple[str, ...] = (
    "ended",
    "conclusion",
    "no_authorization",
    "retry_after",
    "stops_after_terminal",
    "gives_up",
    "paced",
    "backs_off",
    "polls",
    "after_303",
    "copy_call",
)
#: Clock slack when comparing a request's arrival with the time Retry-After named.
_RETRY_SLACK_S = 0.02
_DROPPED = -1  # response status of a dropped connection in the arrays below


@dataclass(frozen=True)
class Check:
    """One check of one run: ``passed`` is None when it did not apply (nothing to judge)."""

    passed: bool | None
    detail: str


@dataclass(frozen=True)
class Grading:
    """How runs are graded: the server's settings and the user's options.

    ``tls``: the server speaks HTTPS with a CA made for the run, whose file the command finds in
    ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS`` and ``CURL_CA_BUNDLE``.
    """

    mode: Literal["time", "step"] = "step"
    speed: float = 1.0
    reject_authorization: bool = True
    expect_stdout: str | None = None
    give_up_after: int = 2
    #: Time mode: job seconds (wall seconds x ``speed``) at least between two polls that no
    #: Retry-After spaced, as a median: less is a busy loop.
    min_interval_s: float = 1.0
    tls: bool = False


@dataclass(frozen=True)
class RunResult:
    """The grade of one run: its job, how the process ended, the polls and every check."""

    scenario: str
    dialect: str
    expected_outcome: str
    process: ProcessResult
    polls: int
    checks: Mapping[str, Check] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether no check failed (checks that did not apply count as passed)."""
        return all(c.passed is not False for c in self.checks.values())

    @property
    def crash(self) -> str | None:
        """What makes the exit look like a crash rather than a conclusion, or None."""
        return crash_sign(self.process)

    def why(self) -> str:
        """The details of the failed checks and any sign of a crash, joined (empty when the run
        passed cleanly): a conclusion reached by crashing is right by accident."""
        parts = [c.detail for c in self.checks.values() if c.passed is False]
        if self.crash is not None:
            parts.append(f"the exit looks like a crash: {self.crash}")
        return "; ".join(parts)


def grade(
    job: CheckJob, process: ProcessResult, log: Sequence[RequestRecord], grading: Grading
) -> RunResult:
    """Grade one run of the poller on ``job`` from its process and its request log.

    The monitor checks look at the polls; ``after_303`` at the GETs of the item a 303 named;
    ``copy_call`` at the copy calls, with ``{copy_url}``.
    """
    polls = [r for r in log if r.target == "monitor"]
    items = [r for r in log if r.target == "item"]
    copies = [r for r in log if r.target == "copy"]
    at = np.array([r.at.timestamp() for r in polls], dtype=float)
    status = np.array(
        [_DROPPED if r.response_status is None else r.response_status for r in polls], dtype=int
    )
    auth = np.array([r.authorization_sent for r in polls], dtype=bool)
    get = np.array([r.method == "GET" for r in polls], dtype=bool)
    served = get & ~(auth & grading.reject_authorization)
    index = _served_index(job, at, status, served, grading)
    conclusion = _conclusion(job, process, grading.expect_stdout, served, index, copies)
    checks = {
        "ended": _ended(process),
        "conclusion": conclusion,
        "no_authorization": _no_authorization(auth),
        "retry_after": _retry_after(job, at, status, served, index),
        "stops_after_terminal": _stops_after_terminal(job, served, index),
        "gives_up": _gives_up(job, status, served, index, grading.give_up_after),
        "paced": _paced(job, at, served, index, grading),
        "backs_off": _backs_off(job, at, served, index, grading),
        "polls": _polls(job, served, index, grading),
        "after_303": _after_303(bool((status == 303).any()), items, conclusion),
        "copy_call": _copy_call(job, copies, len(polls)),
    }
    return RunResult(job.scenario, job.dialect, job.expected_outcome, process, len(polls), checks)


def _served_index(
    job: CheckJob, at: np.ndarray, status: np.ndarray, served: np.ndarray, grading: Grading
) -> np.ndarray:
    """Per request, the timeline response it got (meaningful where ``served``)."""
    last = len(job.timeline) - 1
    if grading.mode == "step":
        return np.minimum(np.maximum(np.cumsum(served) - 1, 0), last)
    times = np.array([r.at_s for r in job.timeline.responses])
    start = at[served][0] if served.any() else 0.0
    guess = np.clip(np.searchsorted(times, (at - start) * grading.speed, "right") - 1, 0, last)
    # A request on the edge of two responses may have got either: take the one whose status it got.
    codes = _served_codes(job)
    around = np.clip(guess[None, :] + np.array([[0], [-1], [1]]), 0, last)
    matches = codes[around] == status[None, :]
    pick = np.where(matches.any(axis=0), matches.argmax(axis=0), 0)
    return around[pick, np.arange(len(guess))]


def _served_codes(job: CheckJob) -> np.ndarray:
    """The status a request logs for each timeline response (dropped connections: -1)."""
    return np.array([_DROPPED if r.drop else r.http_status for r in job.timeline.responses])


def _ended(process: ProcessResult) -> Check:
    if process.timed_out:
        return Check(False, f"did not end: killed at the timeout ({process.duration_s:.1f} s)")
    return Check(True, f"exit {process.exit_code} after {process.duration_s:.1f} s")


def _conclusion(
    job: CheckJob,
    process: ProcessResult,
    expect_stdout: str | None,
    served: np.ndarray,
    index: np.ndarray,
    copies: Sequence[RequestRecord],
) -> Check:
    wanted = "success" if job.expects_success else "failure"
    if process.timed_out:
        return Check(False, f"no conclusion (killed); expected {wanted} ({job.expected_outcome})")
    if not len(served) and not copies:
        # Exiting non-zero on a failing scenario without looking is luck, not a conclusion.
        said = _last_line(process.stderr) or _last_line(process.stdout) or "no output"
        looked = "polling the monitor" if job.copy_status is None else "calling the copy URL"
        return Check(False, f"exit {process.exit_code} without {looked} ({said})")
    if expect_stdout is not None:
        return _stdout_conclusion(job, process.stdout, expect_stdout)
    said = "success" if process.exit_code == 0 else "failure"
    completed_at_once = not job.has_monitor and job.completes[0] and bool(copies)
    if said == "success" and not ((served & job.completes[index]).any() or completed_at_once):
        return _early_success(job, process, served, index, copies)
    detail = f"exit {process.exit_code} ({said}); expected {wanted} ({job.expected_outcome})"
    return Check(said == wanted, detail)


def _early_success(
    job: CheckJob,
    process: ProcessResult,
    served: np.ndarray,
    index: np.ndarray,
    copies: Sequence[RequestRecord],
) -> Check:
    """Exit 0 although no completion was ever served: success taken before the copy ended."""
    last = int(np.flatnonzero(served)[-1]) if served.any() else None
    if last is None and copies:
        where = f"after the copy call's {copies[-1].response_status}, before any poll"
    elif last is None:
        where = "before any answer was served"
    else:
        pct = response_fields(job.timeline.responses[index[last]])["percentage_complete"]
        at = "no percentage" if pct is None else f"{pct:g} %"
        where = f"at request {last + 1} ({at})"
    return Check(
        False,
        f"exit {process.exit_code} (success) {where}, but the server never served a "
        "completion (a completed body or a 303): success was concluded too early",
    )


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


def _stdout_conclusion(job: CheckJob, stdout: str, pattern: str) -> Check:
    """With ``{outcome}``: the pattern must match; without: match exactly on success."""
    if "{outcome}" in pattern:
        regex = pattern.replace("{outcome}", re.escape(job.expected_outcome))
        found = re.search(regex, stdout, re.MULTILINE) is not None
        said = "matched" if found else "not matched"
        return Check(found, f"stdout {said} {regex!r} (expected outcome {job.expected_outcome})")
    found = re.search(pattern, stdout, re.MULTILINE) is not None
    should = "match" if job.expects_success else "not match"
    said = "matched" if found else "did not match"
    return Check(
        found == job.expects_success,
        f"stdout {said} {pattern!r}; should {should} ({job.expected_outcome})",
    )


def _no_authorization(auth: np.ndarray) -> Check:
    sent = int(auth.sum())
    if sent:
        return Check(False, f"sent Authorization on {sent} of {len(auth)} requests (expect 401)")
    return Check(True, "no Authorization header")


def _retry_after(
    job: CheckJob, at: np.ndarray, status: np.ndarray, served: np.ndarray, index: np.ndarray
) -> Check:
    """Each request after a Retry-After answer came no earlier than the time it named."""
    got = served & np.isfinite(job.retry_s[index]) & (_served_codes(job)[index] == status)
    if not got.any():
        return Check(None, "no Retry-After received")
    wait = job.retry_s[index]
    # An HTTP date has a one-second resolution: it names the second ``wait`` ahead, truncated.
    due = np.where(job.retry_date[index], np.floor(at + wait), at + wait)
    following = np.append(at[1:], np.inf)
    early = got & (following < due - _RETRY_SLACK_S)
    if not early.any():
        return Check(True, f"waited out {int(got.sum())} Retry-After")
    first = int(np.argmax(early))
    kind = "HTTP date" if job.retry_date[index[first]] else f"{wait[first]:g} s"
    gap = following[first] - at[first]
    return Check(
        False,
        f"polled {gap:.2f} s after a Retry-After of {kind} (request {first + 1}; "
        f"{int(early.sum())} of {int(got.sum())} not waited out)",
    )


def _stops_after_terminal(job: CheckJob, served: np.ndarray, index: np.ndarray) -> Check:
    ended = served & job.terminal[index]
    if not ended.any():
        return Check(None, "no terminal answer received")
    after = len(served) - int(np.argmax(ended)) - 1
    if after:
        return Check(False, f"polled {after} times after a terminal answer")
    return Check(True, "stopped at the terminal answer")


def _unspaced_gaps(
    job: CheckJob, at: np.ndarray, served: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gaps (wall seconds) after served answers that named no Retry-After and did not end the
    job, with the index of the request each gap follows."""
    rows = np.flatnonzero(served)
    if len(rows) < 2:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    before, after = rows[:-1], rows[1:]
    free = ~np.isfinite(job.retry_s[index[before]]) & ~job.terminal[index[before]]
    return (at[after] - at[before])[free], before[free]


def _paced(
    job: CheckJob, at: np.ndarray, served: np.ndarray, index: np.ndarray, grading: Grading
) -> Check:
    """Time mode: polls without a Retry-After come no faster than ``min_interval_s`` (median)."""
    if grading.mode != "time":
        return Check(None, "step mode: intervals are not graded")
    gaps, _ = _unspaced_gaps(job, at, served, index)
    if len(gaps) < 3:
        return Check(None, "too few polls to judge the interval")
    job_gaps = gaps * grading.speed
    median = float(np.median(job_gaps))
    fast = int((job_gaps < grading.min_interval_s).sum())
    if median < grading.min_interval_s:
        return Check(
            False,
            f"busy loop: median {median:.3g} job s between polls, {fast} of {len(gaps)} under "
            f"{grading.min_interval_s:g} s with no Retry-After asking for it",
        )
    return Check(True, f"median {median:.3g} job s between polls")


#: A run of this many answers without change (same status and percentage) is long enough to ask
#: for back-off: its last gap should be this many times its first.
_STILL_RUN = 5
_BACKOFF_FACTOR = 1.5


def _backs_off(
    job: CheckJob, at: np.ndarray, served: np.ndarray, index: np.ndarray, grading: Grading
) -> Check:
    """Time mode: while answers do not change, the poller waits longer and longer."""
    if grading.mode != "time":
        return Check(None, "step mode: intervals are not graded")
    rows = np.flatnonzero(served)
    keys = [_state_key(job, int(i)) for i in index[rows]]
    runs = [(a, b) for a, b in _runs(keys) if b - a >= _STILL_RUN]
    runs = [(a, b) for a, b in runs if keys[a] is not None]
    if not runs:
        return Check(None, f"no {_STILL_RUN} unchanged answers in a row")
    a, b = max(runs, key=lambda r: r[1] - r[0])
    gaps = np.diff(at[rows[a:b]])
    first, last = float(gaps[0]), float(gaps[-1])
    if last < _BACKOFF_FACTOR * max(first, 1e-3):
        return Check(
            False,
            f"no back-off: {b - a} unchanged answers polled {first:.2f} s then {last:.2f} s apart "
            f"(the gap should grow at least {_BACKOFF_FACTOR:g}x while nothing changes)",
        )
    return Check(True, f"backed off from {first:.2f} s to {last:.2f} s while nothing changed")


def _state_key(job: CheckJob, response: int) -> tuple[object, object] | None:
    fields = response_fields(job.timeline.responses[response])
    if fields["status"] is None:
        return None
    return fields["status"], fields["percentage_complete"]


def _runs(keys: Sequence[object]) -> list[tuple[int, int]]:
    """[start, end) of each run of equal consecutive keys."""
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((start, i))
            start = i
    return out


#: Step mode: polls a run may take, per response the job needed to be seen to its end.
_POLLS_PER_NEEDED = 2
_POLLS_SLACK = 5


def _polls(job: CheckJob, served: np.ndarray, index: np.ndarray, grading: Grading) -> Check:
    """Step mode: no more polls than the job needed to be followed to its end (with slack)."""
    if grading.mode != "step":
        return Check(None, "time mode: the polls a job needs depend on the interval")
    ends = np.flatnonzero(job.terminal)
    if not len(ends):
        return Check(None, "the job never ends: any number of polls until a deadline is fair")
    needed = int(ends[0]) + 1
    budget = _POLLS_PER_NEEDED * needed + _POLLS_SLACK
    polls = int(served.sum())
    if not polls:
        return Check(None, "no poll was served an answer")
    if polls > budget:
        return Check(False, f"{polls} polls for a job that needed {needed} (at most {budget})")
    return Check(True, f"{polls} polls for a job that needed {needed}")


def _gives_up(
    job: CheckJob, status: np.ndarray, served: np.ndarray, index: np.ndarray, limit: int
) -> Check:
    """At most ``limit`` requests after the first answer polling cannot help: a 401, 403, 404
    or 410, or an error code that ends the job (``operationNotFound``) whatever its status."""
    said = served & job.gone[index]
    gone = np.isin(status, sorted(GIVE_UP_STATUSES)) | said
    if not gone.any():
        return Check(None, "no 401/403/404/410 or operationNotFound received")
    first = int(np.argmax(gone))
    after = len(status) - first - 1
    code = f"{status[first]}"
    if said[first]:
        code += f" {response_fields(job.timeline.responses[index[first]])['error_code']}"
    if after > limit:
        return Check(False, f"polled {after} more times after a {code} (at most {limit})")
    return Check(True, f"gave up after a {code} ({after} more requests)")


def _after_303(saw_303: bool, items: Sequence[RequestRecord], conclusion: Check) -> Check:
    """What the poller did with a 303: stop there, or read the copied item once, anonymously,
    and still conclude that the copy completed."""
    if not saw_303 and not items:
        return Check(None, "no 303 received")
    if not items:
        return Check(True, "the 303's Location not followed")
    answers = ", ".join(str(r.response_status) for r in items[:3])
    bearer = sum(r.authorization_sent for r in items)
    if bearer:
        return Check(
            False,
            f"sent Authorization to the 303's Location on {bearer} of {len(items)} requests: "
            "the item URL refuses a Graph token (401 Invalid audience, python-o365#872)",
        )
    if len(items) > 1:
        return Check(
            False,
            f"requested the 303's Location {len(items)} times (answered {answers}); "
            "once is enough to read the copied item",
        )
    what = "the copied item" if items[0].response_status == 200 else "the item needs a bearer"
    if conclusion.passed is False:
        return Check(
            False,
            f"followed the 303's Location ({answers}: {what}) and concluded otherwise than "
            "completed: a 303 is the completion, whatever its Location answers",
        )
    return Check(True, f"followed the 303's Location once ({answers}: {what})")


def _copy_call(job: CheckJob, copies: Sequence[RequestRecord], polls: int) -> Check:
    """With ``{copy_url}``: one copy call, and its Location polled when it answered 202."""
    if job.copy_status is None:
        return Check(None, "no copy call (the command was given the monitor URL)")
    if not copies:
        return Check(False, "never called the copy URL it was given")
    answered = copies[0].response_status
    if len(copies) > 1:
        return Check(
            False,
            f"called the copy URL {len(copies)} times: each call starts a copy, and the later "
            "ones got 409 nameAlreadyExists",
        )
    if job.has_monitor and not polls:
        hint = ""
        if "monitor" not in MONITOR_PATHS.get(job.timeline.dialect or job.dialect, "monitor"):
            hint = " (its Location has no 'monitor' in it: python-o365#628 took that for done)"
        return Check(False, f"never polled the Location of the copy call's {answered}{hint}")
    then = "then polled its Location" if job.has_monitor else "nothing to poll"
    return Check(True, f"one copy call ({answered}), {then}")


#: What crashed programs print, per runtime: the line that names the error follows the marker.
_CRASH_MARKERS: tuple[tuple[str, str], ...] = (
    ("Traceback (most recent call last):", "Python"),
    ("panicked at", "Rust"),
    ("panic: ", "Go"),
    ("Unhandled exception.", ".NET"),
    ("Exception in thread", "Java"),
    ("    at ", "JavaScript"),
)


def crash_sign(process: ProcessResult) -> str | None:
    """Why an exit looks like a crash (a signal, a runtime's stack trace), or None."""
    code = process.exit_code
    if code is not None and (code < 0 or 128 < code < 160):
        number = -code if code < 0 else code - 128
        return f"killed by signal {_signal_name(number)}"
    for marker, runtime in _CRASH_MARKERS:
        if marker in process.stderr:
            return f"{runtime} error: {_error_line(process.stderr, runtime)}"
    return None


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _error_line(stderr: str, runtime: str) -> str:
    """The line naming the error: the last one for Python, else the first non-stack line."""
    from replay.redact import redact_text

    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if runtime == "Python":
        chosen = lines[-1] if lines else ""
    else:
        chosen = next((line for line in lines if not line.startswith("at ")), "")
    return redact_text(chosen[:200])
