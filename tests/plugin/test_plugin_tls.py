"""The plugin's HTTPS: --replay-tls (or the ini option) and a CA made for the run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)

TLS_TEST = """
import os
import ssl
import subprocess
import sys

import httpx
import pytest

FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)"


def test_scheme(monitor_server):
    url = monitor_server.add_job(scenario="happy_path")
    assert url.startswith("{scheme}://127.0.0.1:")
    if "{scheme}" == "http":
        assert (monitor_server.ca_file, monitor_server.ca_environment()) == (None, {{}})
        assert httpx.get(url).status_code == 202
        return
    trusted = ssl.create_default_context(cafile=monitor_server.ca_file)
    assert httpx.get(url, verify=trusted).status_code == 202
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(url)
    env = {{**os.environ, **monitor_server.ca_environment()}}
    done = subprocess.run(
        [sys.executable, "-c", FETCH, url], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "202", done.stderr
    assert len(monitor_server.requests(url)) == 2
"""


@pytest.mark.parametrize(
    ("args", "ini", "scheme"),
    [
        pytest.param([], "", "http", id="plain"),
        pytest.param(["--replay-tls"], "", "https", id="command-line"),
        pytest.param([], "replay_tls = true", "https", id="ini"),
    ],
)
def test_replay_tls_serves_https_with_a_ca_made_for_the_run(
    pytester: pytest.Pytester, args: list[str], ini: str, scheme: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(TLS_TEST.format(scheme=scheme))
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_help_lists_the_tls_option_and_its_ini_twin(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--replay-tls*HTTPS*",
            "*replay_tls (bool)*",
        ],
        consecutive=False,
    )
