"""One HTTP session per driver, opened lazily, for the HTTP drivers.

:class:`LazySession` opens the session (with :class:`~pystorage.raw.http.HttpLimits`
and no silent resend, see :func:`~pystorage.raw.http.new_session`) on first
use, and again when it is used from another event loop (a session is bound to
the loop it was opened on: the old one is detached, never used from there) or
after a fork (the parent's connections are abandoned, never closed in the
child: see :mod:`pystorage.raw.forks`). A pickled copy opens its own.

The transport is the driver's ``http_transport`` config key (:data:`HTTP_TRANSPORTS`):
``"h1"`` (the default) makes the session an :class:`H1Session`, the part of
:class:`aiohttp.ClientSession` the drivers use (``request(...)``) over
:class:`~pystorage.raw.h1.H1Pool` keep-alive pools, at a fraction of
aiohttp's client CPU per request (``docs/performance.md``, findings 16 and
17); ``"aiohttp"`` a plain :class:`aiohttp.ClientSession`. An
:class:`H1Session` sends a request on aiohttp instead (a session it opens
when first needed) when the environment names a proxy for its origin
(``HTTPS_PROXY`` ...), its URL carries credentials or another scheme, it
follows redirects, or its body is not bytes-like; any other attribute
(``post``, ``get`` ..., e.g. an OAuth token refresh) is that aiohttp session's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import aiohttp
import yarl

from ..errors import ConfigInvalid
from . import forks
from .h1 import H1Pool, proxy_for
from .http import BoundedBody, HttpLimits, new_session

__all__ = ["HTTP_TRANSPORTS", "H1Session", "LazySession", "check_http_transport", "h1_pool"]

#: values of the drivers' ``http_transport`` config key (the first is the default)
HTTP_TRANSPORTS = ("h1", "aiohttp")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def check_http_transport(scheme: str, value: object) -> None:
    """Check a driver's ``http_transport`` config key.

    Raises:
        ConfigInvalid: not one of :data:`HTTP_TRANSPORTS`.
    """
    if value not in HTTP_TRANSPORTS:
        raise ConfigInvalid(
            f"config key 'http_transport' of service {scheme!r} must be one of "
            f"{', '.join(HTTP_TRANSPORTS)}, got {value!r}",
            service=scheme,
        )


def h1_pool(scheme: str, host: str, port: int, limits: HttpLimits) -> H1Pool:
    """An :class:`~pystorage.raw.h1.H1Pool` to one origin with a driver's timeouts and pool bound."""
    return H1Pool(
        scheme,
        host,
        port,
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        pool_timeout=limits.pool_timeout,
        pool_size=limits.pool_size,
    )


