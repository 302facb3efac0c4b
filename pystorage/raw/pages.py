"""Pagination, written once: ask for a page with a token, yield it, go on while there is a next token.

Every paginated listing of every driver (S3's ListObjectsV2, ListObjectVersions,
ListParts and ListMultipartUploads; GCS's ``objects.list``; Azure's List Blobs)
is this loop with a different ``fetch``. The loop is an async generator, so a
listing abandoned after its first page sends no further request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

__all__ = ["next_token", "paginate"]

P = TypeVar("P")
T = TypeVar("T")


def next_token(truncated: bool, token: T | None) -> T | None:
    """The token to ask the next page with: ``token`` when the answer says it
    is truncated and gives one (an empty token ends the listing too, so a
    server that claims more but gives no marker cannot loop forever)."""
    return token if truncated and token else None


async def paginate(
    fetch: Callable[[T | None], Awaitable[tuple[P, T | None]]], first: T | None = None
) -> AsyncIterator[P]:
    """Yield the pages of a listing: ``fetch(token)`` answers ``(page, next)``,
    starting with ``first`` (``None``: the first page); it stops after the page
    whose ``next`` is ``None``."""
    token = first
    while True:
        page, token = await fetch(token)
        yield page
        if token is None:
            return
