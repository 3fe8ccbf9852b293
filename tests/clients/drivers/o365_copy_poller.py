"""Poll a copy monitor with python-o365's own loop, ``CopyOperation.check_status``.

usage: o365_copy_poller.py [--delay S] [--requests-delay-ms N] [--deadline S] MONITOR_URL

Builds the CopyOperation that ``DriveItem.copy`` returns for a 202 (``monitor_url=`` the
Location) on a Connection with dummy credentials, and iterates ``check_status`` until the library
stops. Prints one line per status it yields, then ``outcome=completed`` and exits 0 when the loop
ends (python-o365 ends it when a body carries ``resourceId``). The library has no failure result:
the errors it documents (an HTTPError for a 4xx/5xx, a RetryError once its ``request_retries``
are spent on 5xx) print ``outcome=error`` and exit 1; anything else it raises is left to crash
(exit 1, a traceback). No deadline of the library's own: a loop that never ends is ended by
check-poller's --timeout (``--deadline`` is only a safety net for runs by hand). No network but
loopback.
"""

from __future__ import annotations

import argparse
import sys

from _loopback import deadline, loopback_only


def copy_operation(url: str, requests_delay_ms: int) -> object:
    """The CopyOperation python-o365 builds around a monitor URL, on dummy credentials."""
    from O365.connection import Connection, MSGraphProtocol
    from O365.drive import CopyOperation
    from O365.utils.token import MemoryTokenBackend

    # python-o365 2.1 polls through a plain requests Session (Connection.naive_request), not
    # requests-oauthlib: plain http needs no OAUTHLIB_INSECURE_TRANSPORT.
    connection = Connection(
        ("dummy-client-id", "dummy-client-secret"),
        token_backend=MemoryTokenBackend(),
        requests_delay=requests_delay_ms,
    )
    return CopyOperation(con=connection, protocol=MSGraphProtocol(), monitor_url=url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    # The library's two pacing knobs (its defaults: delay 0, requests_delay 200 ms), short: in
    # check-poller's step mode the interval does not change what the client is served.
    parser.add_argument("--delay", type=float, default=0.01, help="check_status(delay=) (0.01)")
    parser.add_argument(
        "--requests-delay-ms", type=int, default=10, help="Connection(requests_delay=) (10)"
    )
    parser.add_argument("--deadline", type=float, default=60.0, help="safety net, seconds (60)")
    args = parser.parse_args(argv)
    loopback_only()
    deadline(args.deadline)
    import requests

    operation = copy_operation(args.url, args.requests_delay_ms)
    try:
        for status, percentage in operation.check_status(delay=args.delay):
            print(f"status={status} percentage={percentage}", flush=True)
    except (requests.HTTPError, requests.exceptions.RetryError) as err:
        print(f"outcome=error {type(err).__name__}: {err}", flush=True)
        return 1
    print(f"outcome=completed status={operation.status} item_id={operation.item_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
