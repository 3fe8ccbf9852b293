"""The pytest plugin: a fake monitor server per session, a fresh view of it per test."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from replay.server import MonitorServer, RequestRecord
    from replay.simulate import Timeline

__all__ = ["MonitorView", "merge_settings"]

#: What ``add_job`` takes, the marker accepts and the command line may override.
SETTINGS = ("scenario", "dialect", "mode", "speed", "seed", "retry_after")
_DEFAULTS: Mapping[str, Any] = {
    "scenario": "happy_path",
    "dialect": "graph",
    "mode": "step",
    "speed": 1.0,
    "seed": 0,
    "retry_after": "short",
}
_SPEED_HELP = (
    "job seconds per wall second for monitor_server jobs in time mode. Precedence: "
    "add_job(speed=...) < @pytest.mark.monitor(speed=...) < --replay-speed"
)
_RETRY_HELP = (
    "how monitor_server jobs serve Retry-After: short (default; step mode: at most 1 s, dates "
    "2-3 s ahead, as check-poller serves it; time mode: job seconds / speed) or verbatim. "
    "Precedence: add_job(retry_after=...) < @pytest.mark.monitor(retry_after=...) < "
    "--replay-retry-after"
)
_TLS_HELP = (
    "serve monitor_server over HTTPS with a CA made for the run (monitor_server.ca_file); "
    "loopback only"
)
_MARKER = (
    "monitor(scenario=None, dialect=None, mode=None, speed=None, seed=None, retry_after=None): "
    "settings for monitor_server.add_job in this test; they override add_job's own arguments "
    "and are overridden by --replay-speed and --replay-retry-after"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replay", "replay: fake Graph copy monitors")
    group.addoption(
        "--replay-speed",
        type=float,
        default=None,
        metavar="X",
        dest="replay_speed",
        help=_SPEED_HELP,
    )
    group.addoption(
        "--replay-retry-after",
        choices=("short", "verbatim"),
        default=None,
        dest="replay_retry_after",
        help=_RETRY_HELP,
    )
    group.addoption("--replay-tls", action="store_true", dest="replay_tls", help=_TLS_HELP)
    parser.addini("replay_tls", f"{_TLS_HELP} (as --replay-tls)", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


def merge_settings(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Settings merged left to right (later layers win); None values never override.

    The one place the precedence lives: defaults < ``replay_config`` fixture < add_job
    arguments < marker < command line.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in (layer or {}).items() if v is not None})
    return merged


class MonitorView:
    """One test's view of the session's server: its jobs, their URLs and request logs.

    Jobs added here are removed when the test ends, so the next test starts with no jobs and
    empty logs.
    """

    def __init__(
        self,
        server: MonitorServer,
        marker: Mapping[str, Any],
        command_line: Mapping[str, Any],
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.server = server
        self._config = dict(config or {})
        self._marker = dict(marker)
        self._command_line = dict(command_line)
        self._jobs: dict[str, dict[str, Any]] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the session's server (``https://`` with --replay-tls)."""
        return self.server.base_url

    @property
    def ca_file(self) -> Path | None:
        """The PEM file of the run's CA with --replay-tls (trust it: ``verify=``), else None."""
        return self.server.ca_file

    def ca_environment(self) -> dict[str, str]:
        """``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS`` and
        ``CURL_CA_BUNDLE`` naming ``ca_file``, for a poller process (empty without TLS)."""
        return self.server.ca_environment()

    def add_job(
        self,
        scenario: str | None = None,
        *,
        dialect: str | None = None,
        mode: str | None = None,
        speed: float | None = None,
        seed: int | None = None,
        retry_after: str | None = None,
        recording: tuple[str | Path, str] | None = None,
        timeline: Timeline | None = None,
    ) -> str:
        """Serve one job and return its monitor URL.

        The job is ``timeline``, else job ``recording=(DIR, job_id)`` of a recorded dataset,
        else a simulated job of ``scenario`` (``seed``). ``mode="step"`` answers the Nth request
        with the Nth response; ``"time"`` follows the job's clock at ``speed``.
        ``retry_after="short"`` (default) serves Retry-After quick to wait out: in step mode at
        most 1 s (dates 2-3 s ahead), as check-poller serves it; in time mode in wall time (job
        seconds / ``speed``). ``"verbatim"`` serves it as the job has it.
        """
        given = {"scenario": scenario, "dialect": dialect, "mode": mode, "speed": speed}
        given |= {"seed": seed, "retry_after": retry_after}
        explicit = merge_settings(given, self._marker, self._command_line)
        settings = merge_settings(_DEFAULTS, self._config, explicit)
        chosen = self._timeline(settings, recording, timeline)
        chosen = dataclasses.replace(chosen, job_id=self._free_id(chosen.job_id))
        source = "timeline" if timeline is not None else "recording" if recording else "scenario"
        # A simulated job has the URL shape it was simulated in (a v2.0 copy may get a v2.1
        # monitor); a recording or hand-written timeline keeps its own unless one is asked.
        own = chosen.dialect if source == "scenario" else None
        served = own or explicit.get("dialect") or chosen.dialect or settings["dialect"]
        url = self.server.add(
            chosen,
            dialect=served,
            mode=settings["mode"],
            speed=float(settings["speed"]),
            retry_after=settings["retry_after"],
        )
        self._jobs[chosen.job_id] = {
            **settings,
            "scenario": settings["scenario"] if source == "scenario" else chosen.scenario,
            "dialect": served,
            "source": source,
            "job_id": chosen.job_id,
        }
        return url

    def job_settings(self, url_or_job_id: str) -> dict[str, Any]:
        """What one job of this test was served with, after precedence: ``scenario``,
        ``dialect``, ``mode``, ``speed``, ``seed``, ``retry_after``, ``source`` and its
        ``job_id``."""
        return dict(self._jobs[self._own_job_id(url_or_job_id)])

    def requests(self, url_or_job_id: str) -> list[RequestRecord]:
        """The requests one job of this test received (``at``, ``method``, ``path``,
        ``authorization_sent``, ``response_status``, ``retry_after``, ``job_status``)."""
        return self.server.requests(self._own_job_id(url_or_job_id))

    def close(self) -> None:
        """Remove this test's jobs from the server (their monitors answer 404 from now on)."""
        for job_id in self._jobs:
            self.server.remove(job_id)
        self._jobs.clear()

    def _own_job_id(self, url_or_job_id: str) -> str:
        from replay.errors import UsageError
        from replay.serving import job_id_of

        job_id = job_id_of(url_or_job_id)
        if job_id not in self._jobs:
            raise UsageError(
                f"no job {job_id!r} in this test ({len(self._jobs)} jobs): pass a URL that "
                "this test's monitor_server.add_job returned",
                job_id=job_id,
            )
        return job_id

    def _timeline(
        self,
        settings: Mapping[str, Any],
        recording: tuple[str | Path, str] | None,
        timeline: Timeline | None,
    ) -> Timeline:
        from replay.testing import Timeline as TestingTimeline

        if timeline is not None:
            return timeline
        if recording is not None:
            root, job_id = recording
            return TestingTimeline.from_dataset(root, job_id)
        return TestingTimeline.from_scenario(
            settings["scenario"], settings["dialect"], int(settings["seed"])
        )

    def _free_id(self, job_id: str) -> str:
        """``job_id``, or ``job_id-2``, ``-3``... when this session already serves it."""
        for candidate in itertools.chain([job_id], (f"{job_id}-{n}" for n in itertools.count(2))):
            if not self.server.has_job(candidate):
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover


