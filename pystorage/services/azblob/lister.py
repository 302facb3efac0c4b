"""Listing on azblob: List Blobs, paginated by ``NextMarker``.

Non-recursive listings use the ``/`` delimiter (sub-directories come back
as ``BlobPrefix`` entries, yielded as ``name/``); ``dir/`` marker blobs are
directories; the listed directory's own marker is never yielded.

``start_after`` is applied here, on the client: the service's ``marker``
is an opaque continuation token on Azure (Azurite happens to use the blob
name), so it cannot be built from a path. Entries up to ``start_after``
are skipped as pages arrive.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator

from ...raw.ops import OpList
from ...raw.pages import paginate
from ...types import Entry, EntryMode, Metadata
from .core import AzblobCore, ListPage
from .errors import map_errors

__all__ = ["MAX_PAGE", "list_pages"]

#: the most entries List Blobs returns per page
MAX_PAGE = 5000


def _page_size(op: OpList) -> int:
    return MAX_PAGE if not op.limit else max(1, min(MAX_PAGE, op.limit))


async def list_pages(core: AzblobCore, path: str, op: OpList) -> AsyncIterator[list[Entry]]:
    """The entries below directory ``path`` (with every version when ``op.versions``),
    one list per List Blobs page."""
    prefix = core.key(path)
    own = core.path(prefix)
    after = op.start_after

    async def fetch(marker: str | None) -> tuple[ListPage, str | None]:
        with map_errors("list", path, container=core.container):
            page = await core.list_blobs(
                prefix,
                delimiter=None if op.recursive else "/",
                marker=marker,
                max_results=_page_size(op),
                versions=op.versions,
            )
        return page, page.next_marker or None

    async for page in paginate(fetch):
        files = []
        for name, meta, current in page.blobs:
            if not op.versions and not current:
                continue
            if name.endswith("/"):
                meta.mode = EntryMode.DIR
            files.append(Entry(core.path(name), meta))
        dirs = [Entry(core.path(p), Metadata(mode=EntryMode.DIR)) for p in page.prefixes if p != prefix]
        yield [
            entry
            for entry in heapq.merge(files, dirs, key=lambda e: e.path)
            if entry.path != own and (after is None or entry.path > after)
        ]
