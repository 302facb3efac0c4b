"""The fs writer: bytes staged in a temp file, made visible on ``close``.

:class:`TempFile` is the blocking side (every method one worker-thread
call), :class:`FsWriter` the async one.
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
import threading

from ...errors import ConditionNotMatch, IsADirectory, PermissionDenied, Unexpected
from ...raw.accessor import Buffer, RawWriter
from ...types import Metadata
from .core import FsCore, pread_exact
from .errors import map_os_errors
from .metadata import metadata_from_stat
from .root import unlink_quietly
from .threads import run_shielded, run_sync

try:  # POSIX only: serialises cooperating appenders
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FsWriter", "TempFile", "write_once"]

#: buffer size when an append is copied from its temp file onto the target
COPY_BLOCK = 8 * 1024 * 1024
_O_BINARY = getattr(os, "O_BINARY", 0)
#: errnos of link() on file systems without hard links
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EMLINK, errno.EXDEV, getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)}
)


def _write_all(fd: int, data: Buffer) -> None:
    written = os.write(fd, data)  # usually all of it: no view needed
    if written == (data.nbytes if isinstance(data, memoryview) else len(data)):
        return
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    view = view[written:]
    while view:
        view = view[os.write(fd, view):]


def write_once(core: FsCore, path: str, data: Buffer) -> Metadata:
    """A plain one-shot write (neither ``append`` nor ``if_not_exists``) in the
    calling thread: a temp file next to the target, the bytes, ``fstat`` (the
    etag), ``os.replace`` over the target. What :meth:`TempFile.write_once`
    does for such a write, without the object, its lock and its state
    (a fifth of the driver's CPU per 4 KiB write); nothing is visible at the
    target until the rename, and the temp file is removed on any failure."""
    with map_os_errors("write", path):
        if path.endswith("/"):
            raise IsADirectory("cannot write a directory path")
        target = core.resolve(path)
        tmp, fd = core.new_temp(target)
        try:
            try:
                if len(data):
                    _write_all(fd, data)
                core.sync_file(fd)  # durable bytes before the name points at them
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            unlink_quietly(tmp)
            raise
        core.sync_dir_of(target)
        return metadata_from_stat(st)


class TempFile:
    """The blocking side of one writer: a temp file committed to its target.

    Every method takes a lock, so :meth:`discard` (abort) waits for a write
    still running in another worker thread instead of racing it.

    Commit strategies:

    * plain: ``os.replace(temp, target)``;
    * ``if_not_exists``: ``os.link(temp, target)``, which fails atomically when
      the target exists (on file systems without hard links: an exclusive
      create of the target, then the replace);
    * ``append``: ``os.link`` when the target is missing, else the temp file's
      bytes are appended to the target opened with ``O_APPEND`` under an
      exclusive ``flock``; a failed append truncates the target back.

    Args:
        core: the :class:`FsCore`.
        path: the target, relative to the root.
        append: append to the target instead of replacing it.
        if_not_exists: refuse with ``ConditionNotMatch`` when the target exists.
    """

    def __init__(self, core: FsCore, path: str, *, append: bool = False, if_not_exists: bool = False) -> None:
        self._core = core
        self._path = path
        self._append = append
        self._if_not_exists = if_not_exists
        self._lock = threading.Lock()
        self._target: str | None = None
        self._tmp: str | None = None
        self._fd: int | None = None
        self._finished = False

    @property
    def temp_path(self) -> str | None:
        """Where the bytes are staged (``None`` before open and after commit/discard)."""
        return self._tmp

    def open(self) -> None:
        """Resolve the target, create its parents and the temp file.

        Raises:
            IsADirectory: a directory path. PermissionDenied: outside the root.
            ConditionNotMatch: ``if_not_exists`` and the target exists already.
        """
        with self._lock, map_os_errors("write", self._path):
            self._open()

    def write(self, data: Buffer) -> None:
        """Append ``data`` to the temp file."""
        with self._lock, map_os_errors("write", self._path):
            if self._fd is None:
                raise Unexpected("the writer is closed")
            _write_all(self._fd, data)

    def commit(self) -> Metadata:
        """Make the bytes visible at the target and return its metadata.

        The temp file is removed whatever happens.
        """
        with self._lock, map_os_errors("write", self._path):
            return self._commit()

    def discard(self) -> None:
        """Close and delete the temp file; the target is untouched. Safe to call twice."""
        with self._lock, map_os_errors("write", self._path):
            self._cleanup()

    def write_once(self, data: Buffer) -> Metadata:
        """Open, write ``data`` and commit, in the calling thread (one hand-off for a one-shot write)."""
        with self._lock, map_os_errors("write", self._path):
            fd = self._open()
            try:
                if len(data):
                    _write_all(fd, data)
            except BaseException:
                self._cleanup()
                raise
            return self._commit()

    # internals (lock held) -------------------------------------------------
    def _open(self) -> int:
        if self._finished or self._tmp is not None:
            raise Unexpected("the writer was already opened")
        if self._path.endswith("/"):
            raise IsADirectory("cannot write a directory path")
        target = self._core.resolve(self._path)
        if self._if_not_exists and os.path.lexists(target):
            raise ConditionNotMatch("the target already exists")
        self._tmp, fd = self._core.new_temp(target, readable=self._append)
        self._fd = fd
        self._target = target
        return fd

    def _commit(self) -> Metadata:
        if self._fd is None or self._tmp is None or self._target is None:
            raise Unexpected("the writer is closed")
        try:
            self._core.sync_file(self._fd)  # durable bytes before the name points at them
            if self._append:
                meta = self._commit_append(self._fd, self._tmp, self._target)
                self._core.sync_dir_of(self._target)
                return meta
            st = os.fstat(self._fd)
            self._close_fd()
            if self._if_not_exists:
                self._commit_exclusive(self._tmp, self._target)
            else:
                os.replace(self._tmp, self._target)
                self._tmp = None
            self._core.sync_dir_of(self._target)
            return metadata_from_stat(st)
        finally:
            self._cleanup()

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _cleanup(self) -> None:
        self._finished = True
        try:
            self._close_fd()
        finally:
            tmp, self._tmp = self._tmp, None
            if tmp is not None:
                unlink_quietly(tmp)

    def _commit_exclusive(self, tmp: str, target: str) -> None:
        try:
            os.link(tmp, target)
        except FileExistsError as exc:
            raise ConditionNotMatch("the target already exists") from exc
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            try:  # no hard links here: claim the name, then rename over the placeholder
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError as exc2:
                raise ConditionNotMatch("the target already exists") from exc2
            os.replace(tmp, target)
            self._tmp = None

    def _commit_append(self, fd: int, tmp: str, target: str) -> Metadata:
        size = os.fstat(fd).st_size
        try:  # a missing target becomes the temp file, atomically
            os.link(tmp, target)
            return metadata_from_stat(os.fstat(fd))
        except FileExistsError as exc:
            if self._if_not_exists:
                raise ConditionNotMatch("the target already exists") from exc
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY | (os.O_EXCL if self._if_not_exists else 0)
        try:
            out = os.open(target, flags, 0o666)
        except FileExistsError as exc:
            raise ConditionNotMatch("the target already exists") from exc
        try:
            if fcntl is not None:
                fcntl.flock(out, fcntl.LOCK_EX)
            st = os.fstat(out)
            if not stat_mod.S_ISREG(st.st_mode):
                raise PermissionDenied("not a regular file")
            original = st.st_size
            try:
                copied = 0
                while copied < size:
                    block = pread_exact(fd, min(COPY_BLOCK, size - copied), copied)
                    _write_all(out, block)
                    copied += len(block)
                self._core.sync_file(out)
            except BaseException:
                try:
                    os.ftruncate(out, original)
                except OSError:  # pragma: no cover - best effort
                    pass
                raise
            return metadata_from_stat(os.fstat(out))
        finally:
            os.close(out)  # releases the flock


class FsWriter(RawWriter):
    """A streamed write to one path (see :class:`TempFile`).

    Each :meth:`write` is one worker-thread hand-off; :meth:`close` commits
    (rename, link or append) in one more; :meth:`abort` deletes the temp
    file and leaves the target untouched. Nothing is visible at the target
    until :meth:`close` returns.

    Args:
        temp: the opened temp file.
    """

    def __init__(self, temp: TempFile) -> None:
        self._temp = temp

    async def write(self, data: Buffer) -> None:
        """Write ``data`` to the temp file (one thread call)."""
        await run_sync(self._temp.write, data)

    async def close(self) -> Metadata:
        """Commit; returns the target's metadata (``content_length`` is the whole file's)."""
        return await run_sync(self._temp.commit)

    async def abort(self) -> None:
        """Delete the temp file, even in a cancelled scope and even while a
        cancelled :meth:`write` is still finishing in its thread (it waits for
        it). Safe to call twice, and after :meth:`close`."""
        await run_shielded(self._temp.discard)
