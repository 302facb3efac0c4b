"""The GCS JSON API: one method per API call, on one shared aiohttp session.

Requests are sent directly on the accessor's ``aiohttp.ClientSession``;
gcloud-aio-auth (the auth half of gcloud-aio-storage) obtains OAuth tokens
(:mod:`.auth`). gcloud-aio-storage's ``Storage`` methods are not used for
data calls: they cannot take ``generation`` / ``ifGenerationMatch`` on
downloads, upload a resumable session in one ``PUT`` of the whole stream
with retries of their own, and cap every call with a 10 s total timeout —
each of which breaks a contract of this driver (versions and preconditions,
bounded-memory streaming, "the retry layer is the only retrier").

Every method raises :class:`~pystorage.services.gcs.errors.GcsHttpError`
(or an aiohttp exception) for a failed call; the accessor maps them at its
boundary with :func:`~pystorage.services.gcs.errors.map_errors`.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import yarl

from ...raw import forks
from ...raw.accessor import Buffer
from ...raw.buffered import as_view
from ...raw.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    BoundedBody,
    HttpLimits,
    read_capped,
)
from ...raw.path import join_root, normalize_root
from ...raw.redact import install_redaction
from ...raw.session import LazySession
from ...sse import CustomerKey, SseSpec
from .auth import ServiceAccount, resolve_auth
from .config import GcsConfig
from .errors import GcsHttpError, GcsMalformedAnswer
from .sse import RequestKind, sse_headers, sse_params

__all__ = [
    "DEFAULT_ENDPOINT",
    "GcsCore",
    "REDACTED_LOGGERS",
    "ServiceAccount",
    "decode_json",
]

#: the loggers of the libraries below this driver and pystorage's own (secrets are redacted from them)
REDACTED_LOGGERS = ("aiohttp", "gcloud", "pystorage")

#: the public JSON API endpoint
DEFAULT_ENDPOINT = "https://storage.googleapis.com"

#: seconds to open a TCP (+TLS) connection (the ``connect_timeout`` default)
CONNECT_TIMEOUT = DEFAULT_CONNECT_TIMEOUT
#: seconds without a byte from the server before a request fails (the ``read_timeout`` default)
READ_TIMEOUT = DEFAULT_READ_TIMEOUT
#: bytes aiohttp buffers per connection before pausing the socket (x2)
READ_BUFSIZE = 1 << 20

#: the most bytes of an error answer's body that are read (its message is in the first few)
MAX_ERROR_BODY = 64 * 1024
#: JSON bodies are small; the media endpoints stream
_JSON = "application/json; charset=UTF-8"
#: the statuses of a media download (whole, or a range)
_MEDIA_OK = (200, 206)
#: request bodies are written to the socket in pieces of this size
_PIECE = 1 << 20


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")
_UNRESERVED_OR_SLASH = re.compile(r"[A-Za-z0-9._~/-]*")


def _quote(value: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters."""
    if _UNRESERVED.fullmatch(value):  # names and values are mostly plain: no copy, no encoding
        return value
    return urllib.parse.quote(value, safe="-_.~")


def _query(params: Mapping[str, str | None]) -> str:
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params.items() if v is not None)


