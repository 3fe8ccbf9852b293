"""``replay serve`` as a subprocess: prints URLs that serve, writes --urls-out, exits 0 on signals."""

from __future__ import annotations

import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

pytest.importorskip("replay.simulate")

SERVE = [sys.executable, "-m", "replay", "serve"]


def _read_lines(child: subprocess.Popen[str], n: int, timeout_s: float = 30.0) -> list[str]:
    """The first ``n`` stdout lines of ``child``, failing (not hanging) when they do not come."""
    assert child.stdout is not None
    stdout = child.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n:
        try:
            got.append(lines.get(timeout=max(0.0, deadline - time.monotonic())).rstrip("\n"))
        except queue.Empty:
            code = child.poll()
            raise AssertionError(
                f"only {len(got)} of {n} URLs printed (exit code {code})"
            ) from None
    return got


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str], Path]]:
    """A running ``replay serve`` of 6 happy-path jobs in step mode, its URLs and --urls-out."""
    urls_out = tmp_path / "urls.jsonl"
    command = [*SERVE, "--jobs", "6", "--seed", "3", "--mode", "step", "--scenarios", "happy_path"]
    child = subprocess.Popen(
        [*command, "--urls-out", str(urls_out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        yield child, _read_lines(child, 6), urls_out
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_serve_prints_one_monitor_url_per_job_that_serves(
    serve_process: tuple[subprocess.Popen[str], list[str], Path],
) -> None:
    _, urls, _ = serve_process
    assert len(set(urls)) == 6
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and "tempauth=" in parts.query
        answer = httpx.get(url, timeout=5.0)
        assert answer.status_code in (200, 202)
        assert "status" in answer.json()


def test_serve_writes_urls_out_as_json_lines_for_record(
    serve_process: tuple[subprocess.Popen[str], list[str], Path],
) -> None:
    _, urls, urls_out = serve_process
    lines = [json.loads(line) for line in urls_out.read_text(encoding="utf-8").splitlines()]
    assert [line["url"] for line in lines] == urls
    for line in lines:
        assert set(line) == {"url", "size_bytes", "labels"}
        assert isinstance(line["size_bytes"], int) and line["size_bytes"] > 0
        assert isinstance(line["labels"], dict)
        assert all(isinstance(v, str) for v in line["labels"].values())


@pytest.mark.parametrize(("signum"), [signal.SIGINT, signal.SIGTERM])
def test_serve_exits_0_on_sigint_and_sigterm(
    serve_process: tuple[subprocess.Popen[str], list[str], Path], signum: int
) -> None:
    child, urls, _ = serve_process
    child.send_signal(signum)
    assert child.wait(timeout=10) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(urls[0], timeout=2.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--host", "0.0.0.0"], "--allow-non-loopback", id="non-loopback"),
        pytest.param(["--scenarios", "no_such_scenario"], "no_such_scenario", id="scenario"),
        pytest.param(["--dialect", "klingon"], "klingon", id="dialect"),
        pytest.param(["--speed", "0"], "speed", id="speed"),
        pytest.param(["--jobs", "0"], "--jobs", id="jobs"),
        pytest.param(["--mode", "random"], "invalid choice", id="mode"),
        pytest.param(["--ca-out", "ca.pem"], "add --tls", id="ca-out-without-tls"),
        pytest.param(
            ["--tls", "--host", "0.0.0.0", "--allow-non-loopback"], "TLS", id="tls-non-loopback"
        ),
    ],
)
def test_serve_bad_arguments_exit_2_with_one_line(arguments: list[str], message: str) -> None:
    done = subprocess.run(
        [*SERVE, *arguments], capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_serve_tls_prints_https_urls_and_writes_the_ca_they_verify_with(tmp_path: Path) -> None:
    ca_out = tmp_path / "ca.pem"
    command = [*SERVE, "--jobs", "2", "--mode", "step", "--scenarios", "happy_path", "--tls"]
    child = subprocess.Popen(
        [*command, "--ca-out", str(ca_out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        urls = _read_lines(child, 2)
        assert all(url.startswith("https://127.0.0.1:") for url in urls)
        trusted = ssl.create_default_context(cafile=ca_out)
        assert all(httpx.get(url, verify=trusted).status_code in (200, 202) for url in urls)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(urls[0], timeout=5.0)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=10)
    assert child.stderr is not None
    assert f"SSL_CERT_FILE={ca_out}" in child.stderr.read()


def test_serve_help_lists_its_options() -> None:
    done = subprocess.run([*SERVE, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    options = ("--jobs", "--seed", "--port", "--dialect", "--mode", "--speed", "--urls-out")
    for option in (*options, "--tls", "--ca-out"):
        assert option in done.stdout
