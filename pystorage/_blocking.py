"""The synchronous :class:`BlockingOperator` (``op.blocking()``)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.from_thread

from .raw import forks
from .raw.closing import ClosesOnExit
from .types import Capability, Entry, Metadata, OperatorInfo, PresignedRequest

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["BlockingFile", "BlockingOperator"]

T = TypeVar("T")


class BlockingOperator(ClosesOnExit):
    """The same operations as :class:`~pystorage.Operator`, synchronous, for
    code without an event loop. Calls run on a private event-loop thread
    started on first use; :meth:`close` (or ``with``) stops it. Do not call
    it from inside a running event loop: use the async operator there.

    Picklable (the copy starts its own thread on first use); in a child made
    by ``os.fork()`` the first call starts a new thread, never waiting on the
    parent's.
    """

    def __init__(self, operator: Operator) -> None:
        self._op = operator
        self._lock = threading.Lock()
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        forks.register(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (BlockingOperator, (self._op,))

    def after_fork_in_child(self) -> None:
        """In a forked child: the parent's event-loop thread does not exist here;
        forget it (and a lock another thread may have held) so the next call starts one."""
        forks.abandon(self._portal_cm, self._portal)
        self._portal_cm, self._portal = None, None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BlockingOperator({self._op!r})"

    def _call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._portal is None:
                self._portal_cm = anyio.from_thread.start_blocking_portal()
                self._portal = self._portal_cm.__enter__()
            portal = self._portal
        return portal.call(functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        """Close the operator's clients and stop the event-loop thread."""
        with self._lock:
            cm, portal = self._portal_cm, self._portal
            self._portal_cm, self._portal = None, None
        if cm is None or portal is None:
            return
        try:
            portal.call(self._op.close)
        finally:
            cm.__exit__(None, None, None)

    def open(self, path: str, mode: str = "rb", **options: Any) -> BlockingFile:
        """See :meth:`Operator.open`: a synchronous file-like reader or writer."""
        handle = self._call(_opened, self._op.open(path, mode, **options))
        return BlockingFile(self, handle)

    def capability(self) -> Capability:
        """See :meth:`Operator.capability`."""
        return self._op.capability()

    @property
    def info(self) -> OperatorInfo:
        """See :attr:`Operator.info`."""
        return self._op.info

    def read(self, path: str, **options: Any) -> bytes:
        """See :meth:`Operator.read`."""
        data: bytes = self._call(self._op.read, path, **options)
        return data

    def read_ranges(self, path: str, ranges: Any, **options: Any) -> list[bytes]:
        """See :meth:`Operator.read_ranges`."""
        data: list[bytes] = self._call(self._op.read_ranges, path, list(ranges), **options)
        return data

    def write(self, path: str, data: Any, **options: Any) -> Metadata:
        """See :meth:`Operator.write` (sync iterables only)."""
        meta: Metadata = self._call(self._op.write, path, data, **options)
        return meta

    def stat(self, path: str, **options: Any) -> Metadata:
        """See :meth:`Operator.stat`."""
        meta: Metadata = self._call(self._op.stat, path, **options)
        return meta

    def exists(self, path: str) -> bool:
        """See :meth:`Operator.exists`."""
        found: bool = self._call(self._op.exists, path)
        return found

    def list(self, path: str = "/", **options: Any) -> Iterator[Entry]:
        """See :meth:`Operator.list`; entries are fetched page by page."""
        agen = self._op.list(path, **options)
        try:
            while True:
                try:
                    entry: Entry = self._call(agen.__anext__)
                except StopAsyncIteration:
                    return
                yield entry
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                self._call(aclose)

    def delete(self, path: str, **options: Any) -> None:
        """See :meth:`Operator.delete`."""
        self._call(self._op.delete, path, **options)

    def delete_many(self, paths: Any) -> None:
        """See :meth:`Operator.delete_many` (sync iterables only)."""
        self._call(self._op.delete_many, list(paths))

    def remove_all(self, path: str) -> None:
        """See :meth:`Operator.remove_all`."""
        self._call(self._op.remove_all, path)

    def create_dir(self, path: str) -> None:
        """See :meth:`Operator.create_dir`."""
        self._call(self._op.create_dir, path)

    def copy(self, src: str, dst: str, **options: Any) -> None:
        """See :meth:`Operator.copy`."""
        self._call(self._op.copy, src, dst, **options)

    def rename(self, src: str, dst: str) -> None:
        """See :meth:`Operator.rename`."""
        self._call(self._op.rename, src, dst)

    def presign_read(self, path: str, expire: Any) -> PresignedRequest:
        """See :meth:`Operator.presign_read`."""
        req: PresignedRequest = self._call(self._op.presign_read, path, expire)
        return req

    def presign_write(self, path: str, expire: Any) -> PresignedRequest:
        """See :meth:`Operator.presign_write`."""
        req: PresignedRequest = self._call(self._op.presign_write, path, expire)
        return req

    def presign_stat(self, path: str, expire: Any) -> PresignedRequest:
        """See :meth:`Operator.presign_stat`."""
        req: PresignedRequest = self._call(self._op.presign_stat, path, expire)
        return req


async def _opened(handle: Any) -> Any:
    return await handle


class BlockingFile(ClosesOnExit):
    """A synchronous wrapper of an :class:`~pystorage.AsyncReader` or
    :class:`~pystorage.AsyncWriter`, returned by :meth:`BlockingOperator.open`."""

    def __init__(self, owner: BlockingOperator, handle: Any) -> None:
        self._owner = owner
        self._handle = handle

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and hasattr(self._handle, "abort"):
            self._owner._call(self._handle.abort)
        elif not getattr(self._handle, "_closed", False):
            self.close()

    def read(self, n: int = -1) -> bytes:
        """See :meth:`AsyncReader.read`."""
        data: bytes = self._owner._call(self._handle.read, n)
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        """See :meth:`AsyncReader.seek`."""
        where: int = self._owner._call(self._handle.seek, pos, whence)
        return where

    def tell(self) -> int:
        """See :meth:`AsyncReader.tell`."""
        where: int = self._owner._call(self._handle.tell)
        return where

    def write(self, data: bytes) -> int:
        """See :meth:`AsyncWriter.write`."""
        n: int = self._owner._call(self._handle.write, data)
        return n

    def close(self) -> Any:
        """Close (a writer commits and returns its :class:`Metadata`)."""
        return self._owner._call(self._handle.close)
