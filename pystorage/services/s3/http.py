"""The S3 transport: every S3 call, signed by :mod:`.signer`, on one connection pool.

:class:`S3Http` sends the :class:`~pystorage.services.s3.builder.S3Request`
of each call (data and control calls alike: one stack and one connection
pool per accessor) on the shared transport of :mod:`pystorage.raw.http`
(its timeouts, pool bounds, zero-copy body slicing and no silent resend).
Error answers (status >= 300) raise
:class:`~pystorage.services.s3.errors.S3ErrorAnswer` with the code and
message of their XML body (:func:`~pystorage.services.s3.errors.parse_error`);
a 2xx HTML page raises :class:`~pystorage.services.s3.errors.MalformedAnswer`.

Bodies: a request body above :data:`BODY_PIECE` bytes is streamed in
zero-copy ``memoryview`` slices with an explicit ``Content-Length`` (never
copied whole into the transport's buffer); a response body is read piece
by piece by the reader. Responses are never decompressed (bytes are bytes).

What goes on the wire is only what S3 needs: ``host``, the signature
headers (``x-amz-date``, ``x-amz-content-sha256``, ``authorization``, the
session token), the call's own headers, ``content-length`` for a body, and
aiohttp's ``accept`` and ``user-agent`` (no ``accept-encoding``, no
``content-type`` unless the call sets one, no ``expect: 100-continue``).

Two transports send it (the ``http_transport`` config key): ``"h1"``, the
default (:mod:`pystorage.raw.h1`:
a small keep-alive pool on asyncio protocols with httptools' llhttp parser,
a fraction of aiohttp's client CPU per request, finding 16 of
``docs/performance.md``), whose answers offer the part of
:class:`aiohttp.ClientResponse` the driver uses, and ``"aiohttp"`` (an
:class:`aiohttp.ClientSession`). ``"h1"`` falls back to
aiohttp when the environment names a proxy for the endpoint
(``HTTPS_PROXY`` ...) or the endpoint carries credentials.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp
import yarl

from ...raw.h1 import H1Pool, proxy_for
from ...raw.http import BoundedBody, HttpLimits, new_session
from ...raw.redact import register_secrets
from ...raw.session import h1_pool
from .builder import S3Request
from .errors import MalformedAnswer, S3ErrorAnswer, is_html_page, parse_error
from .signer import UNSIGNED_PAYLOAD, SigV4Signer, canonical_query, quote_path

__all__ = ["BODY_PIECE", "S3Http"]

#: request bodies larger than this go out as a stream of slices of this size
BODY_PIECE = 256 * 1024


class S3Http:
    """Signs and sends S3 requests on one h1 pool (or aiohttp session).

    Args:
        endpoint: the endpoint URL (botocore's resolved one, without the bucket).
        bucket: the bucket.
        region: the signing region.
        virtual_host: address the bucket as ``<bucket>.<host>``.
        credentials: an object with ``get_frozen_credentials()`` (sync or
            async, as botocore's and aiobotocore's credentials have), or
            ``None`` for anonymous (unsigned) requests.
        limits: timeouts and pool bounds (see :mod:`pystorage.raw.http`).
        transport: ``"h1"`` (default) or ``"aiohttp"`` (see the module's text).
    """

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        region: str,
        virtual_host: bool,
        credentials: Any,
        limits: HttpLimits,
        transport: str = "h1",
    ) -> None:
        parts = urlsplit(endpoint)
        host = parts.netloc
        base = parts.path.rstrip("/")
        if virtual_host:
            host = f"{bucket}.{host}"
            self._prefix = base + "/"
        else:
            self._prefix = f"{base}/{quote_path(bucket)}/"
        self._origin = f"{parts.scheme}://{host}"
        self._host = host
        self._signer = SigV4Signer(region)
        self._credentials = credentials
        self._limits = limits
        self._registered: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pool: H1Pool | None = None
        #: ``(scheme, host, port)`` to connect to with the h1 transport, ``None``: aiohttp
        self._h1: tuple[str, str, int] | None = None
        if (
            transport == "h1"
            and parts.scheme in ("http", "https")
            and parts.username is None
            and proxy_for(self._origin) is None
        ):
            hostname = parts.hostname or ""
            if virtual_host:
                hostname = f"{bucket}.{hostname}"
            self._h1 = (parts.scheme, hostname, parts.port or (443 if parts.scheme == "https" else 80))

    @property
    def transport(self) -> str:
        """The transport in use: ``"h1"`` or ``"aiohttp"``."""
        return "aiohttp" if self._h1 is None else "h1"

    def _h1_pool(self, origin: tuple[str, str, int]) -> H1Pool:
        pool = self._pool
        if pool is None:
            pool = self._pool = h1_pool(*origin, self._limits)
        return pool

    def _client(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            session = new_session(
                self._limits, auto_decompress=False, skip_auto_headers=("Accept-Encoding", "Content-Type")
            )
            self._session = session
        return session

    async def close(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _frozen(self) -> Any:
        credentials = self._credentials
        if credentials is None:
            return None
        frozen = credentials.get_frozen_credentials()
        if hasattr(frozen, "__await__"):
            frozen = await frozen
        if frozen.secret_key != self._registered:
            # refreshed credentials (web identity, instance roles): keep them out of the logs too
            register_secrets((frozen.access_key, frozen.secret_key, frozen.token))
            self._registered = frozen.secret_key
        return frozen

    async def send(self, request: S3Request) -> aiohttp.ClientResponse:
        """Send one signed request; the answer if its status is below 300 (its
        body unread: the caller reads it, then releases or closes the answer).

        Raises:
            S3ErrorAnswer: an error answer (status >= 300), with its code and message.
            MalformedAnswer: a 2xx HTML page.
            aiohttp.ClientError, OSError, asyncio.TimeoutError: transport failures.
        """
        method, key, body = request.method, request.key, request.body
        # the bucket itself (a listing) is "/bucket" in path style, "/" on a virtual host
        path = self._prefix + quote_path(key) if key else (self._prefix.rstrip("/") or "/")
        q = canonical_query(request.query) if request.query else ""
        sent = request.headers
        sent["host"] = self._host
        frozen = await self._frozen()
        if frozen is not None:
            self._signer.sign(
                method,
                path,
                q,
                sent,
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                token=frozen.token,
                # UNSIGNED-PAYLOAD for bodiless calls too (as OpenDAL sends them): the hash of
                # an empty body protects nothing, and a server verifying it (rclone) pays for it
                payload_hash=UNSIGNED_PAYLOAD,
            )
        view: memoryview | None = None
        if body is not None:
            view = memoryview(body)
            if view.ndim != 1 or view.itemsize != 1:
                view = view.cast("B")
            sent["content-length"] = str(len(view))
        target = path + ("?" + q if q else "")
        response: aiohttp.ClientResponse
        if self._h1 is not None:
            # the answer offers what the driver uses of aiohttp's (status, headers, read,
            # content.read / at_eof, release, close): see pystorage.raw.h1
            response = cast(
                aiohttp.ClientResponse, await self._h1_pool(self._h1).request(method, target, sent, view)
            )
        else:
            data: Any = view
            if view is not None and len(view) > BODY_PIECE:
                data = BoundedBody(view, BODY_PIECE, self._limits.read_timeout)
            url = yarl.URL(self._origin + target, encoded=True)
            response = await self._client().request(
                method, url, headers=sent, data=data, allow_redirects=False
            )
        if response.status < 300:
            if is_html_page(response.headers, response.status):
                response.close()
                raise MalformedAnswer(f"HTTP {response.status} with an HTML page instead of an S3 answer")
            return response
        try:
            payload = b"" if method == "HEAD" else await response.read()
        finally:
            response.release()
        code, message = parse_error(payload)
        raise S3ErrorAnswer(response.status, code or str(response.status), message, dict(response.headers))

    async def call(self, request: S3Request) -> aiohttp.ClientResponse:
        """:meth:`send`, the answer's body dropped (its headers are what the caller reads)."""
        response = await self.send(request)
        response.release()
        return response

    async def document(self, request: S3Request) -> bytes:
        """:meth:`send`, and the answer's whole body (an XML document)."""
        response = await self.send(request)
        try:
            return await response.read()
        finally:
            response.release()
