"""pytest plugin benchmark: what the plugin costs every pytest run, and how fast it serves.

Run ``python -m benchmarks.bench_plugin`` from the repository root. Prints the wall seconds of a
one-test pytest run with the plugin and with ``-p no:replay`` (median of five fresh processes;
the difference is what every pytest run of a project with replay installed pays), the CPU
seconds of ``import replay.pytest_plugin`` alone, and the requests per second a monitor answers
through ``MonitorTransport`` (sync and async clients) and through the loopback server. Exit
status 1 with ``--strict`` when the transport answers under 2,000 requests per second (sync).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["main"]

TRANSPORT_TARGET_RPS = 2000.0
_RUNS = 5


def _pytest_s(extra: Sequence[str]) -> float:
    """Median wall seconds of a fresh ``pytest`` running one empty test."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_empty.py").write_text("def test_nothing():\n    pass\n")
        times = []
        for _ in range(_RUNS):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
                cwd=folder,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _import_cpu_s() -> float:
    """CPU seconds of ``import replay.pytest_plugin`` in a fresh interpreter (median)."""
    code = (
        "import resource, replay.pytest_plugin; r = resource.getrusage(resource.RUSAGE_SELF); "
        "print(r.ru_utime + r.ru_stime)"
    )
    bare = code.replace(", replay.pytest_plugin", "")
    with_plugin = [float(_output(code)) for _ in range(_RUNS)]
    without = [float(_output(bare)) for _ in range(_RUNS)]
    return statistics.median(with_plugin) - statistics.median(without)


def _output(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout


def _serving_rps(requests: int) -> dict[str, float]:
    import httpx

    from replay.server import MonitorServer
    from replay.testing import MonitorTransport, Timeline

    timeline = Timeline.from_scenario("happy_path", "graph", seed=1).drop_terminal()
    transport = MonitorTransport()
    url = transport.add(timeline)
    rates: dict[str, float] = {}
    with httpx.Client(transport=transport) as client:
        rates["transport, sync client"] = _rate(lambda: client.get(url), requests)

    async def async_run() -> float:
        async with httpx.AsyncClient(transport=transport) as client:
            started = time.perf_counter()
            for _ in range(requests):
                await client.get(url)
            return requests / (time.perf_counter() - started)

    rates["transport, async client"] = asyncio.run(async_run())
    with MonitorServer(mode="step") as server, httpx.Client() as client:
        served = server.add(timeline)
        rates["loopback server, sync client"] = _rate(lambda: client.get(served), requests // 2)
    return rates


def _rate(call: Callable[[], object], requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        call()
    return requests / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the measurements; return 1 under ``--strict`` when the transport is too slow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail below the transport target")
    parser.add_argument("--requests", type=int, default=2000, help="requests per serving rate")
    args = parser.parse_args(argv)
    with_plugin, without = _pytest_s([]), _pytest_s(["-p", "no:replay"])
    print(f"pytest, one test, plugin on:         {with_plugin:.2f} s wall (median of {_RUNS})")
    print(f"pytest, one test, -p no:replay:      {without:.2f} s wall")
    print(f"  what the plugin adds to every run: {with_plugin - without:+.2f} s")
    print(f"import replay.pytest_plugin:         {_import_cpu_s():.2f} s CPU")
    rates = _serving_rps(args.requests)
    for name, rate in rates.items():
        print(f"{name + ':':36} {rate:,.0f} requests/s")
    slow = rates["transport, sync client"] < TRANSPORT_TARGET_RPS
    return 1 if args.strict and slow else 0


if __name__ == "__main__":
    sys.exit(main())
