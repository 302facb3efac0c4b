"""The S3 API calls, one method each, named after the API, on one pooled aiobotocore client.

:class:`S3Core` owns the client: it is created lazily on first use (or by
:meth:`S3Core.open`) and closed by :meth:`S3Core.close`. aiobotocore is
asyncio-only, so this module is too. Its methods build
each request's parameters from the option dataclasses and return botocore's
parsed answer; they do not translate errors (the backend wraps every call in
:func:`~pystorage.services.s3.errors.map_errors`, which knows the path).

Requests go out with SDK retries off (the ``RetryLayer`` is the only
retrier) and checksums only where the API requires one, unless
``checksum_algorithm`` asks for more.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.httpsession import AIOHTTPSession  # type: ignore[import-untyped]
from aiobotocore.session import AioSession  # type: ignore[import-untyped]
from botocore import UNSIGNED  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from ...errors import ConfigInvalid
from ...raw import forks
from ...raw.accessor import Buffer
from ...raw.checksum import crc32c_b64, md5_b64
from ...raw.http import DEFAULT_POOL_SIZE, HttpLimits, no_silent_resend
from ...raw.ops import OpCopy, OpRead, OpStat, OpWrite
from ...raw.path import normalize_root
from ...raw.redact import install_redaction, register_secrets
from ...sse import CustomerKey, SseSpec
from ...types import EncryptionInfo, EntryMode, Metadata, Part
from .config import S3Config
from .errors import refuse_html
from .http import LeanHttp
from .sse import RedactedHeaders, RequestKind, sse_headers
from .sse import sse_params as _sse_params

__all__ = [
    "MAX_POOL_CONNECTIONS",
    "REDACTED_LOGGERS",
    "S3Core",
    "ViewBody",
    "as_body",
    "bounded_http_session",
    "metadata_from_response",
    "parse_time",
    "quote_etag",
    "register_credentials",
]

#: the loggers of the SDK below this driver, and pystorage's own (secrets are redacted from their records)
REDACTED_LOGGERS = ("botocore", "aiobotocore", "aiohttp", "pystorage")

#: connections the client keeps open to the endpoint (the ``pool_size`` default)
MAX_POOL_CONNECTIONS = DEFAULT_POOL_SIZE

#: the longest a SigV4 presigned URL may live (7 days)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

#: checksums pystorage computes itself (sent as headers, on the lean path too)
_OWN_CHECKSUMS = frozenset({"crc32c", "md5"})
_LEAN_CHECKSUMS = frozenset({None, "crc32c", "md5"})
_CLIENT_METHOD = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}
_PRESIGN_KIND: dict[str, RequestKind] = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}


def parse_time(value: Any) -> dt.datetime | None:
    """An aware UTC datetime from what botocore parsed (``None`` stays ``None``)."""
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is dt.timezone.utc:  # the lean path's answers: already in UTC
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def quote_etag(etag: Any) -> str | None:
    """The etag in its quoted HTTP form (listings of some S3-compatibles drop the quotes)."""
    if not isinstance(etag, str) or not etag:
        return None
    if etag.startswith('"') or etag.startswith("W/"):
        return etag
    return f'"{etag}"'


def _encryption(response: Mapping[str, Any]) -> EncryptionInfo | None:
    customer = response.get("SSECustomerAlgorithm")
    if customer:
        return EncryptionInfo("SSE-C", customer_key_md5=response.get("SSECustomerKeyMD5"))
    algorithm = response.get("ServerSideEncryption")
    if algorithm:
        return EncryptionInfo(str(algorithm), kms_key_id=response.get("SSEKMSKeyId"))
    return None


def metadata_from_response(response: Mapping[str, Any], *, mode: EntryMode = EntryMode.FILE) -> Metadata:
    """The :class:`Metadata` of a HeadObject / GetObject / PutObject answer.

    ``content_length`` is the answer's ``ContentLength`` (the caller fixes
    it for ranged GETs); ``user_metadata`` is ``None`` when there is none.
    """
    user = response.get("Metadata") or None
    version = response.get("VersionId")
    return Metadata(
        mode=mode,
        content_length=response.get("ContentLength"),
        content_type=response.get("ContentType"),
        etag=quote_etag(response.get("ETag")),
        last_modified=parse_time(response.get("LastModified")),
        version=str(version) if version else None,
        cache_control=response.get("CacheControl"),
        content_disposition=response.get("ContentDisposition"),
        content_encoding=response.get("ContentEncoding"),
        user_metadata=dict(user) if user else None,
        encryption=_encryption(response),
    )


class ViewBody(io.BytesIO):
    """A read-only file over a memoryview that never copies the whole view.

    botocore refuses memoryviews as a ``Body``; copying each part to
    ``bytes`` would hold every in-flight part twice. This is a ``BytesIO``
    (so aiohttp streams it in 256 KiB pieces, like botocore's own bodies)
    whose reads slice the view: only the piece being read is copied.

    Args:
        view: the bytes to send (kept referenced, never written to).
    """

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view if view.format == "B" and view.ndim == 1 else view.cast("B")
        self._pos = 0

    def __len__(self) -> int:
        return len(self._view)

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        start, self._pos = self._pos, max(self._pos, end)
        return bytes(self._view[start:end])

    read1 = read

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        piece = self._view[self._pos:self._pos + len(target)]
        target[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def getbuffer(self) -> memoryview:
        return self._view[:]

    def getvalue(self) -> bytes:
        return self._view.tobytes()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("ViewBody is read-only")


def as_body(data: Buffer | bytearray) -> bytes | ViewBody:
    """``data`` as a request body botocore accepts, without copying it:
    ``bytes`` as they are (botocore wraps them in a ``BytesIO`` sharing the
    buffer), a view over a whole ``bytes`` object unwrapped, any other view
    (a part cut from the engine's ``bytearray``) as a :class:`ViewBody`."""
    if isinstance(data, bytes):
        return data
    view = memoryview(data)
    owner = view.obj
    if isinstance(owner, bytes) and view.nbytes == len(owner) and view.contiguous:
        return owner
    return ViewBody(view)


def _raw_body(body: bytes | ViewBody) -> Buffer:
    """The bytes behind a request body, without copying (a :class:`ViewBody` gives its view)."""
    return body.getbuffer() if isinstance(body, ViewBody) else body


async def register_credentials(credentials: Any) -> Any:
    """Register the secret parts of credentials found by botocore's default chain
    (environment, config files, web identity, instance metadata) with the redacting
    filter, so no log record shows them; returns the frozen credentials."""
    frozen = credentials.get_frozen_credentials()
    if hasattr(frozen, "__await__"):
        frozen = await frozen
    register_secrets((frozen.access_key, frozen.secret_key, frozen.token))
    return frozen


def bounded_http_session(limits: HttpLimits) -> type[AIOHTTPSession]:
    """aiobotocore's HTTP session class with ``limits``' bounded wait for a pooled
    connection (aiobotocore sets only ``sock_connect`` and ``sock_read``, so a
    request waits for a free connection forever) and without aiohttp's silent
    resend of idempotent requests (the retry layer is the only retrier)."""

    class BoundedAIOHTTPSession(AIOHTTPSession):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._timeout = limits.client_timeout()

        async def _get_session(self, proxy_url: Any) -> Any:
            return no_silent_resend(await super()._get_session(proxy_url))

    return BoundedAIOHTTPSession


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.timezone.utc), usegmt=True)


