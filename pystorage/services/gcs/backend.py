"""The gcs accessor: a thin shell over :mod:`pystorage.services.gcs.core`.

Each method is one JSON API call, or two where a condition has to be
checked first (see :mod:`pystorage.services.gcs.conditions`). Native errors
are mapped at this boundary by :func:`~pystorage.services.gcs.errors.map_errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp

from ...errors import IsADirectory, NotFound
from ...raw import capabilities as caps
from ...raw.accessor import AccessorInfo, Buffer, RawReader, RawWriter, ServiceAccessor
from ...raw.checksum import VerifyingReader
from ...raw.http import answer_mismatch, parse_content_range, skip_refused
from ...raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ...raw.redact import install_redaction
from ...sse import SseSpec
from ...types import Capability, Entry, EntryMode, Metadata, Part, PresignedRequest, UploadInfo
from .append import GcsAppendWriter
from .conditions import check_read_conditions, has_read_conditions, write_preconditions
from .config import GcsConfig
from .core import REDACTED_LOGGERS, GcsCore
from .errors import SERVICE, GcsHttpError, map_errors
from .lister import list_pages
from .metadata import goog_hash, metadata_from_resource
from .multipart import MAX_PARTS, CompositeUploads
from .presign import UrlSigner
from .reader import GcsReader
from .sse import RedactedHeaders, check_spec, sse_headers
from .writer import chunk_size, gcs_writer

__all__ = ["CAPABILITY", "GcsAccessor"]

#: what the gcs service can do without a service-account key; everything not listed is ``False``
CAPABILITY = Capability(
    **caps.OBJECT_STORE,
    stat_with_version=True,
    read_with_version=True,
    write_can_append=True,
    write_multi_max_size=5 * 1024**4,
    write_multi_max_parts=MAX_PARTS,
    write_total_max_size=5 * 1024**4,
    multipart=True,
    delete_with_version=True,
)


class GcsAccessor(ServiceAccessor[GcsCore]):
    """Objects in one Google Cloud Storage bucket (see ``docs/services/gcs.md``).

    Args:
        config: the parsed :class:`~pystorage.services.gcs.config.GcsConfig`.

    Raises:
        ConfigInvalid: an unreadable or invalid credential.

    Built on aiohttp (asyncio only): one shared session per accessor, opened
    on first use or by :meth:`open`, closed by :meth:`close`.
    """

    def __init__(self, config: GcsConfig) -> None:
        self._config = config
        self.config_sse = config.sse_spec()
        self._core = GcsCore(config)
        account = self._core.service_account
        self._signer = UrlSigner(account, self._core.endpoint) if account is not None else None
        capability = CAPABILITY.replace(**caps.PRESIGN) if self._signer is not None else CAPABILITY
        self._info = AccessorInfo(SERVICE, self._core.root, self._core.bucket, capability)
        self._uploads = CompositeUploads(self._core, self._resource)
        install_redaction(
            REDACTED_LOGGERS, (config.credential, config.token, config.server_side_encryption_customer_key)
        )

    def __repr__(self) -> str:
        core = self._core
        return f"GcsAccessor(bucket={core.bucket!r}, root={core.root!r}, auth={core.auth.mode})"

    # lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        """Open the shared aiohttp session now (it also opens on first use)."""
        await self._core.session()

    async def close(self) -> None:
        """Close the shared session; the next call opens a new one."""
        await self._core.close()

    # helpers ---------------------------------------------------------------------
    def _sse(self, sse: SseSpec | None, operation: str, path: str) -> None:
        """Refuse, before any request, a spec GCS cannot honour (``Kms``
        without a key, or with an S3 encryption context); the requests carry
        the spec through :mod:`pystorage.services.gcs.sse`."""
        check_spec(sse, operation=operation, path=path)

    def _resource(self, key: str, op: OpWrite) -> dict[str, Any]:
        resource: dict[str, Any] = {"name": key}
        for field, value in (
            ("contentType", op.content_type),
            ("cacheControl", op.cache_control),
            ("contentDisposition", op.content_disposition),
            ("contentEncoding", op.content_encoding),
            ("storageClass", self._config.default_storage_class),
        ):
            if value is not None:
                resource[field] = value
        if op.user_metadata:
            resource["metadata"] = dict(op.user_metadata)
        return resource

    def _check_write(self, path: str, op: OpWrite) -> None:
        self._sse(op.sse, "write", path)

    # metadata --------------------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        """``objects.get``; a directory (``a/``) exists when its marker or any
        object under it does (one ``objects.list`` of at most one item).
        Conditions are checked against the object's metadata."""
        self._sse(op.sse, "stat", path)
        with map_errors("stat", path):
            if path.endswith("/"):
                if path == "/":
                    return Metadata(mode=EntryMode.DIR, content_length=0)
                page = await self._core.objects_list(self._core.key(path), max_results=1)
                if page.get("items") or page.get("prefixes"):
                    return Metadata(mode=EntryMode.DIR, content_length=0)
                raise NotFound("directory not found", operation="stat", path=path, service=SERVICE)
            resource = await self._core.objects_get(self._core.key(path), generation=op.version, sse=op.sse)
            meta = metadata_from_resource(resource)
            check_read_conditions(meta, op, operation="stat", path=path)
            return meta

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        """A zero-byte ``dir/`` marker object."""
        with map_errors("create_dir", path):
            resource = {"name": self._core.key(path), "contentType": "application/x-directory"}
            if self._config.default_storage_class:
                resource["storageClass"] = self._config.default_storage_class
            params = {"predefinedAcl": self._config.predefined_acl}
            await self._core.objects_insert(self._core.key(path), b"", resource, params)

    # reads -------------------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        """A streamed media download of ``[offset, offset + size)``.

        Without conditions this is one request. With conditions the metadata
        is fetched and checked first and the download pinned to the checked
        generation (the media download takes no etag conditions).
        """
        self._sse(op.sse, "read", path)
        if path.endswith("/"):
            raise IsADirectory(
                "a path ending with '/' names a directory", operation="read", path=path, service=SERVICE
            )
        key = self._core.key(path)
        with map_errors("read", path):
            known: Metadata | None = None
            pinned: str | None = None
            if has_read_conditions(op):
                known = metadata_from_resource(
                    await self._core.objects_get(key, generation=op.version, sse=op.sse)
                )
                check_read_conditions(known, op, operation="read", path=path)
                pinned = None if op.version is not None else known.version
            ranged = op.offset > 0 or op.size is not None
            last = None if op.size is None else op.offset + op.size - 1
            response = await self._core.objects_get_media(
                key,
                generation=op.version,
                if_generation_match=pinned,
                byte_range=(op.offset, last) if ranged else None,
                sse=op.sse,
            )
            return self._reader(path, op, response, known)

    def _reader(
        self, path: str, op: OpRead, response: aiohttp.ClientResponse, known: Metadata | None
    ) -> RawReader:
        """The reader of a media answer, checked against what was asked:
        ``Content-Range`` must start at or before the offset and reach the
        end of the asked range (else a temporary error), a whole-object
        answer to a ranged request is skipped to the offset (up to
        ``max_range_skip``), and a whole download is verified against
        ``X-Goog-Hash``."""
        total: int | None = None
        body_start = 0
        content_range = response.headers.get("Content-Range") if response.status == 206 else None
        if content_range is not None:
            parsed = parse_content_range(content_range)
            if parsed is None:
                response.close()
                raise answer_mismatch(path, f"malformed Content-Range {content_range!r}", service=SERVICE)
            body_start, last, total = parsed
            if body_start > op.offset or (
                response.content_length is not None and response.content_length != last - body_start + 1
            ):
                response.close()
                raise answer_mismatch(
                    path,
                    f"Content-Range {content_range!r} ({response.content_length} bytes)"
                    f" for offset {op.offset}",
                    service=SERVICE,
                )
        elif response.content_length is not None:
            total = response.content_length
        skip = op.offset - body_start
        if skip > self._config.max_range_skip:
            response.close()
            raise skip_refused(path, skip, self._config.max_range_skip, service=SERVICE)
        size: int | None = None if total is None else max(0, total - op.offset)
        if op.size is not None:
            size = op.size if size is None else min(size, op.size)
        reader: RawReader = GcsReader(
            response,
            path=path,
            metadata=known,
            skip=skip,
            size=size,
            total=total if content_range is not None else None,
        )
        whole = op.offset == 0 and skip == 0 and (op.size is None or (total is not None and op.size >= total))
        if whole and self._config.checksum_algorithm is not None:
            expected = goog_hash(response.headers.get("X-Goog-Hash"), "crc32c")
            if expected is not None:
                reader = VerifyingReader(reader, "crc32c", expected, path=path, service=SERVICE)
        return reader

    # writes ------------------------------------------------------------------------
    async def write(self, path: str, op: OpWrite) -> RawWriter:
        """A streamed writer: a resumable upload in chunks of ``op.chunk``
        (rounded down to a multiple of 256 KiB; default 8 MiB), or a single
        insert when the object is smaller than one chunk. With ``op.append``
        the bytes are composed onto the object on close
        (:mod:`pystorage.services.gcs.append`)."""
        self._check_write(path, op)
        key = self._core.key(path)
        if op.append:
            return GcsAppendWriter(
                self._core,
                self._uploads,
                path=path,
                op=op,
                resource=self._resource(key, op),
                chunk=chunk_size(op.chunk),
            )

        async def preconditions() -> dict[str, str | None]:
            return await write_preconditions(self._core, key, op, path=path)

        return gcs_writer(
            self._core,
            path=path,
            chunk=chunk_size(op.chunk),
            key=key,
            resource=self._resource(key, op),
            preconditions=preconditions,
            sse=op.sse,
        )

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        """One ``objects.insert`` (multipart: metadata and bytes in one request);
        an append goes through the append writer instead."""
        if op.append:
            return await super().write_once(path, data, op)
        self._check_write(path, op)
        key = self._core.key(path)
        with map_errors("write", path):
            params = await write_preconditions(self._core, key, op, path=path)
            params["predefinedAcl"] = self._config.predefined_acl
            resource = await self._core.objects_insert(key, data, self._resource(key, op), params, sse=op.sse)
            return metadata_from_resource(resource)

    # multipart (parallel composite uploads, see multipart.py) -------------------------
    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        """Write the upload's marker object; return its id."""
        self._sse(op.sse, "create_multipart", path)
        return await self._uploads.initiate(path, op)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        """Upload part ``number`` as a temporary object (``etag`` = its generation)."""
        self._sse(op.sse, "write_part", path)
        return await self._uploads.write_part(path, upload_id, number, data, op)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        """Compose the parts into the object (32 per compose, in rounds); delete the temporaries."""
        self._sse(op.sse, "complete_multipart", path)
        return await self._uploads.complete(path, upload_id, parts, op)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        """Delete the upload's temporaries and marker; an unknown upload succeeds."""
        await self._uploads.abort(path, upload_id)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        """The upload's part objects, by number."""
        return self._uploads.list_parts(path, upload_id)

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        """The markers under the hidden folder whose path starts with ``prefix``."""
        return self._uploads.list_uploads(prefix)

    # deletes -------------------------------------------------------------------------
    async def delete(self, path: str, op: OpDelete) -> None:
        """``objects.delete`` (of ``generation=op.version`` if given); a missing object succeeds."""
        with map_errors("delete", path):
            try:
                await self._core.objects_delete(self._core.key(path), generation=op.version)
            except GcsHttpError as exc:
                if exc.status != 404:
                    raise

    # listing ---------------------------------------------------------------------------
    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        """``objects.list`` pages (see :mod:`pystorage.services.gcs.lister`)."""
        return list_pages(self._core, path, op)

    # server-side -------------------------------------------------------------------------
    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        """``objects.rewrite``, repeated with its ``rewriteToken`` until done
        (large or cross-location copies take several calls). The copy keeps
        the source's metadata."""
        self._sse(op.sse, "copy", src)
        with map_errors("copy", src):
            params = {"destinationPredefinedAcl": self._config.predefined_acl}
            await self._core.objects_rewrite(
                self._core.key(src), self._core.key(dst), params=params, sse=op.sse
            )

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        """Rewrite the source's current generation to ``dst``, then delete that
        generation of the source (``ifGenerationMatch``), so a source replaced
        in between is kept."""
        self._sse(op.sse, "rename", src)
        src_key = self._core.key(src)
        with map_errors("rename", src):
            source = await self._core.objects_get(src_key, sse=op.sse)
            generation = str(source.get("generation") or "") or None
            params = {
                "sourceGeneration": generation,
                "destinationPredefinedAcl": self._config.predefined_acl,
            }
            await self._core.objects_rewrite(src_key, self._core.key(dst), params=params, sse=op.sse)
            try:
                await self._core.objects_delete(src_key, if_generation_match=generation)
            except GcsHttpError as exc:
                if exc.status not in (404, 412):
                    raise

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        """A V4 signed URL (``GOOG4-RSA-SHA256``) from the configured service-account key."""
        self._sse(op.sse, "presign", path)
        if self._signer is None:
            raise self._unsupported("presign", path)
        headers = RedactedHeaders(sse_headers(op.sse, "presign"))
        if op.method == "PUT" and op.write is not None and op.write.content_type:
            headers["Content-Type"] = op.write.content_type
        signed = self._signer.sign(
            op.method, self._core.bucket, self._core.key(path), op.expire, headers=headers
        )
        # the CSEK headers the caller must send, in a dict whose repr hides the key
        return PresignedRequest(signed.method, signed.url, RedactedHeaders(signed.headers))
