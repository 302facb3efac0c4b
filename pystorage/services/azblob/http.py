"""The azblob transport: signed requests on one lazily opened aiohttp session.

:class:`AzureHttp` owns the session (opened on first use, closed by
:meth:`AzureHttp.close`, dropped when used from another event loop or a
forked child) and sends one request at a time for :mod:`.core`: it adds
``x-ms-version`` / ``x-ms-date``, authorises the request (:class:`Auth`:
Shared Key, SAS, Entra ID bearer token or anonymous), streams large bodies
in zero-copy slices, and turns every answer with a status of 300 or more
into :class:`~pystorage.services.azblob.errors.AzureErrorAnswer` (its body
read up to :data:`MAX_ERROR_BODY` bytes).

Timeouts are finite: ``connect_timeout`` for a new connection,
``pool_timeout`` more for a free pooled one, ``read_timeout`` without a
byte. Responses are never decompressed (bytes are bytes).
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import email.utils
import importlib
import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from ...raw.accessor import Buffer
from .errors import AzureErrorAnswer, parse_error
from .signer import API_VERSION, SharedKeySigner

__all__ = [
    "BODY_PIECE",
    "MAX_ERROR_BODY",
    "AnonymousAuth",
    "Auth",
    "AzureHttp",
    "SasAuth",
    "SharedKeyAuth",
    "TokenAuth",
    "encode_query",
]

#: request bodies larger than this are sent in slices of this size
BODY_PIECE = 1024 * 1024
#: the most bytes of an error answer's body that are read
MAX_ERROR_BODY = 64 * 1024


def encode_query(query: Mapping[str, str]) -> str:
    """A query string with names and values percent-encoded (``A-Za-z0-9-._~`` kept)."""
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query.items())


def http_date(moment: dt.datetime | None = None) -> str:
    """An RFC 1123 date (``x-ms-date``, conditions)."""
    when = moment or dt.datetime.now(dt.timezone.utc)
    return email.utils.format_datetime(when.astimezone(dt.timezone.utc), usegmt=True)


class Auth(abc.ABC):
    """How requests are authorised."""

    #: a SAS token (``sv=...&sig=...``) to append to every URL, if any
    sas: str | None = None

    @abc.abstractmethod
    async def authorize(
        self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]
    ) -> None:
        """Add what authorises the request to ``headers`` (in place)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the credential holds (token clients)."""


class AnonymousAuth(Auth):
    """Unsigned requests (public containers)."""

    async def authorize(
        self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]
    ) -> None:
        return None


class SharedKeyAuth(Auth):
    """Shared Key signing with the account key."""

    def __init__(self, signer: SharedKeySigner) -> None:
        self.signer = signer

    async def authorize(
        self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]
    ) -> None:
        self.signer.sign(method, path, query, headers)


class SasAuth(Auth):
    """A SAS token appended to every request."""

    def __init__(self, token: str) -> None:
        self.sas = token

    def __repr__(self) -> str:
        return "SasAuth(<redacted>)"

    async def authorize(
        self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]
    ) -> None:
        return None


class TokenAuth(Auth):
    """Entra ID bearer tokens from an ``azure.identity.aio`` credential,
    fetched on first use and again five minutes before they expire.

    Args:
        credential: an async ``TokenCredential`` (default ``None``:
            ``azure.identity.aio.DefaultAzureCredential()``, imported and
            created on first use).
    """

    SCOPE = "https://storage.azure.com/.default"
    REFRESH_BEFORE = 300.0

    def __init__(self, credential: Any = None) -> None:
        self._credential = credential
        self._owned = credential is None  # made here: closed here
        self._token: str | None = None
        self._expires = 0.0
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return "TokenAuth(<redacted>)"

    def __getstate__(self) -> dict[str, Any]:
        # a copy (pickle) makes its own credential and fetches its own token
        return {"_credential": None, "_owned": True, "_token": None, "_expires": 0.0, "_lock": None}

    def _source(self) -> Any:
        if self._credential is None:
            identity = importlib.import_module("azure.identity.aio")
            self._credential = identity.DefaultAzureCredential()
        return self._credential

    async def authorize(
        self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]
    ) -> None:
        if self._token is None or time.time() > self._expires - self.REFRESH_BEFORE:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._token is None or time.time() > self._expires - self.REFRESH_BEFORE:
                    token = await self._source().get_token(self.SCOPE)
                    self._token, self._expires = token.token, float(token.expires_on)
        headers["authorization"] = f"Bearer {self._token}"

    async def close(self) -> None:
        # a credential made here is closed (its own HTTP pool) and made again on next use;
        # a credential the caller gave stays the caller's
        self._token, self._expires = None, 0.0
        if not self._owned:
            return
        credential, self._credential = self._credential, None
        closer = getattr(credential, "close", None)
        if closer is not None:
            await closer()


async def _capped_body(response: aiohttp.ClientResponse) -> bytes:
    """An error answer's body, at most :data:`MAX_ERROR_BODY` bytes of it."""
    pieces: list[bytes] = []
    left = MAX_ERROR_BODY
    while left > 0:
        piece = await response.content.read(left)
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


