#!/usr/bin/env python3
"""A naive poller with the bugs of real clients, on purpose (do not copy it): what check-poller fails.

usage: naive.py [--interval S] [--max-polls N] MONITOR_URL

Sends a bearer token (msgraph-sdk-dotnet#1797: the monitor answers 401), ignores Retry-After and
the HTTP code, treats only ``completed`` as terminal (a ``failed`` job, a 303 or a 404 keeps it
polling: opendal, python-o365), and stops only at a hard cap of polls so it never hangs forever.
Prints ``outcome=completed`` and exits 0 when it saw completed, else ``outcome=timed_out``, 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from urllib.parse import urlsplit

#: A made-up token: the point is the header, not its value.
TOKEN = "not-a-real-token"


def get(url: str) -> bytes:
    """One GET with the bearer token; the body (empty on a transport error). No redirects."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=30)
    try:
        connection.request(
            "GET", f"{parts.path}?{parts.query}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        return connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        connection.close()


def is_completed(body: bytes) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(document, dict) and document.get("status") == "completed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls (1)")
    parser.add_argument("--max-polls", type=int, default=100, help="hard cap of polls (100)")
    args = parser.parse_args(argv)
    for polls in range(1, args.max_polls + 1):
        if is_completed(get(args.url)):
            print(f"outcome=completed polls={polls}", flush=True)
            return 0
        time.sleep(args.interval)
    print(f"outcome=timed_out polls={args.max_polls} (never saw completed)", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
