"""Blocking file-system operations of the ``fs`` driver.

Every public method of :class:`FsCore` and :class:`ReadHandle` (like those
of the writer's :class:`~pystorage.services.fs.writer.TempFile` and the
lister's :class:`~pystorage.services.fs.lister.DirWalker`) is blocking and is
meant to be called through :func:`~pystorage.services.fs.threads.run_sync`,
so that **one operation is one worker-thread hand-off**: a ranged read opens,
reads and closes in one call, ``stat`` is one call, a write is one call per
chunk, a listing page is one call.

Paths are confined to the root by :class:`~pystorage.services.fs.root.FsRoot`
(which :class:`FsCore` extends) in the same call that uses them.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat as stat_mod
import threading

from ...errors import (
    ConditionNotMatch,
    IsADirectory,
    IsSameFile,
    NotADirectory,
    NotFound,
    PermissionDenied,
    RangeNotSatisfied,
    Unexpected,
)
from ...types import EntryMode, Metadata
from .errors import map_os_errors
from .metadata import etag_of, metadata_from_stat
from .root import FsRoot, make_dirs, unlink_quietly

__all__ = ["READ_BLOCK", "STREAM_BLOCK", "FsCore", "ReadHandle", "pread_exact"]

#: a range up to this size is read whole by the call that opens the file, so
#: it is one hand-off (8 MiB measured best: larger blocks cost fresh-mmap page
#: faults). A caller wanting a whole range as ``bytes`` reads it in one call
#: (:meth:`ReadHandle.read_rest`), whatever its size.
READ_BLOCK = 8 * 1024 * 1024
#: the rest of a larger range is streamed in blocks of this size, one thread
#: call each: the piece ``async for`` over ``open("rb")`` asks for, so no block
#: is sliced into copies (1 GiB streamed: 0.35 s CPU/GiB at 1 MiB blocks,
#: 0.41 s at 8 MiB; docs/performance.md, "fs driver, round 2")
STREAM_BLOCK = 1024 * 1024

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so opening a FIFO cannot hang a worker thread
_O_BINARY = getattr(os, "O_BINARY", 0)


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, size)  # pragma: no cover


def pread_exact(fd: int, size: int, offset: int) -> bytes:
    """Exactly ``size`` bytes at ``offset``; a file that shrank meanwhile is a temporary error."""
    data = _pread(fd, size, offset)
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = _pread(fd, size - got, offset + got)
        if not more:
            raise Unexpected("the file shrank while it was being read", temporary=True)
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class FsCore(FsRoot):
    """The blocking operations on paths below the root (see :class:`FsRoot` for the arguments)."""

    def stat(self, path: str) -> Metadata:
        """``stat``: files and directories (``stat("a")`` on a directory gives ``DIR``).

        Raises:
            NotFound: missing, or a directory path (``a/``) naming a file.
        """
        with map_os_errors("stat", path):
            try:
                st = os.stat(self.real_root) if path == "/" else self.stat_entry(path)
            except FileNotFoundError:
                if path == "/":  # the root always exists, like an object store's
                    return Metadata(mode=EntryMode.DIR, content_length=0)
                raise
            except NotADirectoryError as exc:  # a parent is a file: nothing is there
                raise NotFound("not found (a parent is a file)") from exc
            meta = metadata_from_stat(st)
            if path.endswith("/") and not meta.is_dir:
                raise NotFound("not a directory")
            return meta

    def open_read(
        self, path: str, offset: int, size: int | None, if_match: str | None = None
    ) -> tuple[bytes, ReadHandle | None, int, os.stat_result]:
        """Open ``path`` and read ``[offset, offset + size)`` clamped to its end.

        With ``if_match``, the opened file's etag must equal it (``"*"``: any),
        else ``ConditionNotMatch``: this is how a read of several requests
        stays on one version of the file.

        Ranges up to :data:`READ_BLOCK` bytes are read whole and the file is
        closed; larger ones return no bytes yet and a :class:`ReadHandle`
        (holding the open file) that reads them block by block or all at once.

        Returns:
            ``(first_bytes, handle_or_None, range_size, stat_result)``: the
            metadata is built from the stat result only if asked for
            (:class:`~pystorage.services.fs.reader.FsReader`), which a
            whole read never does.

        Raises:
            NotFound, IsADirectory, RangeNotSatisfied, PermissionDenied.
        """
        with map_os_errors("read", path):
            if path.endswith("/"):
                raise IsADirectory("cannot read a directory path")
            try:
                fd = self.open_file(path, os.O_RDONLY | _O_NONBLOCK | _O_BINARY)
            except NotADirectoryError as exc:
                raise NotFound("not found (a parent is a file)") from exc
            handle: ReadHandle | None = None
            try:
                st = os.fstat(fd)
                if stat_mod.S_ISDIR(st.st_mode):
                    raise IsADirectory("cannot read a directory")
                if not stat_mod.S_ISREG(st.st_mode):
                    raise PermissionDenied("not a regular file")
                length = st.st_size
                if if_match is not None and if_match != "*" and if_match != etag_of(st):
                    raise ConditionNotMatch("if_match does not match the current etag")
                if offset > length:
                    raise RangeNotSatisfied(f"offset {offset} is past the end ({length} bytes)")
                end = length if size is None else min(length, offset + size)
                if end - offset <= READ_BLOCK:
                    return pread_exact(fd, end - offset, offset), None, end - offset, st
                handle = ReadHandle(io.FileIO(fd, "rb", closefd=True), offset, end, path)
                return b"", handle, end - offset, st
            finally:
                if handle is None:
                    os.close(fd)

    def create_dir(self, path: str) -> None:
        """``create_dir``: ``mkdir -p``; an existing directory is fine.

        Raises:
            NotADirectory: a file is at ``path`` or at one of its parents.
        """
        with map_os_errors("create_dir", path):
            real = self.resolve(path)
            try:
                os.makedirs(real, exist_ok=True)
            except FileExistsError as exc:
                raise NotADirectory("a file exists at this path") from exc

    def delete(self, path: str) -> None:
        """``delete``: unlink a file or symlink; remove a directory if it is
        empty (a non-empty one is left in place, without error, as a prefix
        with objects under it stays on an object store). Missing is fine;
        the root itself is never removed. A directory path (``a/``) naming a
        file deletes nothing."""
        if path == "/":
            return
        with map_os_errors("delete", path):
            real = self.resolve_entry(path)
            if not path.endswith("/"):  # usually a file: one unlink, no lstat first
                try:
                    os.unlink(real)
                    return
                except (FileNotFoundError, NotADirectoryError):
                    return
                except OSError as exc:  # a directory? (EISDIR on Linux, EPERM elsewhere)
                    if exc.errno not in (errno.EISDIR, errno.EPERM, errno.EACCES):
                        raise
            try:
                st = os.lstat(real)
            except (FileNotFoundError, NotADirectoryError):
                return
            if stat_mod.S_ISDIR(st.st_mode):
                try:
                    os.rmdir(real)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
            elif path.endswith("/") and not stat_mod.S_ISLNK(st.st_mode):
                return
            else:
                try:
                    os.unlink(real)
                except FileNotFoundError:
                    pass

    def copy(self, src: str, dst: str) -> None:
        """``copy``: copy the file into a temp file next to ``dst``, then rename it over ``dst``.

        Raises:
            NotFound: ``src`` is missing. IsADirectory: ``src`` is a directory.
            IsSameFile: both resolve to the same file.
        """
        with map_os_errors("copy", src):
            real_src = self.resolve(src)
            try:
                st = os.stat(real_src)
            except NotADirectoryError as exc:
                raise NotFound("not found (a parent is a file)") from exc
            if stat_mod.S_ISDIR(st.st_mode):
                raise IsADirectory("cannot copy a directory")
            if not stat_mod.S_ISREG(st.st_mode):
                raise PermissionDenied("not a regular file")
        with map_os_errors("copy", dst):
            if dst.endswith("/"):
                raise IsADirectory("cannot copy onto a directory path")
            real_dst = self.resolve(dst)
            if real_dst == real_src:
                raise IsSameFile("source and destination are the same file")
            tmp, fd = self.new_temp(real_dst)
            os.close(fd)
            try:
                shutil.copyfile(real_src, tmp)
                if self.fsync:
                    with open(tmp, "rb+") as copied:
                        os.fsync(copied.fileno())
                os.replace(tmp, real_dst)
                self.sync_dir_of(real_dst)
            except BaseException:
                unlink_quietly(tmp)
                raise

    def rename(self, src: str, dst: str) -> None:
        """``rename``: :func:`os.replace`, creating ``dst``'s parents when missing.

        Raises:
            NotFound: ``src`` is missing.
        """
        with map_os_errors("rename", src):
            real_src = self.resolve_entry(src)
            real_dst = self.resolve_entry(dst)
            try:
                os.replace(real_src, real_dst)
            except (FileNotFoundError, NotADirectoryError) as exc:
                if not os.path.lexists(real_src):
                    raise NotFound("source not found") from exc
                if isinstance(exc, NotADirectoryError):
                    raise
                make_dirs(os.path.dirname(real_dst))
                os.replace(real_src, real_dst)
            self.sync_dir_of(real_dst, real_src)


class ReadHandle:
    """An open file delivering the rest of a large range, one block per call.

    The file stays open between blocks, so the range comes from one version
    of the file even if it is replaced (renamed over) meanwhile. It is closed
    in the call that delivers the last block, or by :meth:`close`.
    """

    def __init__(self, file: io.FileIO, pos: int, end: int, path: str) -> None:
        self._lock = threading.Lock()
        self._file: io.FileIO | None = file
        self._pos = pos
        self._end = end
        self._path = path
        self.done = pos >= end
        if self.done:
            self.close()

    def read_block(self) -> bytes:
        """The next block (at most :data:`STREAM_BLOCK` bytes); ``b""`` at the end."""
        with self._lock, map_os_errors("read", self._path):
            if self._file is None:
                return b""
            data = pread_exact(self._file.fileno(), min(STREAM_BLOCK, self._end - self._pos), self._pos)
            self._pos += len(data)
            if self._pos >= self._end:
                self._close_locked()
            return data

    def read_rest(self) -> bytes:
        """Everything not read yet, as one ``bytes`` object read by one ``pread``
        (no block-sized pieces to join); closes the file. ``b""`` at the end."""
        with self._lock, map_os_errors("read", self._path):
            if self._file is None:
                return b""
            try:
                data = pread_exact(self._file.fileno(), self._end - self._pos, self._pos)
            finally:
                self._close_locked()
            self._pos += len(data)
            return data

    def close(self) -> None:
        """Close the file (waits for a block being read); safe to call twice."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        self.done = True
        file, self._file = self._file, None
        if file is not None:
            file.close()

