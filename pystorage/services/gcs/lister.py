"""Listing: ``objects.list`` pages turned into entries relative to the root.

Non-recursive listings ask for ``delimiter="/"``: sub-directories come back
as ``prefixes`` and are merged with the page's objects in name order.
``start_after`` becomes ``startOffset`` (inclusive on GCS), and the equal key
is skipped here. The listed directory itself (its ``dir/`` marker object) is
never yielded, nor is anything in a hidden ``.pystorage-multipart/`` folder
(uploads in progress, see :mod:`pystorage.services.gcs.multipart`).
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator
from typing import Any

from ...raw.ops import OpList
from ...raw.pages import paginate
from ...types import Entry, EntryMode, Metadata, new_entry
from .core import GcsCore
from .errors import map_errors
from .metadata import metadata_from_resource
from .multipart import HIDDEN, is_hidden

__all__ = ["MAX_PAGE", "list_pages"]

_PATH = operator.attrgetter("path")

#: the largest page GCS returns
MAX_PAGE = 1000


def _page_entries(
    core: GcsCore, page: dict[str, Any], prefix: str, after: str | None
) -> tuple[list[Entry], bool]:
    """The entries of one page in name order — its objects (a ``dir/`` marker as
    a directory) and its ``prefixes``, without the listed directory itself, the
    names up to ``after`` and the hidden upload folders — and whether any of
    them is a directory."""
    cut = len(core.root) - 1  # core.rel, inlined: one slice per object
    skip = len(prefix)
    entries: list[Entry] = []
    dirs = False
    for item in page.get("items") or ():
        name = str(item.get("name", ""))
        if name == prefix or not name.startswith(prefix) or (after is not None and name <= after):
            continue
        if HIDDEN in name and is_hidden(name[skip:]):  # (a substring test first: no copy)
            continue
        meta = metadata_from_resource(item)
        if name.endswith("/"):
            meta = Metadata(mode=EntryMode.DIR, content_length=0, last_modified=meta.last_modified)
            dirs = True
        entries.append(new_entry(name[cut:], meta))
    prefixes = page.get("prefixes")
    if prefixes:
        for sub in prefixes:
            name = str(sub)
            if name == prefix or (after is not None and name <= after and not after.startswith(name)):
                continue
            if is_hidden(name[skip:]):
                continue
            entries.append(new_entry(name[cut:], Metadata(mode=EntryMode.DIR)))
            dirs = True
    # the paths share the root: their order is the names' order (objects and
    # prefixes each come sorted, so this is a merge of two runs)
    entries.sort(key=_PATH)
    return entries, dirs


async def list_pages(core: GcsCore, path: str, op: OpList) -> AsyncIterator[list[Entry]]:
    """The entries below directory ``path``, one list per ``objects.list`` page.

    ``op.limit`` sizes the pages of recursive listings (at most 1000); the
    Operator caps the total. Non-recursive listings use the server's page
    size: fake-gcs-server repeats ``prefixes`` on every page when
    ``maxResults`` is given, which would break the name order.
    """
    prefix = core.key(path)
    after = core.key(op.start_after) if op.start_after is not None else None
    start_offset = after if after is not None and after > prefix else None
    max_results = min(op.limit, MAX_PAGE) if op.limit and op.recursive else None

    async def fetch(token: str | None) -> tuple[dict[str, Any], str | None]:
        with map_errors("list", path):
            page = await core.objects_list(
                prefix,
                delimiter=None if op.recursive else "/",
                start_offset=start_offset,
                page_token=token,
                max_results=max_results,
            )
        return page, page.get("nextPageToken") or None

    seen_dir: str | None = None
    async for page in paginate(fetch):
        entries, dirs = _page_entries(core, page, prefix, after)
        if not dirs:
            yield entries  # no directory on the page: no repeated one to drop
            continue
        kept = []
        for entry in entries:
            if entry.path.endswith("/"):
                if entry.path == seen_dir:
                    continue
                seen_dir = entry.path
            kept.append(entry)
        yield kept
