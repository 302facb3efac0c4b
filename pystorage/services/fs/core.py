"""Blocking file-system primitives of the ``fs`` driver.

Every public method of :class:`FsCore`, :class:`ReadHandle`, :class:`TempFile`
and :class:`DirWalker` is blocking and is meant to be called through
:func:`run_sync`, so that **one operation is one worker-thread hand-off**:
a ranged read opens, reads and closes in one call, ``stat`` is one call, a
write is one call per chunk, a listing page is one call.

Root confinement: every path is resolved with :func:`os.path.realpath` inside
the same thread call that uses it, and refused with
:class:`~pystorage.errors.PermissionDenied` unless the result lies within the
real root. Operations then act on the resolved path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import io
import os
import secrets
import shutil
import stat as stat_mod
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from ...errors import (
    ConditionNotMatch,
    ConfigInvalid,
    IsADirectory,
    IsSameFile,
    NotADirectory,
    NotFound,
    PermissionDenied,
    RangeNotSatisfied,
    Unexpected,
)
from ...raw.accessor import Buffer
from ...types import Entry, EntryMode, Metadata
from .config import FsConfig
from .errors import SERVICE, from_os_error, map_os_errors

try:  # POSIX only: serialises cooperating appenders
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LIST_PAGE",
    "READ_BLOCK",
    "TEMP_SUFFIX",
    "DirWalker",
    "FsCore",
    "ReadHandle",
    "TempFile",
    "is_temp_name",
    "metadata_from_stat",
    "run_shielded",
    "run_sync",
]

T = TypeVar("T")

#: a streamed range is delivered in blocks of this size, one thread call each;
#: a range up to this size is read whole by the call that opens the file, so
#: it is one hand-off (8 MiB measured best: larger blocks cost fresh-mmap page
#: faults). A caller wanting a whole range as ``bytes`` reads it in one call
#: (:meth:`ReadHandle.read_rest`), whatever its size.
READ_BLOCK = 8 * 1024 * 1024
#: buffer size when an append is copied from its temp file onto the target
COPY_BLOCK = 8 * 1024 * 1024
#: entries per listing page (one thread call each) when no smaller ``limit`` is given
LIST_PAGE = 1000
#: suffix of the writers' temporary files (hidden from listings)
TEMP_SUFFIX = ".pystorage-tmp"
#: how much of the target's name a temp name keeps (stays under NAME_MAX)
_TEMP_NAME_KEEP = 100

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so opening a FIFO cannot hang a worker thread
_O_BINARY = getattr(os, "O_BINARY", 0)
#: errnos of link() on file systems without hard links
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EMLINK, errno.EXDEV, getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)}
)


async def run_sync(func: Callable[..., T], *args: object) -> T:
    """Run blocking ``func(*args)`` in an anyio worker thread (one hand-off).

    A cancelled caller still waits for the thread to finish (anyio's
    ``abandon_on_cancel=False``), so a file is never used by two threads.
    """
    return await anyio.to_thread.run_sync(func, *args)


async def run_shielded(func: Callable[..., T], *args: object) -> T:
    """Like :func:`run_sync` but shielded from cancellation: for cleanup
    (abort, close) that must run even in a cancelled scope."""
    with anyio.CancelScope(shield=True):
        result = await anyio.to_thread.run_sync(func, *args)
    return result


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of the writers' temporary files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_timedelta = dt.timedelta
_S_ISREG = stat_mod.S_ISREG
_S_ISDIR = stat_mod.S_ISDIR


def metadata_from_stat(st: os.stat_result) -> Metadata:
    """Metadata of a stat result: files get ``content_length``, ``etag``
    (``"{inode:x}-{mtime_ns:x}-{size:x}"``, quoted: every atomic write makes a
    new inode, so an overwrite within one clock tick still changes it) and ``last_modified`` (aware UTC);
    directories get ``EntryMode.DIR``, ``content_length=0`` and ``last_modified``."""
    modified = _EPOCH + _timedelta(0, 0, st.st_mtime_ns // 1000)  # positional: twice as fast as keywords
    mode = st.st_mode
    if _S_ISREG(mode):
        return Metadata(
            mode=EntryMode.FILE,
            content_length=st.st_size,
            etag=f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"',
            last_modified=modified,
        )
    if _S_ISDIR(mode):
        return Metadata(mode=EntryMode.DIR, content_length=0, last_modified=modified)
    return Metadata(mode=EntryMode.UNKNOWN, last_modified=modified)


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, size)  # pragma: no cover


def _pread_exact(fd: int, size: int, offset: int) -> bytes:
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


def _write_all(fd: int, data: Buffer) -> None:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    while view:
        view = view[os.write(fd, view):]


def _make_dirs(directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
    except FileExistsError as exc:
        raise NotADirectory("a file is in the way of a parent directory") from exc


class FsCore:
    """The root and the blocking operations on paths below it.

    Args:
        root: absolute root directory (no trailing ``/``), already existing.
        temp_dir: absolute directory for temporary files, or ``None`` for
            "next to the target".
    """

    def __init__(self, root: str, temp_dir: str | None = None, *, fsync: bool = False) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._inside = self.real_root.rstrip(os.sep) + os.sep
        self.temp_dir = temp_dir
        #: flush files and directories to disk before a commit returns (the ``fsync`` config key)
        self.fsync = fsync

    def sync_file(self, fd: int) -> None:
        """``fsync(fd)`` when durable commits are on."""
        if self.fsync:
            os.fsync(fd)

    def sync_dir_of(self, *paths: str) -> None:
        """Flush the directories holding ``paths`` (their entries: a rename, a link,
        a new file) when durable commits are on. Windows cannot open a directory:
        there a rename is flushed by the file system itself."""
        if not self.fsync or os.name == "nt":
            return
        for directory in dict.fromkeys(os.path.dirname(p) for p in paths):
            fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    @classmethod
    def from_config(cls, config: FsConfig) -> FsCore:
        """Make the root (and ``atomic_write_dir``) absolute and create them if missing.

        Raises:
            ConfigInvalid: the root is not a directory or cannot be created, or
                ``atomic_write_dir`` is not on the root's file system.
        """
        assert config.root is not None  # FsConfig refuses an empty root
        root = os.path.abspath(config.root)
        _make_config_dir("root", root)
        temp_dir = None
        if config.atomic_write_dir is not None:
            temp_dir = os.path.realpath(os.path.abspath(config.atomic_write_dir))
            _make_config_dir("atomic_write_dir", temp_dir)
            if os.stat(temp_dir).st_dev != os.stat(root).st_dev:
                raise ConfigInvalid(
                    "config key 'atomic_write_dir' of service 'fs' must be on the same file system as 'root'",
                    service=SERVICE,
                )
        return cls(root, temp_dir, fsync=config.fsync)

    # paths -------------------------------------------------------------------
    def _confine(self, real: str, path: str) -> str:
        if real == self.real_root or real.startswith(self._inside):
            return real
        raise PermissionDenied("the path resolves outside the root (through a symlink)", path=path)

    def resolve(self, path: str) -> str:
        """The real path of ``path`` (symlinks followed, missing tail kept).

        Walks the components below the real root with one ``lstat`` each and
        falls back to :func:`os.path.realpath` only from the first symlink on,
        so the usual symlink-free path costs a few system calls.

        Raises:
            PermissionDenied: it resolves outside the root.
        """
        if path == "/":
            return self.real_root
        parts = path.rstrip("/").split("/")
        current = self.real_root
        for i, part in enumerate(parts):
            candidate = os.path.join(current, part)
            try:
                mode = os.lstat(candidate).st_mode
            except OSError:  # nothing (reachable) there: no symlink further down either
                return os.path.join(candidate, *parts[i + 1:])
            if stat_mod.S_ISLNK(mode):
                return self._confine(os.path.realpath(os.path.join(candidate, *parts[i + 1:])), path)
            current = candidate
        return current

    def resolve_entry(self, path: str) -> str:
        """The path of the directory entry ``path`` itself: its parent is
        resolved, its last component is not followed (delete and rename act
        on a symlink, not on what it points to)."""
        parent, _, name = path.rstrip("/").rpartition("/")
        return os.path.join(self.resolve(parent + "/" if parent else "/"), name)

    def inside(self, real: str) -> bool:
        """Whether a real path lies within the real root."""
        return real == self.real_root or real.startswith(self._inside)

    def new_temp(self, target: str, *, readable: bool = False) -> tuple[str, int]:
        """Create an empty temp file for ``target``; returns its path and an fd open for writing.

        The parent directory of ``target`` is created when missing.
        """
        directory = os.path.dirname(target)
        tmp_dir = self.temp_dir or directory
        name = os.path.basename(target)[:_TEMP_NAME_KEEP]
        flags = os.O_CREAT | os.O_EXCL | _O_BINARY | (os.O_RDWR if readable else os.O_WRONLY)
        if self.temp_dir is not None:
            _make_dirs(directory)
        for attempt in (1, 2):
            tmp = os.path.join(tmp_dir, f".{name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
            try:
                return tmp, os.open(tmp, flags, 0o666)
            except FileNotFoundError:
                if attempt == 2:
                    raise
                _make_dirs(tmp_dir)
        raise AssertionError("unreachable")  # pragma: no cover

    # operations ----------------------------------------------------------
    def stat(self, path: str) -> Metadata:
        """``stat``: files and directories (``stat("a")`` on a directory gives ``DIR``).

        Raises:
            NotFound: missing, or a directory path (``a/``) naming a file.
        """
        with map_os_errors("stat", path):
            real = self.resolve(path)
            try:
                st = os.stat(real)
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
    ) -> tuple[bytes, ReadHandle | None, int, Metadata]:
        """Open ``path`` and read ``[offset, offset + size)`` clamped to its end.

        With ``if_match``, the opened file's etag must equal it (``"*"``: any),
        else ``ConditionNotMatch``: this is how a read of several requests
        stays on one version of the file.

        Ranges up to :data:`READ_BLOCK` bytes are read whole and the file is
        closed; larger ones return no bytes yet and a :class:`ReadHandle`
        (holding the open file) that reads them block by block or all at once.

        Returns:
            ``(first_bytes, handle_or_None, range_size, metadata)``.

        Raises:
            NotFound, IsADirectory, RangeNotSatisfied, PermissionDenied.
        """
        with map_os_errors("read", path):
            if path.endswith("/"):
                raise IsADirectory("cannot read a directory path")
            real = self.resolve(path)
            try:
                fd = os.open(real, os.O_RDONLY | _O_NONBLOCK | _O_BINARY)
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
                meta = metadata_from_stat(st)
                if if_match is not None and if_match not in ("*", meta.etag):
                    raise ConditionNotMatch("if_match does not match the current etag")
                if offset > length:
                    raise RangeNotSatisfied(f"offset {offset} is past the end ({length} bytes)")
                end = length if size is None else min(length, offset + size)
                if end - offset <= READ_BLOCK:
                    return _pread_exact(fd, end - offset, offset), None, end - offset, meta
                handle = ReadHandle(io.FileIO(fd, "rb", closefd=True), offset, end, path)
                return b"", handle, end - offset, meta
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
                _unlink_quietly(tmp)
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
                _make_dirs(os.path.dirname(real_dst))
                os.replace(real_src, real_dst)
            self.sync_dir_of(real_dst, real_src)


def _make_config_dir(key: str, directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigInvalid(
            f"config key {key!r} of service 'fs' must be a directory that exists or can be created: {reason}",
            service=SERVICE,
        ) from exc


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


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
        """The next block (at most :data:`READ_BLOCK` bytes); ``b""`` at the end."""
        with self._lock, map_os_errors("read", self._path):
            if self._file is None:
                return b""
            data = _pread_exact(self._file.fileno(), min(READ_BLOCK, self._end - self._pos), self._pos)
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
                data = _pread_exact(self._file.fileno(), self._end - self._pos, self._pos)
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
            if self._finished or self._tmp is not None:
                raise Unexpected("the writer was already opened")
            if self._path.endswith("/"):
                raise IsADirectory("cannot write a directory path")
            target = self._core.resolve(self._path)
            if self._if_not_exists and os.path.lexists(target):
                raise ConditionNotMatch("the target already exists")
            self._tmp, self._fd = self._core.new_temp(target, readable=self._append)
            self._target = target

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

    def discard(self) -> None:
        """Close and delete the temp file; the target is untouched. Safe to call twice."""
        with self._lock, map_os_errors("write", self._path):
            self._cleanup()

    def write_once(self, data: Buffer) -> Metadata:
        """Open, write ``data`` and commit, in the calling thread (one hand-off for a one-shot write)."""
        self.open()
        try:
            if len(data):
                self.write(data)
            return self.commit()
        except BaseException:
            self.discard()
            raise

    # internals (lock held) -------------------------------------------------
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
                _unlink_quietly(tmp)

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
                    block = _pread_exact(fd, min(COPY_BLOCK, size - copied), copied)
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


@dataclasses.dataclass(slots=True)
class _Child:
    key: str  # the name, plus "/" for a directory
    entry: os.DirEntry[str]
    descend: bool  # a real directory (not a symlink) that a recursive walk enters
    followed: os.stat_result | None  # for a symlink: the stat of what it points to


@dataclasses.dataclass(slots=True)
class _Frame:
    prefix: str  # relative path of the directory, "" or ending with "/"
    children: list[_Child]
    index: int = 0


class DirWalker:
    """A listing, produced one page per :meth:`next_page` call.

    Each directory is read with one :func:`os.scandir` pass (in the call that
    first reaches it), its children sorted by key (directories as
    ``name/``), and entries are stat-ed page by page, so a walk yields paths
    in lexicographic order. Directories are walked depth first; nothing is
    held open between calls.

    Symlinks: one resolving inside the root is listed as what it points to
    (a symlinked directory appears as ``name/`` but is not descended into,
    which also rules out cycles); one resolving outside the root, or
    dangling, is skipped. Special files (FIFOs, sockets, devices) and the
    writers' temp files are skipped.

    Args:
        core: the :class:`FsCore`.
        path: the directory to list (``"/"`` or ``"a/"``).
        recursive: list every depth instead of direct children.
        start_after: only paths (relative to the root) greater than this.
    """

    def __init__(
        self, core: FsCore, path: str, *, recursive: bool = False, start_after: str | None = None
    ) -> None:
        self._core = core
        self._path = path
        self._prefix = "" if path == "/" else path.rstrip("/") + "/"
        self._recursive = recursive
        self._start_after = start_after
        self._stack: list[_Frame] = []
        self._started = False
        self.done = False

    def next_page(self, limit: int = LIST_PAGE) -> list[Entry]:
        """Up to ``limit`` more entries; :attr:`done` is set once the walk is over."""
        with map_os_errors("list", self._path):
            if not self._started:
                self._started = True
                self._push(self._core.resolve(self._path), self._prefix)
            page: list[Entry] = []
            append = page.append
            start_after = self._start_after
            recursive = self._recursive
            stack = self._stack
            while stack and len(page) < limit:
                frame = stack[-1]
                children, prefix, i = frame.children, frame.prefix, frame.index
                end = min(len(children), i + limit - len(page))
                if i >= len(children):
                    stack.pop()
                    continue
                # the entries of this directory, until the page is full or a
                # recursive walk descends (which changes the top frame)
                while i < end:
                    child = children[i]
                    i += 1
                    rel = prefix + child.key
                    if start_after is not None and rel <= start_after:
                        if recursive and child.descend and start_after.startswith(rel):
                            frame.index = i
                            self._push(child.entry.path, rel)
                            break
                        continue
                    st = child.followed
                    if st is None:
                        try:
                            st = child.entry.stat(follow_symlinks=False)
                        except FileNotFoundError:  # removed since the scan
                            continue
                    append(Entry(rel, metadata_from_stat(st)))
                    if recursive and child.descend:
                        frame.index = i
                        self._push(child.entry.path, rel)
                        break
                else:
                    frame.index = i
            self.done = not self._stack
            return page

    def _push(self, directory: str, prefix: str) -> None:
        children = self._scan(directory, prefix)
        if children:
            self._stack.append(_Frame(prefix, children))

    def _scan(self, directory: str, prefix: str) -> list[_Child]:
        children: list[_Child] = []
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    name = entry.name
                    if entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        if not self._core.inside(real):
                            continue
                        try:
                            followed = os.stat(real)
                        except OSError:  # dangling
                            continue
                        if stat_mod.S_ISDIR(followed.st_mode):
                            children.append(_Child(name + "/", entry, False, followed))
                        elif stat_mod.S_ISREG(followed.st_mode):
                            children.append(_Child(name, entry, False, followed))
                    elif entry.is_dir(follow_symlinks=False):
                        children.append(_Child(name + "/", entry, True, None))
                    elif entry.is_file(follow_symlinks=False) and not is_temp_name(name):
                        children.append(_Child(name, entry, False, None))
        except (FileNotFoundError, NotADirectoryError):
            return []  # a missing directory (or a file) lists as empty
        except OSError as exc:
            path = prefix or "/"
            raise from_os_error(exc, operation="list", path=path) from exc
        children.sort(key=lambda c: c.key)
        return children