async def _slices(view: memoryview) -> AsyncIterator[memoryview]:
    for start in range(0, len(view), BODY_PIECE):
        yield view[start : start + BODY_PIECE]


def as_view(body: Buffer) -> memoryview:
    """``body`` as a flat byte view (no copy)."""
    view = memoryview(body)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    return view


class AzureHttp:
    """Signs and sends blob service requests on one aiohttp session.

    Args:
        origin: ``scheme://host[:port]`` of the endpoint.
        auth: how requests are authorised.
        connect_timeout: seconds to establish a connection.
        read_timeout: seconds without a byte before a request fails.
        pool_timeout: seconds to wait for a free pooled connection.
        pool_size: connections kept to the endpoint.
    """

    def __init__(
        self,
        origin: str,
        auth: Auth,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_timeout: float,
        pool_size: int,
    ) -> None:
        self.origin = origin
        self.auth = auth
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=pool_timeout + connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._owner: tuple[int, asyncio.AbstractEventLoop] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"], state["_owner"] = None, None  # a copy opens its own pool
        return state

    def _client(self) -> aiohttp.ClientSession:
        owner = (os.getpid(), asyncio.get_running_loop())
        if self._owner != owner:
            # another loop, or a forked child: never reuse those connections
            self._session, self._owner = None, owner
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "Content-Type"),
                timeout=self._timeout,
            )
            self._session = session
        return session

    async def close(self) -> None:
        """Close the session and its connections (a later request opens a new one)."""
        session, owner = self._session, self._owner
        self._session = None
        if session is not None and owner is not None and owner[0] == os.getpid():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is owner[1]:
                await session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Buffer | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one request; the answer if its status is below 300 (the caller releases it).

        Args:
            method: the HTTP method.
            path: the URL path, percent-encoded (``/<container>/<blob>``, with the
                endpoint's own path first).
            query: decoded query parameters.
            headers: request headers (lower-case names).
            body: the request body (sent with an explicit ``Content-Length``).

        Raises:
            AzureErrorAnswer: an error answer.
            aiohttp.ClientError, OSError, asyncio.TimeoutError: transport failures.
        """
        params = dict(query or {})
        sent: dict[str, str] = {"x-ms-version": API_VERSION, "x-ms-date": http_date()}
        if headers:
            sent.update(headers)
        data: Any = None
        if body is not None:
            view = as_view(body)
            sent["content-length"] = str(len(view))
            data = view if len(view) <= BODY_PIECE else _slices(view)
        elif method in ("PUT", "POST"):
            sent["content-length"] = "0"
        await self.auth.authorize(method, path, params, sent)
        q = encode_query(params)
        if self.auth.sas:
            q = f"{q}&{self.auth.sas}" if q else self.auth.sas
        url = yarl.URL(self.origin + path + ("?" + q if q else ""), encoded=True)
        response = await self._client().request(method, url, headers=sent, data=data, allow_redirects=False)
        if response.status < 300:
            return response
        try:
            payload = b"" if method == "HEAD" else await _capped_body(response)
        finally:
            response.release()
        code, message = parse_error(payload)
        code = response.headers.get("x-ms-error-code") or code
        raise AzureErrorAnswer(response.status, code, message, dict(response.headers))