class GcsCore:
    """The JSON API calls of one bucket, sharing one lazily opened aiohttp session.

    Args:
        config: the parsed :class:`~pystorage.services.gcs.config.GcsConfig`.

    Raises:
        ConfigInvalid: an unreadable credential.
    """

    def __init__(self, config: GcsConfig) -> None:
        self.config = config
        self.bucket: str = config.bucket or ""
        self.root = normalize_root(config.root)
        endpoint = config.endpoint or os.environ.get("STORAGE_EMULATOR_HOST") or None
        if endpoint and not endpoint.startswith(("http://", "https://")):
            endpoint = "http://" + endpoint
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.auth, self.service_account = resolve_auth(config, endpoint is not None)
        bucket = _quote(self.bucket)
        self._objects = f"{self.endpoint}/storage/v1/b/{bucket}/o"
        self._uploads = f"{self.endpoint}/upload/storage/v1/b/{bucket}/o"
        self._http = LazySession(
            HttpLimits.of(config), transport=config.http_transport, read_bufsize=READ_BUFSIZE
        )
        self._redacted: set[bytes] = set()
        forks.register(self)

    def after_fork_in_child(self) -> None:
        """In a forked child: a fresh token lock; a cached token stays valid and is kept."""
        self.auth.after_fork_in_child()  # the session forgets its own (a LazySession)

    def __repr__(self) -> str:
        return f"GcsCore(bucket={self.bucket!r}, root={self.root!r}, endpoint={self.endpoint!r})"

    # paths ---------------------------------------------------------------------
    def key(self, path: str) -> str:
        """The object name of a normalised path (``"/"`` → the root prefix)."""
        return join_root(self.root, path)

    def rel(self, key: str) -> str:
        """The path relative to the root of an object name under the root."""
        return key[len(self.root) - 1 :]

    def sse(
        self, spec: SseSpec | None, kind: RequestKind, params: Mapping[str, str | None] | None = None
    ) -> tuple[dict[str, str | None], dict[str, str]]:
        """``(params, headers)``: ``params`` plus the encryption parameters of
        ``spec`` for a request of ``kind``, and its encryption headers
        (see :mod:`pystorage.services.gcs.sse`)."""
        if spec is None:  # the common case, without the encryption checks
            return dict(params or {}), {}
        if isinstance(spec, CustomerKey) and spec.key not in self._redacted:
            # a layer's key is first seen here: keep it out of the SDK's logs
            install_redaction(REDACTED_LOGGERS, (spec.key_b64,))
            self._redacted.add(spec.key)
        return {**(params or {}), **sse_params(spec, kind)}, sse_headers(spec, kind)

    def object_url(self, key: str, suffix: str = "") -> str:
        """The JSON API URL of object ``key`` (``suffix`` e.g. ``"/compose"``)."""
        quoted = key.replace("/", "%2F") if _UNRESERVED_OR_SLASH.fullmatch(key) else _quote(key)
        return f"{self._objects}/{quoted}{suffix}"

    # session -------------------------------------------------------------------
    async def session(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use (and again after :meth:`close`)."""
        return self._http.get()

    async def close(self) -> None:
        """Close the shared session (idempotent); the next call opens a new one."""
        self.auth.forget()
        await self._http.close()

    # requests ------------------------------------------------------------------
    def body(self, data: Buffer, content_type: str, *, head: bytes = b"", tail: bytes = b"") -> BoundedBody:
        """An upload body sent without copying ``data``, in pieces each bounded by
        ``read_timeout`` (a server that stops reading an upload)."""
        return BoundedBody(
            as_view(data), _PIECE, self.config.read_timeout, content_type=content_type, head=head, tail=tail
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | None] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        ok: tuple[int, ...] = (200,),
        auto_decompress: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send one request; return the response (body unread) when its status is in ``ok``.

        Raises:
            GcsHttpError: any other status (the body is read for the message).
        """
        session = self._http.get()
        all_headers = await self.auth.header(session)
        if headers:
            all_headers.update(headers)
        query = _query(params or {})
        target = yarl.URL(f"{url}{'&' if '?' in url else '?'}{query}" if query else url, encoded=True)
        response = await session.request(
            method,
            target,
            headers=all_headers,
            data=data,
            allow_redirects=False,
            auto_decompress=auto_decompress,
        )
        if response.status in ok:
            return response
        try:
            body = await read_capped(response, MAX_ERROR_BODY)
        finally:
            response.release()
        raise GcsHttpError.from_body(
            response.status, response.reason, body, response.headers.get("Retry-After")
        )

    async def send_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | None] | None = None,
        body: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send a request with an optional JSON body; return the decoded JSON answer (``{}`` if empty)."""
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = _JSON
        response = await self.send(method, url, params=params, headers=headers, data=data, ok=ok)
        try:
            raw = await response.read()
        finally:
            response.release()
        return decode_json(raw) if _has_body(raw) else {}

    # objects -------------------------------------------------------------------
    async def objects_get(
        self, key: str, *, generation: str | None = None, sse: SseSpec | None = None
    ) -> dict[str, Any]:
        """``objects.get`` (metadata): the object resource."""
        params, headers = self.sse(sse, "get_metadata", {"generation": generation})
        return await self.send_json("GET", self.object_url(key), params=params, headers=headers)

    async def objects_get_media(
        self,
        key: str,
        *,
        generation: str | None = None,
        if_generation_match: str | None = None,
        byte_range: tuple[int, int | None] | None = None,
        sse: SseSpec | None = None,
    ) -> aiohttp.ClientResponse:
        """``objects.get?alt=media``: the streaming response (200 or 206).

        ``byte_range`` is ``(first, last_inclusive_or_None)``. The object is
        asked for as stored (``Accept-Encoding: gzip``) and never decompressed:
        bytes are bytes.
        """
        url = self.object_url(key)
        params: Mapping[str, str | None] | None
        if sse is None and generation is None and if_generation_match is None:  # the common read
            url += "?alt=media"
            params, headers = None, {"Accept-Encoding": "gzip"}
        else:
            query = {"alt": "media", "generation": generation, "ifGenerationMatch": if_generation_match}
            params, headers = self.sse(sse, "get_media", query)
            headers["Accept-Encoding"] = "gzip"
        if byte_range is not None:
            first, last = byte_range
            headers["Range"] = f"bytes={first}-{'' if last is None else last}"
        return await self.send(
            "GET", url, params=params, headers=headers, ok=_MEDIA_OK, auto_decompress=False
        )

    async def objects_insert(
        self,
        key: str,
        data: Buffer,
        resource: Mapping[str, Any],
        params: Mapping[str, str | None],
        *,
        sse: SseSpec | None = None,
    ) -> dict[str, Any]:
        """``objects.insert`` with ``uploadType=multipart``: metadata and bytes in one request."""
        # the part header only (GCS takes the resource's contentType); no line breaks in it
        content_type = " ".join(str(resource.get("contentType") or "application/octet-stream").split())
        boundary = os.urandom(16).hex()
        head = (
            f"--{boundary}\r\nContent-Type: {_JSON}\r\n\r\n{json.dumps(dict(resource))}\r\n"
            f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
        ).encode()
        body = self.body(
            data,
            f"multipart/related; boundary={boundary}",
            head=head,
            tail=f"\r\n--{boundary}--\r\n".encode(),
        )
        query, headers = self.sse(sse, "insert", {"uploadType": "multipart", **params})
        response = await self.send("POST", self._uploads, params=query, headers=headers, data=body)
        return await _json_of(response)

    async def resumable_start(
        self, resource: Mapping[str, Any], params: Mapping[str, str | None], *, sse: SseSpec | None = None
    ) -> str:
        """Start a resumable upload session (``uploadType=resumable``); return its session URI."""
        content_type = str(resource.get("contentType") or "application/octet-stream")
        query, headers = self.sse(sse, "resumable_start", {"uploadType": "resumable", **params})
        response = await self.send(
            "POST",
            self._uploads,
            params=query,
            headers={**headers, "Content-Type": _JSON, "X-Upload-Content-Type": content_type},
            data=json.dumps(dict(resource)).encode(),
            ok=(200, 201),
        )
        response.release()
        location = response.headers.get("Location")
        if not location:
            raise GcsHttpError(response.status, "the resumable upload answer has no session URI")
        return location

    async def resumable_put(
        self,
        session_uri: str,
        data: Buffer,
        *,
        offset: int,
        total: int | None,
        content_type: str,
        sse: SseSpec | None = None,
        goog_hash: str | None = None,
    ) -> tuple[int, dict[str, Any] | None]:
        """Upload ``data`` at ``offset`` of a resumable session; ``total`` finalises it
        (with ``goog_hash``, ``X-Goog-Hash`` for GCS to verify the whole object).
        Empty ``data`` with ``total=None`` asks how many bytes the session holds.

        Returns:
            ``(persisted, resource)``: how many bytes the session holds, and the
            object resource once the upload is complete (else ``None``).
        """
        size = len(data)
        if size:
            content_range = f"bytes {offset}-{offset + size - 1}/{'*' if total is None else total}"
        else:
            content_range = f"bytes */{'*' if total is None else total}"
        _, headers = self.sse(sse, "resumable_chunk")
        if goog_hash is not None:
            headers["X-Goog-Hash"] = goog_hash
        response = await self.send(
            "PUT",
            session_uri,
            headers={**headers, "Content-Range": content_range, "Content-Type": content_type},
            data=self.body(data, content_type),
            ok=(200, 201, 308),
        )
        if response.status != 308:
            resource = await _json_of(response)
            return offset + size, resource
        response.release()
        persisted = 0
        acknowledged = response.headers.get("Range")
        if acknowledged:
            m = re.match(r"bytes=0-(\d+)", acknowledged)
            if m:
                persisted = int(m.group(1)) + 1
        return persisted, None

    async def resumable_cancel(self, session_uri: str) -> None:
        """Cancel a resumable upload session (GCS answers 499 when it did)."""
        response = await self.send("DELETE", session_uri, ok=(200, 204, 404, 410, 499))
        response.release()

    async def objects_list(
        self,
        prefix: str,
        *,
        delimiter: str | None = None,
        start_offset: str | None = None,
        page_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """``objects.list``: one page (``items``, ``prefixes``, ``nextPageToken``)."""
        params = {
            "prefix": prefix or None,
            "delimiter": delimiter,
            "startOffset": start_offset,
            "pageToken": page_token,
            "maxResults": str(max_results) if max_results else None,
        }
        return await self.send_json("GET", self._objects, params=params)

    async def objects_delete(
        self, key: str, *, generation: str | None = None, if_generation_match: str | None = None
    ) -> None:
        """``objects.delete`` (204)."""
        params = {"generation": generation, "ifGenerationMatch": if_generation_match}
        response = await self.send("DELETE", self.object_url(key), params=params, ok=(200, 204))
        response.release()

    async def objects_rewrite(
        self,
        src: str,
        dst: str,
        *,
        params: Mapping[str, str | None],
        resource: Mapping[str, Any] | None = None,
        sse: SseSpec | None = None,
    ) -> dict[str, Any]:
        """``objects.rewrite``, called again with each ``rewriteToken`` until done.

        With ``sse``, the same spec decrypts the source and encrypts the destination.

        Returns:
            The new object's resource.
        """
        url = self.object_url(src, f"/rewriteTo/b/{_quote(self.bucket)}/o/{_quote(dst)}")
        query, headers = self.sse(sse, "rewrite", params)
        while True:
            answer = await self.send_json(
                "POST", url, params=query, body=dict(resource or {}), headers=headers
            )
            if answer.get("done") or not answer.get("rewriteToken"):
                resource_out = answer.get("resource")
                if not isinstance(resource_out, dict):
                    raise GcsHttpError(200, "the rewrite answer has no object resource")
                return resource_out
            query["rewriteToken"] = str(answer["rewriteToken"])

    async def objects_compose(
        self,
        dst: str,
        sources: Sequence[Mapping[str, Any]],
        *,
        destination: Mapping[str, Any],
        params: Mapping[str, str | None],
        sse: SseSpec | None = None,
    ) -> dict[str, Any]:
        """``objects.compose``: concatenate ``sources`` (``{"name", "generation"?}``) into ``dst``
        (with ``sse``: the spec of the sources and of the result)."""
        body = {"sourceObjects": list(sources), "destination": dict(destination)}
        query, headers = self.sse(sse, "compose", params)
        return await self.send_json(
            "POST", self.object_url(dst, "/compose"), params=query, body=body, headers=headers
        )


async def _json_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        raw = await response.read()
    finally:
        response.release()
    return decode_json(raw) if _has_body(raw) else {}


def _has_body(raw: bytes) -> bool:
    """Whether an answer's body is more than blanks (without copying a large
    listing page to strip it: a JSON object starts with ``{``)."""
    return bool(raw) and (raw[:1] not in _BLANKS or bool(raw.strip()))


_BLANKS = (b" ", b"\t", b"\r", b"\n", b"\f", b"\v")


def decode_json(raw: bytes) -> dict[str, Any]:
    """The JSON object of an answer's body.

    Raises:
        GcsMalformedAnswer: the body is not a JSON object (an HTML page from a
            captive portal, a truncated document).
    """
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        start = raw[:15].decode("utf-8", "replace").strip()
        raise GcsMalformedAnswer(f"not JSON: {exc.__class__.__name__} on a body starting {start!r}") from None
    if not isinstance(doc, dict):
        raise GcsMalformedAnswer(f"a JSON {type(doc).__name__} where an object was expected")
    return doc
