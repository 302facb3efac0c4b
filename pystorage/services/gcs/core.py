"""The GCS JSON API: one method per API call, on one shared aiohttp session.

Requests are sent directly on the accessor's ``aiohttp.ClientSession``;
gcloud-aio-auth (the auth half of gcloud-aio-storage) obtains OAuth tokens.
gcloud-aio-storage's ``Storage`` methods are not used for data calls: they
cannot take ``generation`` / ``ifGenerationMatch`` on downloads, upload a
resumable session in one ``PUT`` of the whole stream with retries of their
own, and cap every call with a 10 s total timeout — each of which breaks a
contract of this driver (versions and preconditions, bounded-memory
streaming, "the retry layer is the only retrier").

Every method raises :class:`~pystorage.services.gcs.errors.GcsHttpError`
(or an aiohttp exception) for a failed call; the accessor maps them at its
boundary with :func:`~pystorage.services.gcs.errors.map_errors`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import email.utils
import io
import json
import os
import re
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import aiohttp.payload
import anyio
import yarl
from aiohttp.abc import AbstractStreamWriter
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ...errors import ConfigInvalid
from ...raw import forks
from ...raw.accessor import Buffer
from ...raw.buffered import as_view
from ...raw.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    HttpLimits,
    new_session,
    parse_content_range,
    write_pieces,
)
from ...raw.path import join_root, normalize_root
from ...raw.redact import install_redaction, register_secrets
from ...sse import CustomerKey, SseSpec
from ...types import EncryptionInfo, EntryMode, Metadata
from .config import GcsConfig
from .errors import SERVICE, GcsHttpError, GcsMalformedAnswer
from .sse import RequestKind, sse_headers, sse_params

__all__ = [
    "DEFAULT_ENDPOINT",
    "BufferPayload",
    "GcsCore",
    "REDACTED_LOGGERS",
    "ServiceAccount",
    "decode_json",
    "metadata_from_headers",
    "metadata_from_resource",
    "parse_rfc3339",
    "strip_etag",
]

#: the loggers of the libraries below this driver and pystorage's own (secrets are redacted from them)
REDACTED_LOGGERS = ("aiohttp", "gcloud", "pystorage")

#: the public JSON API endpoint
DEFAULT_ENDPOINT = "https://storage.googleapis.com"

#: seconds to open a TCP (+TLS) connection (the ``connect_timeout`` default)
CONNECT_TIMEOUT = DEFAULT_CONNECT_TIMEOUT
#: seconds without a byte from the server before a request fails (the ``read_timeout`` default)
READ_TIMEOUT = DEFAULT_READ_TIMEOUT
#: seconds allowed for one OAuth token request
TOKEN_TIMEOUT = 30
#: bytes aiohttp buffers per connection before pausing the socket (x2)
READ_BUFSIZE = 1 << 20

#: JSON bodies are small; the media endpoints stream
_JSON = "application/json; charset=UTF-8"
#: request bodies are written to the socket in pieces of this size
_PIECE = 1 << 20
#: bodies up to this size are joined with their framing and written at once
_SMALL = 64 * 1024


@dataclasses.dataclass(frozen=True)
class ServiceAccount:
    """The parts of a service-account key used to sign URLs.

    Attributes:
        client_email: the account's e-mail (the signed URL's credential).
        private_key: the RSA private key, loaded (secret; not in repr).
    """

    client_email: str
    private_key: rsa.RSAPrivateKey = dataclasses.field(repr=False)


class BufferPayload(aiohttp.payload.Payload):
    """A bytes-like request body, optionally framed by ``head`` and ``tail`` bytes,
    sent without copying the body: a small one in a single socket write, a large
    one in 1 MiB pieces.

    (aiohttp's own bytes payload warns on bodies over 1 MiB, and its multipart
    writer issues several small writes per part.)

    Args:
        value: the body.
        content_type: the request's ``Content-Type``.
        head: bytes sent before the body (e.g. a multipart preamble).
        tail: bytes sent after it.
    """

    _autoclose = True

    def __init__(
        self,
        value: Buffer,
        content_type: str = "application/octet-stream",
        *,
        head: bytes = b"",
        tail: bytes = b"",
    ) -> None:
        super().__init__(value, content_type=content_type)
        self._view = as_view(value)
        self._head = head
        self._tail = tail
        self._size = len(head) + self._view.nbytes + len(tail)
        #: seconds a piece may wait for the socket (set by :meth:`GcsCore.send` from ``read_timeout``)
        self.stall_timeout: float | None = None

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text (aiohttp's payload interface; not used for uploads)."""
        return (self._head + bytes(self._view) + self._tail).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body."""
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the body (aiohttp passes its own ``Content-Length``: the whole body),
        each piece bounded by :attr:`stall_timeout`."""
        view = self._view
        if len(view) <= _SMALL:
            await writer.write(b"".join((self._head, view, self._tail)))
            return
        pieces = [view[start : start + _PIECE] for start in range(0, len(view), _PIECE)]
        await write_pieces(writer, [self._head, *pieces, self._tail], self.stall_timeout)


