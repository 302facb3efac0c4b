"""A small HTTP/1.1 client: a keep-alive connection pool on asyncio protocols
with the llhttp parser of ``httptools`` (asyncio only).

It sends exactly the request it is given (method, target, headers: nothing
added but ``user-agent``) and answers with an :class:`H1Response` offering
the part of :class:`aiohttp.ClientResponse` the drivers use: ``status``,
``headers`` (case-insensitive), ``await read()``, ``content.read(n)``,
``content.at_eof()``, ``release()`` and ``close()``. It exists because the
per-request work of aiohttp's session (request and response objects, header
multidicts, timers, tracing hooks) costs several times what the request
itself does (``docs/performance.md``, finding 16).

The rules of the shared transport (:mod:`pystorage.raw.http`) hold:

* ``connect_timeout`` bounds the TCP connect and the TLS handshake;
* ``read_timeout`` is the longest wait for the next byte of an answer (its
  head or its body) while the caller waits for it, and the longest wait for
  the socket to take a piece of a request body (a server that stopped
  reading an upload);
* ``pool_timeout`` bounds the wait for a free connection when ``pool_size``
  requests are in flight; at most ``pool_size`` connections are open;
* nothing is ever resent: a connection lost before the answer is an error
  (``RetryLayer`` is the only retrier).

Answers: ``Content-Length``, ``chunked`` and close-delimited bodies; a body
read in pieces is flow-controlled (reading from the socket pauses above
:data:`HIGH_WATER` buffered bytes, so memory stays bounded whatever the
reader's pace). A connection goes back to the pool only when its answer was
read to the end and both sides keep it alive; otherwise it is closed.

Failures raise :class:`H1ConnectionError` (a :class:`ConnectionError`: the
connection was lost, refused, or the answer is not HTTP), :class:`H1PayloadError`
(a body that ends before its length) and :class:`H1Timeout` (a
:class:`TimeoutError`), all of which the drivers' error maps treat as
temporary transport failures.

Proxies are not supported: :func:`proxy_for` tells a driver to use aiohttp
instead when the environment names a proxy for the endpoint.
"""

from __future__ import annotations

import asyncio
import collections
import ssl

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "HIGH_WATER",
    "H1ConnectionError",
    "H1PayloadError",
    "H1Pool",
    "H1Response",
    "H1Timeout",
    "KEEPALIVE_TIMEOUT",
    "proxy_for",
]

from .h1_answer import (
    _NO_BODY_STATUS,
    _USER_AGENT,
    BODY_PIECE,
    HIGH_WATER,
    KEEPALIVE_TIMEOUT,
    SMALL_BODY,
    H1ConnectionError,
    H1PayloadError,
    H1Response,
    H1Timeout,
    _Body,
    proxy_for,
)


