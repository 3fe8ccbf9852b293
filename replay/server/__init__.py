"""The fake monitor server: real HTTP on loopback serving each job's timeline of responses."""

from __future__ import annotations

import asyncio
import ipaddress
import math
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Protocol, get_args
from urllib.parse import urlsplit

from aiohttp import web

from replay.errors import ServerError, UsageError
from replay.server._copy import start_copy
from replay.server._jobs import JobTable, error_reply, json_reply
from replay.server._log import RequestLog, RequestRecord
from replay.server._urls import (
    MONITOR_PATHS,
    copy_request_matches,
    job_id_from_path,
)
from replay.timeline import Timeline

__all__ = ["DEFAULT_DIALECT", "Mode", "MonitorServer", "RequestRecord"]

Mode = Literal["time", "step"]
#: The URL shape of a timeline that names no dialect.
DEFAULT_DIALECT = "graph"
_LOOPBACK_NAMES = frozenset({"localhost"})
#: Seconds ``stop()`` lets in-flight (slow) responses finish before closing their connections.
_SHUTDOWN_GRACE_S = 1.0


class _Fleet(Protocol):
    def timelines(self) -> Iterable[Timeline]: ...


class MonitorServer:
    """A fake Graph copy-monitor server on 127.0.0.1, serving timelines of responses.

    In ``time`` mode a job's clock starts at its first request and runs at ``speed`` times wall
    time; in ``step`` mode the Nth request gets the Nth response. After the last response has
    been reached it stays for ``retention_s / speed`` wall seconds, then the monitor answers 404.
    Run it in a background thread (``with MonitorServer() as srv:`` or ``start()``/``stop()``)
    or on the running event loop (``async with MonitorServer() as srv:``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: Mode = "time",
        speed: float = 1.0,
        retention_s: float = 86400.0,
        allow_non_loopback: bool = False,
        reject_authorization: bool = True,
        log_limit: int | None = 10_000,
    ) -> None:
        self.mode: Mode = _checked_mode(mode)
        self.speed = _checked_positive("speed", speed)
        self.retention_s = _checked_positive("retention_s", retention_s, zero_ok=True)
        self.reject_authorization = reject_authorization
        self._host = _checked_host(host, allow_non_loopback)
        self._port = port
        self._jobs = JobTable("server")
        self._log = RequestLog(log_limit)
        self._runner: web.ServerRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- jobs -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._port == 0:
            raise ServerError(
                "the server has no port yet: start it first (start(), `with MonitorServer()`, "
                "or `async with MonitorServer()`), or give a fixed port="
            )
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def add(
        self,
        timeline: Timeline,
        *,
        dialect: str | None = None,
        origin: datetime | None = None,
        mode: Mode | None = None,
        speed: float | None = None,
    ) -> str:
        """Serve ``timeline`` and return its monitor URL (in the dialect's URL shape).

        ``origin``: the UTC time the timeline's ``at_s = 0`` stood for (default: the timeline's
        own ``origin``, which simulated timelines carry); known, Retry-After HTTP dates are
        served as far ahead of each request as they were of their response.
        ``mode`` and ``speed``: this job's own, instead of the server's.
        """
        return self._jobs.add(
            self.base_url,
            timeline,
            dialect or timeline.dialect or DEFAULT_DIALECT,
            origin=origin,
            mode=None if mode is None else _checked_mode(mode),
            speed=None if speed is None else _checked_positive("speed", speed),
        )

    def add_fleet(self, fleet: _Fleet) -> list[str]:
        """Serve every timeline of ``fleet``; return their monitor URLs in the fleet's order."""
        return [self.add(t) for t in fleet.timelines()]

    def remove(self, url_or_job_id: str) -> None:
        """Stop serving one job (its monitor answers 404) and forget its requests."""
        job_id = _job_id_of(url_or_job_id)
        self._jobs.remove(job_id)
        self._log.forget(job_id)

    def has_job(self, job_id: str) -> bool:
        """Whether a job with this id is served."""
        return job_id in self._jobs

    def requests(self, url_or_job_id: str) -> list[RequestRecord]:
        """The requests one job's monitor received, oldest first."""
        job_id = self._jobs.served(_job_id_of(url_or_job_id))
        return self._log.for_job(job_id)

    def all_requests(self) -> list[RequestRecord]:
        """Every request received (including those matching no job), oldest first."""
        return self._log.all()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> MonitorServer:
        """Start serving in a background thread with its own event loop; return self."""
        if self._runner is not None or self._thread is not None:
            raise ServerError("the server is already running: stop() it before starting again")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve_in_thread, args=(ready, failure), name="replay-server", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the background server (in-flight slow responses get a short grace period)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._thread = None

    def __enter__(self) -> MonitorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> MonitorServer:
        if self._runner is not None or self._thread is not None:
            raise ServerError("the server is already running: stop() it before starting again")
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    def _serve_in_thread(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        try:
            try:
                loop.run_until_complete(self._open())
                self._loop = loop
            except BaseException as err:
                failure.append(err)
                return
            finally:
                ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
        finally:
            self._loop = None
            loop.close()

    async def _open(self) -> None:
        server = web.Server(self._handle, access_log=None)
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=_SHUTDOWN_GRACE_S)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise ServerError(
                f"cannot listen on {self._host}:{self._port} ({err.strerror or err}): "
                "choose another port, or 0 for any free one",
                port=self._port,
            ) from None
        self._port = _bound_port(runner, self._port)
        self._runner = runner

    async def _close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        serial = self._log.next_serial()
        arrived = datetime.now(UTC)
        path = request.raw_path.partition("?")[0]
        authorization_sent = "Authorization" in request.headers
        job_id, response, job_status = await self._respond(request, path, authorization_sent)
        self._log.append(
            RequestRecord(
                arrived,
                request.method,
                path,
                self._log.names(request.query.keys()),
                self._log.names(name.lower() for name in request.headers),
                authorization_sent,
                None if response is None else response.status,
                job_id,
                serial,
                None if response is None else response.headers.get("Retry-After"),
                job_status,
            )
        )
        return _dropped(request) if response is None else response

    async def _respond(
        self, request: web.BaseRequest, path: str, authorization_sent: bool
    ) -> tuple[str | None, web.Response | None, str | None]:
        """The request's job, its response (None: drop the connection) and the body's status."""
        if request.method == "POST" and copy_request_matches(path):
            return (*await start_copy(request, self), None)
        job_id = job_id_from_path(path)
        if job_id is None:
            return None, error_reply(404, "itemNotFound", "No monitor at this path"), None
        job = self._jobs.get(job_id)
        if authorization_sent and self.reject_authorization:
            # Checked first, as the real service authenticates before it looks anything up.
            known = job_id if job is not None else None
            return known, error_reply(401, "unauthenticated", "Authentication failed"), None
        if job is None:
            return None, error_reply(404, "itemNotFound", "The monitor does not exist"), None
        if request.method != "GET":
            body = {"error": {"code": "methodNotAllowed"}}
            return job_id, json_reply(405, body, Allow="GET"), None
        if request.query.get("tempauth") != job.tempauth:
            return job_id, error_reply(401, "unauthenticated", "Authentication failed"), None
        reply = job.reply(job.mode or self.mode, job.speed or self.speed, self.retention_s)
        if reply is None:
            return job_id, error_reply(404, "itemNotFound", "The monitor has expired"), None
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        if reply.drop:
            return job_id, None, None
        return job_id, reply.response(), reply.job_status


