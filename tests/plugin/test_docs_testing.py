"""docs/testing.md's examples run as written (the HTTPS one with --replay-tls), so the guide cannot rot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "testing.md"
SAMPLE = ROOT / "data" / "sample"


def example(heading: str) -> str:
    """The first fenced python block after ``heading`` in the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block after {heading!r} in {GUIDE.name}"
    return match.group(1)


def test_ten_line_example_replays_a_recorded_job(pytester: pytest.Pytester) -> None:
    shutil.copytree(SAMPLE, pytester.path / "data" / "sample")
    pytester.makepyfile(test_example=example("## Ten lines"))
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_transport_example_runs(pytester: pytest.Pytester) -> None:
    code = example("## Without sockets")
    pytester.makepyfile(
        test_transport="def test_transport():\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
    )
    pytester.runpytest().assert_outcomes(passed=1)


#: A careful poller for the matrix example (the guide leaves ``my_poller`` to the reader).
MY_POLLER = """
import time

import httpx


def my_poller(url, deadline_polls=200):
    with httpx.Client() as client:
        for _ in range(deadline_polls):
            answer = client.get(url)
            if answer.status_code == 404:
                return "expired"
            status = answer.json().get("status")
            if status in ("completed", "failed"):
                return status
            time.sleep(float(answer.headers.get("Retry-After", 0)))
    return "timed_out"

"""


def test_mutation_matrix_example_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_matrix=MY_POLLER + example("## Timelines and mutations"))
    pytester.runpytest().assert_outcomes(passed=6)


@pytest.mark.wallclock
def test_retry_after_example_waits_out_throttling_in_seconds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_throttled=example("### Retry-After: short by default"))
    pytester.runpytest().assert_outcomes(passed=2)


def test_https_example_runs_with_replay_tls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_https=example("## HTTPS: `--replay-tls`"))
    pytester.runpytest("--replay-tls").assert_outcomes(passed=1)
