"""Poll a copy monitor with office365-rest-python-client's own loop, ``DriveItemCopyResult.wait``.

usage: office365_copy_wait.py [--interval S] [--timeout S] [--deadline S] MONITOR_URL

Builds the DriveItemCopyResult that ``DriveItem.copy`` returns, holding the monitor URL its 202
gave (``set_property("__value", Location)``, as ``copy`` does), on a GraphClient with a dummy
token, and calls ``wait``. Prints each status the library records, then ``outcome=completed``
and exits 0 when ``wait`` returns; the library's own failures (a failed or cancelled job, its
timeout, an HTTP error it raises) print ``outcome=error`` and exit 1; anything else it raises is
left to crash (exit 1, a traceback). ``--timeout`` is the library's own deadline (its default,
1800 s, is kept when not given); keep it shorter than check-poller's --timeout to grade it.
No network but loopback.
"""

from __future__ import annotations

import argparse
import sys

from _loopback import deadline, loopback_only


def copy_result(url: str) -> object:
    """The DriveItemCopyResult ``DriveItem.copy`` fills from a 202's Location, on a dummy token."""
    from office365.graph_client import GraphClient
    from office365.onedrive.driveitems.copy_result import DriveItemCopyResult

    client = GraphClient(lambda: {"token_type": "Bearer", "access_token": "dummy-token"})
    result = DriveItemCopyResult(client)
    result.set_property("__value", url)
    return result


def show(status: object) -> None:
    print(
        f"status={getattr(status, 'status', None)} http={getattr(status, 'http_status', None)} "
        f"percentage={getattr(status, 'percentage_complete', None)}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--interval", type=float, default=0.01, help="wait(interval=) (0.01)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="wait(timeout=) (1800)")
    parser.add_argument("--deadline", type=float, default=60.0, help="safety net, seconds (60)")
    args = parser.parse_args(argv)
    loopback_only()
    deadline(args.deadline)
    from office365.runtime.client_request_exception import ClientRequestException
    from office365.runtime.lro import OperationError

    result = copy_result(args.url)
    try:
        final = result.wait(interval=args.interval, timeout=args.timeout, on_progress=show)
    except (OperationError, ClientRequestException) as err:
        print(f"outcome=error {type(err).__name__}: {err}", flush=True)
        return 1
    print(f"outcome=completed status={final.status} http={final.http_status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
