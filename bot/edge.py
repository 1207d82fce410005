"""The HTTP edge: how long a client may take, how many may connect, and how little they cost.

aiohttp reads a request for as long as the client keeps sending, and accepts connections until
the process runs out of file descriptors; then every accept() fails, nothing new gets in, not
even the health check, and asyncio logs each failure. So:

- a request's headers must arrive within `header_s` of its first byte, and its body within
  `body_s` of the headers (Slack gives up after 3 s, so a slower request cannot be answered
  usefully anyway); idle keep-alive connections last `idle_s`, longer than the 60 s proxies use;
- at most `max_connections` are open, and never more than the file limit leaves room for. When
  full, a new connection takes the place of the one that has waited longest for its request (a
  slow or idle client), so a flood of slow clients cannot lock out Slack or /healthz; only if
  every connection is busy in a handler is the new one refused with a 503;
- a client's mistakes (a bad header line, a dropped connection) are one short log line, not an
  aiohttp ERROR with a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

try:
    import resource
except ImportError:  # Windows: no file limit to read or raise
    resource = None  # type: ignore[assignment]

log = logging.getLogger("candor.http")

BACKLOG = 128  # pending connections the kernel queues; asyncio may accept this many in one go
# Descriptors kept free for everything but client connections: the accept burst above, the pool
# of connections to Slack's Web API (aiohttp's default limit, 100), SQLite, stdio and the loop.
RESERVED_FDS = BACKLOG + 128
_REFUSED = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True)
class EdgeLimits:
    header_s: float = 10.0  # from a request's first byte to the end of its headers
    body_s: float = 10.0  # from the end of the headers to the end of the body
    idle_s: float = 75.0  # an idle keep-alive connection; proxies keep theirs 60 s
    # The largest view Candor builds, at its worst (every character an emoji, JSON-escaped and
    # URL-encoded), comes back from Slack as about 260 kB; Slack caps a view at 250 kB of JSON.
    max_body: int = 512 * 1024
    max_connections: int = 1000  # Slack sends a few requests at a time; this bounds memory


def raise_file_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards `wanted` (within the hard limit); the result."""
    if resource is None:
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


def connection_cap(limits: EdgeLimits) -> int:
    """How many client connections fit under the process's file limit, at most the configured."""
    if resource is None:
        return limits.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    return max(8, min(limits.max_connections, soft - RESERVED_FDS))


class _Connection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, the guard's bookkeeping around it."""

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self.guard = guard
        self.make_inner = make_inner
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.in_request = False  # a handler has the request (its headers are complete)
        self.busy = False  # ...and its whole body: it is being worked on, never evicted
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.guard.admit(self):
            transport.write(_REFUSED)  # type: ignore[attr-defined]
            transport.close()
            return
        self.inner = self.make_inner()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is None:
            return
        if not self.in_request and self.header_timer is None:
            loop = asyncio.get_running_loop()
            self.header_timer = loop.call_later(self.guard.limits.header_s, self._headers_too_slow)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_header_timer()
        self.guard.forget(self)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def stop_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if not self.in_request:
            log.warning("a client sent its request headers too slowly; connection closed")
            self.close()

    def close(self) -> None:
        self.guard.forget(self)
        if self.transport is not None:
            self.transport.abort()  # at once: a slow client may not be reading either


