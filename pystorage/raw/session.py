"""One aiohttp session per driver, opened lazily, for the HTTP drivers.

:class:`LazySession` opens the session (with :class:`~pystorage.raw.http.HttpLimits`
and no silent resend, see :func:`~pystorage.raw.http.new_session`) on first
use, and again when it is used from another event loop (a session is bound to
the loop it was opened on: the old one is detached, never used from there) or
after a fork (the parent's connections are abandoned, never closed in the
child: see :mod:`pystorage.raw.forks`). A pickled copy opens its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from . import forks
from .http import HttpLimits, new_session

__all__ = ["LazySession"]


class LazySession:
    """The shared session of one driver.

    Args:
        limits: the timeouts and pool bounds.
        options: further :class:`aiohttp.ClientSession` arguments
            (``auto_decompress``, ``skip_auto_headers``, ``read_bufsize`` ...).
    """

    def __init__(self, limits: HttpLimits, **options: Any) -> None:
        self._limits = limits
        self._options = options
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        forks.register(self)

    def __repr__(self) -> str:
        return f"<LazySession {'open' if self._session is not None else 'closed'}>"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"], state["_loop"] = None, None  # a copy opens its own pool
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        forks.register(self)

    def get(self) -> aiohttp.ClientSession:
        """The session of the running event loop, opened on first use."""
        session = self._session
        loop = asyncio.get_running_loop()
        if session is not None and self._loop is loop and not session.closed:
            return session
        if session is not None and not session.closed:
            session.detach()  # opened on another loop: it cannot be used (or closed) from this one
        session = new_session(self._limits, **self._options)
        self._session, self._loop = session, loop
        return session

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
