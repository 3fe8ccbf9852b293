"""Real clients' own polling loops, pinned in the ``clients`` extra, graded by check-poller."""

from __future__ import annotations

import sys
import tomllib
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pytest

from replay.check import CHECKS, CheckReport, RunResult, check_poller

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = Path(__file__).resolve().parent / "drivers"
#: check-poller's --timeout: a loop that never ends is killed here and fails ``ended``.
TIMEOUT_S = 20.0
#: office365-rest-python-client's own deadline, ``wait(timeout=)``: shorter, so it is graded, by
#: more than the client's import takes on a loaded machine (seconds); long enough for a loop
#: that never stops to poll far past the poll count the ``polls`` check allows.
OFFICE365_WAIT_S = 8.0

COMMANDS = {
    "o365": [sys.executable, str(DRIVERS / "o365_copy_poller.py"), "{url}"],
    "office365": [
        sys.executable,
        str(DRIVERS / "office365_copy_wait.py"),
        "--timeout",
        str(OFFICE365_WAIT_S),
        "{url}",
    ],
}
#: The distribution each driver's client comes from, as the ``clients`` extra pins it.
DISTRIBUTIONS = {"o365": "O365", "office365": "Office365-REST-Python-Client"}

# One row per run: the verdict of each check, in CHECKS order (ended, conclusion,
# no_authorization, retry_after, stops_after_terminal, gives_up, paced, backs_off, polls,
# after_303, copy_call), and whether the exit looks like a crash. Step mode: paced and backs_off
# never apply; without {copy_url}, copy_call never does.
O365 = {
    # Passes: the body carries resourceId; no Authorization (PR #1031's naive_request).
    ("happy_path", "graph"): ("PASS PASS PASS - PASS - - - PASS - -", False),
    # Ends only on resourceId: a failed, deleteFailed or cancelled body is polled forever.
    ("failed_with_error", "graph"): ("FAIL FAIL PASS - FAIL - - - FAIL - -", False),
    ("delete_failed", "graph"): ("FAIL FAIL PASS - FAIL - - - FAIL - -", False),
    ("delete_failed", "legacy"): ("FAIL FAIL PASS - FAIL - - - FAIL - -", False),
    ("unknown_status", "graph"): ("FAIL FAIL PASS - FAIL - - - FAIL - -", False),
    # No deadline of its own.
    ("no_terminal", "graph"): ("FAIL FAIL PASS - - - - - - - -", False),
    # A body without status reads as inProgress; urllib3 retries the 5xx in between and waits
    # out their Retry-After.
    ("missing_status", "graph"): ("PASS PASS PASS - PASS - - - PASS - -", False),
    ("server_errors", "graph"): ("PASS PASS PASS PASS PASS - - - PASS - -", False),
    # requests follows the 303 to the copied item (on the fake server), and the loop polls the
    # item URL for ever: it never carries resourceId the way the loop wants it.
    ("legacy_303", "graph"): ("FAIL FAIL PASS - FAIL - - - FAIL FAIL -", False),
    # The HTML 200 body: response.json() raises, right only by accident.
    ("protocol_error", "graph"): ("PASS PASS PASS - - - - - - - -", True),
}
OFFICE365 = {
    ("happy_path", "graph"): ("PASS PASS PASS - PASS - - - PASS - -", False),
    ("failed_with_error", "graph"): ("PASS PASS PASS - PASS - - - PASS - -", False),
    ("unknown_status", "graph"): ("PASS PASS PASS - PASS - - - PASS - -", False),
    # A body without status and a code other than 202 is success: an early 200 {}, HTML 200.
    ("missing_status", "graph"): ("PASS FAIL PASS - - - - - PASS - -", False),
    ("protocol_error", "graph"): ("PASS FAIL PASS - - - - - - - -", False),
    # Only 429/503 are retried: the 500 in the middle of the copy raises.
    ("server_errors", "graph"): ("PASS FAIL PASS PASS - - - - PASS - -", False),
    # deleteFailed is not terminal to it: polled until wait(timeout=) gives up, exit 1.
    ("delete_failed", "graph"): ("PASS PASS PASS - FAIL - - - FAIL - -", False),
    ("delete_failed", "legacy"): ("PASS PASS PASS - FAIL - - - FAIL - -", False),
    # Its own deadline ends it and reports failure.
    ("no_terminal", "graph"): ("PASS PASS PASS - - - - - - - -", False),
    # requests follows the 303 once to the copied item, whose JSON ends the wait: success.
    ("legacy_303", "graph"): ("PASS PASS PASS - PASS - - - PASS PASS -", False),
}
EXPECTED = {"o365": O365, "office365": OFFICE365}
MARKS = {"PASS": True, "FAIL": False, "-": None}


def _row(marks: str) -> dict[str, bool | None]:
    return dict(zip(CHECKS, (MARKS[m] for m in marks.split()), strict=True))


@cache
def _report(client: str, dialect: str) -> CheckReport:
    """One check-poller run over the scenarios of ``client``'s table in ``dialect``."""
    scenarios = [s for s, d in EXPECTED[client] if d == dialect]
    return check_poller(
        COMMANDS[client], scenarios=scenarios, dialects=[dialect], parallel=8, timeout_s=TIMEOUT_S
    )


def _run(client: str, scenario: str, dialect: str) -> RunResult:
    (run,) = (r for r in _report(client, dialect).runs if r.scenario == scenario)
    return run


def _pins() -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [p.split("==") for p in pyproject["project"]["optional-dependencies"]["clients"]]
    return {name.strip().lower(): pin.strip() for name, pin in pins}


@pytest.mark.parametrize("client", sorted(DISTRIBUTIONS))
def test_the_graded_client_is_the_version_the_clients_extra_pins(client: str) -> None:
    distribution = DISTRIBUTIONS[client]

    assert version(distribution) == _pins()[distribution.lower()]


@pytest.mark.parametrize(
    ("client", "scenario", "dialect", "marks", "crashes"),
    [
        pytest.param(client, scenario, dialect, marks, crashes, id=f"{client}-{scenario}-{dialect}")
        for client, rows in EXPECTED.items()
        for (scenario, dialect), (marks, crashes) in rows.items()
    ],
)
def test_each_client_gets_the_verdicts_its_polling_code_earns(
    client: str, scenario: str, dialect: str, marks: str, crashes: bool
) -> None:
    run = _run(client, scenario, dialect)

    got = {name: run.checks[name].passed for name in CHECKS}
    assert got == _row(marks), run.why()
    assert (run.crash is not None) is crashes, run.crash
