"""Pieces the object-store drivers (s3, azblob, gcs) share, written once.

A directory is a marker object (``a/``) or any object below it; a batch
delete reports its failed sub-requests as one error; a copy that goes
through a multipart upload recreates the source's content headers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ..errors import Error, NotFound, Unexpected
from ..sse import SseSpec
from ..types import EntryMode, Metadata
from .accessor import Accessor, Buffer
from .http import CONTENT_FIELDS
from .ops import OpCopy, OpStat, OpWrite

__all__ = [
    "BatchFailure",
    "batch_delete_error",
    "copy_source",
    "create_marker",
    "nbytes",
    "rewrite_op",
    "stat_path",
]

#: the failed paths a batch delete error names (the others are counted)
SHOWN_FAILURES = 50

#: one failed sub-request of a batch delete: ``(path, what the service said, error class, temporary)``
BatchFailure = tuple[str, str, type[Error], bool]


def nbytes(data: Buffer) -> int:
    """The length in bytes of what a write primitive takes."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


async def stat_path(
    path: str,
    head: Callable[[], Awaitable[Metadata]],
    any_below: Callable[[], Awaitable[bool]],
    *,
    errors: Callable[[str, str], AbstractContextManager[Any]],
    service: str,
) -> Metadata:
    """The metadata of ``path``: the root is a directory; a file is what
    ``head()`` answers; a directory (``a/``) is its marker object's
    (``head()``, with mode ``DIR``), else a bare directory when ``any_below()``
    finds an object under it. Each call runs in ``errors("stat", path)``
    (the driver's error translation).

    Raises:
        NotFound: no such file, or neither a marker nor an object below it.
    """
    if path == "/":
        return Metadata(mode=EntryMode.DIR, content_length=0)
    if not path.endswith("/"):
        with errors("stat", path):
            return await head()
    try:
        with errors("stat", path):
            meta = await head()
    except NotFound:
        pass
    else:
        meta.mode = EntryMode.DIR
        return meta
    with errors("stat", path):
        found = await any_below()
    if found:
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


@contextlib.contextmanager
def _as_operation(operation: str) -> Iterator[None]:
    """Make an error of the block say it was met in ``operation``."""
    try:
        yield
    except Error as exc:
        exc.operation = operation
        raise


async def copy_source(accessor: Accessor, src: str, op: OpCopy) -> Metadata:
    """The metadata of a copy's source (with the copy's SSE spec); an error
    says the operation was ``copy``."""
    with _as_operation("copy"):
        return await accessor.stat(src, OpStat(sse=op.sse))


async def create_marker(accessor: Accessor, path: str) -> None:
    """Create directory ``path`` (``a/``) as a zero-byte marker object
    (``write_once``); an error says the operation was ``create_dir``."""
    with _as_operation("create_dir"):
        await accessor.write_once(path, b"", OpWrite())


def rewrite_op(source: Metadata, sse: SseSpec | None) -> OpWrite:
    """The write that recreates ``source``'s content headers and user metadata
    (a copy streamed or copied in parts), encrypted with ``sse``."""
    headers = {field: getattr(source, field) for field, _ in CONTENT_FIELDS}
    return OpWrite(**headers, user_metadata=source.user_metadata, sse=sse)
