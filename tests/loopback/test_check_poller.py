"""check-poller: real poller processes against the loopback server, graded from its request log."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from replay.check import CHECKS, CheckJob, Grading, RunResult, check_poller, plan_jobs
from replay.cli import main

POLLERS = Path(__file__).resolve().parents[2] / "examples" / "pollers"
#: The careful poller, fast: step mode makes its interval irrelevant to what it sees.
CAREFUL = [
    sys.executable,
    str(POLLERS / "careful.py"),
    "--interval",
    "0.01",
    "--max-interval",
    "0.05",
    "--deadline",
    "12",
    "{url}",
]
NAIVE_POLLS = 120
NAIVE = [
    sys.executable,
    str(POLLERS / "naive.py"),
    "--interval",
    "0.01",
    "--max-polls",
    str(NAIVE_POLLS),
    "{url}",
]
#: Scenarios where the naive poller's bugs show when the server lets Authorization through.
NAIVE_SCENARIOS = [
    "happy_path",
    "failed_with_error",
    "delete_failed",
    "unknown_status",
    "throttled",
    "server_errors",
    "expired_monitor",
    "legacy_303",
    "unauthorized",
    "missing_status",
]
NAIVE_DIALECTS = ["graph", "sharepoint-v21"]


def _verdicts(run: RunResult) -> dict[str, bool | None]:
    return {name: run.checks[name].passed for name in CHECKS}


def _first_terminal_body(job: CheckJob) -> str | None:
    """The body status of the job's first terminal answer (None: a 303, or none at all)."""
    if not job.terminal.any():
        return None
    response = job.timeline.responses[int(np.argmax(job.terminal))]
    return json.loads(response.body)["status"] if response.http_status != 303 else None


def naive_expectations(job: CheckJob, *, authorization_rejected: bool) -> dict[str, bool | None]:
    """What each check says of naive.py on ``job``, from what naive.py does.

    It always sends Authorization, never waits for Retry-After, stops only at a ``completed``
    body, and otherwise polls NAIVE_POLLS times and exits 1. With the 401 the real service gives
    it, it never gets past the first answer.
    """
    if authorization_rejected:
        return {
            "ended": True,
            "conclusion": not job.expects_success,
            "no_authorization": False,
            "retry_after": None,
            "stops_after_terminal": None,
            "gives_up": False,
            **STEP_MODE_PACING,
            "polls": None,
        }
    codes = np.array([r.http_status for r in job.timeline.responses])
    completes = _first_terminal_body(job) == "completed"
    return {
        "ended": True,
        "conclusion": completes == job.expects_success,
        "no_authorization": False,
        "retry_after": False if job.serves_retry_after else None,
        "stops_after_terminal": completes if job.terminal.any() else None,
        "gives_up": False if np.isin(codes, [401, 403, 404, 410]).any() else None,
        **STEP_MODE_PACING,
        "polls": _naive_polls_pass(job, completes),
    }


#: In step mode intervals mean nothing: the pacing checks do not apply.
STEP_MODE_PACING = {"paced": None, "backs_off": None}


def _naive_polls_pass(job: CheckJob, completes: bool) -> bool | None:
    """naive.py stops at a completed body; on any other ending it polls NAIVE_POLLS times."""
    if not job.terminal.any():
        return None
    needed = int(np.argmax(job.terminal)) + 1
    return completes or 2 * needed + 5 >= NAIVE_POLLS


def test_careful_poller_passes_every_check_on_every_scenario_and_dialect() -> None:
    report = check_poller(CAREFUL, parallel=12, timeout_s=20)

    assert len(report.runs) == len(plan_jobs())
    failed = {(r.scenario, r.dialect): r.why() for r in report.runs if not r.passed}
    assert failed == {}
    assert report.passed
    # Every check was exercised somewhere (none is vacuous across the whole matrix); the pacing
    # checks apply in time mode only (test_time_mode_grades_pacing_and_back_off).
    for name in CHECKS:
        if name not in STEP_MODE_PACING:
            assert any(r.checks[name].passed is True for r in report.runs), name