class ConnectionGuard:
    """Counts client connections, evicts the longest-waiting one when full, times the headers."""

    def __init__(self, limits: EdgeLimits) -> None:
        self.limits = limits
        self.cap = limits.max_connections
        # In the order they last started waiting for a request: the first is the oldest waiter.
        self._open: OrderedDict[_Connection, None] = OrderedDict()
        self._by_transport: dict[asyncio.BaseTransport, _Connection] = {}

    def __len__(self) -> int:
        return len(self._open)

    def protocol_factory(self, make_inner: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _Connection(self, make_inner)

    def admit(self, conn: _Connection) -> bool:
        if len(self._open) >= self.cap:
            victim = next((c for c in self._open if not c.busy), None)
            if victim is None:
                log.warning("connection limit reached and every connection is busy; refused one")
                return False
            log.warning(
                "connection limit reached; closed the connection that waited longest",
                extra={"limit": self.cap},
            )
            victim.close()
        self._open[conn] = None
        assert conn.transport is not None
        self._by_transport[conn.transport] = conn
        return True

    def forget(self, conn: _Connection) -> None:
        self._open.pop(conn, None)
        if conn.transport is not None and self._by_transport.get(conn.transport) is conn:
            del self._by_transport[conn.transport]

    # Called by the middleware as a request moves on (a request may come over a connection the
    # guard does not know, e.g. in a test runner without it: then these do nothing).
    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        conn = self._by_transport.get(transport) if transport else None
        if conn is not None:
            conn.in_request = True
            conn.stop_header_timer()

    def body_received(self, transport: asyncio.BaseTransport | None) -> None:
        conn = self._by_transport.get(transport) if transport else None
        if conn is not None:
            conn.busy = True

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        conn = self._by_transport.get(transport) if transport else None
        if conn is not None and conn in self._open:
            conn.in_request = conn.busy = False
            self._open.move_to_end(conn)  # now waiting for its next request


GUARD = web.AppKey("connection_guard", ConnectionGuard)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refuse(status: int, reason: str) -> web.Response:
    response = web.json_response({"error": reason}, status=status)
    response.force_close()
    return response


@web.middleware
async def read_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reads the whole body, within the size and time limits, before any handler sees it."""
    guard = request.app[GUARD]
    guard.request_started(request.transport)
    try:
        if request.body_exists:
            length = request.content_length
            if length is not None and length > guard.limits.max_body:
                log.warning("request body too large; refused", extra={"bytes": length})
                return _refuse(413, "request body too large")
            try:
                # A body that came whole with the headers (nearly every request) needs no timer.
                arrived = request.content.is_eof()
                async with contextlib.nullcontext() if arrived else asyncio.timeout(guard.limits.body_s):
                    await request.read()  # kept by aiohttp: the handler's read() returns it
            except TimeoutError:
                log.warning("a client sent its request body too slowly; refused")
                return _refuse(408, "request body too slow")
            except web.HTTPRequestEntityTooLarge:
                log.warning("request body too large; refused")
                return _refuse(413, "request body too large")
            except (ConnectionError, RequestPayloadError, HttpProcessingError) as exc:
                log.warning("the client went away before sending the whole body", extra={"error": _name(exc)})
                return _refuse(400, "incomplete body")
        guard.body_received(request.transport)
        return await handler(request)
    finally:
        guard.request_finished(request.transport)


def _name(exc: BaseException) -> str:
    return type(exc).__name__


class _ShortClientErrors(logging.Filter):
    """aiohttp logs a client's malformed request or dropped connection as an ERROR with a
    traceback; that is the client's doing, so it becomes one warning line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | ConnectionError | RequestPayloadError):
            record.msg, record.args = "bad request from a client; answered 400 or closed", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
            record.error = _name(exc)
            record.detail = str(getattr(exc, "message", "") or exc)[:120]
        return True


server_log = logging.getLogger("candor.http.server")  # aiohttp's protocol logs here (handler_args)
server_log.addFilter(_ShortClientErrors())


def handler_args(limits: EdgeLimits) -> dict[str, object]:
    """Settings for aiohttp's per-connection protocol (web.Application(handler_args=...))."""
    # lingering_time: after refusing a body, read (and drop) the rest for at most 2 s so the
    # client sees the answer, instead of aiohttp's 10 s.
    return {"keepalive_timeout": limits.idle_s, "logger": server_log, "lingering_time": 2.0}


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site with every connection passing through the app's ConnectionGuard."""

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        runner = self._runner
        assert isinstance(runner, web.AppRunner) and runner.server is not None
        guard = runner.app[GUARD]
        guard.cap = connection_cap(guard.limits)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            guard.protocol_factory(runner.server),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        if self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]


def serve(app: web.Application, *, host: str, port: int) -> None:
    """Run the app until SIGINT or SIGTERM (what `candor serve` does; web.run_app, guarded)."""
    raise_file_limit(app[GUARD].limits.max_connections + RESERVED_FDS)
    asyncio.run(_serve(app, host, port))


async def _serve(app: web.Application, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still interrupts
            loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await GuardedSite(runner, host, port, backlog=BACKLOG).start()
        log.info("listening", extra={"host": host, "port": port, "max_connections": app[GUARD].cap})
        await stop.wait()
    finally:
        await runner.cleanup()
