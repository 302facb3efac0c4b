"""Paginated listings: objects (ListObjectsV2), versions, multipart uploads and parts.

Each lister is the one pagination loop of :func:`pystorage.raw.pages.paginate`
around a page fetch, so a listing that is abandoned early sends no further
request. Object listings yield one list of entries per service page (the
accessor's ``list_pages``): the entries are built straight from the parsed
page, with no per-entry generator hop.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator

from ...raw.etags import quote_etag
from ...raw.ops import OpList
from ...raw.pages import next_token, paginate
from ...sse import SseSpec
from ...types import Entry, EntryMode, Metadata, Part, UploadInfo, new_entry, new_metadata
from .core import S3Core
from .documents import ListPage, PartRecord
from .errors import map_errors

__all__ = ["list_pages", "list_parts", "list_uploads", "part_pages"]

#: the most keys S3 returns per page
MAX_PAGE = 1000

_FILE, _DIR = EntryMode.FILE, EntryMode.DIR


def _page_size(op: OpList) -> int:
    return MAX_PAGE if not op.limit else max(1, min(MAX_PAGE, op.limit))


def _entries(core: S3Core, prefix: str, page: ListPage) -> list[Entry]:
    """Contents (or versions) and CommonPrefixes of one page, in key order,
    without the listed dir itself; ``dir/`` marker objects are directories."""
    strip = len(core.root_key)
    files: list[Entry] = []
    append = files.append
    for key, size, etag, when, version in page.files:
        if key == prefix:
            continue
        if etag and etag[0] != '"' and etag[:2] != "W/":
            etag = f'"{etag}"'  # listings may send it bare (rclone); quote_etag inline
        meta = new_metadata(_DIR if key[-1:] == "/" else _FILE, size, etag or None, when)
        if version:
            meta.version = version
        append(new_entry(key[strip:], meta))
    if not page.prefixes:
        return files
    dirs = [Entry(p[strip:], Metadata(mode=_DIR)) for p in page.prefixes if p != prefix]
    return list(heapq.merge(files, dirs, key=lambda e: e.path))


def list_pages(core: S3Core, path: str, op: OpList) -> AsyncIterator[list[Entry]]:
    """The entries below directory ``path``, one list per page: ListObjectsV2,
    or ListObjectVersions with ``op.versions`` (newest first for each key;
    delete markers are skipped).

    Non-recursive listings use the ``/`` delimiter: sub-directories come from
    CommonPrefixes as ``name/`` entries. The listed directory's own marker is
    never yielded.
    """
    prefix = core.key(path)
    delimiter = None if op.recursive else "/"
    after = core.key(op.start_after) if op.start_after is not None else None
    size = _page_size(op)

    async def objects(token: str | None) -> tuple[list[Entry], str | None]:
        with map_errors("list", path, bucket=core.bucket):
            page = await core.list_objects(
                prefix,
                delimiter=delimiter,
                start_after=after if token is None else None,
                continuation_token=token,
                max_keys=size,
            )
        return _entries(core, prefix, page), next_token(page.truncated, page.token)

    async def versions(
        markers: tuple[str, str | None] | None,
    ) -> tuple[list[Entry], tuple[str, str | None] | None]:
        key_marker, version_marker = markers or (after, None)
        with map_errors("list", path, bucket=core.bucket):
            page = await core.list_objects(
                prefix,
                versions=True,
                delimiter=delimiter,
                key_marker=key_marker,
                version_id_marker=version_marker,
                max_keys=size,
            )
        token = next_token(page.truncated, page.token)
        return _entries(core, prefix, page), None if token is None else (token, page.version_marker)

    return paginate(versions) if op.versions else paginate(objects)


def part_pages(
    core: S3Core, path: str, upload_id: str, *, sse: SseSpec | None = None, operation: str = "list_parts"
) -> AsyncIterator[list[PartRecord]]:
    """The pages of ListParts for an upload (``sse``: the SSE-C key of an SSE-C upload)."""
    key = core.key(path)

    async def fetch(marker: str | None) -> tuple[list[PartRecord], str | None]:
        with map_errors(operation, path, bucket=core.bucket):
            return await core.list_parts(key, upload_id, part_number_marker=marker, sse=sse)

    return paginate(fetch)


async def list_parts(
    core: S3Core, path: str, upload_id: str, *, sse: SseSpec | None = None
) -> AsyncIterator[Part]:
    """The parts the service holds for an upload."""
    async for page in part_pages(core, path, upload_id, sse=sse):
        for part in page:
            yield Part(
                part.number, quote_etag(part.etag) or "", part.size, part.checksums.get("ChecksumCRC32C")
            )


async def list_uploads(core: S3Core, prefix: str) -> AsyncIterator[UploadInfo]:
    """Multipart uploads in progress whose path starts with ``prefix``
    (ListMultipartUploads, paginated)."""
    key_prefix = core.key(prefix) if prefix else core.root_key

    async def fetch(
        markers: tuple[str, str | None] | None,
    ) -> tuple[list[UploadInfo], tuple[str, str | None] | None]:
        with map_errors("list_multipart_uploads", prefix, bucket=core.bucket):
            uploads, following = await core.list_multipart_uploads(key_prefix, markers)
        return [UploadInfo(core.path(u.key), u.upload_id, u.initiated) for u in uploads], following

    async for page in paginate(fetch):
        for upload in page:
            yield upload