def _dropped(request: web.BaseRequest) -> web.Response:
    """Close the connection without answering; aiohttp then finds nothing to write to."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=599)


def _checked_mode(mode: str) -> Mode:
    if mode not in get_args(Mode):
        raise UsageError(f"unknown mode {mode!r}: expected 'time' or 'step'")
    return mode  # type: ignore[return-value]


def _checked_positive(name: str, value: float, *, zero_ok: bool = False) -> float:
    low_ok = value >= 0 if zero_ok else value > 0
    if not (math.isfinite(value) and low_ok):
        wanted = "a finite number >= 0" if zero_ok else "a finite number > 0"
        raise UsageError(f"{name} must be {wanted}, got {value!r}")
    return float(value)


def _checked_host(host: str, allow_non_loopback: bool) -> str:
    """The address to bind: loopback unless the caller explicitly allowed another one."""
    if host in _LOOPBACK_NAMES:
        return "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_non_loopback:
        raise ServerError(
            f"refusing to listen on {host!r}: the fake monitor serves fake credentials and "
            "belongs on loopback (127.0.0.1, ::1); pass allow_non_loopback=True "
            "(--allow-non-loopback) if you really mean it",
            host=host,
        )
    return host


def _bound_port(runner: web.ServerRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked


def _job_id_of(url_or_job_id: str) -> str:
    if "://" in url_or_job_id or url_or_job_id.startswith("/"):
        job_id = job_id_from_path(urlsplit(url_or_job_id).path)
        if job_id is None:
            raise UsageError(
                f"{urlsplit(url_or_job_id).path!r} is not a monitor path "
                f"(expected .../monitor/{{id}} or .../operations/{{id}}; known shapes: "
                f"{', '.join(sorted(set(MONITOR_PATHS.values())))})"
            )
        return job_id
    return url_or_job_id