class S3Core:
    """The S3 calls of one accessor, on one pooled aiobotocore client.

    Args:
        config: the parsed service config.
    """

    def __init__(self, config: S3Config) -> None:
        assert config.bucket is not None
        self.config = config
        self.bucket: str = config.bucket
        #: the root in ``/a/b/`` form
        self.root = normalize_root(config.root)
        #: the key prefix every path is under (``a/b/``, or ``""`` for the whole bucket)
        self.root_key = self.root.lstrip("/")
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = anyio.Lock()
        self._redacted: set[bytes] = set()
        #: the lean request path of the hot calls (``lean_http``), opened with the client
        self._lean: LeanHttp | None = None
        forks.register(self)

    def after_fork_in_child(self) -> None:
        """In a forked child: forget the parent's client and connections (never
        closed from here: their sockets are the parent's); the next call opens new ones."""
        forks.abandon(self._client, self._stack, self._lean)
        self._client, self._stack, self._lean, self._loop = None, None, None, None
        self._lock = anyio.Lock()

    # keys ------------------------------------------------------------------------------
    def key(self, path: str) -> str:
        """The object key of a normalised path (``"/"`` is the root prefix)."""
        return self.root_key + ("" if path == "/" else path)

    def path(self, key: str) -> str:
        """The path, relative to the root, of a key under the root."""
        return key[len(self.root_key):]

    # client lifecycle -------------------------------------------------------------------
    async def client(self) -> Any:
        """The pooled client, created on first use.

        A client belongs to the event loop it was created on: used from
        another loop (a second ``asyncio.run`` with the same operator), the
        old one is dropped and a new one created.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._drop()
            self._loop = loop
        client = self._client
        if client is not None:
            return client
        async with self._lock:
            if self._client is None:
                await self._open_client()
            return self._client

    def _drop(self) -> None:
        # the old loop is gone (or another one): its connections cannot be closed from here
        self._client, self._stack, self._lean = None, None, None
        self._lock = anyio.Lock()

    async def open(self) -> None:
        """Create the client now (``async with op``)."""
        await self.client()

    async def close(self) -> None:
        """Close the client and its connections; a later call opens a new one."""
        if self._loop is not asyncio.get_running_loop():
            self._drop()
            self._loop = None
            return
        async with self._lock:
            stack, self._stack, self._client, self._lean = self._stack, None, None, None
            if stack is not None:
                await stack.aclose()

    async def _open_client(self) -> None:
        config = self.config
        session = AioSession()
        if config.disable_config_load:
            for name in ("config_file", "credentials_file"):
                session.set_config_variable(name, os.devnull)
            session.set_config_variable("ignore_configured_endpoint_urls", True)
        credentials: dict[str, Any] = {}
        signature: Any = "s3v4"
        found: Any = None
        if config.access_key_id is not None:
            credentials = {
                "aws_access_key_id": config.access_key_id,
                "aws_secret_access_key": config.secret_access_key,
                "aws_session_token": config.session_token,
            }
            found = Credentials(config.access_key_id, config.secret_access_key, config.session_token)
        else:
            if not config.disable_config_load:
                found = await session.get_credentials()
                if found is not None:
                    await register_credentials(found)
            if found is None:
                if not (config.allow_anonymous or config.endpoint):
                    raise ConfigInvalid(
                        "no credentials configured or found: set access_key_id and "
                        "secret_access_key, or allow_anonymous",
                        service="s3",
                    )
                signature = UNSIGNED
        limits = HttpLimits.of(config)
        region = config.region
        if region is None and not config.disable_config_load:
            region = session.get_config_variable("region")
        client_config = AioConfig(
            # one attempt in all: botocore's "max_attempts" counts retries (1 would
            # still retry once), "total_max_attempts" counts the first request too
            retries={"total_max_attempts": 1, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "virtual" if config.enable_virtual_host_style else "path"},
            max_pool_connections=config.pool_size,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            http_session_cls=bounded_http_session(limits),
            signature_version=signature,
        )
        stack = contextlib.AsyncExitStack()
        creator = session.create_client(
            "s3",
            region_name=region or "us-east-1",
            endpoint_url=config.endpoint,
            config=client_config,
            **credentials,
        )
        self._client = await stack.enter_async_context(creator)
        # an HTML page answered 2xx is not an (empty) S3 result
        self._client.meta.events.register("before-parse.s3", refuse_html)
        self._stack = stack
        if config.lean_http:
            lean = LeanHttp(
                endpoint=self._client.meta.endpoint_url,
                bucket=self.bucket,
                region=self._client.meta.region_name or "us-east-1",
                virtual_host=config.enable_virtual_host_style,
                credentials=None if signature is UNSIGNED else found,
                limits=limits,
            )
            stack.push_async_callback(lean.close)
            self._lean = lean

    # request parameters -----------------------------------------------------------------
    def _sse(self, spec: SseSpec | None, kind: RequestKind) -> dict[str, Any]:
        # the SSE-C key of a layer is first seen here: keep it out of the SDK's logs
        if isinstance(spec, CustomerKey) and spec.key not in self._redacted:
            install_redaction(REDACTED_LOGGERS, (spec.key_b64,))
            self._redacted.add(spec.key)
        return _sse_params(spec, kind)

    def _write_params(self, op: OpWrite) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if op.content_type is not None:
            params["ContentType"] = op.content_type
        if op.cache_control is not None:
            params["CacheControl"] = op.cache_control
        if op.content_disposition is not None:
            params["ContentDisposition"] = op.content_disposition
        if op.content_encoding is not None:
            params["ContentEncoding"] = op.content_encoding
        if op.user_metadata:
            params["Metadata"] = dict(op.user_metadata)
        if self.config.default_storage_class is not None:
            params["StorageClass"] = self.config.default_storage_class
        return params

    @staticmethod
    def _condition_params(op: OpWrite) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if op.if_not_exists:
            params["IfNoneMatch"] = "*"
        if op.if_match is not None:
            params["IfMatch"] = op.if_match
        return params

    @staticmethod
    def _read_conditions(op: OpStat | OpRead) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if op.version is not None:
            params["VersionId"] = op.version
        if op.if_match is not None:
            params["IfMatch"] = op.if_match
        if op.if_none_match is not None:
            params["IfNoneMatch"] = op.if_none_match
        if op.if_modified_since is not None:
            params["IfModifiedSince"] = op.if_modified_since
        if op.if_unmodified_since is not None:
            params["IfUnmodifiedSince"] = op.if_unmodified_since
        return params

    def _checksum_params(self, body: bytes | ViewBody | None) -> dict[str, Any]:
        algorithm = self.config.checksum_algorithm
        if algorithm is None:
            return {}
        if algorithm in _OWN_CHECKSUMS:
            if body is None:
                return {"ChecksumAlgorithm": "CRC32C"} if algorithm == "crc32c" else {}
            data = body.getbuffer() if isinstance(body, ViewBody) else body
            if algorithm == "md5":
                return {"ContentMD5": md5_b64(data)}
            return {"ChecksumCRC32C": crc32c_b64(data)}
        return {"ChecksumAlgorithm": algorithm.upper()}

    def _lean_checksum(self, body: Buffer) -> dict[str, str]:
        algorithm = self.config.checksum_algorithm
        if algorithm == "crc32c":
            return {"x-amz-checksum-crc32c": crc32c_b64(body)}
        if algorithm == "md5":
            return {"content-md5": md5_b64(body)}
        return {}

    def _use_lean(self) -> bool:
        return self._lean is not None and self.config.checksum_algorithm in _LEAN_CHECKSUMS

    # lean request headers ---------------------------------------------------------------
    def _lean_sse(self, spec: SseSpec | None, kind: RequestKind) -> dict[str, str]:
        if spec is None:
            return {}
        self._sse(spec, kind)  # keeps an SSE-C key out of the logs
        return {name.lower(): str(value) for name, value in sse_headers(spec, kind).items()}

    @staticmethod
    def _lean_read(op: OpStat | OpRead) -> tuple[dict[str, str], dict[str, str] | None]:
        headers: dict[str, str] = {}
        if op.if_match is not None:
            headers["if-match"] = op.if_match
        if op.if_none_match is not None:
            headers["if-none-match"] = op.if_none_match
        if op.if_modified_since is not None:
            headers["if-modified-since"] = _http_date(op.if_modified_since)
        if op.if_unmodified_since is not None:
            headers["if-unmodified-since"] = _http_date(op.if_unmodified_since)
        return headers, None if op.version is None else {"versionId": op.version}

    def _lean_write(self, op: OpWrite) -> dict[str, str]:
        headers: dict[str, str] = {}
        if op.content_type is not None:
            headers["content-type"] = op.content_type
        if op.cache_control is not None:
            headers["cache-control"] = op.cache_control
        if op.content_disposition is not None:
            headers["content-disposition"] = op.content_disposition
        if op.content_encoding is not None:
            headers["content-encoding"] = op.content_encoding
        for name, value in (op.user_metadata or {}).items():
            headers[f"x-amz-meta-{name.lower()}"] = value
        if self.config.default_storage_class is not None:
            headers["x-amz-storage-class"] = self.config.default_storage_class
        if op.if_not_exists:
            headers["if-none-match"] = "*"
        if op.if_match is not None:
            headers["if-match"] = op.if_match
        return headers

    # objects ------------------------------------------------------------------------------
    async def head_object(self, key: str, op: OpStat) -> dict[str, Any]:
        """HeadObject with ``op``'s version and conditions."""
        client = await self.client()
        if self._lean is not None:
            headers, query = self._lean_read(op)
            headers.update(self._lean_sse(op.sse, "HeadObject"))
            return await self._lean.head_object(key, headers, query)
        params = self._read_conditions(op)
        params.update(self._sse(op.sse, "HeadObject"))
        response: dict[str, Any] = await client.head_object(Bucket=self.bucket, Key=key, **params)
        return response

    async def get_object(self, key: str, op: OpRead, *, range_header: str | None) -> dict[str, Any]:
        """GetObject with ``op``'s version and conditions; ``range_header``
        (``bytes=a-b``) when only part of the object is wanted."""
        client = await self.client()
        if self._lean is not None:
            headers, query = self._lean_read(op)
            headers.update(self._lean_sse(op.sse, "GetObject"))
            if range_header is not None:
                headers["range"] = range_header
            elif self.config.checksum_algorithm is not None:
                headers["x-amz-checksum-mode"] = "ENABLED"  # the stored checksum, to verify the body
            return await self._lean.get_object(key, headers, query)
        params = self._read_conditions(op)
        params.update(self._sse(op.sse, "GetObject"))
        if range_header is not None:
            params["Range"] = range_header
        response: dict[str, Any] = await client.get_object(Bucket=self.bucket, Key=key, **params)
        return response

    async def put_object(self, key: str, body: bytes | ViewBody, op: OpWrite) -> dict[str, Any]:
        """PutObject of ``body`` with ``op``'s headers, metadata and conditions."""
        client = await self.client()
        if self._lean is not None and self._use_lean():
            raw = _raw_body(body)
            headers = self._lean_write(op)
            headers.update(self._lean_sse(op.sse, "PutObject"))
            headers.update(self._lean_checksum(raw))
            return await self._lean.put_object(key, raw, headers)
        params = self._write_params(op)
        params.update(self._condition_params(op))
        params.update(self._checksum_params(body))
        params.update(self._sse(op.sse, "PutObject"))
        response: dict[str, Any] = await client.put_object(Bucket=self.bucket, Key=key, Body=body, **params)
        return response

    async def copy_object(self, src_key: str, dst_key: str, op: OpCopy) -> dict[str, Any]:
        """CopyObject (sources up to 5 GiB; metadata is copied with the object)."""
        client = await self.client()
        params = self._sse(op.sse, "CopyObject")
        response: dict[str, Any] = await client.copy_object(
            Bucket=self.bucket, Key=dst_key, CopySource={"Bucket": self.bucket, "Key": src_key}, **params
        )
        return response

    async def delete_object(self, key: str, *, version: str | None = None) -> dict[str, Any]:
        """DeleteObject (of one version when ``version`` is given)."""
        client = await self.client()
        if self._lean is not None:
            return await self._lean.delete_object(key, None if version is None else {"versionId": version})
        params: dict[str, Any] = {} if version is None else {"VersionId": version}
        response: dict[str, Any] = await client.delete_object(Bucket=self.bucket, Key=key, **params)
        return response

    async def delete_objects(self, keys: Sequence[str]) -> dict[str, Any]:
        """DeleteObjects of up to 1000 keys, in quiet mode (only failures are reported)."""
        client = await self.client()
        response: dict[str, Any] = await client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        return response

    # listing ------------------------------------------------------------------------------
    async def list_objects_v2(
        self,
        prefix: str,
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int | None = None,
    ) -> dict[str, Any]:
        """One page of ListObjectsV2."""
        client = await self.client()
        given = {
            ("delimiter", "Delimiter"): delimiter,
            ("start-after", "StartAfter"): start_after,
            ("continuation-token", "ContinuationToken"): continuation_token,
            ("max-keys", "MaxKeys"): max_keys,
        }
        if self._lean is not None:
            query = {"prefix": prefix}
            query.update({wire: str(value) for (wire, _), value in given.items() if value is not None})
            return await self._lean.list_objects_v2(query)
        params: dict[str, Any] = {"Prefix": prefix}
        params.update({name: value for (_, name), value in given.items() if value is not None})
        response: dict[str, Any] = await client.list_objects_v2(Bucket=self.bucket, **params)
        return response

    async def list_object_versions(
        self,
        prefix: str,
        *,
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int | None = None,
    ) -> dict[str, Any]:
        """One page of ListObjectVersions."""
        client = await self.client()
        params: dict[str, Any] = {"Prefix": prefix}
        given = {
            "Delimiter": delimiter,
            "KeyMarker": key_marker,
            "VersionIdMarker": version_id_marker,
            "MaxKeys": max_keys,
        }
        params.update({name: value for name, value in given.items() if value is not None})
        response: dict[str, Any] = await client.list_object_versions(Bucket=self.bucket, **params)
        return response

    # multipart ----------------------------------------------------------------------------
    async def create_multipart_upload(self, key: str, op: OpWrite) -> dict[str, Any]:
        """CreateMultipartUpload with ``op``'s headers and metadata."""
        client = await self.client()
        params = self._write_params(op)
        params.update(self._checksum_params(None))
        params.update(self._sse(op.sse, "CreateMultipartUpload"))
        response: dict[str, Any] = await client.create_multipart_upload(
            Bucket=self.bucket, Key=key, **params
        )
        return response

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: bytes | ViewBody, op: OpWrite
    ) -> dict[str, Any]:
        """UploadPart ``number`` (1-based). The answer's ``ChecksumCRC32C`` is
        the checksum sent (CompleteMultipartUpload repeats it)."""
        client = await self.client()
        if self._lean is not None and self._use_lean():
            raw = _raw_body(body)
            headers = self._lean_sse(op.sse, "UploadPart")
            checksum = self._lean_checksum(raw)
            headers.update(checksum)
            response = await self._lean.upload_part(key, upload_id, number, raw, headers)
            if "x-amz-checksum-crc32c" in checksum:
                response.setdefault("ChecksumCRC32C", checksum["x-amz-checksum-crc32c"])
            return response
        params = self._checksum_params(body)
        params.update(self._sse(op.sse, "UploadPart"))
        response = await client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **params
        )
        if "ChecksumCRC32C" in params:
            response.setdefault("ChecksumCRC32C", params["ChecksumCRC32C"])
        result: dict[str, Any] = response
        return result

    async def upload_part_copy(
        self,
        src_key: str,
        key: str,
        upload_id: str,
        number: int,
        *,
        first: int,
        last: int,
        op: OpCopy,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """UploadPartCopy: bytes ``[first, last]`` of ``src_key`` as part ``number``,
        of the source version whose etag is ``if_match`` (``CopySourceIfMatch``)."""
        client = await self.client()
        params = self._sse(op.sse, "UploadPartCopy")
        if if_match is not None:
            params["CopySourceIfMatch"] = if_match
        response: dict[str, Any] = await client.upload_part_copy(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.bucket, "Key": src_key},
            CopySourceRange=f"bytes={first}-{last}",
            **params,
        )
        return response

    async def complete_multipart_upload(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[Part],
        op: OpWrite,
        *,
        checksums: Mapping[int, Mapping[str, str]] | None = None,
    ) -> dict[str, Any]:
        """CompleteMultipartUpload of ``parts`` with ``op``'s conditions
        (``if_not_exists`` → ``If-None-Match: *``, ``if_match``).

        ``checksums`` maps part numbers to their ``Checksum*`` fields, needed
        when the upload was created with a checksum algorithm.
        """
        client = await self.client()
        entries = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": part.etag}
            if checksums and part.number in checksums:
                entry.update(checksums[part.number])
            entries.append(entry)
        params = self._condition_params(op)
        params.update(self._sse(op.sse, "CompleteMultipartUpload"))
        response: dict[str, Any] = await client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": entries}, **params
        )
        return response

    async def abort_multipart_upload(self, key: str, upload_id: str) -> dict[str, Any]:
        """AbortMultipartUpload."""
        client = await self.client()
        response: dict[str, Any] = await client.abort_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id
        )
        return response

    async def list_parts(
        self,
        key: str,
        upload_id: str,
        *,
        part_number_marker: int | None = None,
        sse: SseSpec | None = None,
    ) -> dict[str, Any]:
        """One page of ListParts (with the SSE-C key of an SSE-C upload)."""
        client = await self.client()
        params: dict[str, Any] = self._sse(sse, "ListParts")
        if part_number_marker:
            params["PartNumberMarker"] = part_number_marker
        response: dict[str, Any] = await client.list_parts(
            Bucket=self.bucket, Key=key, UploadId=upload_id, **params
        )
        return response

    async def list_multipart_uploads(
        self, prefix: str, *, key_marker: str | None = None, upload_id_marker: str | None = None
    ) -> dict[str, Any]:
        """One page of ListMultipartUploads."""
        client = await self.client()
        params: dict[str, Any] = {"Prefix": prefix}
        if key_marker is not None:
            params["KeyMarker"] = key_marker
        if upload_id_marker is not None:
            params["UploadIdMarker"] = upload_id_marker
        response: dict[str, Any] = await client.list_multipart_uploads(Bucket=self.bucket, **params)
        return response

    # presign ------------------------------------------------------------------------------
    async def presign(
        self,
        method: str,
        key: str,
        expire: dt.timedelta,
        *,
        write: OpWrite | None = None,
        sse: SseSpec | None = None,
    ) -> tuple[str, dict[str, str]]:
        """A presigned URL for ``method`` (``GET``, ``PUT``, ``HEAD``) and the
        headers the caller must send with it.

        With ``sse``, its headers are signed into the URL and returned with
        the others (for SSE-C that includes the key: the returned dict's
        ``repr`` hides it, but whoever sends the request needs it).

        Raises:
            ConfigInvalid: ``expire`` outside 1 second .. 7 days (SigV4's limit).
        """
        client_method = _CLIENT_METHOD.get(method)
        if client_method is None:
            raise ConfigInvalid(f"cannot presign method {method!r}", service="s3")
        seconds = int(expire.total_seconds())
        if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
            raise ConfigInvalid(
                f"presign expire must be between 1 second and 7 days, got {expire}", service="s3"
            )
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        headers: dict[str, str] = {}
        if method == "PUT" and write is not None:
            extra = self._write_params(write)
            extra.pop("StorageClass", None)
            extra.pop("Metadata", None)  # x-amz-meta-* would have to be signed: not offered
            params.update(extra)
            names = {
                "ContentType": "Content-Type",
                "CacheControl": "Cache-Control",
                "ContentDisposition": "Content-Disposition",
                "ContentEncoding": "Content-Encoding",
            }
            headers = {names[k]: str(v) for k, v in extra.items() if k in names}
        kind = _PRESIGN_KIND[method]
        params.update(self._sse(sse, kind))
        if sse is not None:
            headers = RedactedHeaders({**headers, **sse_headers(sse, kind)})
        client = await self.client()
        url: str = await client.generate_presigned_url(
            client_method, Params=params, ExpiresIn=seconds, HttpMethod=method
        )
        return url, headers
