"""Warm the HTTP and TLS stacks up once before pytester runs the plugin in this process.

An in-process pytester run removes, when it ends, every module first imported during it. Had
httpcore's connection modules first loaded inside one, this process would later hold two
copies of its exception classes, and httpx would no longer map the new ones to its own; had
trustme's cryptography loaded inside one, the next run's curves would not be its own either.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from replay.server import MonitorServer
from replay.testing import Timeline


@pytest.fixture(scope="session", autouse=True)
def _http_stack_loaded() -> None:
    """One GET each through a sync and an async httpx client against the real server, and one
    over HTTPS (cryptography's classes, loaded twice, no longer match its compiled core)."""
    with MonitorServer(mode="step") as server:
        url = server.add(Timeline.from_steps([("completed", 100)], job_id="warm-up"))
        httpx.get(url)

        async def fetch() -> None:
            async with httpx.AsyncClient() as client:
                await client.get(url)

        asyncio.run(fetch())
    with MonitorServer(mode="step", tls=True) as server:
        url = server.add(Timeline.from_steps([("completed", 100)], job_id="warm-up"))
        assert server.ca_file is not None
        httpx.get(url, verify=ssl.create_default_context(cafile=server.ca_file))
