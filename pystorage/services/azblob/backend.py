"""The azblob accessor: Azure Blob semantics on top of :class:`~pystorage.services.azblob.core.AzblobCore`.

Writes above one chunk go through the core multipart engine, which drives
block blobs here: ``initiate_multipart`` only names the upload, each part
is a Put Block whose id is derived from the upload id and the part number
(every id of one blob has the same length), ``complete_multipart`` is Put
Block List. Aborting needs no request: the service drops uncommitted
blocks after 7 days. Appends go through
:class:`~pystorage.services.azblob.writer.AzblobAppendWriter`.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio

from ...errors import ConditionNotMatch, Error, NotFound, RangeNotSatisfied, Unexpected, Unsupported
from ...raw import capabilities as caps
from ...raw.accessor import AccessorInfo, Buffer, EmptyReader, RawReader, RawWriter, ServiceAccessor
from ...raw.checksum import VerifyingReader
from ...raw.http import answer_mismatch, parse_content_range, range_header
from ...raw.multipart import MultipartWriter
from ...raw.objects import batch_delete_error, copy_source, create_marker, nbytes, rewrite_op, stat_path
from ...raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ...raw.redact import install_redaction
from ...sse import CustomerKey, SseSpec
from ...types import Capability, Entry, Metadata, Part, PresignedRequest
from . import lister
from .answers import metadata_from_headers
from .config import AzblobConfig, parse_capability_override
from .core import AzblobCore, block_id
from .errors import SCHEME, AzureErrorAnswer, classify, map_errors
from .reader import AzblobReader
from .signer import service_sas
from .writer import AzblobAppendWriter

__all__ = ["CAPABILITY", "REDACTED_LOGGERS", "AzblobAccessor", "capability_for"]

MiB = 1024 * 1024

#: the loggers below this driver (secrets are redacted from their records)
REDACTED_LOGGERS = ("aiohttp", "azure")

#: the longest a service SAS made by ``presign`` may live (7 days, as other services)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

#: what the azblob service can do against Azure (before config adjustments)
CAPABILITY = Capability(
    # Azure encrypts every blob at rest with Microsoft-managed keys: S3Managed needs no header
    **caps.OBJECT_STORE,
    write_can_multi=True,
    write_can_append=True,
    write_multi_max_size=4000 * MiB,
    write_multi_max_parts=50_000,
    write_total_max_size=50_000 * 4000 * MiB,
    # the explicit multipart API must list uploads in progress: Azure cannot list
    # uncommitted blocks across blobs
    multipart=False,
    delete_max_size=256,
    **caps.PRESIGN,
)


def capability_for(config: AzblobConfig, *, can_presign: bool = True) -> Capability:
    """The capability of an accessor built from ``config``: :data:`CAPABILITY` adjusted by
    ``enable_versioning``, ``batch_max_operations``, ``disable_batch``, the credential
    (presign needs the account key) and ``capability_override``."""
    changes: dict[str, Any] = {
        "delete_max_size": None if config.disable_batch else config.batch_max_operations
    }
    if config.enable_versioning:
        changes.update(caps.VERSIONS)
    if not can_presign:
        changes.update(dict.fromkeys(caps.PRESIGN, False))
    changes.update(parse_capability_override(config.capability_override))
    return CAPABILITY.replace(**changes)


def _bad_answer(path: str, what: str) -> Unexpected:
    return answer_mismatch(path, what, service=SCHEME)


def _no_blob_to_match(path: str) -> ConditionNotMatch:
    """The error of a write under ``if_match`` whose blob does not exist."""
    return ConditionNotMatch(
        "if_match: the blob does not exist", operation="write", path=path, service=SCHEME
    )


class AzblobAccessor(ServiceAccessor[AzblobCore]):
    """An Azure Blob Storage container, under an optional root prefix.

    Args:
        config: the parsed service config.
    """

    def __init__(self, config: AzblobConfig) -> None:
        self._config = config
        self._core = AzblobCore(config)
        assert config.container is not None
        self._info = AccessorInfo(
            SCHEME,
            self._core.root,
            config.container,
            capability_for(config, can_presign=self._core.signer is not None),
        )
        self._redacted: set[bytes] = set()
        install_redaction(REDACTED_LOGGERS, (config.account_key, config.sas_token, config.encryption_key))

    def _errors(self, operation: str, path: str) -> Any:
        return map_errors(operation, path, container=self._core.container)

    def _watch(self, spec: SseSpec | None) -> None:
        # a layer's customer key is first seen here: keep it out of the logs
        if isinstance(spec, CustomerKey) and spec.key not in self._redacted:
            install_redaction(REDACTED_LOGGERS, (spec.key_b64,))
            self._redacted.add(spec.key)

    # lifecycle -------------------------------------------------------------------------------
    async def close(self) -> None:
        await self._core.close()

    # metadata --------------------------------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        self._watch(op.sse)
        key = self._core.key(path)

        async def properties() -> Metadata:
            return metadata_from_headers(await self._core.get_blob_properties(key, op))

        below = functools.partial(self._core.any_blob_below, key)
        return await stat_path(path, properties, below, errors=self._errors, service=SCHEME)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await create_marker(self, path)

    # reads -------------------------------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        self._watch(op.sse)
        wanted = range_header(op.offset, op.size)
        with self._errors("read", path):
            response = await self._core.get_blob(self._core.key(path), op, range_header=wanted)
        try:
            return self._reader(path, op, response, wanted is not None)
        except BaseException:
            response.close()
            raise

    def _reader(self, path: str, op: OpRead, response: Any, ranged: bool) -> RawReader:
        headers = {name.lower(): value for name, value in response.headers.items()}
        meta = metadata_from_headers(headers)
        body_length = meta.content_length
        if body_length is None:
            raise _bad_answer(path, "no Content-Length")
        md5: str | None = None
        if response.status == 206:
            content_range = parse_content_range(headers.get("content-range"))
            if content_range is None:
                raise _bad_answer(path, "206 without a Content-Range")
            first, last, total = content_range
            if total is not None and first >= total and body_length == 0:
                # Azurite answers ``206 bytes n-(n-1)/n`` where Azure answers 416
                response.release()
                raise RangeNotSatisfied(
                    f"offset {op.offset} is at or past the end", operation="read", path=path, service=SCHEME
                )
            if first != op.offset or last < first or last - first + 1 != body_length:
                raise _bad_answer(
                    path, f"Content-Range {headers.get('content-range')!r} for offset {op.offset}"
                )
            if op.size is not None and body_length > op.size:
                raise _bad_answer(path, f"{body_length} bytes for a range of {op.size}")
            meta.content_length = total
            meta.content_md5 = headers.get("x-ms-blob-content-md5")
            # what was asked, clamped to the blob's end: a shorter (even
            # self-consistent) answer ends early and is a temporary error
            size = body_length if total is None else max(0, total - op.offset)
            if op.size is not None:
                size = min(size, op.size)
        else:
            # the whole blob (a server ignoring the range: skip up to the offset)
            rest = max(0, body_length - op.offset)
            size = rest if op.size is None else min(op.size, rest)
            if not ranged:
                md5 = headers.get("content-md5")
        skip = 0 if response.status == 206 else op.offset
        if size == 0:
            if skip:
                response.close()  # an unread body: drop the connection
            else:
                response.release()
            return EmptyReader(meta)
        reader = AzblobReader(response, size=size, metadata=meta, path=path, skip=skip)
        if md5 is None:
            return reader
        return VerifyingReader(reader, "md5", md5, path=path, service=SCHEME)  # the whole blob

    # writes ------------------------------------------------------------------------------------
    async def write(self, path: str, op: OpWrite) -> RawWriter:
        if not op.append:
            raise self._unsupported("write", path)  # the core multipart engine drives plain writes
        self._watch(op.sse)
        return AzblobAppendWriter(self._core, path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        self._watch(op.sse)
        try:
            with self._errors("write", path):
                headers = await self._core.put_blob(self._core.key(path), data, op)
        except NotFound as exc:
            if op.if_match is None:
                raise
            raise _no_blob_to_match(path) from exc
        meta = metadata_from_headers(headers)
        meta.content_length = nbytes(data)
        return meta

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        self._watch(op.sse)
        return uuid.uuid4().hex  # block blobs need no request to start

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        name = block_id(upload_id, number)
        with self._errors("write_part", path):
            await self._core.put_block(self._core.key(path), name, data, op)
        return Part(number, name, nbytes(data))

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        blocks = [("Latest", part.etag) for part in parts]
        key = self._core.key(path)
        try:
            with self._errors("complete_multipart", path):
                headers = await self._core.put_block_list(key, blocks, op)
        except NotFound as exc:
            if op.if_match is None:
                raise
            raise _no_blob_to_match(path) from exc
        except ConditionNotMatch:
            # a retried commit whose first answer was lost fails its own condition:
            # the blob then holds exactly this upload's blocks (ids embed the upload id)
            if not await self._committed(path, [part.etag for part in parts]):
                raise
            meta = await self.stat(path, OpStat(sse=op.sse))
            return meta
        meta = metadata_from_headers(headers)
        meta.content_length = sum(part.size for part in parts)
        return meta

    async def _committed(self, path: str, ids: list[str]) -> bool:
        with self._errors("complete_multipart", path):
            try:
                committed = await self._core.get_block_list(self._core.key(path))
            except AzureErrorAnswer as exc:
                if exc.status == 404:
                    return False
                raise
        return [name for name, _ in committed] == ids

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        # nothing to send: the service garbage-collects uncommitted blocks after 7 days
        return None

    # deletes -----------------------------------------------------------------------------------
    async def delete(self, path: str, op: OpDelete) -> None:
        try:
            with self._errors("delete", path):
                await self._core.delete_blob(self._core.key(path), version=op.version)
        except NotFound:
            pass

    async def delete_batch(self, paths: Sequence[str]) -> None:
        size = self._config.batch_max_operations
        for start in range(0, len(paths), size):
            chunk = paths[start : start + size]
            with self._errors("delete", chunk[0] if len(chunk) == 1 else ""):
                results = await self._core.delete_blobs_batch([self._core.key(p) for p in chunk])
            failed = [
                (self._core.path(r.key), f"{r.status} {r.code}", *classify(r.status, r.code))
                for r in results
                if r.status >= 300 and r.status != 404
            ]
            if failed:
                raise batch_delete_error(failed, len(chunk), service=SCHEME)

    # listing -----------------------------------------------------------------------------------
    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        return lister.list_pages(self._core, path, op)

    # server-side -------------------------------------------------------------------------------
    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        self._watch(op.sse)
        source = await copy_source(self, src, op)
        if isinstance(op.sse, CustomerKey):
            # Copy Blob cannot read a customer-key source: stream it through, the key on both sides
            await self._copy_through(src, dst, source, op.sse)
            return
        core = self._core
        with self._errors("copy", src):
            answer = await core.copy_blob(core.key(src), core.key(dst), source_etag=source.etag, sse=op.sse)
        status = answer.get("x-ms-copy-status", "success")
        copy_id = answer.get("x-ms-copy-id", "")
        deadline = time.monotonic() + self._config.copy_timeout
        while status == "pending":
            if time.monotonic() > deadline:
                with anyio.CancelScope(shield=True):
                    try:
                        with self._errors("copy", dst):
                            await core.abort_copy_blob(core.key(dst), copy_id)
                    except Error:
                        pass  # it may have finished meanwhile; the timeout is what matters
                raise Unexpected(
                    "the copy did not finish in copy_timeout", operation="copy", path=src, service=SCHEME
                )
            await anyio.sleep(self._config.copy_poll_interval)
            with self._errors("copy", dst):
                headers = await core.get_blob_properties(core.key(dst), OpStat(sse=op.sse))
            if headers.get("x-ms-copy-id", copy_id) != copy_id:
                raise ConditionNotMatch(
                    "another copy replaced the destination", operation="copy", path=dst, service=SCHEME
                )
            status = headers.get("x-ms-copy-status", "success")
        if status != "success":
            raise Unexpected(
                f"the copy ended {status!r}", operation="copy", path=src, service=SCHEME, temporary=True
            )

    async def _copy_through(self, src: str, dst: str, source: Metadata, spec: CustomerKey) -> None:
        reader = await self.read(src, OpRead(if_match=source.etag, sse=spec))
        writer = MultipartWriter(self, dst, rewrite_op(source, spec))
        try:
            while piece := await reader.read():
                await writer.write(piece)
            await writer.close()
        except BaseException:
            await writer.abort()
            raise
        finally:
            await reader.aclose()

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.copy(src, dst, OpCopy(sse=op.sse))
        await self.delete(src, OpDelete())

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        signer = self._core.signer
        if signer is None:
            raise self._unsupported("presign", path)
        if isinstance(op.sse, CustomerKey):
            raise Unsupported(
                "a presigned request cannot carry a customer-provided key",
                operation="presign",
                path=path,
                service=SCHEME,
            )
        seconds = op.expire.total_seconds()
        if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
            raise Unsupported(
                f"presign expire must be between 1 second and 7 days, got {op.expire}",
                operation="presign",
                path=path,
                service=SCHEME,
            )
        scope_headers = self._core.sse_headers(op.sse, write=True)
        permissions = {"GET": "r", "HEAD": "r", "PUT": "cw"}.get(op.method)
        if permissions is None:
            raise self._unsupported("presign", path)
        key = self._core.key(path)
        now = dt.datetime.now(dt.timezone.utc)
        query = service_sas(
            signer,
            container=self._core.container,
            blob=key,
            permissions=permissions,
            expiry=now + op.expire,
            encryption_scope=scope_headers.get("x-ms-encryption-scope"),
        )
        headers: dict[str, str] = {}
        if op.method == "PUT":
            headers = {"x-ms-blob-type": "BlockBlob", **scope_headers}
        return PresignedRequest(op.method, f"{self._core.blob_url(key)}?{query}", headers)