class H1Session:
    """An :class:`aiohttp.ClientSession` look-alike over one :class:`~pystorage.raw.h1.H1Pool`
    per origin (see the module's text for what it sends on aiohttp instead).

    Args:
        limits: the timeouts and pool bounds (each origin's pool has ``pool_size``).
        options: the :class:`aiohttp.ClientSession` arguments of the fallback
            session; its ``skip_auto_headers`` are honoured here too (else a
            body without a ``Content-Type`` is sent as ``application/octet-stream``,
            as aiohttp does).
    """

    def __init__(self, limits: HttpLimits, **options: Any) -> None:
        self._limits = limits
        self._options = options
        skipped = {name.lower() for name in options.get("skip_auto_headers", ())}
        self._content_type = "content-type" not in skipped
        #: ``(scheme, host, port)`` → ``(pool, Host header)``, ``None``: sent on aiohttp
        self._pools: dict[tuple[str, str, int], tuple[H1Pool, str] | None] = {}
        self._fallback: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<H1Session {len(self._pools)} origins{' closed' if self._closed else ''}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` (or :meth:`detach`) was called."""
        return self._closed

    def fallback(self) -> aiohttp.ClientSession:
        """The aiohttp session of the requests not sent on a pool (opened on first use)."""
        session = self._fallback
        if session is None or session.closed:
            session = self._fallback = new_session(self._limits, **self._options)
        return session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.fallback(), name)

    def _pool(self, url: yarl.URL) -> tuple[H1Pool, str] | None:
        scheme, host, port = url.scheme, url.raw_host or "", url.port or 0
        key = (scheme, host, port)
        try:
            return self._pools[key]
        except KeyError:
            pass
        found: tuple[H1Pool, str] | None = None
        if scheme in ("http", "https") and url.raw_user is None and host:
            authority = host if url.explicit_port is None else f"{host}:{port}"
            if proxy_for(f"{scheme}://{authority}/") is None:
                found = (h1_pool(scheme, host.strip("[]"), port, self._limits), authority)
        self._pools[key] = found
        return found

    async def request(
        self,
        method: str,
        url: yarl.URL | str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        allow_redirects: bool = True,
        **options: Any,
    ) -> aiohttp.ClientResponse:
        """Send one request; its answer (an :class:`~pystorage.raw.h1.H1Response`
        unless sent on aiohttp) once its head arrived, the body unread.

        ``auto_decompress`` is accepted and means nothing here: no
        ``Accept-Encoding`` is sent unless the caller sends one, and then the
        body is delivered as it came.

        Raises:
            H1ConnectionError, H1Timeout: transport failures (aiohttp's own on aiohttp).
        """
        if self._closed:
            raise RuntimeError("the session is closed")
        if not isinstance(url, yarl.URL):
            url = yarl.URL(url)
        found = None if allow_redirects else self._pool(url)
        view: memoryview | None = None
        framing: tuple[bytes, bytes] | None = None
        content_type = "application/octet-stream"
        if found is not None and data is not None:
            if isinstance(data, BoundedBody):
                view, content_type = data._view, data.content_type
                if data._head or data._tail:
                    framing = (data._head, data._tail)
            elif isinstance(data, (bytes, bytearray, memoryview)):
                view = memoryview(data)
                if view.ndim != 1 or view.itemsize != 1:
                    view = view.cast("B")
            else:
                found = None  # a stream, a form ...: aiohttp's
        if found is None:
            session = self.fallback()
            return await session.request(
                method, url, headers=headers, data=data, allow_redirects=allow_redirects, **options
            )
        pool, authority = found
        sent = {"host": authority}
        if headers:
            sent.update(headers)
        if view is not None or method in _BODY_METHODS:
            names = {name.lower() for name in sent}
            if "content-length" not in names:
                size = 0 if view is None else len(view)
                if framing is not None:
                    size += len(framing[0]) + len(framing[1])
                sent["content-length"] = str(size)
            if view is not None and self._content_type and "content-type" not in names:
                sent["content-type"] = content_type
        response = await pool.request(method, url.raw_path_qs, sent, view, framing=framing)
        return cast(aiohttp.ClientResponse, response)

    async def close(self) -> None:
        """Close every pool and the aiohttp session (idempotent)."""
        self._closed = True
        pools, self._pools = self._pools, {}
        for found in pools.values():
            if found is not None:
                await found[0].close()
        session, self._fallback = self._fallback, None
        if session is not None:
            await session.close()

    def detach(self) -> None:
        """Forget the pools and the aiohttp session without closing them (another loop's)."""
        self._closed = True
        session, self._pools, self._fallback = self._fallback, {}, None
        if session is not None:
            session.detach()


class LazySession:
    """The shared session of one driver.

    Args:
        limits: the timeouts and pool bounds.
        transport: ``"h1"`` (an :class:`H1Session`) or ``"aiohttp"`` (see
            :data:`HTTP_TRANSPORTS`).
        options: further :class:`aiohttp.ClientSession` arguments
            (``auto_decompress``, ``skip_auto_headers``, ``read_bufsize`` ...).
    """

    def __init__(self, limits: HttpLimits, *, transport: str = "aiohttp", **options: Any) -> None:
        if transport not in HTTP_TRANSPORTS:
            raise ValueError(f"unknown HTTP transport {transport!r}")
        self._limits = limits
        self._transport = transport
        self._options = options
        self._session: aiohttp.ClientSession | H1Session | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        forks.register(self)

    def __repr__(self) -> str:
        state = "open" if self._session is not None else "closed"
        return f"<LazySession {self._transport} {state}>"

    @property
    def transport(self) -> str:
        """``"h1"`` or ``"aiohttp"``."""
        return self._transport

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"], state["_loop"] = None, None  # a copy opens its own pool
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        forks.register(self)

    def get(self) -> aiohttp.ClientSession:
        """The session of the running event loop, opened on first use (an
        :class:`H1Session` with the ``"h1"`` transport: it offers ``request``,
        and the rest of :class:`aiohttp.ClientSession` through its fallback)."""
        session = self._session
        loop = asyncio.get_running_loop()
        if session is not None and self._loop is loop and not session.closed:
            return cast(aiohttp.ClientSession, session)
        if session is not None and not session.closed:
            session.detach()  # opened on another loop: it cannot be used (or closed) from this one
        if self._transport == "h1":
            session = H1Session(self._limits, **self._options)
        else:
            session = new_session(self._limits, **self._options)
        self._session, self._loop = session, loop
        return cast(aiohttp.ClientSession, session)

    async def close(self) -> None:
        """Close the session (idempotent); the next :meth:`get` opens a new one."""
        session, loop = self._session, self._loop
        self._session, self._loop = None, None
        if session is None or session.closed:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            await session.close()
        else:
            session.detach()

    def after_fork_in_child(self) -> None:
        """Forget the parent's session and connections (never closed from here)."""
        forks.abandon(self._session)
        self._session, self._loop = None, None