@pytest.mark.parametrize(
    ("rejected", "scenarios", "dialects"),
    [
        pytest.param(True, ["happy_path", "failed_with_error", "legacy_303"], ["graph"], id="401"),
        pytest.param(False, NAIVE_SCENARIOS, NAIVE_DIALECTS, id="authorization-let-through"),
    ],
)
def test_naive_poller_fails_exactly_the_checks_its_bugs_break(
    rejected: bool, scenarios: list[str], dialects: list[str]
) -> None:
    grading = Grading(reject_authorization=rejected)
    jobs = {(j.scenario, j.dialect): j for j in plan_jobs(scenarios, dialects)}
    assert all(len(j.timeline) < NAIVE_POLLS for j in jobs.values())  # it can reach every end

    report = check_poller(
        NAIVE, scenarios=scenarios, dialects=dialects, parallel=10, grading=grading
    )

    got = {(r.scenario, r.dialect): _verdicts(r) for r in report.runs}
    expected = {
        key: naive_expectations(job, authorization_rejected=rejected) for key, job in jobs.items()
    }
    assert got == expected
    assert not report.passed


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["check-poller", *argv])
    except SystemExit as done:  # argparse's own errors (a bad number) exit through SystemExit
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        pytest.param(
            ["--scenarios", "happy_path", "--dialects", "graph", "--", *CAREFUL], 0, "", id="pass"
        ),
        pytest.param(
            ["--scenarios", "happy_path", "--dialects", "graph", "--", *NAIVE], 1, "", id="fail"
        ),
        pytest.param(["--", sys.executable, "poller.py"], 2, "{url}", id="no-placeholder"),
        pytest.param(["--", "no-such-poller-xyz", "{url}"], 2, "command not found", id="missing"),
        pytest.param([], 2, "no poller command", id="no-command"),
        pytest.param(["--scenarios", "nope", "--", *CAREFUL], 2, "unknown scenario", id="scen"),
        pytest.param(
            ["--scenarios", "clock_skew", "--", *CAREFUL], 2, "imported logs only", id="offline"
        ),
        pytest.param(["--dialects", "klingon", "--", *CAREFUL], 2, "unknown dialect", id="dial"),
        pytest.param(["--parallel", "0", "--", *CAREFUL], 2, "--parallel", id="parallel"),
        pytest.param(["--expect-stdout", "(", "--", *CAREFUL], 2, "regular expr", id="regex"),
    ],
)
def test_exit_code_is_0_when_all_pass_1_when_some_fail_2_for_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, says: str
) -> None:
    got, out, err = _cli(capsys, *argv)

    assert got == code
    if code == 2:
        assert len(err.strip().splitlines()) == 1
        assert says in err
        assert out == ""
    else:
        assert ("FAIL" in out) == (code == 1)
        assert "happy_path" in out


def test_json_format_is_one_document_with_every_check_of_every_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--scenarios", "happy_path,expired_monitor", "--dialects", "graph", "consumer"]
    code, out, _ = _cli(capsys, *argv, "--format", "json", "--", *NAIVE)

    document = json.loads(out)
    assert code == 1
    assert document["passed"] is False
    assert [(r["scenario"], r["dialect"]) for r in document["runs"]] == [
        ("happy_path", "graph"),
        ("happy_path", "consumer"),
        ("expired_monitor", "graph"),
        ("expired_monitor", "consumer"),
    ]
    assert all(list(r["checks"]) == list(CHECKS) for r in document["runs"])
    failures = {
        name: sum(r["checks"][name]["passed"] is False for r in document["runs"]) for name in CHECKS
    }
    assert document["failures"] == failures
    assert failures["no_authorization"] == 4
    assert all(r["polls"] == NAIVE_POLLS for r in document["runs"])
    assert "tempauth=" not in out.replace("tempauth=REDACTED", "")


@pytest.mark.parametrize(
    ("command", "what"),
    [
        pytest.param([sys.executable, "-c", "import time; time.sleep(60)", "{url}"], "sleeps"),
        pytest.param(["sh", "-c", "sleep 60 & wait", "sh", "{url}"], "child-holds-pipes"),
    ],
)
def test_a_command_that_hangs_is_killed_at_the_timeout_and_graded_as_not_ended(
    command: list[str], what: str
) -> None:
    report = check_poller(command, scenarios=["happy_path"], dialects=["graph"], timeout_s=1.0)

    (run,) = report.runs
    assert run.process.timed_out
    assert run.process.exit_code is None
    assert run.process.duration_s < 3.0  # its whole process group went, pipes closed at once
    assert run.checks["ended"].passed is False
    assert run.checks["conclusion"].passed is False
    assert run.polls == 0


