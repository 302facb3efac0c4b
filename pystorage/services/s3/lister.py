"""Paginated listings: objects (ListObjectsV2), versions, multipart uploads and parts.

Each lister is an async generator that asks for one page at a time, so a
listing that is abandoned early sends no further request.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from ...raw.ops import OpList
from ...sse import SseSpec
from ...types import Entry, EntryMode, Metadata, Part, UploadInfo
from .core import S3Core, parse_time, quote_etag
from .errors import map_errors

__all__ = ["list_entries", "list_parts", "list_uploads", "list_versions"]

#: the most keys S3 returns per page
MAX_PAGE = 1000


def _page_size(op: OpList) -> int:
    return MAX_PAGE if not op.limit else max(1, min(MAX_PAGE, op.limit))


def _file_entry(core: S3Core, item: Mapping[str, Any], *, versioned: bool = False) -> Entry:
    key: str = item["Key"]
    mode = EntryMode.DIR if key.endswith("/") else EntryMode.FILE
    version = item.get("VersionId") if versioned else None
    meta = Metadata(
        mode=mode,
        content_length=item.get("Size"),
        etag=quote_etag(item.get("ETag")),
        last_modified=parse_time(item.get("LastModified")),
        version=str(version) if version else None,
    )
    return Entry(core.path(key), meta)


def _merge(
    core: S3Core, prefix: str, files: Iterable[Entry], prefixes: Iterable[Mapping[str, Any]]
) -> list[Entry]:
    """Contents and CommonPrefixes of one page, in key order, without the listed dir itself."""
    dirs = [
        Entry(core.path(p["Prefix"]), Metadata(mode=EntryMode.DIR))
        for p in prefixes
        if p.get("Prefix") and p["Prefix"] != prefix
    ]
    own = core.path(prefix)
    kept = [e for e in files if e.path != own]
    return list(heapq.merge(kept, dirs, key=lambda e: e.path))


async def list_entries(core: S3Core, path: str, op: OpList) -> AsyncIterator[Entry]:
    """The entries below directory ``path`` (ListObjectsV2, paginated).

    Non-recursive listings use the ``/`` delimiter: sub-directories come from
    CommonPrefixes as ``name/`` entries. ``dir/`` marker objects are
    directories; the listed directory's own marker is never yielded.
    """
    prefix = core.key(path)
    start_after = core.key(op.start_after) if op.start_after is not None else None
    token: str | None = None
    while True:
        with map_errors("list", path, bucket=core.bucket):
            page = await core.list_objects_v2(
                prefix,
                delimiter=None if op.recursive else "/",
                start_after=start_after if token is None else None,
                continuation_token=token,
                max_keys=_page_size(op),
            )
        files = [_file_entry(core, item) for item in page.get("Contents") or ()]
        for entry in _merge(core, prefix, files, page.get("CommonPrefixes") or ()):
            yield entry
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return


async def list_versions(core: S3Core, path: str, op: OpList) -> AsyncIterator[Entry]:
    """Every version of the objects below ``path`` (ListObjectVersions,
    paginated), newest first for each key; delete markers are skipped."""
    prefix = core.key(path)
    key_marker = core.key(op.start_after) if op.start_after is not None else None
    version_marker: str | None = None
    while True:
        with map_errors("list", path, bucket=core.bucket):
            page = await core.list_object_versions(
                prefix,
                delimiter=None if op.recursive else "/",
                key_marker=key_marker,
                version_id_marker=version_marker,
                max_keys=_page_size(op),
            )
        files = [_file_entry(core, item, versioned=True) for item in page.get("Versions") or ()]
        for entry in _merge(core, prefix, files, page.get("CommonPrefixes") or ()):
            yield entry
        if not page.get("IsTruncated"):
            return
        key_marker = page.get("NextKeyMarker")
        version_marker = page.get("NextVersionIdMarker")
        if not key_marker:
            return


async def list_parts(
    core: S3Core, path: str, upload_id: str, *, sse: SseSpec | None = None
) -> AsyncIterator[Part]:
    """The parts the service holds for an upload (ListParts, paginated; ``sse``:
    the SSE-C key of an SSE-C upload)."""
    key = core.key(path)
    marker: int | None = None
    while True:
        with map_errors("list_parts", path, bucket=core.bucket):
            page = await core.list_parts(key, upload_id, part_number_marker=marker, sse=sse)
        for item in page.get("Parts") or ():
            number, size = int(item["PartNumber"]), int(item.get("Size") or 0)
            yield Part(number, quote_etag(item.get("ETag")) or "", size, item.get("ChecksumCRC32C"))
        next_marker = page.get("NextPartNumberMarker")
        if not page.get("IsTruncated") or not next_marker:
            return
        marker = int(next_marker)


async def list_uploads(core: S3Core, prefix: str) -> AsyncIterator[UploadInfo]:
    """Multipart uploads in progress whose path starts with ``prefix``
    (ListMultipartUploads, paginated)."""
    key_prefix = core.key(prefix) if prefix else core.root_key
    key_marker: str | None = None
    upload_marker: str | None = None
    while True:
        with map_errors("list_multipart_uploads", prefix, bucket=core.bucket):
            page = await core.list_multipart_uploads(
                key_prefix, key_marker=key_marker, upload_id_marker=upload_marker
            )
        for item in page.get("Uploads") or ():
            yield UploadInfo(core.path(item["Key"]), item["UploadId"], parse_time(item.get("Initiated")))
        if not page.get("IsTruncated"):
            return
        key_marker = page.get("NextKeyMarker")
        upload_marker = page.get("NextUploadIdMarker")
        if not key_marker:
            return
