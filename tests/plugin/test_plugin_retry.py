"""The plugin's Retry-After: short by default, verbatim when asked, in wall time in time mode."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)

#: A careful poller: waits out Retry-After (seconds or an HTTP date), else polls every 50 ms.
CAREFUL = '''
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


def wait_s(value):
    if value is None:
        return 0.05
    if value.strip().isdigit():
        return float(value)
    return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)


def poll(url, verify=True):
    """GET until completed or failed, waiting as each answer asks; return the last status."""
    with httpx.Client(verify=verify) as client:
        while True:
            answer = client.get(url)
            status = answer.json().get("status") if answer.content else None
            if status in ("completed", "failed"):
                return status
            time.sleep(wait_s(answer.headers.get("Retry-After")))
'''


@pytest.mark.wallclock
@pytest.mark.parametrize(
    ("mode", "speed", "budget_s"),
    [
        pytest.param("step", 1.0, 20, id="step"),  # was 248 s: 86 s, 70 s and a date, verbatim
        pytest.param("time", 60.0, 25, id="time-60x"),  # was 87 s: Retry-After unscaled
    ],
)
def test_a_throttled_job_is_waited_out_in_seconds(
    pytester: pytest.Pytester, mode: str, speed: float, budget_s: float
) -> None:
    pytester.makepyfile(poller=CAREFUL)
    pytester.makepyfile(
        f"""
        import time
        from poller import poll
        from replay.testing import assert_respects_retry_after

        def test_throttled(monitor_server):
            url = monitor_server.add_job(scenario="throttled", mode="{mode}", speed={speed})
            started = time.monotonic()
            assert poll(url) == "completed"
            assert time.monotonic() - started < {budget_s}
            log = monitor_server.requests(url)
            assert sum(r.retry_after is not None for r in log) == 3
            assert_respects_retry_after(log)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


#: One inner test per row: (how the test asks, what the 429's "30" is served as).
RETRY_CASES = [
    ("", "", "1"),
    ("", 'retry_after="verbatim"', "30"),
    ('@pytest.mark.monitor(retry_after="verbatim")', "", "30"),
    ('@pytest.mark.monitor(retry_after="short")', 'retry_after="verbatim"', "1"),
]


def retry_tests(option: str | None) -> str:
    """A test file asserting what each RETRY_CASES row serves (``option``: the command line's)."""
    tests = []
    for n, (decorator, argument, served) in enumerate(RETRY_CASES):
        expected = {"short": "1", "verbatim": "30", None: served}[option]
        tests.append(
            f"""
{decorator}
def test_retry_{n}(monitor_server):
    steps = [{{"http": 429, "retry_after": "30"}}, ("completed", 100)]
    url = monitor_server.add_job(timeline=Timeline.from_steps(steps), {argument})
    assert httpx.get(url).headers["Retry-After"] == "{expected}"
    assert [r.retry_after for r in monitor_server.requests(url)] == ["{expected}"]
    policy = monitor_server.job_settings(url)["retry_after"]
    assert policy == ("short" if "{expected}" == "1" else "verbatim")
"""
        )
    return "import httpx\nimport pytest\nfrom replay.testing import Timeline\n" + "\n".join(tests)


@pytest.mark.parametrize("option", [None, "short", "verbatim"])
def test_retry_after_is_short_unless_asked_verbatim_argument_then_marker_then_option(
    pytester: pytest.Pytester, option: str | None
) -> None:
    pytester.makepyfile(retry_tests(option))
    args = ["--strict-markers", *(["--replay-retry-after", option] if option else [])]
    pytester.runpytest(*args).assert_outcomes(passed=len(RETRY_CASES))


def test_replay_config_can_serve_retry_after_verbatim(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def replay_config():
            return {"retry_after": "verbatim"}
        """
    )
    pytester.makepyfile(
        """
        import httpx
        from replay.testing import Timeline

        def test_config(monitor_server):
            steps = [{"http": 503, "retry_after": "30"}]
            url = monitor_server.add_job(timeline=Timeline.from_steps(steps))
            assert httpx.get(url).headers["Retry-After"] == "30"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_help_lists_the_retry_after_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--replay-retry-after={short,verbatim}*",
        ],
        consecutive=False,
    )
