"""An httpx transport serving monitor timelines without sockets, exactly as the server does."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx

from replay.serving import Answer, Clock, Request, ServingCore

__all__ = ["MonitorTransport"]

_DEFAULT_BASE = "https://monitor.replay.invalid"


class MonitorTransport(ServingCore, httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves timelines to an ``httpx.Client`` or ``httpx.AsyncClient`` as the server would.

    ``transport.add(timeline)`` returns a monitor URL (on ``https://monitor.replay.invalid``
    unless ``base_url`` says otherwise); requests to it get the same answers the loopback
    :class:`~replay.server.MonitorServer` gives (one routing serves both), a dropped connection
    raises ``httpx.RemoteProtocolError``, and ``requests(url)`` is the same request log.
    """

    def __init__(
        self,
        *,
        mode: str = "step",
        speed: float = 1.0,
        retention_s: float = 86400.0,
        reject_authorization: bool = True,
        base_url: str = _DEFAULT_BASE,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            "transport",
            mode=mode,
            speed=speed,
            retention_s=retention_s,
            reject_authorization=reject_authorization,
            log_limit=None,
            clock=clock,
        )
        self._base_url = base_url.rstrip("/")

    @property
    def base_url(self) -> str:
        """Scheme and authority of the monitor URLs this transport serves."""
        return self._base_url

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of a synchronous client (sleeping through a slow response)."""
        arrival, asked = self.arrival(), _request(request)
        answer = self.answer(asked)
        if answer.delay_s > 0:
            time.sleep(answer.delay_s)
        return self._sent(request, asked, answer, arrival)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of an asynchronous client."""
        arrival, asked = self.arrival(), _request(request)
        answer = self.answer(asked)
        if answer.delay_s > 0:
            await asyncio.sleep(answer.delay_s)
        return self._sent(request, asked, answer, arrival)

    def _sent(
        self,
        request: httpx.Request,
        asked: Request,
        answer: Answer,
        arrival: tuple[int, datetime],
    ) -> httpx.Response:
        self.log(asked, answer, arrival)
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            answer.status, headers=list(answer.headers), content=answer.body, request=request
        )


def _request(request: httpx.Request) -> Request:
    names = tuple(name.lower() for name in request.headers)
    body = request.read() if request.method == "POST" else b""
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    return Request(request.method, path, query, names, body)
