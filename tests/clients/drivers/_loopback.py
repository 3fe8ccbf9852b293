"""Keep a driver on loopback: any connection to another host fails as an unknown name would."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
from typing import Any

_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_loopback(host):
        # The fake server's 303 names the item on contoso.sharepoint.com: a client that follows
        # it sees a connection error here, never a request off this machine.
        raise socket.gaierror(
            socket.EAI_NONAME, f"{host}: refused, the driver reaches loopback only"
        )
    return _real_getaddrinfo(host, *args, **kwargs)


def loopback_only() -> None:
    """Refuse every host name but loopback, before the client opens any connection."""
    socket.getaddrinfo = _loopback_getaddrinfo


def deadline(seconds: float) -> None:
    """End the process (exit 3, ``outcome=driver_deadline``) after ``seconds``, whatever the
    client is doing: a safety net longer than check-poller's --timeout, which ends a never-ending
    loop first and grades it as such."""

    def expire(_signum: int, _frame: object) -> None:
        print(f"outcome=driver_deadline after {seconds:g} s", flush=True)
        os._exit(3)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
