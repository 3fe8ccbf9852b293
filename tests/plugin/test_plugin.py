"""The pytest plugin as a user runs it: fixture, marker, option, precedence and help text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)

#: A tiny poller every test file below shares (step mode: no sleeping).
POLLER = '''
import httpx

TERMINAL = ("completed", "failed", "deleteFailed", "cancelled")


def poll(url, limit=500):
    """GET until a terminal status, a 303 or a give-up code; return the statuses seen."""
    seen = []
    with httpx.Client() as client:
        for _ in range(limit):
            answer = client.get(url)
            try:
                status = answer.json().get("status")
            except ValueError:
                status = None
            seen.append(status)
            if status in TERMINAL or answer.status_code in (303, 401, 403, 404, 410):
                break
    return seen
'''


def test_help_lists_the_option_with_its_precedence(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "replay: fake Graph copy monitors:",
            "*--replay-speed=X*job seconds per wall second*",
            "*add_job(speed=...) <*",
            "*@pytest.mark.monitor(speed=...) < --replay-speed*",
        ]
    )


def test_markers_lists_the_monitor_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.monitor(scenario=None, dialect=None, mode=None*"])


def test_fixture_serves_a_scenario_step_by_step(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(poller=POLLER)
    pytester.makepyfile(
        """
        from poller import poll
        from replay.testing import Timeline

        def test_scenario(monitor_server):
            url = monitor_server.add_job(scenario="failed_with_error", dialect="legacy", seed=4)
            expected = Timeline.from_scenario("failed_with_error", "legacy", seed=4).statuses()
            seen = poll(url)
            assert seen == expected[: len(seen)]
            assert seen[-1] == "failed"
            log = monitor_server.requests(url)
            assert len(log) == len(seen)
            assert {r.method for r in log} == {"GET"}
            assert all(r.at.utcoffset().total_seconds() == 0 for r in log)
            assert not any(r.authorization_sent for r in log)
            assert "/monitor/" in log[0].path and "?" not in log[0].path
        """
    )
    pytester.runpytest("--strict-markers", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_request_log_says_what_each_request_was_answered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        from replay.testing import Timeline

        def test_log(monitor_server):
            steps = [("inProgress", 10), {"http": 429, "retry_after": "3"}, ("completed", 100)]
            url = monitor_server.add_job(timeline=Timeline.from_steps(steps, job_id="mine"))
            with httpx.Client() as client:
                client.get(url)
                client.get(url, headers={"Authorization": "Bearer abc"})
                client.get(url)
                client.get(url)
            log = monitor_server.requests(url)
            assert [r.response_status for r in log] == [202, 401, 429, 200]
            assert [r.authorization_sent for r in log] == [False, True, False, False]
            assert [r.retry_after for r in log] == [None, None, "1", None]  # "3", shortened
            assert [r.job_status for r in log] == ["inProgress", None, None, "completed"]
            assert "Bearer" not in repr(log)
            settings = monitor_server.job_settings(url)
            assert (settings["source"], settings["scenario"], settings["job_id"]) == (
                "timeline", None, "mine"
            )
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_each_test_gets_a_fresh_view(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from urllib.parse import urlsplit

        import httpx
        import pytest
        from replay.errors import UsageError

        URLS = []

        def test_first(monitor_server):
            URLS.append(monitor_server.add_job(scenario="happy_path"))
            httpx.get(URLS[0])
            assert len(monitor_server.requests(URLS[0])) == 1

        def test_second_sees_nothing_of_the_first(monitor_server):
            with pytest.raises(UsageError, match="no job .* in this test"):
                monitor_server.requests(URLS[0])
            assert httpx.get(URLS[0]).status_code == 404
            again = monitor_server.add_job(scenario="happy_path")
            assert urlsplit(again).path == urlsplit(URLS[0]).path  # the job id is free again
            assert monitor_server.requests(again) == []

        def test_same_job_twice_in_one_test_gets_two_urls(monitor_server):
            first = monitor_server.add_job(scenario="happy_path")
            second = monitor_server.add_job(scenario="happy_path")
            assert first != second
            httpx.get(second)
            assert (len(monitor_server.requests(first)), len(monitor_server.requests(second))) == (0, 1)
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


#: One inner test per row: (marker arguments, add_job arguments, speed without and with
#: ``--replay-speed 9``). The precedence: add_job argument < marker < command line.
SPEED_CASES = [
    ("", "", 1.0, 9.0),
    ("", "speed=2.0", 2.0, 9.0),
    ("speed=5.0", "speed=2.0", 5.0, 9.0),
    ("speed=5.0", "", 5.0, 9.0),
]


def speed_tests(with_option: bool) -> str:
    """A test file asserting the effective speed of each SPEED_CASES row."""
    tests = []
    for n, (marker, argument, plain, optioned) in enumerate(SPEED_CASES):
        decorator = f"@pytest.mark.monitor({marker})" if marker else ""
        tests.append(
            f"""
{decorator}
def test_speed_{n}(monitor_server):
    url = monitor_server.add_job(scenario="happy_path", mode="time", {argument})
    assert monitor_server.job_settings(url)["speed"] == {optioned if with_option else plain}
