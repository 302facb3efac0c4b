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
import importlib
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from ...raw.accessor import Buffer
from ...raw.buffered import as_view
from ...raw.dates import format_http_date
from ...raw.http import BoundedBody, HttpLimits, read_capped
from ...raw.session import LazySession
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


class AzureHttp:
    """Signs and sends blob service requests on one aiohttp session.

    Args:
        origin: ``scheme://host[:port]`` of the endpoint.
        auth: how requests are authorised.
        limits: timeouts and pool bounds (see :mod:`pystorage.raw.http`); a large
            upload body's pieces are bounded by its ``read_timeout`` too.
        transport: ``"h1"`` or ``"aiohttp"`` (see :mod:`pystorage.raw.session`).
    """

    def __init__(self, origin: str, auth: Auth, *, limits: HttpLimits, transport: str = "h1") -> None:
        self.origin = origin
        self.auth = auth
        self._read_timeout = limits.read_timeout
        self._session = LazySession(
            limits,
            transport=transport,
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding", "Content-Type"),
        )

    async def close(self) -> None:
        """Close the session and its connections (a later request opens a new one)."""
        await self._session.close()

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
        sent: dict[str, str] = {"x-ms-version": API_VERSION, "x-ms-date": format_http_date()}
        if headers:
            sent.update(headers)
        data: Any = None
        if body is not None:
            view = as_view(body)
            sent["content-length"] = str(len(view))
            data = view if len(view) <= BODY_PIECE else BoundedBody(view, BODY_PIECE, self._read_timeout)
        elif method in ("PUT", "POST"):
            sent["content-length"] = "0"
        await self.auth.authorize(method, path, params, sent)
        q = encode_query(params)
        if self.auth.sas:
            q = f"{q}&{self.auth.sas}" if q else self.auth.sas
        url = yarl.URL(self.origin + path + ("?" + q if q else ""), encoded=True)
        session = self._session.get()
        response = await session.request(method, url, headers=sent, data=data, allow_redirects=False)
        if response.status < 300:
            return response
        try:
            payload = b"" if method == "HEAD" else await read_capped(response, MAX_ERROR_BODY)
        finally:
            response.release()
        code, message = parse_error(payload)
        code = response.headers.get("x-ms-error-code") or code
        raise AzureErrorAnswer(response.status, code, message, dict(response.headers))
