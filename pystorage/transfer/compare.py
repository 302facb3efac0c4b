"""Deciding whether a destination object is the same as its source.

Compare modes (the ``compare=`` argument of :func:`~pystorage.transfer.sync`):

``"size_mtime"`` (the default)
    Same size, and the destination is at least as new as the source. The
    destination's time is the source mtime it carries in its user metadata
    (key :data:`MTIME_KEY`, written by every transfer to a destination that
    stores user metadata) when its listing shows it, else its own
    ``last_modified`` (the time it was written, which is never older than
    the source it was copied from). A destination time is given the slack of
    the precision it seems to have: one second for whole seconds (S3
    listings), one millisecond for whole milliseconds (``rclone serve s3``,
    which keeps the carried mtime as the file's time, truncated). Costs no
    request beyond the two listings.
``"size"``
    Same size.
``"checksum"``
    Same size and the same MD5. A checksum the services report is used
    without downloading (GCS ``md5Hash``; an S3 ETag that is a single-part
    MD5); a side without one (fs, memory, S3 multipart or SSE objects, GCS
    composite objects) is streamed and hashed. When a reported S3 ETag
    disagrees, that side is hashed before concluding (with SSE-KMS or SSE-C
    the ETag is not the MD5).
``"etag"``
    Same size and the same ETag: meaningful within one service (S3 to S3
    with the same part size), not across services.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import hashlib
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from .. import errors
from .._operator import Operator
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata

__all__ = [
    "COMPARE_MODES",
    "MTIME_KEY",
    "Verdict",
    "carried_mtime",
    "effective_mtime",
    "format_mtime",
    "hash_object",
    "listed_md5",
    "merge_join",
    "quick_verdict",
]

#: the accepted ``compare=`` values
COMPARE_MODES = ("size_mtime", "size", "checksum", "etag")

#: user-metadata key holding the source's modification time, as Unix seconds
#: with a fractional part (rclone's ``mtime`` convention, so either tool reads
#: what the other wrote)
MTIME_KEY = "mtime"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_SLACK = dt.timedelta(seconds=1)
_MILLISECOND = dt.timedelta(milliseconds=1)
_MICROSECOND = dt.timedelta(microseconds=1)


class Verdict(enum.Enum):
    """The outcome of comparing two listing entries."""

    SAME = "same"
    DIFFER = "differ"
    #: same size: only the bytes' checksums can tell (``compare="checksum"``)
    NEED_CHECKSUM = "need_checksum"


def format_mtime(when: dt.datetime) -> str:
    """``when`` as Unix seconds with microseconds (``"1700000000.123456"``)."""
    delta = when - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    return f"{sign}{seconds}.{fraction:06d}"


def carried_mtime(meta: Metadata) -> dt.datetime | None:
    """The source mtime an earlier transfer stored in ``meta``'s user metadata, if any."""
    value = (meta.user_metadata or {}).get(MTIME_KEY)
    if not value:
        return None
    try:
        micros = int((decimal.Decimal(value.strip()) * 1_000_000).to_integral_value())
        return _EPOCH + dt.timedelta(microseconds=micros)
    except (decimal.InvalidOperation, OverflowError, ValueError):
        return None  # not ours: ignore it


def effective_mtime(meta: Metadata) -> dt.datetime | None:
    """The modification time used for comparisons: the carried one, else ``last_modified``."""
    return carried_mtime(meta) or meta.last_modified


def quick_verdict(mode: str, src: Metadata, dst: Metadata) -> Verdict:
    """Compare two listing entries without any request (see the module docs)."""
    if src.content_length is None or src.content_length != dst.content_length:
        return Verdict.DIFFER
    if mode == "size":
        return Verdict.SAME
    if mode == "checksum":
        return Verdict.NEED_CHECKSUM
    if mode == "etag":
        same = src.etag is not None and src.etag.strip('"') == (dst.etag or "").strip('"')
        return Verdict.SAME if same else Verdict.DIFFER
    src_time = effective_mtime(src)
    carried = carried_mtime(dst)
    dst_time = carried or dst.last_modified
    if src_time is None or dst_time is None:
        return Verdict.DIFFER
    if carried is None:
        dst_time += _precision(dst_time)  # a truncated listing time: the write may have ended within it
    return Verdict.SAME if dst_time >= src_time else Verdict.DIFFER


def _precision(when: dt.datetime) -> dt.timedelta:
    """The precision a listing time seems to have: whole seconds (S3), milliseconds
    (rclone serve s3, GCS), else microseconds."""
    if when.microsecond == 0:
        return _SLACK
    if when.microsecond % 1000 == 0:
        return _MILLISECOND
    return _MICROSECOND


def listed_md5(op: Operator, meta: Metadata) -> tuple[str | None, bool]:
    """The MD5 (hex) a service reported for an object, without reading it.

    Returns:
        ``(md5, inferred)``: ``md5`` is ``None`` when none is known;
        ``inferred`` is ``True`` when it was read from an S3 ETag, which
        is not the MD5 for SSE-KMS and SSE-C objects (so a mismatch must be
        confirmed by hashing).
    """
    if meta.content_md5:
        raw = meta.content_md5.strip()
        if len(raw) == 32 and all(c in "0123456789abcdefABCDEF" for c in raw):
            return raw.lower(), False
        try:
            return base64.b64decode(raw, validate=True).hex(), False
        except (binascii.Error, ValueError):
            pass
    if op.info.scheme == "s3" and meta.etag:
        match = _MD5_ETAG.match(meta.etag)
        if match:
            return match.group(1).lower(), True
    return None, False


async def hash_object(
    op: Operator, path: str, *, chunk: int, throttle: Callable[[int], Any] | None = None
) -> str:
    """Stream ``path`` and return its MD5 (hex). Memory: one ``chunk``."""
    digest = hashlib.md5(usedforsecurity=False)
    async with op.open(path, "rb") as reader:
        while True:
            piece = await reader.read(chunk)
            if not piece:
                break
            if throttle is not None:
                await throttle(len(piece))
            digest.update(piece)
    return digest.hexdigest()


async def merge_join(
    src: AsyncIterator[tuple[str, Entry]], dst: AsyncIterator[tuple[str, Entry]]
) -> AsyncGenerator[tuple[str, Entry | None, Entry | None], None]:
    """Pair two listings sorted by key: ``(key, src_entry, dst_entry)``,
    either entry ``None`` when only one side has the key. Closes both
    listings when done (or closed early).

    Raises:
        Unexpected: a listing is not in strictly increasing key order (the
            pairing would be wrong).
    """
    last: dict[str, str] = {}

    async def step(it: AsyncIterator[tuple[str, Entry]], side: str) -> tuple[str, Entry] | None:
        try:
            item = await it.__anext__()
        except StopAsyncIteration:
            return None
        previous = last.get(side)
        if previous is not None and item[0] <= previous:
            raise errors.Unexpected(
                f"the {side} listing is not sorted ({item[0]!r} after {previous!r}): cannot pair listings"
            )
        last[side] = item[0]
        return item

    try:
        s = await step(src, "source")
        d = await step(dst, "destination")
        while s is not None or d is not None:
            if d is None or (s is not None and s[0] < d[0]):
                assert s is not None
                yield s[0], s[1], None
                s = await step(src, "source")
            elif s is None or d[0] < s[0]:
                yield d[0], None, d[1]
                d = await step(dst, "destination")
            else:
                yield s[0], s[1], d[1]
                s = await step(src, "source")
                d = await step(dst, "destination")
    finally:
        await aclose_iterator(src)
        await aclose_iterator(dst)
