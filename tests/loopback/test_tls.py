"""HTTPS on loopback: a CA made per run, a certificate for the loopback names only."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
import pytest

from replay.errors import ServerError
from replay.server import MonitorServer
from replay.testing import Timeline

CA_VARIABLES = {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE"}
STEPS = Timeline.from_steps(["inProgress", ("completed", 100)], job_id="job-1")


def trusting(ca_file: Path | None) -> ssl.SSLContext:
    """A client context that trusts ``ca_file`` and nothing else."""
    assert ca_file is not None
    return ssl.create_default_context(cafile=ca_file)


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1", "https://127.0.0.1:"),
        ("localhost", "https://127.0.0.1:"),
        ("::1", "https://[::1]:"),
    ],
)
def test_a_client_that_trusts_the_runs_ca_gets_https_answers(host: str, base: str) -> None:
    with MonitorServer(host=host, mode="step", tls=True) as server:
        url = server.add(STEPS)
        assert server.base_url.startswith(base) and url.startswith(base)
        with httpx.Client(verify=trusting(server.ca_file)) as client:
            answers = [client.get(url) for _ in range(2)]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (202, "inProgress"),
        (200, "completed"),
    ]


def test_clients_that_do_not_trust_this_runs_ca_are_refused() -> None:
    with (
        MonitorServer(mode="step", tls=True) as server,
        MonitorServer(mode="step", tls=True) as other,
    ):
        url = server.add(STEPS)
        assert server.ca_file != other.ca_file
        for verify in (True, trusting(other.ca_file)):  # the system's CAs, another run's CA
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(url, verify=verify)
        assert server.requests(url) == []


@pytest.mark.parametrize(
    ("name", "trusted"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("example.com", False),
        ("monitor.replay.invalid", False),
        ("192.0.2.1", False),
    ],
)
def test_the_certificate_names_loopback_only(name: str, trusted: bool) -> None:
    with MonitorServer(tls=True) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        context = trusting(server.ca_file)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            if trusted:
                with context.wrap_socket(raw, server_hostname=name) as tls:
                    assert tls.version() is not None
            else:
                with pytest.raises(ssl.SSLCertVerificationError, match="match"):
                    context.wrap_socket(raw, server_hostname=name)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "example.com"])
def test_tls_refuses_any_host_but_loopback_even_when_non_loopback_is_allowed(host: str) -> None:
    with pytest.raises(ServerError, match=r"refusing to serve TLS on .*127\.0\.0\.1, localhost"):
        MonitorServer(host=host, allow_non_loopback=True, tls=True)


def test_the_ca_file_exists_while_the_server_runs() -> None:
    server = MonitorServer(tls=True)
    with pytest.raises(ServerError, match="start it first"):
        _ = server.ca_file
    with server:
        ca_file = server.ca_file
        assert ca_file is not None
        assert ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" not in ca_file.read_text()
        assert server.ca_environment() == dict.fromkeys(CA_VARIABLES, str(ca_file))
    assert not ca_file.exists()


def test_a_plain_server_has_no_ca() -> None:
    with MonitorServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert (server.ca_file, server.ca_environment()) == (None, {})
