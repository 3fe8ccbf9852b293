"""The fake monitor server: real HTTP on loopback serving each job's timeline of responses."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from pathlib import Path
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict

from replay.errors import ServerError
from replay.server._tls import LOOPBACK_NAMES, LoopbackTLS, ca_environment
from replay.serving import Answer, Clock, Request, ServingCore

__all__ = ["MonitorServer"]

_LOOPBACK_NAMES = frozenset({"localhost"})
#: Seconds ``stop()`` lets in-flight (slow) responses finish before closing their connections.
_SHUTDOWN_GRACE_S = 1.0


class MonitorServer(ServingCore):
    """A fake Graph copy-monitor server on 127.0.0.1, serving timelines of responses.

    An aiohttp adapter over :class:`replay.serving.ServingCore` (which says what ``mode``,
    ``speed``, ``retention_s`` and ``clock`` mean), answering exactly as the socket-free
    ``replay.testing.MonitorTransport`` does. Run it in a background thread (``with MonitorServer() as srv:`` or ``start()``/``stop()``)
    or on the running event loop (``async with MonitorServer() as srv:``).

    ``tls=True`` serves HTTPS with a certificate authority made for each run (its certificate
    names 127.0.0.1, localhost and ::1 only): clients trust ``ca_file``, or the variables of
    ``ca_environment()``. TLS is loopback only, whatever ``allow_non_loopback`` says.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: str = "time",
        speed: float = 1.0,
        retention_s: float = 86400.0,
        allow_non_loopback: bool = False,
        reject_authorization: bool = True,
        log_limit: int | None = 10_000,
        clock: Clock | None = None,
        tls: bool = False,
    ) -> None:
        super().__init__(
            "server",
            mode=mode,
            speed=speed,
            retention_s=retention_s,
            reject_authorization=reject_authorization,
            log_limit=log_limit,
            clock=clock,
        )
        self._host = _checked_host(host, allow_non_loopback, tls)
        self._port = port
        #: Whether the server serves HTTPS (with a CA made when it starts).
        self.tls = tls
        self._certificates: LoopbackTLS | None = None
        self._runner: web.ServerRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` (``https://`` with ``tls``) of the running server."""
        if self._port == 0:
            raise ServerError(
                "the server has no port yet: start it first (start(), `with MonitorServer()`, "
                "or `async with MonitorServer()`), or give a fixed port="
            )
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{'https' if self.tls else 'http'}://{host}:{self._port}"

    @property
    def ca_file(self) -> Path | None:
        """The PEM file of this run's CA certificate (None: plain HTTP); it exists while the
        server runs."""
        if not self.tls:
            return None
        if self._certificates is None:
            raise ServerError(
                "the server's CA is made when it starts: start it first (start(), "
                "`with MonitorServer(tls=True)`), then read ca_file"
            )
        return self._certificates.ca_file

    def ca_environment(self) -> dict[str, str]:
        """``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS`` and
        ``CURL_CA_BUNDLE`` naming ``ca_file``, for a client process (empty: plain HTTP)."""
        ca_file = self.ca_file
        return {} if ca_file is None else ca_environment(ca_file)

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
        certificates = LoopbackTLS() if self.tls else None
        context = None if certificates is None else certificates.context
        site = web.TCPSite(runner, self._host, self._port, ssl_context=context)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            if certificates is not None:
                certificates.close()
            raise ServerError(
                f"cannot listen on {self._host}:{self._port} ({err.strerror or err}): "
                "choose another port, or 0 for any free one",
                port=self._port,
            ) from None
        self._port = _bound_port(runner, self._port)
        self._runner = runner
        self._certificates = certificates

    async def _close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        certificates, self._certificates = self._certificates, None
        if certificates is not None:
            certificates.close()

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        arrival = self.arrival()
        path, _, query = request.raw_path.partition("?")
        names = tuple(name.lower() for name in request.headers)
        body = await request.read() if request.method == "POST" else b""
        asked = Request(request.method, path, query, names, body)
        if asked.method == "POST":  # a copy call simulates a job: CPU work, off the loop
            answer = await asyncio.to_thread(self.answer, asked)
        else:
            answer = self.answer(asked)
        if answer.delay_s > 0:
            await asyncio.sleep(answer.delay_s)
        self.log(asked, answer, arrival)
        return _dropped(request) if answer.drop else _response(answer)


def _response(answer: Answer) -> web.Response:
    return web.Response(status=answer.status, body=answer.body, headers=CIMultiDict(answer.headers))


def _dropped(request: web.BaseRequest) -> web.Response:
    """Close the connection without answering; aiohttp then finds nothing to write to."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=599)


def _checked_host(host: str, allow_non_loopback: bool, tls: bool = False) -> str:
    """The address to bind: loopback unless the caller explicitly allowed another one (never
    with TLS: the certificate names loopback only)."""
    if host in _LOOPBACK_NAMES:
        return "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and tls:
        raise ServerError(
            f"refusing to serve TLS on {host!r}: the per-run certificate names "
            f"{', '.join(LOOPBACK_NAMES)} only; listen on loopback (127.0.0.1, ::1) or serve "
            "plain HTTP (drop tls=True / --tls)",
            host=host,
        )
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
