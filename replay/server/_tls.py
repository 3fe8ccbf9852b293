"""HTTPS on loopback: a certificate authority made per run, its PEM file, the server's context."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path

__all__ = ["CA_ENVIRONMENT", "LOOPBACK_NAMES", "LoopbackTLS", "ca_environment"]

#: The names the server's certificate is issued for: loopback only, never a real host.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: What points common HTTP clients at a CA file: OpenSSL (Python's ssl, Go, .NET, Ruby),
#: requests, Node.js (added to its own CAs) and curl.
CA_ENVIRONMENT = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE")


def ca_environment(ca_file: Path) -> dict[str, str]:
    """The environment variables that make common HTTP clients trust ``ca_file``."""
    return dict.fromkeys(CA_ENVIRONMENT, str(ca_file))


class LoopbackTLS:
    """A fresh CA (trustme), a certificate for the loopback names, and the CA's PEM file.

    The CA's key lives in memory only and dies with this object: the file holds the public CA
    certificate, in a private temporary folder removed by :meth:`close`.
    """

    def __init__(self) -> None:
        import trustme  # loaded only when a server serves HTTPS

        ca = trustme.CA(organization_name="replay fake monitor (per-run CA)")
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*LOOPBACK_NAMES).configure_cert(self.context)
        self._folder = Path(tempfile.mkdtemp(prefix="replay-ca-"))
        #: The PEM file of the CA certificate, for clients to trust.
        self.ca_file = self._folder / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))

    def close(self) -> None:
        """Remove the CA file and its folder."""
        shutil.rmtree(self._folder, ignore_errors=True)