class _Connection(asyncio.Protocol):
    """One connection: its parser, the answer in progress and its read timer.

    It holds the answer's :class:`H1Response` only until its head is parsed, then
    only its body: an answer dropped unreleased is collected and closes its connection.
    """

    def __init__(self, pool: H1Pool) -> None:
        self.pool = pool
        self.loop = pool.loop
        self.timeout = pool.read_timeout
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser = httptools.HttpResponseParser(self)
        self.pending: H1Response | None = None
        self.body: _Body | None = None
        self.head: asyncio.Future[None] | None = None
        self.headed = False
        self.fields: list[tuple[str, str]] = []
        self.until_eof = False
        self.head_only = False
        self.skip = False
        self.keep = True
        self.closed = False
        self.last = 0.0
        self.idle_since = 0.0
        self.writable: asyncio.Future[None] | None = None
        self.paused_writing = False

    # transport events -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last = self.loop.time()
        body = self.body
        if body is None or body.done:
            # bytes that answer nothing (on an idle connection, after an answer): unusable
            self.keep = False
            self.transport.abort()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(H1ConnectionError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__ if isinstance(exc, httptools.HttpParserCallbackError) else None
            self._fail(cause or H1ConnectionError(f"the answer is not valid HTTP/1.1 ({exc})"))
        if self.skip:
            # a HEAD answer ends with its headers: a fresh parser for the next one
            self.skip = False
            self.parser = httptools.HttpResponseParser(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.keep = False
        body = self.body
        if body is not None and not body.done and self.until_eof and exc is None and self.headed:
            body.finish(None)  # a body delimited by the end of the connection
        elif self.headed:
            self._fail(H1PayloadError("the connection closed before the end of the answer's body"))
        else:
            self._fail(
                H1ConnectionError(f"the server closed the connection before answering ({exc or 'EOF'})")
            )
        writable = self.writable
        if writable is not None and not writable.done():
            writable.set_result(None)

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        writable = self.writable
        if writable is not None and not writable.done():
            writable.set_result(None)

    def _fail(self, error: BaseException) -> None:
        self.keep = False
        head = self.head
        if head is not None and not head.done():
            head.set_exception(error)
        body = self.body
        if body is not None:
            body.finish(error)
        if not self.closed:
            self.transport.abort()

    # parser callbacks ---------------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            self.fields = []  # an interim answer (100 Continue): the real one follows
            return
        response, self.pending = self.pending, None
        body = self.body
        if response is None or body is None:
            raise H1ConnectionError("an answer to no request")
        response.status = status
        headers = response.headers = CIMultiDictProxy(CIMultiDict(self.fields))
        self.fields = []
        self.headed = True
        if self.head_only:
            # no body follows a HEAD answer, whatever its Content-Length says
            self.keep = self.parser.should_keep_alive()
            self.skip = True
            body.finish(None)
        elif status not in _NO_BODY_STATUS:
            self.until_eof = (
                "content-length" not in headers
                and "chunked" not in headers.get("transfer-encoding", "").lower()
            )
        head = self.head
        if head is not None and not head.done():
            head.set_result(None)

    def on_body(self, data: bytes) -> None:
        body = self.body
        if body is not None and not body.done:
            body.feed(data)
        else:
            self.keep = False  # bytes after a HEAD answer

    def on_message_complete(self) -> None:
        if not self.headed or self.skip:
            return  # the end of an interim answer, or of a HEAD answer's ignored body
        self.keep = self.keep and self.parser.should_keep_alive()
        body = self.body
        if body is not None:
            body.finish(None)

    # waits ---------------------------------------------------------------------------------------
    async def wait(self, waiter: asyncio.Future[None]) -> None:
        """Await ``waiter``, failing with :class:`H1Timeout` after ``read_timeout``
        seconds without a byte from the server."""
        self.last = self.loop.time()
        timer = self.loop.call_at(self.last + self.timeout, self._expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done():
            return
        due = self.last + self.timeout
        if self.loop.time() < due:
            # a byte arrived since the timer was set: wait on from it (one timer per wait, not per chunk)
            self.loop.call_at(due, self._expire, waiter)
            return
        self._fail(H1Timeout(f"no byte from the server for {self.timeout}s"))

    async def _drain(self) -> None:
        # wait for the socket to take the buffered body bytes, at most read_timeout
        while self.paused_writing and not self.closed and not self.headed:
            writable = self.writable = self.loop.create_future()
            try:
                await asyncio.wait_for(writable, self.timeout)
            except asyncio.TimeoutError:
                self.keep = False
                self.transport.abort()
                raise H1Timeout(f"the server took no request body bytes for {self.timeout}s") from None
            finally:
                self.writable = None

    # one exchange --------------------------------------------------------------------------------
    async def exchange(
        self,
        head: bytes,
        data: memoryview | None,
        head_only: bool,
        framing: tuple[bytes, bytes] | None = None,
    ) -> H1Response:
        """Send a request (its body ``data``, between the two ``framing`` bytes) and
        await its answer's head."""
        body = self.body = _Body(self.transport)
        response = self.pending = H1Response(self, body)
        waiter = self.head = self.loop.create_future()
        self.head_only = head_only
        self.headed = self.until_eof = False
        self.keep = True
        transport = self.transport
        after = b""
        if framing is not None:
            before, after = framing
            head += before
        if data is None:
            transport.write(head + after if after else head)
        elif len(data) + len(after) <= SMALL_BODY:
            transport.write(b"".join((head, data, after)) if after else head + data)
            after = b""
        else:
            transport.write(head)
            for start in range(0, len(data), BODY_PIECE):
                if self.closed or self.headed:
                    # lost, or answered before the body was all sent (an early error answer)
                    self.keep = False
                    break
                transport.write(data[start : start + BODY_PIECE])
                if self.paused_writing:
                    await self._drain()
            if after and not (self.closed or self.headed):
                transport.write(after)
        await self.wait(waiter)
        self.head = None
        return response

    def forget(self) -> None:
        """Drop the exchange in progress and the connection (a failed or cancelled request)."""
        self.keep = False
        self.pending, self.body, self.head = None, None, None
        if not self.closed:
            self.transport.abort()

    def done_with(self, body: _Body, *, reuse: bool) -> None:
        """The answer of ``body`` was released (``reuse``: read to its end) or closed."""
        if body is self.body:
            self.body = None
        if reuse and self.keep and not self.closed:
            self.pool.put_back(self)
            return
        self.keep = False
        if not self.closed:
            if body.done:
                self.transport.close()
            else:
                self.transport.abort()  # an unread body: nothing to wait for
        self.pool.free_slot()


class H1Pool:
    """At most ``pool_size`` keep-alive connections to one origin.

    Args:
        scheme: ``http`` or ``https``.
        host: the host to connect to.
        port: its port.
        connect_timeout: seconds for the TCP connect and the TLS handshake.
        read_timeout: seconds without a byte of an answer (or a request body
            piece not taken by the socket) before a request fails.
        pool_timeout: seconds to wait for a free connection.
        pool_size: connections open at most.
        ssl_context: the TLS context (default: :func:`ssl.create_default_context`).
    """

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_timeout: float,
        pool_size: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported scheme {scheme!r}")
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.pool_timeout = pool_timeout
        self.pool_size = pool_size
        self._ssl: ssl.SSLContext | None = None
        if scheme == "https":
            self._ssl = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._idle: list[_Connection] = []
        self._busy = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    def __repr__(self) -> str:
        return f"<H1Pool {self.host}:{self.port} busy={self._busy} idle={len(self._idle)}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: memoryview | None = None,
        *,
        framing: tuple[bytes, bytes] | None = None,
    ) -> H1Response:
        """Send one request (``headers`` must carry ``host`` and, with a body,
        ``content-length``: of the body and its ``framing``, the bytes sent
        before and after it, e.g. a multipart preamble); its answer once its
        head arrived, the body unread.

        Raises:
            ValueError: a header name or value with a line break or a NUL.
            H1ConnectionError, H1Timeout: transport failures.
        """
        fields = "\r\n".join([f"{name}: {value}" for name, value in headers.items()])
        breaks = max(len(headers) - 1, 0)
        if fields.count("\n") != breaks or fields.count("\r") != breaks or "\x00" in fields:
            raise ValueError("a header name or value holds a line break or a NUL")
        if " " in target or "\n" in target or "\r" in target:
            raise ValueError(f"not a request target: {target!r}")
        if fields:
            fields += "\r\n"
        head = f"{method} {target} HTTP/1.1\r\n{fields}{_USER_AGENT}".encode()
        if self._closed:
            raise H1ConnectionError("the connection pool is closed")
        await self._slot()
        conn: _Connection | None = None
        try:
            conn = self._idle_connection() or await self._connect()
            return await conn.exchange(head, body, method == "HEAD", framing)
        except BaseException:
            if conn is not None:
                conn.forget()
            self.free_slot()
            raise

    # slots ---------------------------------------------------------------------------------------
    async def _slot(self) -> None:
        if self._busy < self.pool_size and not self._waiters:
            self._busy += 1
            return
        waiter = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.pool_timeout)
        except asyncio.TimeoutError:
            raise H1Timeout(
                f"no free connection within pool_timeout ({self.pool_timeout}s): "
                f"{self.pool_size} requests in flight"
            ) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.free_slot()  # granted, then cancelled before it could be used: pass it on
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def free_slot(self) -> None:
        """A request is over: its slot goes to the next waiter, else back to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: _busy unchanged
                return
        self._busy -= 1

    def put_back(self, conn: _Connection) -> None:
        """Keep ``conn`` for the next request, and free its slot."""
        if self._closed:
            conn.transport.close()
        else:
            conn.idle_since = self.loop.time()
            self._idle.append(conn)
        self.free_slot()

    # connections ---------------------------------------------------------------------------------
    def _idle_connection(self) -> _Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()  # the most recently used one
            if conn.closed or conn.transport.is_closing():
                continue
            if self.loop.time() - conn.idle_since > KEEPALIVE_TIMEOUT:
                conn.transport.close()  # it, and every older one, may be closed by the server by now
                for old in idle:
                    old.transport.close()
                idle.clear()
                return None
            return conn
        return None

    async def _connect(self) -> _Connection:
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: _Connection(self),
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                ),
                self.connect_timeout,
            )
        except asyncio.TimeoutError:
            raise H1Timeout(
                f"no connection to {self.host}:{self.port} within {self.connect_timeout}s"
            ) from None
        except OSError as exc:
            raise H1ConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return conn

    async def close(self) -> None:
        """Close every idle connection; those in use close when their answer is released."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.transport.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(H1ConnectionError("the connection pool is closed"))
