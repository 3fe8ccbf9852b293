"""``replay check-poller``: grade a poller command against every scenario and dialect."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from replay.cli._numbers import count, seconds, times

__all__ = ["register", "run"]

_EPILOG = """\
The command runs once per scenario x dialect, with {url} replaced by that job's monitor URL on a
loopback server (no shell: quote it as you would for exec). With {copy_url} instead, it gets the
URL of the copy call (POST .../items/{id}/copy) that starts the job: 202 with the monitor's
Location, and two more runs per dialect, copy_200_empty (200, nothing to poll: completed) and
copy_409_conflict (409 nameAlreadyExists: failed). Checks per run (docs/check-poller.md):
  ended        exited before --timeout (else its process group is killed)
  conclusion   exit 0 on scenarios that end completed, non-zero on every other (or --expect-stdout)
  no-auth      never sent an Authorization header to the monitor (the real one answers 401)
  retry-after  no request before the time a Retry-After (seconds or HTTP date) named
  stops        no request after a terminal status (completed, failed, deleteFailed, cancelled) or 303
  gives-up     at most --give-up-after requests after the first 401/403/404/410 or operationNotFound
  after-303    a 303's Location (the copied item, on the same server) not followed, or read once
               without Authorization, and the copy still concluded completed
  copy         with {copy_url}: one copy call, and the Location of its 202 polled
exit: 0 every check passed, 1 some failed, 2 usage error.

examples:
  replay check-poller -- python examples/pollers/careful.py --interval 0.01 --max-interval 0.05 --deadline 10 {url}
  replay check-poller --tls -- python examples/pollers/careful.py --interval 0.01 --max-interval 0.05 --deadline 10 {url}
  replay check-poller --scenarios throttled,expired_monitor --dialects graph -- ./poll.sh {url}
  replay check-poller --expect-stdout 'outcome={outcome}' --format json -- node poll.js {url}
  replay check-poller -- python examples/pollers/careful.py --copy --deadline 10 {copy_url}
"""


def register(sub: Any) -> None:
    """Add the ``check-poller`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check-poller",
        help="run a poller command against every scenario and dialect and grade how it polls",
        description="Run your poller (any language) against the fake monitor server, once per "
        "scenario and dialect, and grade each run: did it end, conclude right, send no "
        "Authorization, wait out Retry-After, stop at a terminal status, give up on 401/404.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        help="scenarios, space- or comma-separated (default: every scenario the server can serve)",
    )
    parser.add_argument(
        "--dialects",
        nargs="+",
        metavar="D",
        help="dialects (legacy, graph, sharepoint-v21, consumer; default all four)",
    )
    parser.add_argument(
        "--parallel", type=count("runs", 1, 256), default=4, metavar="N", help="runs at once (4)"
    )
    parser.add_argument(
        "--timeout", type=seconds(), default=20.0, metavar="S", help="seconds per run (20)"
    )
    parser.add_argument(
        "--mode",
        choices=("step", "time"),
        default="step",
        help="step: one response per request, whatever the poller's interval (default); "
        "time: job time runs at --speed x wall time from the first request",
    )
    parser.add_argument(
        "--speed",
        type=times("job seconds per wall second"),
        default=60.0,
        metavar="X",
        help="job seconds per wall second in time mode (60)",
    )
    parser.add_argument(
        "--expect-stdout",
        metavar="PATTERN",
        help="judge the conclusion by this regex on stdout "
        "instead of the exit code; {outcome} stands for the scenario's outcome",
    )
    parser.add_argument(
        "--give-up-after",
        type=count("requests", 0),
        default=2,
        metavar="N",
        help="requests allowed after the first 401/403/404/410 or operationNotFound (2)",
    )
    parser.add_argument(
        "--allow-authorization",
        action="store_true",
        help="serve requests that carry Authorization instead of answering 401 (still graded "
        "as a failure), to see a poller's other checks",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS on loopback with a CA made for this run; the command finds the CA file "
        "in SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS and CURL_CA_BUNDLE (for "
        "clients that refuse plain HTTP or take an http:// URL for a relative path)",
    )
    parser.add_argument(
        "--seed", type=count("the seed", 0), default=0, metavar="S", help="random seed (0)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD {url}",
        help="the poller command, after --, with {url} where the monitor URL goes (or "
        "{copy_url} where the URL of the copy call that starts the job goes)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Grade the command; print the table or JSON; return 0 when every check passed, else 1."""
    from replay.check import Grading, RunResult, check_poller

    grading = Grading(
        mode=args.mode,
        speed=args.speed,
        reject_authorization=not args.allow_authorization,
        expect_stdout=args.expect_stdout,
        give_up_after=args.give_up_after,
        tls=args.tls,
    )
    live = args.format == "table" and sys.stderr.isatty()

    def progress(result: RunResult) -> None:
        mark = "PASS" if result.passed else "FAIL"
        print(f"  {mark} {result.scenario} / {result.dialect}", file=sys.stderr, flush=True)

    report = check_poller(
        args.command,
        scenarios=args.scenarios,
        dialects=args.dialects,
        parallel=args.parallel,
        timeout_s=args.timeout,
        grading=grading,
        seed=args.seed,
        on_run=progress if live else None,
    )
    if args.format == "json":
        print(json.dumps(report.to_dict(), allow_nan=False))
    else:
        print(report.table())
    return 0 if report.passed else 1
