"""An httpx transport serving monitor timelines without sockets, with the server's request log."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx

from replay.server._jobs import JobTable, Reply
from replay.server._log import RequestLog, RequestRecord
from replay.server._urls import job_id_from_path
from replay.timeline import Timeline

__all__ = ["MonitorTransport"]

_DEFAULT_BASE = "https://monitor.replay.invalid"


class _Answer:
    """What to send for one request: status, headers, body, or a dropped connection."""

    __slots__ = ("body", "delay_s", "drop", "headers", "job_id", "job_status", "status")

    def __init__(
        self, job_id: str | None, status: int, body: bytes, headers: list[tuple[str, str]]
    ) -> None:
        self.job_id = job_id
        self.status = status
        self.body = body
        self.headers = headers
        self.delay_s = 0.0
        self.drop = False
        self.job_status: str | None = None

    @classmethod
    def error(cls, job_id: str | None, status: int, code: str, message: str) -> _Answer:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        return cls(job_id, status, body, [("Content-Type", "application/json")])

    @classmethod
    def of(cls, job_id: str, reply: Reply) -> _Answer:
        answer = cls(job_id, reply.status, reply.body, list(reply.headers_now().items()))
        answer.delay_s, answer.drop, answer.job_status = reply.delay_s, reply.drop, reply.job_status
        return answer


class MonitorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves timelines to an ``httpx.Client`` or ``httpx.AsyncClient`` as the server would.

    ``transport.add(timeline)`` returns a monitor URL (on ``https://monitor.replay.invalid``
    unless ``base_url`` says otherwise); requests to it get the timeline's responses in
    ``step`` or ``time`` mode, 401 when they carry ``Authorization``, 404 once expired, and a
    dropped connection raises ``httpx.RemoteProtocolError``. ``requests(url)`` is the same log
    of :class:`~replay.server.RequestRecord` the loopback server keeps.
    """

    def __init__(
        self,
        *,
        mode: str = "step",
        speed: float = 1.0,
        retention_s: float = 86400.0,
        reject_authorization: bool = True,
        base_url: str = _DEFAULT_BASE,
    ) -> None:
        from replay.server import _checked_mode, _checked_positive

        self.mode = _checked_mode(mode)
        self.speed = _checked_positive("speed", speed)
        self.retention_s = _checked_positive("retention_s", retention_s, zero_ok=True)
        self.reject_authorization = reject_authorization
        self.base_url = base_url.rstrip("/")
        self._jobs = JobTable("transport")
        self._log = RequestLog(None)

    def add(
        self,
        timeline: Timeline,
        *,
        dialect: str | None = None,
        mode: str | None = None,
        speed: float | None = None,
    ) -> str:
        """Serve ``timeline``; return its monitor URL in ``dialect``'s shape."""
        from replay.server import DEFAULT_DIALECT, _checked_mode, _checked_positive

        return self._jobs.add(
            self.base_url,
            timeline,
            dialect or timeline.dialect or DEFAULT_DIALECT,
            mode=None if mode is None else _checked_mode(mode),
            speed=None if speed is None else _checked_positive("speed", speed),
        )

    def requests(self, url_or_job_id: str) -> list[RequestRecord]:
        """The requests one job's monitor received, oldest first."""
        from replay.server import _job_id_of

        job_id = self._jobs.served(_job_id_of(url_or_job_id))
        return self._log.for_job(job_id)

    def all_requests(self) -> list[RequestRecord]:
        """Every request received, oldest first."""
        return self._log.all()

    # -- httpx -------------------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of a synchronous client (sleeping through a slow response)."""
        serial, arrived = self._log.next_serial(), datetime.now(UTC)
        answer = self._answer(request)
        if answer.delay_s > 0:
            time.sleep(answer.delay_s)
        return self._sent(request, answer, serial, arrived)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of an asynchronous client."""
        serial, arrived = self._log.next_serial(), datetime.now(UTC)
        answer = self._answer(request)
        if answer.delay_s > 0:
            await asyncio.sleep(answer.delay_s)
        return self._sent(request, answer, serial, arrived)

    def _sent(
        self, request: httpx.Request, answer: _Answer, serial: int, arrived: datetime
    ) -> httpx.Response:
        headers = dict(answer.headers)
        self._log.append(
            RequestRecord(
                arrived,
                request.method,
                request.url.path,
                self._log.names(parse_qs(request.url.query.decode()).keys()),
                self._log.names(name.lower() for name in request.headers),
                "authorization" in request.headers,
                None if answer.drop else answer.status,
                answer.job_id,
                serial,
                None if answer.drop else headers.get("Retry-After"),
                None if answer.drop else answer.job_status,
            )
        )
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    def _answer(self, request: httpx.Request) -> _Answer:
        """The server's routing: Authorization first, then the job, the method, tempauth."""
        path = request.url.path
        job_id = job_id_from_path(path)
        job = self._jobs.get(job_id) if job_id is not None else None
        if "authorization" in request.headers and self.reject_authorization:
            known = job_id if job is not None else None
            return _Answer.error(known, 401, "unauthenticated", "Authentication failed")
        if job_id is None or job is None:
            return _Answer.error(None, 404, "itemNotFound", "The monitor does not exist")
        if request.method != "GET":
            answer = _Answer.error(job_id, 405, "methodNotAllowed", "Use GET")
            answer.headers.append(("Allow", "GET"))
            return answer
        tempauth = parse_qs(urlsplit(str(request.url)).query).get("tempauth", [None])[0]
        if tempauth != job.tempauth:
            return _Answer.error(job_id, 401, "unauthenticated", "Authentication failed")
        reply = job.reply(job.mode or self.mode, job.speed or self.speed, self.retention_s)
        if reply is None:
            return _Answer.error(job_id, 404, "itemNotFound", "The monitor has expired")
        return _Answer.of(job_id, reply)
