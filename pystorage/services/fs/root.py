"""The root of the ``fs`` driver: confinement of paths, temp files, durable commits.

Root confinement: every path is resolved inside the same thread call that
uses it, and refused with :class:`~pystorage.errors.PermissionDenied` unless
the result lies within the real root. Operations then act on the resolved
path. The walk costs one ``lstat`` per existing component; only from the
first symlink on does it fall back to :func:`os.path.realpath`.
"""

from __future__ import annotations

import errno
import itertools
import os
import secrets
import stat as stat_mod
from typing import TypeVar

from ...errors import ConfigInvalid, NotADirectory, PermissionDenied
from .config import FsConfig
from .errors import SERVICE

__all__ = ["TEMP_SUFFIX", "FsRoot", "is_temp_name", "make_dirs", "unlink_quietly"]

#: suffix of the writers' temporary files (hidden from listings)
TEMP_SUFFIX = ".pystorage-tmp"
#: how much of the target's name a temp name keeps (stays under NAME_MAX)
_TEMP_NAME_KEEP = 100
_O_BINARY = getattr(os, "O_BINARY", 0)
_S_ISLNK = stat_mod.S_ISLNK
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: what ``open(O_NOFOLLOW)`` of a symlink fails with (Linux, macOS: ELOOP; FreeBSD: EMLINK)
_SYMLINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})
_lstat = os.lstat
_R = TypeVar("_R", bound="FsRoot")


class _TempNames:
    """Unique temp-name tags: a random per-process prefix and a counter
    (a ``secrets.token_hex`` per write costs a ``getrandom`` call). ``O_EXCL``
    still refuses a clash; a forked child draws a new prefix."""

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


_names = _TempNames()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_names.reseed)


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of the writers' temporary files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def make_dirs(directory: str) -> None:
    """``mkdir -p``; a file in the way is :class:`~pystorage.errors.NotADirectory`."""
    try:
        os.makedirs(directory, exist_ok=True)
    except FileExistsError as exc:
        raise NotADirectory("a file is in the way of a parent directory") from exc


def unlink_quietly(path: str) -> None:
    """Remove ``path``; missing is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _make_config_dir(key: str, directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigInvalid(
            f"config key {key!r} of service 'fs' must be a directory that exists or can be created: {reason}",
            service=SERVICE,
        ) from exc


class FsRoot:
    """The root directory, the confinement of paths below it, and temp files.

    Args:
        root: absolute root directory (no trailing ``/``), already existing.
        temp_dir: absolute directory for temporary files, or ``None`` for
            "next to the target".
        fsync: flush files and directories before a commit returns.
    """

    def __init__(self, root: str, temp_dir: str | None = None, *, fsync: bool = False) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._inside = self.real_root.rstrip(os.sep) + os.sep
        self.temp_dir = temp_dir
        #: flush files and directories to disk before a commit returns (the ``fsync`` config key)
        self.fsync = fsync

    @classmethod
    def from_config(cls: type[_R], config: FsConfig) -> _R:
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

    # confinement ---------------------------------------------------------------
    def inside(self, real: str) -> bool:
        """Whether a real path lies within the real root."""
        return real == self.real_root or real.startswith(self._inside)

    def _confine(self, real: str) -> str:
        # the error's path and operation are filled in by the caller's map_os_errors
        if real == self.real_root or real.startswith(self._inside):
            return real
        raise PermissionDenied("the path resolves outside the root (through a symlink)")

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
        current = self._inside
        for i, part in enumerate(parts):
            candidate = current + part
            try:
                mode = _lstat(candidate).st_mode
            except OSError:  # nothing (reachable) there: no symlink further down either
                return "/".join([candidate, *parts[i + 1:]])
            if _S_ISLNK(mode):
                return self._confine(os.path.realpath("/".join([candidate, *parts[i + 1:]])))
            current = candidate + "/"
        return current[:-1]

    def resolve_entry(self, path: str) -> str:
        """The path of the directory entry ``path`` itself: its parent is
        resolved, its last component is not followed (delete and rename act
        on a symlink, not on what it points to)."""
        parent, _, name = path.rstrip("/").rpartition("/")
        if not parent:  # a child of the root: nothing to walk
            return self._inside + name
        real = self.resolve(parent)
        return real + name if real.endswith("/") else real + "/" + name

    def open_file(self, path: str, flags: int) -> int:
        """``os.open`` of ``path`` below the root, symlinks followed and confined.

        The parents are resolved as by :meth:`resolve`; the last component is
        opened with ``O_NOFOLLOW``, so a plain file costs no ``lstat`` of its
        own, and only a symlink there is resolved (and confined) before the
        second, following open.

        Raises:
            PermissionDenied: it resolves outside the root.
        """
        if _O_NOFOLLOW:
            try:
                return os.open(self.resolve_entry(path), flags | _O_NOFOLLOW)
            except OSError as exc:
                if exc.errno not in _SYMLINK_ERRNOS:
                    raise
        return os.open(self.resolve(path), flags)

    def stat_entry(self, path: str) -> os.stat_result:
        """``os.stat`` of ``path`` below the root, symlinks followed and confined
        (an ``lstat`` of the resolved entry; a symlink there costs a resolve and a ``stat``).

        Raises:
            PermissionDenied: it resolves outside the root.
        """
        st = _lstat(self.resolve_entry(path))
        if _S_ISLNK(st.st_mode):
            return os.stat(self.resolve(path))
        return st

    # temp files and durability ---------------------------------------------------
    def new_temp(self, target: str, *, readable: bool = False) -> tuple[str, int]:
        """Create an empty temp file for ``target``; returns its path and an fd open for writing.

        The parent directory of ``target`` is created when missing.
        """
        directory, _, name = target.rpartition("/")
        tmp_dir = self.temp_dir or directory
        prefix = f"{tmp_dir}/.{name[:_TEMP_NAME_KEEP]}."
        flags = os.O_CREAT | os.O_EXCL | _O_BINARY | (os.O_RDWR if readable else os.O_WRONLY)
        if self.temp_dir is not None:
            make_dirs(directory)
        made_dirs = False
        for attempt in range(4):
            tmp = f"{prefix}{_names.next()}{TEMP_SUFFIX}"
            try:
                return tmp, os.open(tmp, flags, 0o666)
            except FileExistsError:  # a name left by another process: draw another one
                if attempt == 3:
                    raise
                _names.reseed()
            except FileNotFoundError:
                if made_dirs:
                    raise
                make_dirs(tmp_dir)
                made_dirs = True
        raise AssertionError("unreachable")  # pragma: no cover

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