"""
        )
    return "import pytest\n" + "\n".join(tests)


@pytest.mark.parametrize("with_option", [False, True], ids=["no-option", "replay-speed-9"])
def test_speed_precedence_is_argument_then_marker_then_option(
    pytester: pytest.Pytester, with_option: bool
) -> None:
    pytester.makepyfile(speed_tests(with_option))
    args = ["--strict-markers", *(["--replay-speed", "9"] if with_option else [])]
    pytester.runpytest(*args).assert_outcomes(passed=len(SPEED_CASES))


def test_replay_config_fixture_sits_under_the_arguments(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def replay_config():
            return {"scenario": "failed_with_error", "mode": "time", "speed": 4.0}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_config_fills_what_add_job_leaves_out(monitor_server):
            settings = monitor_server.job_settings(monitor_server.add_job())
            assert (settings["scenario"], settings["mode"], settings["speed"]) == (
                "failed_with_error", "time", 4.0
            )

        def test_arguments_beat_the_config(monitor_server):
            settings = monitor_server.job_settings(monitor_server.add_job("happy_path", speed=2))
            assert (settings["scenario"], settings["speed"]) == ("happy_path", 2)

        @pytest.mark.monitor(speed=7.0)
        def test_marker_beats_both(monitor_server):
            assert monitor_server.job_settings(monitor_server.add_job(speed=2))["speed"] == 7.0
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=3)


def test_marker_scenario_and_dialect_override_the_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(poller=POLLER)
    pytester.makepyfile(
        """
        from urllib.parse import urlsplit

        import pytest
        from poller import poll

        def test_argument(monitor_server):
            url = monitor_server.add_job(scenario="happy_path", dialect="legacy")
            assert poll(url)[-1] == "completed"
            assert urlsplit(url).path.startswith("/_api/v2.0/monitor/")

        @pytest.mark.monitor(scenario="failed_with_error")
        def test_marker_scenario_wins(monitor_server):
            url = monitor_server.add_job(scenario="happy_path")
            assert poll(url)[-1] == "failed"

        @pytest.mark.monitor(scenario="delete_failed", dialect="sharepoint-v21")
        def test_marker_scenario_and_dialect_win(monitor_server):
            url = monitor_server.add_job(scenario="happy_path", dialect="legacy")
            assert poll(url)[-1] == "deleteFailed"
            assert "/_api/v2.1/drive/operations/" in urlsplit(url).path

        @pytest.mark.monitor(scenario="failed_with_error")
        def test_marker_never_replaces_a_timeline(monitor_server):
            from replay.testing import Timeline

            url = monitor_server.add_job(timeline=Timeline.from_steps([("completed", 100)]))
            assert poll(url) == ["completed"]

        def test_a_v20_copy_gets_the_v21_monitor_whatever_the_dialect(monitor_server):
            url = monitor_server.add_job(scenario="v21_monitor_on_v20", dialect="graph")
            assert poll(url)[-1] == "completed"
            assert "/_api/v2.1/drive/operations/" in urlsplit(url).path
            assert monitor_server.job_settings(url)["dialect"] == "sharepoint-v21"
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=5)


def test_time_mode_follows_the_job_clock_at_speed(pytester: pytest.Pytester) -> None:
    """A job with 100 s between its two responses, served at 200x: 0.5 s of wall time."""
    pytester.makepyfile(
        """
        import time
        import httpx
        from replay.testing import Timeline

        def test_clock(monitor_server):
            steps = [("inProgress", 10), {"status": "completed", "pct": 100, "at_s": 100.0}]
            url = monitor_server.add_job(
                timeline=Timeline.from_steps(steps), mode="time", speed=200
            )
            with httpx.Client() as client:
                first = [client.get(url).json()["status"] for _ in range(3)]
                time.sleep(0.6)
                assert first == ["inProgress"] * 3
                assert client.get(url).json()["status"] == "completed"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_bad_marker_arguments_name_the_valid_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.monitor(scenrio="happy_path")
        def test_misspelt(monitor_server):
            pass

        @pytest.mark.monitor("happy_path")
        def test_positional(monitor_server):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*unknown keyword(s) scenrio*scenario, dialect, mode, speed, seed, retry_after*",
            "*keywords only (scenario, dialect, mode, speed, seed, retry_after)*",
        ],
        consecutive=False,
    )


def test_plugin_starts_nothing_unless_the_fixture_is_used(pytester: pytest.Pytester) -> None:
    """In a fresh interpreter, a run without the fixture imports no server and no HTTP stack."""
    pytester.makepyfile(
        """
        import sys
        import threading

        def test_untouched():
            assert "replay.pytest_plugin" in sys.modules
            assert "replay.server" not in sys.modules
            assert "aiohttp" not in sys.modules
            assert not any(t.name == "replay-server" for t in threading.enumerate())
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(monitor_server):\n    pass\n")
    result = pytester.runpytest("-p", "no:replay")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'monitor_server' not found*"])
