"""``replay serve``: the fake monitor server on loopback, serving a simulated fleet."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from replay.errors import UsageError

if TYPE_CHECKING:
    from replay.server import MonitorServer
    from replay.simulate import Timeline

from replay.cli._numbers import count, seconds, times

__all__ = ["register", "run"]

_EPILOG = """\
Prints one monitor URL per line on stdout as soon as the server listens, then serves until
SIGINT or SIGTERM (exit 0). The URLs carry fake tempauth= and c= credentials, as real ones do.

With --tls it serves HTTPS with a certificate authority made for this run (its certificate names
127.0.0.1, localhost and ::1 only); stderr says where the CA file is, --ca-out copies it.

examples:
  replay serve --jobs 50 --seed 7 --speed 60 --urls-out urls.jsonl
  replay record --urls-file urls.jsonl --out rec/
  replay serve --tls --ca-out ca.pem    # then: SSL_CERT_FILE=ca.pem NODE_EXTRA_CA_CERTS=ca.pem ...
"""


def register(sub: Any) -> None:
    """Add the ``serve`` parser to ``sub``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="fake monitor server on 127.0.0.1 serving a simulated fleet; prints its URLs",
        description="Simulate a fleet of copy jobs and serve their monitor URLs over real HTTP "
        "on loopback, with every quirk of the real service (see DESIGN, the fake monitor server).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--jobs", type=count("jobs"), default=20, metavar="N", help="jobs (default 20)"
    )
    parser.add_argument(
        "--seed", type=count("the seed", 0), default=0, metavar="S", help="random seed (default 0)"
    )
    parser.add_argument(
        "--port",
        type=count("the port", 0, 65535),
        default=0,
        metavar="P",
        help="port (default any free)",
    )
    parser.add_argument(
        "--dialect",
        metavar="D",
        help="serve every job in this dialect (legacy, graph, sharepoint-v21, consumer; "
        "default: a mix of all four)",
    )
    parser.add_argument("--mode", choices=("time", "step"), default="time", help=_MODE_HELP)
    parser.add_argument(
        "--speed",
        type=times("job seconds per wall second"),
        default=1.0,
        metavar="X",
        help="job seconds per wall second",
    )
    parser.add_argument(
        "--retention",
        type=seconds(zero="404 at once"),
        default=86400.0,
        metavar="S",
        help="job seconds the last response stays before 404 (default 86400)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        help="scenarios to draw from, space- or comma-separated (default: the catalogue's mix)",
    )
    parser.add_argument(
        "--urls-out",
        metavar="FILE",
        help='also write JSON lines {"url", "size_bytes", "labels"} for replay record --urls-file',
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a CA made for this run (loopback only)",
    )
    parser.add_argument(
        "--ca-out",
        metavar="FILE",
        help="with --tls, also write the CA certificate (PEM) to FILE for clients to trust",
    )
    parser.add_argument("--host", default="127.0.0.1", metavar="H", help="address (127.0.0.1)")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be an address other than loopback (it serves fake credentials)",
    )
    parser.set_defaults(run=run)


class _Fleet(Protocol):
    """What serve needs of ``replay.simulate.Fleet``: its timelines and its jobs frame."""

    @property
    def jobs(self) -> Any: ...

    def timelines(self) -> Iterable[Timeline]: ...


_MODE_HELP = "time: follow job time x --speed from each job's first request; step: one "
_MODE_HELP += "response per request (default time)"


def run(args: argparse.Namespace) -> int:
    """Serve a simulated fleet until SIGINT/SIGTERM; return 0."""
    from replay.server import MonitorServer
    from replay.simulate import simulate

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.ca_out and not args.tls:
        raise UsageError("--ca-out writes the CA of --tls: add --tls, or drop --ca-out")
    server = MonitorServer(
        host=args.host,
        port=args.port,
        mode=args.mode,
        speed=args.speed,
        retention_s=args.retention,
        allow_non_loopback=args.allow_non_loopback,
        tls=args.tls,
    )
    dialects = [args.dialect] if args.dialect else None
    fleet = simulate(
        args.jobs, seed=args.seed, scenarios=_scenarios(args.scenarios), dialects=dialects
    )
    return asyncio.run(_serve(server, fleet, args.urls_out, args.ca_out))


def _scenarios(values: Iterable[str] | None) -> list[str] | None:
    """Scenario names from ``--scenarios a b,c`` (None: the default mix)."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


async def _serve(
    server: MonitorServer, fleet: _Fleet, urls_out: str | None, ca_out: str | None
) -> int:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    async with server:
        urls = dict(zip(fleet.jobs["job_id"].astype(str), server.add_fleet(fleet), strict=True))
        if urls_out:
            _write_urls_file(Path(urls_out), urls, fleet)
        ca_file = server.ca_file
        if ca_file is not None and ca_out:
            ca_file = _written_atomically(Path(ca_out), ca_file.read_bytes(), "--ca-out")
        sys.stdout.write("".join(f"{url}\n" for url in urls.values()))
        sys.stdout.flush()
        print(
            f"replay serve: {len(urls)} jobs on {server.base_url} ({server.mode} mode, "
            f"speed {server.speed:g}); stop with Ctrl-C",
            file=sys.stderr,
        )
        if ca_file is not None:
            print(
                f"replay serve: trust the CA in {ca_file} (SSL_CERT_FILE={ca_file})",
                file=sys.stderr,
            )
        await stopped.wait()
    return 0


def _write_urls_file(path: Path, urls: Mapping[str, str], fleet: _Fleet) -> None:
    """Write the URLs file atomically, so a reader never sees half of it."""
    lines = [json.dumps(_url_line(urls[job["job_id"]], job)) for job in _job_records(fleet)]
    _written_atomically(path, "".join(f"{line}\n" for line in lines).encode(), "--urls-out")


def _written_atomically(path: Path, data: bytes, option: str) -> Path:
    """``path``, with ``data`` written to it under a temporary name and renamed."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as err:
        raise UsageError(f"cannot write {option} {path}: {err.strerror or err}") from None
    return path


def _job_records(fleet: _Fleet) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = fleet.jobs.to_dict("records")
    return records


def _url_line(url: str, job: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the URLs file: ``{"url", "size_bytes", "labels"}``."""
    labels = job.get("labels")
    if isinstance(labels, str):
        labels = json.loads(labels)
    size = job.get("size_bytes")
    return {
        "url": url,
        "size_bytes": None if size is None or size != size else int(size),
        "labels": {str(k): str(v) for k, v in (labels or {}).items()},
    }
