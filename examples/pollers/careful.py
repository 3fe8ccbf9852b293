#!/usr/bin/env python3
"""A careful poller of one Graph copy monitor URL (stdlib only): what check-poller passes.

usage: careful.py [--interval S] [--max-interval S] [--deadline S] MONITOR_URL
       careful.py --copy [--parent ID] [options] COPY_URL

With --copy the URL is the copy call (``POST .../items/{id}/copy``): it is called once, with the
Graph bearer token of ``$GRAPH_TOKEN`` when set (the copy call needs it; the monitor must never
get it). A 202 names the monitor to poll, whatever its shape (``/monitor/`` or ``/operations/``);
a 200 or 201 means the copy was done at once, with nothing to poll; any other answer ends it.

Sends no Authorization (the monitor URL carries its own credentials), decides on the body's
``status`` rather than the HTTP code, stops at completed/failed/deleteFailed/cancelled, treats a
303 as completion without following it, gives up on 401/403/404/410 and on an operationNotFound
error, honours Retry-After (seconds or HTTP date), backs off while nothing changes, and stops at
its deadline. Prints one line ``outcome=<outcome> ...`` and exits 0 only when the copy completed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

#: Terminal statuses (in any known dialect) and the outcome each means.
TERMINAL = {
    "completed": "completed",
    "failed": "failed",
    "deleteFailed": "delete_failed",
    "cancelled": "cancelled",
}
#: HTTP codes after which polling again cannot help.
GIVE_UP = {401: "unauthorized", 403: "unauthorized", 404: "monitor_expired", 410: "monitor_expired"}
#: Error codes after which polling again cannot help, whatever the HTTP code: the monitor no
#: longer knows the operation (a 500 at the end of a copy onto an existing name).
GIVE_UP_ERRORS = {"operationNotFound": "monitor_expired"}


def get(url: str, timeout: float) -> tuple[int | None, dict[str, str], bytes]:
    """One GET without Authorization and without following redirects; (None, ...) on a transport error."""
    return send("GET", url, timeout, {"Accept": "application/json"})


def send(
    method: str, url: str, timeout: float, headers: dict[str, str], body: bytes | None = None
) -> tuple[int | None, dict[str, str], bytes]:
    """One request, redirects not followed: (status, headers by lower-case name, body), or
    (None, {}, b"") on a transport error."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = kind(parts.netloc, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    except (OSError, http.client.HTTPException):
        return None, {}, b""
    finally:
        connection.close()


def retry_after_s(value: str | None) -> float | None:
    """Seconds a Retry-After value asks to wait (seconds or an HTTP date); None when absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        due = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return max((due - datetime.now(UTC)).total_seconds(), 0.0)


def error_code(document: dict[str, object] | None) -> str | None:
    """The ``error.code`` of a JSON document (None when it has none)."""
    error = document.get("error") if document else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def job_status(body: bytes) -> tuple[dict[str, object] | None, str | None]:
    """The JSON document of a body (None when it is not a JSON object) and its status."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    status = document.get("status")
    return document, status if isinstance(status, str) else None


def finish(outcome: str, polls: int, detail: str) -> int:
    print(f"outcome={outcome} polls={polls} {detail}", flush=True)
    return 0 if outcome == "completed" else 1


def poll(url: str, interval: float, max_interval: float, deadline: float, max_bad: int) -> int:
    """Poll ``url`` until a conclusion; return the exit code."""
    ends = time.monotonic() + deadline
    wait, polls, bad, last = interval, 0, 0, None
    while True:
        code, headers, body = get(url, timeout=min(30.0, deadline))
        polls += 1
        if code == 303:
            return finish("completed", polls, "http=303 (Location not followed)")
        if code in GIVE_UP:
            return finish(GIVE_UP[code], polls, f"http={code}")
        document, status = job_status(body)
        if status in TERMINAL:
            pct = document.get("percentageComplete") if document else None
            return finish(TERMINAL[status], polls, f"status={status} percentage={pct}")
        if status is None and error_code(document) in GIVE_UP_ERRORS:
            error = error_code(document)
            return finish(GIVE_UP_ERRORS[str(error)], polls, f"http={code} error={error}")
        # 2xx that we cannot understand: a few in a row is a protocol error, not progress.
        understood = status is not None or code is None or code >= 300
        bad = 0 if understood else bad + 1
        if bad >= max_bad:
            return finish("protocol_error", polls, f"http={code}: {bad} answers without a status")
        seen = (status, document.get("percentageComplete") if document else None)
        wait = min(wait * 1.5, max_interval) if seen == last else interval
        last = seen
        asked = retry_after_s(headers.get("retry-after"))
        pause = max(wait, asked) if asked is not None else wait
        if time.monotonic() + pause > ends:
            return finish("timed_out", polls, f"deadline of {deadline:g} s (last status={status})")
        time.sleep(pause)


def start_copy(url: str, parent: str, timeout: float) -> tuple[str | None, int]:
    """Call the copy URL once: (the monitor URL to poll, 0), or (None, the exit code) when the
    call itself concluded. A failed call is never repeated: each call starts another copy."""
    token = os.environ.get("GRAPH_TOKEN")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"  # the copy call only, never the monitor
    body = json.dumps({"parentReference": {"id": parent}}).encode()
    code, answered, content = send("POST", url, timeout, headers, body)
    location = answered.get("location")
    if code == 202 and location:
        return location, 0  # opaque: no guessing from its shape whether it is a monitor
    if code in (200, 201):
        return None, finish("completed", 0, f"copy http={code}: copied at once, no monitor")
    if code == 202:
        return None, finish("protocol_error", 0, "copy http=202 without a Location")
    document, _ = job_status(content)
    outcome = "unauthorized" if code in (401, 403) else "failed"
    return None, finish(outcome, 0, f"copy http={code} error={error_code(document)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the monitor URL (from the copy call's Location header)")
    parser.add_argument(
        "--copy", action="store_true", help="the URL is the copy call: start the copy, then poll"
    )
    parser.add_argument("--parent", default="root", help="with --copy: the target folder id")
    parser.add_argument("--interval", type=float, default=1.0, help="first wait in seconds (1)")
    parser.add_argument(
        "--max-interval", type=float, default=30.0, help="longest wait while unchanged (30)"
    )
    parser.add_argument("--deadline", type=float, default=3600.0, help="give up after S (3600)")
    parser.add_argument(
        "--max-bad", type=int, default=5, help="2xx answers without a status in a row (5)"
    )
    args = parser.parse_args(argv)
    url = args.url
    if args.copy:
        url, code = start_copy(args.url, args.parent, timeout=min(30.0, args.deadline))
        if url is None:
            return code
    return poll(url, args.interval, args.max_interval, args.deadline, args.max_bad)


if __name__ == "__main__":
    sys.exit(main())
