"""The s3 accessor: S3 semantics on top of :class:`~pystorage.services.s3.core.S3Core`.

Writes larger than one part go through the core multipart engine, which
drives the primitives here (initiate / write_part / complete / abort); reads
stream the GetObject body; every SDK call runs inside
:func:`~pystorage.services.s3.errors.map_errors`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ...errors import NotFound, Unexpected
from ...raw import capabilities as caps
from ...raw.accessor import AccessorInfo, Buffer, RawReader, ServiceAccessor
from ...raw.checksum import VerifyingReader
from ...raw.etags import quote_etag
from ...raw.http import answer_mismatch, range_header, skip_refused
from ...raw.objects import BatchFailure, batch_delete_error, copy_source, create_marker, nbytes, stat_path
from ...raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ...raw.redact import install_redaction
from ...types import Capability, Entry, Metadata, Part, PresignedRequest, UploadInfo
from . import copier, lister
from .answers import ObjectAnswer
from .config import S3Config, parse_capability_override
from .core import REDACTED_LOGGERS, S3Core
from .errors import SCHEME, classify, map_errors
from .reader import S3Reader, parse_content_range

__all__ = ["CAPABILITY", "S3Accessor", "capability_for"]

MiB = 1024 * 1024
GiB = 1024 * MiB

#: what the s3 service can do against AWS S3 (before config adjustments)
CAPABILITY = Capability(
    # S3 takes If-None-Match only as "*" on writes (that is if_not_exists)
    **{**caps.OBJECT_STORE, "write_with_if_none_match": False},
    write_can_multi=True,
    write_can_append=False,
    write_multi_min_size=5 * MiB,
    write_multi_max_size=5 * GiB,
    write_multi_max_parts=10_000,
    write_total_max_size=5 * 1024 * GiB,
    multipart=True,
    delete_max_size=1000,
    **caps.PRESIGN,
)


def capability_for(config: S3Config) -> Capability:
    """The capability of an accessor built from ``config``: :data:`CAPABILITY`
    adjusted by ``enable_versioning``, ``disable_write_with_if_match``,
    ``batch_max_operations`` and ``capability_override``."""
    changes: dict[str, Any] = {"delete_max_size": config.batch_max_operations}
    if config.enable_versioning:
        changes.update(caps.VERSIONS)
    if config.disable_write_with_if_match:
        changes["write_with_if_match"] = False
    changes.update(parse_capability_override(config.capability_override))
    return CAPABILITY.replace(**changes)


class S3Accessor(ServiceAccessor[S3Core]):
    """An S3 (or S3-compatible) bucket, under an optional root prefix.

    Args:
        config: the parsed service config.
    """

    def __init__(self, config: S3Config) -> None:
        self._config = config
        self.config_sse = config.sse_spec()
        self._core = S3Core(config)
        assert config.bucket is not None
        self._info = AccessorInfo(SCHEME, self._core.root, config.bucket, capability_for(config))
        install_redaction(
            REDACTED_LOGGERS,
            (
                config.access_key_id,
                config.secret_access_key,
                config.session_token,
                config.server_side_encryption_customer_key,
            ),
        )

    def _errors(self, operation: str, path: str, *, conditional: bool = False) -> Any:
        return map_errors(operation, path, bucket=self._core.bucket, conditional=conditional)

    # lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        with self._errors("open", ""):
            await self._core.open()

    async def close(self) -> None:
        await self._core.close()

    # metadata ----------------------------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        key = self._core.key(path)

        async def head() -> Metadata:
            return (await self._core.head_object(key, op)).metadata

        below = functools.partial(self._core.any_object_below, key)
        return await stat_path(path, head, below, errors=self._errors, service=SCHEME)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await create_marker(self, path)

    # reads ---------------------------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        with self._errors("read", path):
            response = await self._core.get_object(
                self._core.key(path), op, range_header=range_header(op.offset, op.size)
            )
        return self._reader(path, op, response)

    def _reader(self, path: str, op: OpRead, response: ObjectAnswer) -> RawReader:
        body = response.body
        assert body is not None
        status = response.status
        body_length = response.content_length
        content_range = parse_content_range(response.content_range)
        meta = response.metadata
        total: int | None = None
        if content_range is not None:
            body_start, body_last, total = content_range
            meta.content_length = total
            if isinstance(body_length, int) and body_length != body_last - body_start + 1:
                body.close()
                what = f"Content-Range {body_start}-{body_last} but {body_length} bytes of body"
                raise answer_mismatch(path, what, service=SCHEME)
        elif status == 206:
            body_start = op.offset  # a 206 without Content-Range: trust that it is the range asked for
            meta.content_length = None
        else:
            body_start = 0  # the whole object, whatever was asked
        skip = op.offset - body_start
        if skip < 0:
            body.close()
            raise Unexpected(
                f"the service answered bytes from {body_start}, past the requested offset {op.offset}",
                operation="read",
                path=path,
                service=SCHEME,
            )
        if skip > self._config.max_range_skip:
            body.close()
            raise skip_refused(path, skip, self._config.max_range_skip, service=SCHEME)
        if body_start == 0 and content_range is None and isinstance(body_length, int):
            meta.content_length = total = body_length
        # the bytes this answer must deliver: what was asked, clamped to the
        # object's end; a body that ends sooner is a temporary error
        size: int | None = None
        if total is not None:
            size = max(0, total - op.offset)
        elif isinstance(body_length, int):
            size = max(0, body_length - skip)
        if op.size is not None:
            size = op.size if size is None else min(size, op.size)
        reader: RawReader = S3Reader(body, skip=skip, size=size, metadata=meta, path=path)
        whole = op.offset == 0 and skip == 0 and (op.size is None or (total is not None and op.size >= total))
        if whole and self._config.checksum_algorithm is not None:
            expected = _whole_object_checksum(response, meta)
            if expected is not None:
                reader = VerifyingReader(reader, *expected, path=path, service=SCHEME)
        return reader

    # writes --------------------------------------------------------------------------------
    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        with self._errors("write", path, conditional=op.if_match is not None):
            response = await self._core.put_object(self._core.key(path), data, op)
        meta = response.metadata
        meta.content_length = nbytes(data)
        return meta

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        with self._errors("create_multipart", path):
            return await self._core.create_multipart_upload(self._core.key(path), op)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        with self._errors("write_part", path):
            key = self._core.key(path)
            etag, checksum = await self._core.upload_part(key, upload_id, number, data, op)
        return Part(number, quote_etag(etag) or "", nbytes(data), checksum)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        key = self._core.key(path)
        checksums = None
        algorithm = self._config.checksum_algorithm
        if algorithm is not None and algorithm != "md5":
            field = "Checksum" + algorithm.upper()
            if algorithm == "crc32c" and all(part.checksum for part in parts):
                checksums = {part.number: {field: part.checksum or ""} for part in parts}
            else:
                checksums = await self._part_checksums(path, upload_id, field, op)
        size = sum(part.size for part in parts)
        try:
            with self._errors("complete_multipart", path, conditional=op.if_match is not None):
                await self._core.complete_multipart_upload(key, upload_id, parts, op, checksums=checksums)
        except NotFound:
            # NoSuchUpload: a Complete whose answer was lost and that was sent
            # again finds its upload gone. It succeeded if the object now is
            # exactly these parts (the multipart ETag is derived from them).
            meta = await self._stat_after_write(path, op)
            if meta.etag != _multipart_etag(parts) or meta.content_length != size:
                raise
            return meta
        # the stored object's etag, version and date: some servers (rclone)
        # answer Complete with an ETag that HEAD and listings never show
        return await self._stat_after_write(path, op)

    async def _stat_after_write(self, path: str, op: OpWrite) -> Metadata:
        with self._errors("complete_multipart", path):
            response = await self._core.head_object(self._core.key(path), OpStat(sse=op.sse))
        return response.metadata

    async def _part_checksums(
        self, path: str, upload_id: str, field: str, op: OpWrite
    ) -> dict[int, dict[str, str]]:
        # CompleteMultipartUpload must repeat each part's checksum when the
        # upload was created with a checksum algorithm; Part does not carry it
        checksums: dict[int, dict[str, str]] = {}
        pages = lister.part_pages(self._core, path, upload_id, sse=op.sse, operation="complete_multipart")
        async for page in pages:
            checksums.update({p.number: {field: p.checksums[field]} for p in page if field in p.checksums})
        return checksums

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        try:
            with self._errors("abort_multipart", path):
                await self._core.abort_multipart_upload(self._core.key(path), upload_id)
        except NotFound:
            pass  # already aborted (or completed): nothing is left to free

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        return lister.list_parts(self._core, path, upload_id, sse=self._config.sse_spec())

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        return lister.list_uploads(self._core, prefix)

    # deletes -------------------------------------------------------------------------------
    async def delete(self, path: str, op: OpDelete) -> None:
        try:
            with self._errors("delete", path):
                await self._core.delete_object(self._core.key(path), version=op.version)
        except NotFound:
            pass  # some S3-compatibles answer 404 for a missing key

    async def delete_batch(self, paths: Sequence[str]) -> None:
        size = self._config.batch_max_operations
        for start in range(0, len(paths), size):
            await self._delete_objects(paths[start : start + size])

    async def _delete_objects(self, paths: Sequence[str]) -> None:
        with self._errors("delete", paths[0] if len(paths) == 1 else ""):
            answered = await self._core.delete_objects([self._core.key(p) for p in paths])
        failed: list[BatchFailure] = []
        for key, code, _ in answered:
            if code != "NoSuchKey":
                code = code or "InternalError"
                failed.append((self._core.path(key), code, *classify(None, code)))
        if failed:
            raise batch_delete_error(failed, len(paths), service=SCHEME)

    # listing ---------------------------------------------------------------------------------
    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        return lister.list_pages(self._core, path, op)

    # server-side -------------------------------------------------------------------------
    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        # one HEAD decides: CopyObject refuses sources above 5 GiB
        source = await copy_source(self, src, op)
        if (source.content_length or 0) > self._config.copy_multipart_threshold:
            await copier.copy_in_parts(self, self._core, src, dst, source, op)
            return
        with self._errors("copy", src):
            await self._core.copy_object(self._core.key(src), self._core.key(dst), op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.copy(src, dst, OpCopy(sse=op.sse))
        await self.delete(src, OpDelete())

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        with self._errors("presign", path):
            url, headers = await self._core.presign(self._core.key(path), op)
        return PresignedRequest(op.method, url, headers)


def _multipart_etag(parts: Sequence[Part]) -> str | None:
    """The ETag S3 gives an object completed from ``parts``: the MD5 of the
    parts' binary MD5s, ``-`` and the part count (``None`` if a part etag is
    not an MD5)."""
    digests = []
    for part in parts:
        etag = part.etag.strip('"')
        if not _MD5_HEX.match(etag):
            return None
        digests.append(bytes.fromhex(etag))
    return f'"{hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()}-{len(parts)}"'


_MD5_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
_MD5_ETAG = re.compile(r'^"?[0-9a-fA-F]{32}"?$')


def _whole_object_checksum(response: ObjectAnswer, meta: Metadata) -> tuple[str, str] | None:
    """``(algorithm, base64 digest)`` a whole-object answer can be verified
    against: its ``x-amz-checksum-crc32c`` when it is a full-object one (not
    ``...-N``, a checksum of part checksums), else a single-part ETag, which
    is the body's MD5 unless the object is encrypted with SSE-KMS or SSE-C."""
    crc = response.checksum("crc32c")
    if isinstance(crc, str) and "-" not in crc:
        return "crc32c", crc
    etag = meta.etag
    encrypted = meta.encryption is not None and meta.encryption.algorithm != "AES256"
    if etag is not None and not encrypted and _MD5_ETAG.match(etag):
        return "md5", base64.b64encode(bytes.fromhex(etag.strip('"'))).decode()
    return None
