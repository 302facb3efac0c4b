"""The S3 API calls, one method each, named after the API, on one HTTP stack.

:class:`S3Core` builds each call's request (:class:`~.builder.Requests`),
sends it on the accessor's one aiohttp session (:class:`~.http.S3Http`) and
reads the answer: the object's headers (:mod:`.answers`) or its XML document
(:mod:`.documents`). Data and control calls alike (multipart initiate and
complete, copies, batch deletes, every listing) share that session and its
connection pool. aiobotocore is opened beside it only for the credential
chain, endpoint resolution and presigned URLs (:mod:`.client`); no request
goes through it.

The transport is opened lazily on first use (or by :meth:`S3Core.open`) and
closed by :meth:`S3Core.close`; it belongs to the event loop it was opened
on (asyncio only, as aiobotocore is). Methods do not translate errors: the
backend wraps every call in :func:`~pystorage.services.s3.errors.map_errors`,
which knows the path. Requests carry no retry of their own (``RetryLayer`` is
the only retrier).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

import anyio

from ...raw import forks
from ...raw.accessor import Buffer
from ...raw.http import HttpLimits
from ...raw.ops import OpCopy, OpPresign, OpRead, OpStat, OpWrite
from ...raw.path import normalize_root
from ...raw.redact import install_redaction
from ...sse import CustomerKey, SseSpec
from ...types import Part
from . import client as boto
from .answers import LeanBody, ObjectAnswer
from .builder import Requests, S3Request
from .config import S3Config
from .documents import (
    ListPage,
    PartRecord,
    UploadRecord,
    delete_errors,
    document,
    field,
    parse_list_parts,
    parse_list_uploads,
    parse_listing,
)
from .errors import S3ErrorAnswer
from .http import S3Http

__all__ = ["REDACTED_LOGGERS", "S3Core"]

#: the loggers of the SDK below this driver, and pystorage's own (secrets are redacted from their records)
REDACTED_LOGGERS = ("botocore", "aiobotocore", "aiohttp", "pystorage")


class S3Core:
    """The S3 calls of one accessor.

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
        #: the request builder
        self.requests = Requests(config)
        self._client: boto.BotoClient | None = None
        self._http: S3Http | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = anyio.Lock()
        self._redacted: set[bytes] = set()
        forks.register(self)

    def after_fork_in_child(self) -> None:
        """In a forked child: forget the parent's client and connections (never
        closed from here: their sockets are the parent's); the next call opens new ones."""
        forks.abandon(self._client and self._client.client, self._stack, self._http)
        self._drop()
        self._loop = None

    # keys ------------------------------------------------------------------------------
    def key(self, path: str) -> str:
        """The object key of a normalised path (``"/"`` is the root prefix)."""
        return self.root_key + ("" if path == "/" else path)

    def path(self, key: str) -> str:
        """The path, relative to the root, of a key under the root."""
        return key[len(self.root_key) :]

    # lifecycle --------------------------------------------------------------------------
    async def client(self) -> boto.BotoClient:
        """The opened client (credentials, endpoint), created on first use.

        A client belongs to the event loop it was created on: used from
        another loop (a second ``asyncio.run`` with the same operator), the
        old one is dropped and a new one created.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._drop()
            self._loop = loop
        opened = self._client
        if opened is not None:
            return opened
        async with self._lock:
            if self._client is None:
                await self._open()
            assert self._client is not None
            return self._client

    async def http(self) -> S3Http:
        """The transport, opened with the client."""
        await self.client()
        assert self._http is not None
        return self._http

    def _drop(self) -> None:
        # the old loop is gone (or another one): its connections cannot be closed from here
        self._client, self._stack, self._http = None, None, None
        self._lock = anyio.Lock()

    async def open(self) -> None:
        """Open the client and the transport now (``async with op``)."""
        await self.client()

    async def close(self) -> None:
        """Close the client and its connections; a later call opens new ones."""
        if self._loop is not asyncio.get_running_loop():
            self._drop()
            self._loop = None
            return
        async with self._lock:
            stack, self._stack, self._client, self._http = self._stack, None, None, None
            if stack is not None:
                await stack.aclose()

    async def _open(self) -> None:
        stack = contextlib.AsyncExitStack()
        opened = await boto.open_client(self.config, stack)
        http = S3Http(
            endpoint=opened.endpoint,
            bucket=self.bucket,
            region=opened.region,
            virtual_host=self.config.enable_virtual_host_style,
            credentials=opened.credentials,
            limits=HttpLimits.of(self.config),
            transport=self.config.http_transport,
        )
        stack.push_async_callback(http.close)
        self._client, self._http, self._stack = opened, http, stack

    def _watch(self, spec: SseSpec | None) -> None:
        # the SSE-C key of a layer is first seen here: keep it out of every log
        if isinstance(spec, CustomerKey) and spec.key not in self._redacted:
            install_redaction(REDACTED_LOGGERS, (spec.key_b64,))
            self._redacted.add(spec.key)

    async def _call(self, request: S3Request) -> ObjectAnswer:
        return ObjectAnswer(await (await self.http()).call(request))

    async def _document(self, request: S3Request, root: str) -> str:
        """The text of the answer's XML document; an ``Error`` document answered
        with 200 (CopyObject, UploadPartCopy, CompleteMultipartUpload) is an error."""
        body = await (await self.http()).document(request)
        found, text = document(body, root, "Error")
        if found == "Error":
            # as botocore does: a 500, so that a retry can tell
            raise S3ErrorAnswer(500, field(text, "Code") or "InternalError", field(text, "Message") or "", {})
        return text

    # objects ------------------------------------------------------------------------------
    async def head_object(self, key: str, op: OpStat) -> ObjectAnswer:
        """HeadObject with ``op``'s version and conditions."""
        self._watch(op.sse)
        return await self._call(self.requests.head_object(key, op))

    async def get_object(self, key: str, op: OpRead, *, range_header: str | None) -> ObjectAnswer:
        """GetObject with ``op``'s version and conditions; ``range_header``
        (``bytes=a-b``) when only part of the object is wanted. The answer's
        ``body`` is to be read and closed."""
        self._watch(op.sse)
        response = await (await self.http()).send(self.requests.get_object(key, op, range_header))
        return ObjectAnswer(response, LeanBody(response))

    async def put_object(self, key: str, body: Buffer, op: OpWrite) -> ObjectAnswer:
        """PutObject of ``body`` with ``op``'s headers, metadata and conditions."""
        self._watch(op.sse)
        return await self._call(self.requests.put_object(key, body, op))

    async def copy_object(self, src_key: str, dst_key: str, op: OpCopy) -> None:
        """CopyObject (sources up to 5 GiB; metadata is copied with the object)."""
        self._watch(op.sse)
        await self._document(self.requests.copy_object(src_key, dst_key, op), "CopyObjectResult")

    async def delete_object(self, key: str, *, version: str | None = None) -> None:
        """DeleteObject (of one version when ``version`` is given)."""
        await (await self.http()).call(self.requests.delete_object(key, version))

    async def delete_objects(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        """DeleteObjects of up to 1000 keys, in quiet mode: ``(key, code, message)`` of each failure."""
        return delete_errors(await (await self.http()).document(self.requests.delete_objects(keys)))

    # listing ------------------------------------------------------------------------------
    async def list_objects(
        self, prefix: str, *, versions: bool = False, **params: str | int | None
    ) -> ListPage:
        """One page of ListObjectsV2, or with ``versions`` of ListObjectVersions
        (``params``: see :meth:`.builder.Requests.list_objects`)."""
        body = await (await self.http()).document(
            self.requests.list_objects(prefix, versions=versions, **params)
        )
        return parse_listing(body, versions=versions)

    async def any_object_below(self, prefix: str) -> bool:
        """Whether an object or a common prefix lies below ``prefix``
        (ListObjectsV2 of at most one key, delimited by ``/``)."""
        page = await self.list_objects(prefix, delimiter="/", max_keys=1)
        return bool(page.files or page.prefixes)

    # multipart ----------------------------------------------------------------------------
    async def create_multipart_upload(self, key: str, op: OpWrite) -> str:
        """CreateMultipartUpload with ``op``'s headers and metadata; the upload id."""
        self._watch(op.sse)
        text = await self._document(
            self.requests.create_multipart_upload(key, op), "InitiateMultipartUploadResult"
        )
        return field(text, "UploadId") or ""

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: Buffer, op: OpWrite
    ) -> tuple[str | None, str | None]:
        """UploadPart ``number`` (1-based): its etag, and the CRC32C sent
        (CompleteMultipartUpload repeats it)."""
        self._watch(op.sse)
        request = self.requests.upload_part(key, upload_id, number, body, op)
        sent = request.headers.get("x-amz-checksum-crc32c")
        answer = await self._call(request)
        return answer.metadata.etag, answer.checksum("crc32c") or sent

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
    ) -> tuple[str | None, str | None]:
        """UploadPartCopy: bytes ``[first, last]`` of ``src_key`` as part ``number``,
        of the source version whose etag is ``if_match``; the part's etag and CRC32C."""
        self._watch(op.sse)
        request = self.requests.upload_part_copy(
            src_key, (key, upload_id, number), (first, last), op, if_match
        )
        text = await self._document(request, "CopyPartResult")
        return field(text, "ETag"), field(text, "ChecksumCRC32C")

    async def complete_multipart_upload(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[Part],
        op: OpWrite,
        *,
        checksums: Mapping[int, Mapping[str, str]] | None = None,
    ) -> None:
        """CompleteMultipartUpload of ``parts`` with ``op``'s conditions
        (``if_not_exists`` → ``If-None-Match: *``, ``if_match``).

        ``checksums`` maps part numbers to their ``Checksum*`` fields, needed
        when the upload was created with a checksum algorithm.
        """
        self._watch(op.sse)
        request = self.requests.complete_multipart_upload(key, upload_id, parts, op, checksums)
        await self._document(request, "CompleteMultipartUploadResult")

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """AbortMultipartUpload."""
        await (await self.http()).call(self.requests.abort_multipart_upload(key, upload_id))

    async def list_parts(
        self, key: str, upload_id: str, *, part_number_marker: str | None = None, sse: SseSpec | None = None
    ) -> tuple[list[PartRecord], str | None]:
        """One page of ListParts (with the SSE-C key of an SSE-C upload): the parts and the next marker."""
        self._watch(sse)
        request = self.requests.list_parts(key, upload_id, part_number_marker, sse)
        parts, truncated, marker = parse_list_parts(await (await self.http()).document(request))
        return parts, marker if truncated and marker else None

    async def list_multipart_uploads(
        self, prefix: str, markers: tuple[str, str | None] | None = None
    ) -> tuple[list[UploadRecord], tuple[str, str | None] | None]:
        """One page of ListMultipartUploads after ``markers`` (key, upload id):
        the uploads and the markers of the next page (``None`` after the last)."""
        key_marker, upload_marker = markers or (None, None)
        request = self.requests.list_multipart_uploads(prefix, key_marker, upload_marker)
        uploads, truncated, next_key, next_upload = parse_list_uploads(
            await (await self.http()).document(request)
        )
        return uploads, (next_key, next_upload) if truncated and next_key else None

    # presign ------------------------------------------------------------------------------
    async def presign(self, key: str, op: OpPresign) -> tuple[str, dict[str, str]]:
        """A presigned URL for ``op.method`` and the headers to send with it (see :func:`.client.presign`)."""
        self._watch(op.sse)
        opened = await self.client()
        return await boto.presign(opened.client, self.requests, self.bucket, key, op)
