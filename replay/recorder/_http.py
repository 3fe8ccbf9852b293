"""The recorder's HTTP side: bounded GETs over lanes of small httpx pools, no auth, no redirects."""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import Mapping
from typing import NamedTuple

import httpx

__all__ = ["KEPT_HEADERS", "Fetched", "Lanes", "user_agent"]

#: Connections each lane may keep open (to different hosts); one request in flight per lane.
_POOL = 4


def user_agent() -> str:
    """``replay/<version>``: what the recorder calls itself."""
    from replay import __version__

    return f"replay/{__version__} (+recorder)"


#: The response headers the recorder reads (lower-case names).
KEPT_HEADERS = ("retry-after", "location")


class Fetched(NamedTuple):
    """One monitor response: status, the headers the recorder reads (``KEPT_HEADERS``, by
    lower-case name), body (decoded), round-trip time."""

    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: float


class Lanes:
    """At most ``concurrency`` GETs in flight, each on a lane of its own, each bounded in time.

    One big httpcore pool costs time quadratic in its connections; many small ones (a lane per
    request in flight, one shared TLS context) keep the cost per request flat. Requests carry no
    Authorization (monitor URLs are anonymous and answer 401 to one) and redirects are returned,
    never followed, since the transport is used directly without a client on top.
    """

    def __init__(
        self,
        concurrency: int,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._own = transport is None
        self._transports: list[httpx.AsyncBaseTransport] = [transport] if transport else []
        if transport is None:
            context = httpx.create_ssl_context()
            self._transports = [_lane(context) for _ in range(concurrency)]
        self._free: asyncio.LifoQueue[int] = asyncio.LifoQueue()
        for index in range(concurrency):
            self._free.put_nowait(index % len(self._transports))
        self._timeout = timeout
        self._headers = _request_headers(headers or {})
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    async def get(self, url: httpx.URL, *, within: float = math.inf, grace: float = 0.0) -> Fetched:
        """GET ``url`` when a lane is free; raise httpx.HTTPError on transport failure and
        TimeoutError when no lane is free within ``within`` seconds, or when the request
        (headers and body) outlasts the timeout or ``within + grace`` seconds from now."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        async with asyncio.timeout_at(until if math.isfinite(until) else None) as bound:
            lane = await self._free.get()
            try:
                bound.reschedule(min(until + grace, loop.time() + self._timeout))
                return await self._fetch(self._transports[lane], url)
            finally:
                self._free.put_nowait(lane)

    async def _fetch(self, lane: httpx.AsyncBaseTransport, url: httpx.URL) -> Fetched:
        started = time.perf_counter()
        request = httpx.Request("GET", url, headers=self._headers, extensions=self._extensions)
        response = await lane.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        latency_ms = (time.perf_counter() - started) * 1000.0
        found = response.headers
        kept = {name: value for name in KEPT_HEADERS if (value := found.get(name)) is not None}
        return Fetched(response.status_code, kept, body, latency_ms)

    async def aclose(self) -> None:
        """Close the connections of the lanes (a transport given by the caller stays open)."""
        if self._own:
            await asyncio.gather(*(t.aclose() for t in self._transports), return_exceptions=True)


def _lane(context: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(max_connections=_POOL, max_keepalive_connections=_POOL)
    return httpx.AsyncHTTPTransport(verify=context, limits=limits)


def _request_headers(extra: Mapping[str, str]) -> httpx.Headers:
    headers = httpx.Headers(
        {
            "User-Agent": user_agent(),
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
    )
    for name, value in extra.items():
        headers[name] = value
    headers.pop("Authorization", None)
    return headers
