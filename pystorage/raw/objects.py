"""Pieces the object-store drivers (s3, azblob, gcs) share, written once.

A directory is a marker object (``a/``) or any object below it; a batch
delete reports its failed sub-requests as one error; a copy that goes
through a multipart upload recreates the source's content headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from ..errors import Error, NotFound, Unexpected
from ..sse import SseSpec
from ..types import EntryMode, Metadata
from .accessor import Accessor, Buffer
from .ops import OpCopy, OpStat, OpWrite

__all__ = ["BatchFailure", "batch_delete_error", "copy_source", "nbytes", "rewrite_op", "stat_dir"]

#: the failed paths a batch delete error names (the others are counted)
SHOWN_FAILURES = 50

#: one failed sub-request of a batch delete: ``(path, what the service said, error class, temporary)``
BatchFailure = tuple[str, str, type[Error], bool]


def nbytes(data: Buffer) -> int:
    """The length in bytes of what a write primitive takes."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


async def stat_dir(
    path: str,
    marker: Callable[[], Awaitable[Metadata]],
    any_below: Callable[[], Awaitable[bool]],
    *,
    service: str,
) -> Metadata:
    """The metadata of directory ``path`` (ending with ``/``): its marker
    object's (``marker()``, with mode ``DIR``), else a bare directory when
    ``any_below()`` finds an object under it.

    Raises:
        NotFound: neither a marker nor an object below it exists.
    """
    try:
        meta = await marker()
    except NotFound:
        pass
    else:
        meta.mode = EntryMode.DIR
        return meta
    if await any_below():
        return Metadata(mode=EntryMode.DIR, content_length=0)
    raise NotFound("directory not found", operation="stat", path=path, service=service)


def batch_delete_error(failed: Sequence[BatchFailure], total: int, *, service: str) -> Error:
    """One error for the sub-requests of a batch delete that failed (at least
    one): of their common class when they share one, else ``Unexpected``;
    temporary when all of them are. It names the first :data:`SHOWN_FAILURES`."""
    classes = {cls for _, _, cls, _ in failed}
    cls = classes.pop() if len(classes) == 1 else Unexpected
    shown = ", ".join(f"{path!r} ({said})" for path, said, _, _ in failed[:SHOWN_FAILURES])
    more = len(failed) - SHOWN_FAILURES
    if more > 0:
        shown += f" and {more} more"
    return cls(
        f"could not delete {len(failed)} of {total} paths: {shown}",
        operation="delete",
        path=failed[0][0] if len(failed) == 1 else "",
        service=service,
        temporary=all(temporary for _, _, _, temporary in failed),
    )


async def copy_source(accessor: Accessor, src: str, op: OpCopy) -> Metadata:
    """The metadata of a copy's source (with the copy's SSE spec); an error
    says the operation was ``copy``."""
    try:
        return await accessor.stat(src, OpStat(sse=op.sse))
    except Error as exc:
        exc.operation = "copy"
        raise


def rewrite_op(source: Metadata, sse: SseSpec | None) -> OpWrite:
    """The write that recreates ``source``'s content headers and user metadata
    (a copy streamed or copied in parts), encrypted with ``sse``."""
    return OpWrite(
        content_type=source.content_type,
        cache_control=source.cache_control,
        content_disposition=source.content_disposition,
        content_encoding=source.content_encoding,
        user_metadata=source.user_metadata,
        sse=sse,
    )
