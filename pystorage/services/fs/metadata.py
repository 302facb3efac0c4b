"""Metadata of the ``fs`` driver, built from one ``stat`` result."""

from __future__ import annotations

import datetime as dt
import os
import stat as stat_mod

from ...types import EntryMode, Metadata, new_metadata

__all__ = ["etag_of", "metadata_from_stat", "modified_at"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_timedelta = dt.timedelta
_S_ISREG = stat_mod.S_ISREG
_S_ISDIR = stat_mod.S_ISDIR
_FILE = EntryMode.FILE
_DIR = EntryMode.DIR
_UNKNOWN = EntryMode.UNKNOWN


def modified_at(mtime_ns: int) -> dt.datetime:
    """``st_mtime_ns`` as an aware UTC datetime (microseconds, truncated)."""
    return _EPOCH + _timedelta(0, 0, mtime_ns // 1000)  # positional: twice as fast as keywords


def etag_of(st: os.stat_result) -> str:
    """A file's etag: ``"{inode:x}-{mtime_ns:x}-{size:x}"``, quoted (every
    atomic write makes a new inode, so an overwrite within one clock tick
    still changes it)."""
    return '"%x-%x-%x"' % (st.st_ino, st.st_mtime_ns, st.st_size)  # noqa: UP031  (a third faster than an f-string)


def metadata_from_stat(st: os.stat_result) -> Metadata:
    """Metadata of a stat result: files get ``content_length``, ``etag``
    (:func:`etag_of`) and ``last_modified`` (aware UTC); directories get
    ``EntryMode.DIR``, ``content_length=0`` and ``last_modified``."""
    mtime_ns = st.st_mtime_ns
    modified = _EPOCH + _timedelta(0, 0, mtime_ns // 1000)
    mode = st.st_mode
    if _S_ISREG(mode):
        size = st.st_size
        etag = '"%x-%x-%x"' % (st.st_ino, mtime_ns, size)  # noqa: UP031  (as etag_of, inlined)
        return new_metadata(_FILE, size, etag, modified)
    if _S_ISDIR(mode):
        return new_metadata(_DIR, 0, None, modified)
    return new_metadata(_UNKNOWN, None, None, modified)
