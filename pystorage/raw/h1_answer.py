"""The answers of :mod:`pystorage.raw.h1`: :class:`H1Response`, its flow-controlled
body, the transport's errors and bounds, and :func:`proxy_for`."""

from __future__ import annotations

import asyncio
import collections
import http
import urllib.request
from typing import TYPE_CHECKING

from multidict import CIMultiDict, CIMultiDictProxy

from .. import __version__

if TYPE_CHECKING:
    from .h1 import _Connection

__all__ = [
    "BODY_PIECE",
    "HIGH_WATER",
    "H1ConnectionError",
    "H1PayloadError",
    "H1Response",
    "H1Timeout",
    "KEEPALIVE_TIMEOUT",
    "LOW_WATER",
    "SMALL_BODY",
    "proxy_for",
]

#: bytes of an answer's body buffered before reading from the socket pauses
HIGH_WATER = 1024 * 1024
#: reading resumes once the buffer is down to this
LOW_WATER = 256 * 1024
#: request bodies up to this size are written to the socket with their head at once
SMALL_BODY = 64 * 1024
#: bytes per socket write of a larger request body
BODY_PIECE = 256 * 1024
#: seconds an idle pooled connection is kept (aiohttp's default): servers close theirs after a while
KEEPALIVE_TIMEOUT = 15.0

_USER_AGENT = f"user-agent: pystorage/{__version__}\r\n\r\n"
_NO_BODY_STATUS = frozenset({204, 304})


class H1ConnectionError(ConnectionError):
    """The connection failed, was lost before the answer ended, or the answer is not HTTP."""


class H1PayloadError(H1ConnectionError):
    """An answer's body ended before its ``Content-Length`` (or its last chunk)."""


class H1Timeout(TimeoutError):
    """A connect, a wait for a pooled connection, for the next byte of an answer,
    or for the socket to take a request body piece took longer than its bound."""


def proxy_for(url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``,
    any case, minus ``NO_PROXY``) names for ``url``, or ``None``."""
    scheme, _, rest = url.partition("://")
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme.lower()) or proxies.get("all")
    if not proxy:
        return None
    host = rest.split("/", 1)[0]
    if urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    return proxy


_EMPTY: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


class _Body:
    """The body of the answer in progress, fed by its connection, read through its :class:`H1Response`."""

    __slots__ = ("done", "error", "paused", "pieces", "size", "transport", "waiter")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.pieces: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.done = False
        self.paused = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None

    def feed(self, data: bytes) -> None:
        self.pieces.append(data)
        self.size += len(data)
        if self.size > HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self.wake()

    def finish(self, error: BaseException | None) -> None:
        if self.done:
            return
        self.done = True
        self.error = error
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()


class H1Response:
    """An answer: status and headers, its body read by the caller.

    Attributes:
        status: the HTTP status.
        headers: the headers (a case-insensitive multidict, names as sent).
        content: the body stream (``await content.read(n)``, ``content.at_eof()``): this object.
    """

    __slots__ = ("_body", "_conn", "headers", "status")

    def __init__(self, conn: _Connection, body: _Body) -> None:
        self._conn: _Connection | None = conn
        self._body = body
        self.status = 0
        self.headers: CIMultiDictProxy[str] = _EMPTY

    def __repr__(self) -> str:
        return f"<H1Response {self.status}>"

    @property
    def content(self) -> H1Response:
        """The body stream (this object)."""
        return self

    @property
    def content_length(self) -> int | None:
        """The body's ``Content-Length``, or ``None`` (none, or not a number)."""
        length = self.headers.get("content-length")
        return int(length) if length is not None and length.isdigit() else None

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status (``""`` for an unknown one)."""
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    async def _wait(self) -> None:
        conn = self._conn
        if conn is None:
            raise H1ConnectionError("the answer was released before its body was read")
        body = self._body
        body.resume()
        waiter = body.waiter = conn.loop.create_future()
        try:
            await conn.wait(waiter)
        finally:
            body.waiter = None

    def at_eof(self) -> bool:
        """Whether the whole body was read."""
        body = self._body
        return body.done and not body.pieces and body.error is None

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (what has arrived, waiting for at least one
        byte), ``b""`` at its end; the whole rest of it when ``n`` is negative.

        Raises:
            H1PayloadError: the body ended early.
            H1ConnectionError: the connection was lost.
            H1Timeout: no byte for ``read_timeout`` seconds.
        """
        body = self._body
        if n < 0:
            while not body.done:
                await self._wait()
            if body.error is not None:
                raise body.error
            pieces, body.pieces, body.size = body.pieces, collections.deque(), 0
            if not pieces:
                return b""
            return pieces[0] if len(pieces) == 1 else b"".join(pieces)
        pieces = body.pieces
        while not pieces:
            if body.done:
                if body.error is not None:
                    raise body.error
                return b""
            await self._wait()
        first = pieces[0]
        if len(first) >= n:
            if len(first) == n:
                pieces.popleft()
                data = first
            else:
                data, pieces[0] = first[:n], first[n:]
        else:
            taken = [pieces.popleft()]
            left = n - len(first)
            while pieces and len(pieces[0]) <= left:
                piece = pieces.popleft()
                taken.append(piece)
                left -= len(piece)
            data = b"".join(taken)
        body.size -= len(data)
        if body.paused and body.size <= LOW_WATER:
            body.resume()
        return data

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes of the body.

        Raises:
            asyncio.IncompleteReadError: the body ended first (its ``partial`` bytes).
            H1PayloadError, H1ConnectionError, H1Timeout: as :meth:`read`.
        """
        pieces: list[bytes] = []
        left = n
        while left > 0:
            piece = await self.read(left)
            if not piece:
                raise asyncio.IncompleteReadError(b"".join(pieces), n)
            pieces.append(piece)
            left -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def release(self) -> None:
        """Give the connection back to the pool if the body was read to its end
        (and both sides keep it alive), else close it. Idempotent."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.done_with(self._body, reuse=self.at_eof())

    def close(self) -> None:
        """Close the connection (an unread body is dropped with it). Idempotent."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.done_with(self._body, reuse=False)

    def __del__(self) -> None:
        # an answer dropped unreleased (an abandoned reader) must not keep its pool slot
        if getattr(self, "_conn", None) is not None:
            self.close()
