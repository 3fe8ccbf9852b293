"""Warm the HTTP stack up once before pytester runs the plugin in this process.

An in-process pytester run removes, when it ends, every module first imported during it. Had
httpcore's connection modules first loaded inside one, this process would later hold two
copies of its exception classes, and httpx would no longer map the new ones to its own.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from replay.server import MonitorServer
from replay.testing import Timeline


@pytest.fixture(scope="session", autouse=True)
def _http_stack_loaded() -> None:
    """One GET each through a sync and an async httpx client against the real server."""
    with MonitorServer(mode="step") as server:
        url = server.add(Timeline.from_steps([("completed", 100)], job_id="warm-up"))
        httpx.get(url)

        async def fetch() -> None:
            async with httpx.AsyncClient() as client:
                await client.get(url)

        asyncio.run(fetch())
