"""The fs lister: :class:`DirWalker` (blocking, one page per call) and the
async :func:`list_pages` that hands each page over as it is."""

from __future__ import annotations

import dataclasses
import os
import stat as stat_mod
from collections.abc import AsyncGenerator, Sequence
from operator import itemgetter

from ...raw.ops import OpList
from ...types import Entry, new_entry
from .core import FsCore
from .errors import from_os_error, map_os_errors
from .metadata import metadata_from_stat
from .root import TEMP_SUFFIX
from .threads import run_sync

__all__ = ["LIST_PAGE", "DirWalker", "list_pages"]

#: entries per listing page (one thread call each) when no smaller ``limit`` is given
LIST_PAGE = 1000

#: a scanned child: (key — the name, plus "/" for a directory —, its entry,
#: whether a recursive walk descends into it — a real directory, not a
#: symlink —, and for a symlink the stat of what it points to)
_Child = tuple[str, "os.DirEntry[str]", bool, "os.stat_result | None"]
_by_key = itemgetter(0)
_S_ISDIR = stat_mod.S_ISDIR
_S_ISREG = stat_mod.S_ISREG


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
        core: the :class:`~pystorage.services.fs.core.FsCore`.
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
                if start_after is None and not recursive:  # the usual listing: nothing to skip or enter
                    for key, entry, _, st in children[i:end]:
                        if st is None:
                            try:
                                st = entry.stat(follow_symlinks=False)
                            except FileNotFoundError:  # removed since the scan
                                continue
                        append(new_entry(prefix + key, metadata_from_stat(st)))
                    frame.index = end
                    continue
                # the entries of this directory, until the page is full or a
                # recursive walk descends (which changes the top frame)
                while i < end:
                    key, entry, descend, st = children[i]
                    i += 1
                    rel = prefix + key
                    if start_after is not None and rel <= start_after:
                        if recursive and descend and start_after.startswith(rel):
                            frame.index = i
                            self._push(entry.path, rel)
                            break
                        continue
                    if st is None:
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except FileNotFoundError:  # removed since the scan
                            continue
                    append(new_entry(rel, metadata_from_stat(st)))
                    if recursive and descend:
                        frame.index = i
                        self._push(entry.path, rel)
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
        append = children.append
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    name = entry.name
                    if entry.is_file(follow_symlinks=False):  # the usual entry: one check
                        if not (name[0] == "." and name.endswith(TEMP_SUFFIX)):  # not a writer's temp file
                            append((name, entry, False, None))
                    elif entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        if not self._core.inside(real):
                            continue
                        try:
                            followed = os.stat(real)
                        except OSError:  # dangling
                            continue
                        if _S_ISDIR(followed.st_mode):
                            append((name + "/", entry, False, followed))
                        elif _S_ISREG(followed.st_mode):
                            append((name, entry, False, followed))
                    elif entry.is_dir(follow_symlinks=False):
                        append((name + "/", entry, True, None))
        except (FileNotFoundError, NotADirectoryError):
            return []  # a missing directory (or a file) lists as empty
        except OSError as exc:
            raise from_os_error(exc, operation="list", path=prefix or "/") from exc
        children.sort(key=_by_key)
        return children


async def list_pages(core: FsCore, path: str, op: OpList) -> AsyncGenerator[Sequence[Entry], None]:
    """Yield the entries below directory ``path`` in lexicographic order, one
    page per worker-thread hand-off, each page as the walker built it.

    A page holds at most ``op.limit`` entries, and at most :data:`LIST_PAGE`;
    nothing is held open between pages, so abandoning the iterator early
    leaks nothing.

    Args:
        core: the :class:`~pystorage.services.fs.core.FsCore`.
        path: the directory (``"/"`` or ``"a/"``).
        op: ``recursive``, ``start_after`` and ``limit`` are honoured.
    """
    walker = DirWalker(core, path, recursive=op.recursive, start_after=op.start_after)
    page_size = LIST_PAGE if op.limit is None else max(1, min(op.limit, LIST_PAGE))
    while not walker.done:
        page = await run_sync(walker.next_page, page_size)
        if page:
            yield page
