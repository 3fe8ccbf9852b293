"""The recorder's HTTP side: bounded GETs over lanes of small httpx pools, no auth, no redirects."""

from __future__ import annotations

import asyncio
import math
import ssl
import time
import zlib
from collections.abc import Mapping
from typing import NamedTuple

import httpx

from replay.payload import BODY_LIMIT

__all__ = ["KEPT_HEADERS", "MAX_BODY", "Fetched", "Lanes", "user_agent"]

#: Bytes of a body read at most, as sent and once decoded: the store keeps BODY_LIMIT of it, and
#: the margin lets redaction see a secret across that cut whole. Past it the body is cut.
MAX_BODY = 2 * BODY_LIMIT

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
    lower-case name), body (decoded), round-trip time, and whether the body went on past
    ``MAX_BODY`` (then ``body`` is its first ``MAX_BODY`` bytes, not a whole document)."""

    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: float
    cut: bool = False


class Lanes:
    """At most ``concurrency`` GETs in flight, each on a lane of its own, each bounded in time.

    One big httpcore pool costs time quadratic in its connections; many small ones (a lane per
    request in flight, one shared TLS context) keep the cost per request flat. A lane is opened
    only when a request finds none free: there are as many as requests were ever in flight at
    once, so never more than jobs, whatever ``concurrency`` allows. Requests carry no
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
        self._limit = concurrency
        self._timeout = timeout
        self._shared = transport
        self._context: ssl.SSLContext | None = None
        self._own: list[httpx.AsyncHTTPTransport] = []
        self._opened = 0
        self._free: asyncio.LifoQueue[httpx.AsyncBaseTransport] = asyncio.LifoQueue()
        self._headers = _request_headers(headers or {})
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    @property
    def opened(self) -> int:
        """Lanes opened so far: the most requests that were in flight at once."""
        return self._opened

    async def get(self, url: httpx.URL, *, within: float = math.inf, grace: float = 0.0) -> Fetched:
        """GET ``url`` when a lane is free; raise httpx.HTTPError on transport failure and
        TimeoutError when no lane is free within ``within`` seconds, or when the request
        (headers and body) outlasts the timeout or ``within + grace`` seconds from now."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        async with asyncio.timeout_at(until if math.isfinite(until) else None) as bound:
            lane = await self._lane()
            try:
                bound.reschedule(min(until + grace, loop.time() + self._timeout))
                return await self._fetch(lane, url)
            finally:
                self._free.put_nowait(lane)

    async def _lane(self) -> httpx.AsyncBaseTransport:
        """A free lane: the last one freed, a new one while fewer than ``concurrency`` are open,
        else the next one freed."""
        if self._free.empty() and self._opened < self._limit:
            self._opened += 1
            return self._shared or self._new_lane()
        return await self._free.get()

    def _new_lane(self) -> httpx.AsyncHTTPTransport:
        if self._context is None:
            self._context = httpx.create_ssl_context()
        lane = _lane(self._context)
        self._own.append(lane)
        return lane

    async def _fetch(self, lane: httpx.AsyncBaseTransport, url: httpx.URL) -> Fetched:
        started = time.perf_counter()
        request = httpx.Request("GET", url, headers=self._headers, extensions=self._extensions)
        response = await lane.handle_async_request(request)
        try:
            body, cut = await capped_body(response, MAX_BODY)
        finally:
            await response.aclose()
        latency_ms = (time.perf_counter() - started) * 1000.0
        found = response.headers
        kept = {name: value for name in KEPT_HEADERS if (value := found.get(name)) is not None}
        return Fetched(response.status_code, kept, body, latency_ms, cut)

    async def aclose(self) -> None:
        """Close the connections of the lanes (a transport given by the caller stays open)."""
        await asyncio.gather(*(t.aclose() for t in self._own), return_exceptions=True)


async def capped_body(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body of ``response`` decoded (gzip, deflate), reading no more than ``limit`` bytes
    as sent nor decoding more than ``limit``; and whether it went on past that (then the body
    is cut at ``limit``). A body in an encoding the recorder did not ask for stays as sent."""
    if response.is_stream_consumed:  # built in memory (a test transport): nothing to stream
        whole = response.content
        return whole[:limit], len(whole) > limit
    decoder = _Inflater.for_encoding(response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    sent = size = 0
    async for raw in response.aiter_raw():
        sent += len(raw)
        data = raw if decoder is None else decoder.feed(raw, limit + 1 - size)
        chunks.append(data)
        size += len(data)
        if sent > limit or size > limit or (decoder is not None and decoder.stalled):
            return b"".join(chunks)[:limit], True
    if decoder is not None:
        rest = decoder.finish(limit + 1 - size)
        chunks.append(rest)
        size += len(rest)
    body = b"".join(chunks)
    return (body[:limit], True) if size > limit else (body, False)


class _Inflater:
    """Incremental gzip or deflate decoding that never produces more than it is asked for."""

    __slots__ = ("_fed", "_name", "_zlib")

    def __init__(self, name: str, wbits: int) -> None:
        self._name = name
        self._zlib = zlib.decompressobj(wbits)
        self._fed = False

    @classmethod
    def for_encoding(cls, header: str) -> _Inflater | None:
        """The decoder of a ``Content-Encoding`` value; None for identity, or for any other
        coding (or more than one), which the recorder never asks for and keeps as sent."""
        codings = [c for c in (p.strip().lower() for p in header.split(",")) if c]
        codings = [c for c in codings if c != "identity"]
        if codings in (["gzip"], ["x-gzip"]):
            return cls("gzip", 16 + zlib.MAX_WBITS)
        if codings == ["deflate"]:
            return cls("deflate", zlib.MAX_WBITS)  # zlib-wrapped, the standard form
        return None

    @property
    def stalled(self) -> bool:
        """Whether input is left over that the last room did not let through."""
        return bool(self._zlib.unconsumed_tail)

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` decoded bytes of ``data``; raise httpx.DecodingError on bad data."""
        first, self._fed = not self._fed, True
        try:
            return self._zlib.decompress(data, max(room, 1))  # 0 would mean no limit
        except zlib.error as err:
            if not (first and self._name == "deflate"):
                raise httpx.DecodingError(f"bad {self._name} body: {err}") from None
        # Some servers send deflate without the zlib wrapper: raw, as httpx also accepts.
        self._zlib, self._name = zlib.decompressobj(-zlib.MAX_WBITS), "raw deflate"
        return self.feed(data, room)

    def finish(self, room: int) -> bytes:
        """What is left decoded at the end of the body (at most ``room`` bytes)."""
        try:
            return self._zlib.flush(max(room, 1))
        except zlib.error as err:
            raise httpx.DecodingError(f"bad {self._name} body: {err}") from None


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