def _processes_with(marker: str) -> list[int]:
    """The pids of the processes whose command line holds ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_text(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_an_interrupted_check_kills_the_runs_in_flight_and_starts_no_more(tmp_path: Path) -> None:
    # In a process of its own, as a user runs it: libraries loaded into the test process (DuckDB,
    # Polars) can change how a SIGINT reaches Python there.
    marker = f"replay-check-{os.getpid()}-{time.monotonic_ns()}"
    hang = f"import time; time.sleep(60)  # {marker}"
    started_file = tmp_path / "started"
    poller = f"open({str(started_file)!r}, 'a').write('x'); {hang}"
    child = subprocess.Popen(
        [sys.executable, "-m", "replay", "check-poller", "--scenarios", "happy_path",
         "--parallel", "2", "--timeout", "30", "--", sys.executable, "-c", poller, "{url}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not started_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started_file.exists(), "no run started"
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=20)
        assert time.monotonic() - interrupted < 10.0
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "interrupted" in err
    assert len(started_file.read_text()) <= 2  # the two in flight; no run started after
    time.sleep(0.2)
    assert _processes_with(marker) == []


@pytest.mark.parametrize(
    ("command", "detail"),
    [
        pytest.param([sys.executable, "-c", "import sys; sys.exit(1)", "{url}"], "no output"),
        pytest.param(
            [sys.executable, "-c", "raise SystemExit('cannot parse {url}')"], "cannot parse"
        ),
    ],
)
def test_a_command_that_never_polls_gets_no_credit_for_its_exit_code(
    command: list[str], detail: str
) -> None:
    report = check_poller(command, scenarios=["failed_with_error"], dialects=["graph"])

    (run,) = report.runs
    assert run.polls == 0
    assert run.checks["conclusion"].passed is False
    assert "without polling" in run.checks["conclusion"].detail
    assert detail in run.checks["conclusion"].detail


def test_help_names_every_check_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check-poller", "--help"])

    out = capsys.readouterr().out
    assert exited.value.code == 0
    for heading in ("ended", "conclusion", "no-auth", "retry-after", "stops", "gives-up"):
        assert f"  {heading} " in out
    assert "exit: 0 every check passed, 1 some failed, 2 usage error" in out


@pytest.mark.parametrize(
    ("pattern", "conclusion_passes"),
    [
        pytest.param(r"outcome={outcome}\b", lambda job: True, id="outcome-placeholder"),
        pytest.param(r"outcome=completed", lambda job: True, id="success-pattern"),
        pytest.param(r"never printed", lambda job: not job.expects_success, id="no-match"),
    ],
)
def test_expect_stdout_judges_the_conclusion_from_the_output(
    pattern: str, conclusion_passes: Callable[[CheckJob], bool]
) -> None:
    scenarios = ["happy_path", "failed_with_error", "expired_monitor", "protocol_error"]
    jobs = {j.scenario: j for j in plan_jobs(scenarios, ["legacy"])}

    report = check_poller(
        CAREFUL,
        scenarios=scenarios,
        dialects=["legacy"],
        grading=Grading(expect_stdout=pattern),
    )

    got = {r.scenario: r.checks["conclusion"].passed for r in report.runs}
    assert got == {name: conclusion_passes(job) for name, job in jobs.items()}


def test_time_mode_serves_job_time_and_the_careful_poller_still_passes() -> None:
    scenarios = ["instant_complete", "failed_with_error", "expired_monitor", "legacy_303"]
    grading = Grading(mode="time", speed=20000.0)

    report = check_poller(CAREFUL, scenarios=scenarios, dialects=["graph"], grading=grading)

    assert {r.scenario: r.why() for r in report.runs if not r.passed} == {}
    assert [r.checks["conclusion"].passed for r in report.runs] == [True] * 4


DOC = Path(__file__).resolve().parents[2] / "docs" / "check-poller.md"


def test_docs_outcome_table_lists_every_scenario_with_its_expected_outcome() -> None:
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| (0|non-zero) \|$", DOC.read_text(), re.MULTILINE)

    expected = [
        (job.scenario, job.expected_outcome, "0" if job.expects_success else "non-zero")
        for job in plan_jobs(dialects=["graph"])
    ]
    assert rows == expected


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell poller of the docs uses curl")
def test_docs_shell_poller_passes_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (script,) = re.findall(r"```sh\n(#!/bin/sh\n.*?)```", DOC.read_text(), re.DOTALL)
    poller = tmp_path / "poll.sh"
    poller.write_text(script)
    poller.chmod(0o755)
    monkeypatch.setenv("POLL_INTERVAL", "0.05")
    monkeypatch.setenv("POLL_DEADLINE", "10")
    scenarios = ["throttled", "failed_with_error", "legacy_303", "expired_monitor", "unauthorized"]

    report = check_poller([str(poller), "{url}"], scenarios=scenarios, dialects=["consumer"])

    assert {r.scenario: r.why() for r in report.runs if not r.passed} == {}
    assert report.runs[0].checks["retry_after"].passed is True


def careful_expectations(job: CheckJob) -> dict[str, bool | None]:
    """What each check says of careful.py on ``job``: every check that applies passes."""
    codes = np.array([r.http_status for r in job.timeline.responses])
    return {
        "ended": True,
        "conclusion": True,
        "no_authorization": True,
        "retry_after": True if job.serves_retry_after else None,
        "stops_after_terminal": True if job.terminal.any() else None,
        "gives_up": True if np.isin(codes, [401, 403, 404, 410]).any() else None,
        **STEP_MODE_PACING,
        "polls": True if job.terminal.any() else None,
    }


def test_the_pollers_readme_shows_the_verdicts_each_poller_gets() -> None:
    text = (POLLERS / "README.md").read_text()
    blocks = re.findall(r"```text\n(.*?)```", text, re.DOTALL)
    marks = {"PASS": True, "FAIL": False, "-": None}
    columns = r"\s+".join([r"(\w+)", "graph", *[r"(PASS|FAIL|-)"] * len(CHECKS)])
    tables = [
        {m[0]: dict(zip(CHECKS, (marks[v] for v in m[1:]), strict=True)) for m in rows}
        for rows in (re.findall(rf"^{columns}\s", block, re.MULTILINE) for block in blocks)
    ]
    jobs = plan_jobs(dialects=["graph"])

    careful, naive_401, naive_let_through = tables
    assert careful == {j.scenario: careful_expectations(j) for j in jobs}
    assert len(naive_401) >= 2  # the README shows the first rows: the same three failures
    assert naive_401 == {
        j.scenario: naive_expectations(j, authorization_rejected=True)
        for j in jobs
        if j.scenario in naive_401
    }
    assert naive_let_through == {
        j.scenario: naive_expectations(j, authorization_rejected=False) for j in jobs
    }


def _poller(script: str, *options: str) -> list[str]:
    return [sys.executable, str(POLLERS / script), *options, "{url}"]


@pytest.mark.parametrize(
    ("command", "speed", "check", "passed", "says"),
    [
        pytest.param(
            _poller("careful.py", "--interval", "0.01", "--max-interval", "1", "--deadline", "20"),
            2000.0,
            "backs_off",
            True,
            "backed off",
            id="careful-backs-off",
        ),
        pytest.param(
            _poller("naive.py", "--interval", "0.02", "--max-polls", "400"),
            2000.0,
            "backs_off",
            False,
            "no back-off",
            id="fixed-interval",
        ),
        pytest.param(
            _poller("naive.py", "--interval", "0", "--max-polls", "300"),
            60.0,
            "paced",
            False,
            "busy loop",
            id="busy-loop",
        ),
        pytest.param(
            _poller("careful.py", "--interval", "0.05", "--deadline", "20"),
            60.0,
            "paced",
            True,
            "job s between polls",
            id="careful-paced",
        ),
    ],
)
def test_time_mode_grades_pacing_and_back_off(
    command: list[str], speed: float, check: str, passed: bool, says: str
) -> None:
    grading = Grading(mode="time", speed=speed, reject_authorization=False)
    (run,) = check_poller(
        command, scenarios=["stuck_percentage"], dialects=["graph"], grading=grading, timeout_s=30
    ).runs
    assert run.checks[check].passed is passed, run.checks[check].detail
    assert says in run.checks[check].detail