def _marker_settings(node: pytest.Item) -> dict[str, Any]:
    marker = node.get_closest_marker("monitor")
    if marker is None:
        return {}
    from replay.errors import UsageError

    if marker.args:
        raise UsageError(
            f"@pytest.mark.monitor takes keywords only ({', '.join(SETTINGS)}), "
            f"got positional {marker.args!r}"
        )
    return _checked_settings("@pytest.mark.monitor", marker.kwargs)


def _checked_settings(where: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        from replay.errors import UsageError

        raise UsageError(
            f"{where} got unknown keyword(s) {', '.join(sorted(unknown))}: "
            f"expected some of {', '.join(SETTINGS)}"
        )
    return dict(settings)


@pytest.fixture
def replay_config() -> dict[str, Any]:
    """Defaults for monitor_server.add_job (below its arguments): override it in a conftest."""
    return {}


@pytest.fixture(scope="session")
def replay_monitor_server(pytestconfig: pytest.Config) -> Iterator[MonitorServer]:
    """The session's fake monitor server on 127.0.0.1 (started when a test first needs it);
    HTTPS with --replay-tls or the ini option ``replay_tls = true``."""
    from replay.server import MonitorServer

    tls = bool(pytestconfig.getoption("replay_tls") or pytestconfig.getini("replay_tls"))
    with MonitorServer(mode="step", tls=tls) as server:
        yield server


@pytest.fixture
def monitor_server(
    request: pytest.FixtureRequest,
    replay_monitor_server: MonitorServer,
    replay_config: Mapping[str, Any],
) -> Iterator[MonitorView]:
    """This test's view of the fake monitor server: ``add_job(...)`` -> URL, ``requests(url)``."""
    command_line = {
        "speed": request.config.getoption("replay_speed"),
        "retry_after": request.config.getoption("replay_retry_after"),
    }
    view = MonitorView(
        replay_monitor_server,
        _marker_settings(request.node),
        command_line,
        _checked_settings("replay_config", replay_config),
    )
    yield view
    view.close()