def _quote(value: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters."""
    return urllib.parse.quote(value, safe="-_.~")


def _query(params: Mapping[str, str | None]) -> str:
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params.items() if v is not None)


_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))?$"
)


def parse_rfc3339(value: str | None) -> dt.datetime | None:
    """Parse an RFC 3339 timestamp (any number of fraction digits) to aware UTC; ``None`` if unparsable."""
    if not value:
        return None
    m = _RFC3339.match(value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = dt.timedelta(0)
    if m.group(9):
        sign = 1 if m.group(9) == "+" else -1
        offset = sign * dt.timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
    stamp = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.timezone(offset))
    return stamp.astimezone(dt.timezone.utc)


def strip_etag(etag: str | None) -> str | None:
    """An etag without surrounding quotes or a weak ``W/`` prefix (GCS JSON etags are unquoted)."""
    if etag is None:
        return None
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1]
    return etag


def _encryption(resource: Mapping[str, Any]) -> EncryptionInfo | None:
    kms = resource.get("kmsKeyName")
    if kms:
        return EncryptionInfo("CMEK", kms_key_id=str(kms))
    customer = resource.get("customerEncryption")
    if isinstance(customer, Mapping):
        return EncryptionInfo("CSEK", customer_key_md5=customer.get("keySha256"))
    return None


def metadata_from_resource(resource: Mapping[str, Any]) -> Metadata:
    """A :class:`~pystorage.types.Metadata` from a JSON API object resource."""
    name = str(resource.get("name", ""))
    user = resource.get("metadata")
    size = resource.get("size")
    return Metadata(
        mode=EntryMode.DIR if name.endswith("/") else EntryMode.FILE,
        content_length=int(size) if size is not None else None,
        content_type=resource.get("contentType"),
        content_md5=resource.get("md5Hash"),
        etag=strip_etag(resource.get("etag")),
        last_modified=parse_rfc3339(resource.get("updated") or resource.get("timeCreated")),
        version=str(resource["generation"]) if resource.get("generation") is not None else None,
        cache_control=resource.get("cacheControl"),
        content_disposition=resource.get("contentDisposition"),
        content_encoding=resource.get("contentEncoding"),
        user_metadata={str(k): str(v) for k, v in user.items()}
        if isinstance(user, Mapping) and user
        else None,
        encryption=_encryption(resource),
    )




def goog_hash(value: str | None, algorithm: str) -> str | None:
    """The base64 digest of ``algorithm`` (``crc32c``, ``md5``) in an
    ``X-Goog-Hash: crc32c=...,md5=...`` header value, or ``None``."""
    for item in (value or "").split(","):
        name, sep, digest = item.strip().partition("=")
        if sep and name.lower() == algorithm and digest:
            return digest
    return None


def metadata_from_headers(headers: Mapping[str, str]) -> Metadata:
    """A :class:`~pystorage.types.Metadata` from a media download's headers
    (``content_length`` is the whole object's size)."""
    length: int | None = None
    content_range = headers.get("Content-Range")
    if content_range:
        parsed = parse_content_range(content_range)
        if parsed is not None:
            length = parsed[2]
    elif headers.get("Content-Length") is not None:
        length = int(headers["Content-Length"])
    last_modified = None
    if headers.get("Last-Modified"):
        try:
            last_modified = email.utils.parsedate_to_datetime(headers["Last-Modified"]).astimezone(
                dt.timezone.utc
            )
        except (TypeError, ValueError):
            last_modified = None
    user = {k[len("x-goog-meta-") :]: v for k, v in headers.items() if k.lower().startswith("x-goog-meta-")}
    stored = headers.get("X-Goog-Stored-Content-Encoding") or headers.get("Content-Encoding")
    return Metadata(
        mode=EntryMode.FILE,
        content_length=length,
        content_type=headers.get("Content-Type"),
        etag=strip_etag(headers.get("ETag")),
        last_modified=last_modified,
        version=headers.get("X-Goog-Generation"),
        cache_control=headers.get("Cache-Control"),
        content_disposition=headers.get("Content-Disposition"),
        content_encoding=None if stored in (None, "identity") else stored,
        user_metadata=user or None,
    )


def _load_credential(config: GcsConfig) -> dict[str, Any] | None:
    """The credential JSON of ``credential`` / ``credential_path``, parsed and checked."""
    if config.credential:
        text = config.credential.strip()
        if not text.startswith("{"):
            try:
                text = base64.b64decode(text, validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ConfigInvalid(
                    "config key 'credential' of service 'gcs' is neither JSON nor base64-encoded JSON",
                    service=SERVICE,
                ) from None
        key = "credential"
    elif config.credential_path:
        try:
            with open(os.path.expanduser(config.credential_path), encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise ConfigInvalid(
                f"config key 'credential_path' of service 'gcs': cannot read the file ({exc.strerror})",
                service=SERVICE,
            ) from None
        key = "credential_path"
    else:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigInvalid(
            f"config key {key!r} of service 'gcs' does not hold a valid credential JSON document",
            service=SERVICE,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ConfigInvalid(
            f"config key {key!r} of service 'gcs' does not hold a credential (no 'type' field)",
            service=SERVICE,
        )
    return data


def _default_credential(config: GcsConfig) -> dict[str, Any] | None:
    """Application Default Credentials, unless ``disable_config_load``."""
    if config.disable_config_load:
        return None
    from gcloud.aio.auth.token import get_service_data

    try:
        data = get_service_data(None)
    except OSError as exc:
        raise ConfigInvalid(
            f"GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read ({exc.strerror})",
            service=SERVICE,
        ) from None
    return data or None


def _service_account(data: Mapping[str, Any] | None) -> ServiceAccount | None:
    if not data or data.get("type") != "service_account":
        return None
    email_, pem = data.get("client_email"), data.get("private_key")
    if not isinstance(email_, str) or not isinstance(pem, str):
        raise ConfigInvalid(
            "the gcs service-account credential lacks 'client_email' or 'private_key'", service=SERVICE
        )
    try:
        # the key is the user's own configuration, not untrusted input: skipping the
        # (~40 ms) consistency check keeps building an operator cheap
        key = serialization.load_pem_private_key(
            pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError):
        raise ConfigInvalid(
            "the gcs service-account credential's 'private_key' is not a PEM private key", service=SERVICE
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigInvalid("the gcs service-account credential's key is not an RSA key", service=SERVICE)
    return ServiceAccount(email_, key)


class _Auth:
    """Where the ``Authorization`` header comes from: nothing (anonymous), a
    static token, or OAuth tokens from gcloud-aio-auth, cached until shortly
    before they expire.

    gcloud-aio-auth's own ``Token.get()`` retries failed refreshes five times
    with waits of up to a minute; this class calls ``Token.refresh()`` once
    instead, so that the retry layer stays the only retrier.
    """

    def __init__(
        self,
        mode: str,
        *,
        static: str | None = None,
        data: dict[str, Any] | None = None,
        scope: str = "",
        account: ServiceAccount | None = None,
    ) -> None:
        self.mode = mode
        self._static = static
        self._data = data
        self._scope = scope
        self._account = account
        self._value: str | None = None
        self._refresh_at = 0.0
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"_Auth({self.mode})"

    async def header(self, session: aiohttp.ClientSession) -> dict[str, str]:
        if self.mode == "anonymous":
            return {}
        if self.mode == "static":
            return {"Authorization": f"Bearer {self._static}"}
        if self._value is None or time.monotonic() >= self._refresh_at:
            async with self._lock:
                if self._value is None or time.monotonic() >= self._refresh_at:
                    await self._refresh(session)
        return {"Authorization": f"Bearer {self._value}"}

    async def _refresh(self, session: aiohttp.ClientSession) -> None:
        from gcloud.aio.auth import Token

        # ``{}`` makes gcloud-aio-auth use the GCE metadata server instead of searching ADC again
        service_file = io.StringIO(json.dumps(self._data or {}))
        token = Token(service_file=service_file, session=session, scopes=[self._scope])  # type: ignore[arg-type]
        if self._account is not None:
            # sign the token request's JWT with the key loaded once at build time, not a key
            # PyJWT would parse and check again from PEM (~40 ms on the event loop)
            token.service_data["private_key"] = self._account.private_key
        started = time.monotonic()
        response = await token.refresh(timeout=TOKEN_TIMEOUT)
        lifetime = max(60, int(response.expires_in))
        self._value = response.value
        register_secrets((response.value,))  # a fresh OAuth token: keep it out of the logs
        # refresh when 90% of the lifetime has passed and at least a minute early
        # (but never before half of it, for very short-lived tokens)
        self._refresh_at = started + max(lifetime * 0.5, min(lifetime * 0.9, lifetime - 60))

    def forget(self) -> None:
        """Drop the cached token (on close)."""
        self._value = None
        self._refresh_at = 0.0


def _resolve_auth(config: GcsConfig, endpoint_given: bool) -> tuple[_Auth, ServiceAccount | None]:
    if config.token:
        return _Auth("static", static=config.token), None
    data = _load_credential(config) or _default_credential(config)
    if data is not None:
        # the credential's secrets, whether configured or found by the default chain
        register_secrets(
            str(data[k]) for k in ("private_key", "client_secret", "refresh_token") if data.get(k)
        )
        account = _service_account(data)
        return _Auth("oauth", data=data, scope=config.scope, account=account), account
    if config.allow_anonymous or endpoint_given:
        return _Auth("anonymous"), None
    if config.disable_vm_metadata:
        raise ConfigInvalid(
            "no gcs credential found (credential, credential_path, token or Application Default "
            "Credentials) and disable_vm_metadata is set; set allow_anonymous=true for public buckets",
            service=SERVICE,
        )
    return _Auth("oauth", data=None, scope=config.scope), None


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
        self.auth, self.service_account = _resolve_auth(config, endpoint is not None)
        bucket = _quote(self.bucket)
        self._objects = f"{self.endpoint}/storage/v1/b/{bucket}/o"
        self._uploads = f"{self.endpoint}/upload/storage/v1/b/{bucket}/o"
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = anyio.Lock()
        self._redacted: set[bytes] = set()
        forks.register(self)

    def after_fork_in_child(self) -> None:
        """In a forked child: forget the parent's session and connections (never
        closed from here: their sockets are the parent's); the next call opens a new one.
        A cached token stays valid and is kept."""
        forks.abandon(self._session)
        self._session, self._loop = None, None
        self._lock = anyio.Lock()
        self.auth._lock = anyio.Lock()

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
        if isinstance(spec, CustomerKey) and spec.key not in self._redacted:
            # a layer's key is first seen here: keep it out of the SDK's logs
            install_redaction(REDACTED_LOGGERS, (spec.key_b64,))
            self._redacted.add(spec.key)
        return {**(params or {}), **sse_params(spec, kind)}, sse_headers(spec, kind)

    def object_url(self, key: str, suffix: str = "") -> str:
        """The JSON API URL of object ``key`` (``suffix`` e.g. ``"/compose"``)."""
        return f"{self._objects}/{_quote(key)}{suffix}"

    # session -------------------------------------------------------------------
    async def session(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use (and again after :meth:`close`)."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and not session.closed and self._loop is loop:
            return session
        async with self._lock:
            session = self._session
            if session is not None and (session.closed or self._loop is not loop):
                # opened on another event loop: it cannot be used (or closed) from this one
                if not session.closed:
                    session.detach()
                self._session = session = None
            if session is None:
                session = new_session(HttpLimits.of(self.config), read_bufsize=READ_BUFSIZE)
                self._session, self._loop = session, loop
            return session

    async def close(self) -> None:
        """Close the shared session (idempotent); the next call opens a new one."""
        session, self._session = self._session, None
        self.auth.forget()
        if session is not None and not session.closed:
            if self._loop is asyncio.get_running_loop():
                await session.close()
            else:
                session.detach()

    # requests ------------------------------------------------------------------
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
        session = await self.session()
        all_headers = await self.auth.header(session)
        if headers:
            all_headers.update(headers)
        if isinstance(data, BufferPayload):
            data.stall_timeout = self.config.read_timeout  # a server that stops reading an upload
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
            body = await response.read()
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
        if not raw.strip():
            return {}
        return decode_json(raw)

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
        query = {"alt": "media", "generation": generation, "ifGenerationMatch": if_generation_match}
        params, headers = self.sse(sse, "get_media", query)
        headers["Accept-Encoding"] = "gzip"
        if byte_range is not None:
            first, last = byte_range
            headers["Range"] = f"bytes={first}-{'' if last is None else last}"
        return await self.send(
            "GET", self.object_url(key), params=params, headers=headers, ok=(200, 206), auto_decompress=False
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
        boundary = uuid.uuid4().hex
        head = (
            f"--{boundary}\r\nContent-Type: {_JSON}\r\n\r\n{json.dumps(dict(resource))}\r\n"
            f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
        ).encode()
        body = BufferPayload(
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
            data=BufferPayload(data, content_type),
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
    return decode_json(raw) if raw.strip() else {}


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
