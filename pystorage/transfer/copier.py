"""Copying one object: server-side, streamed, or as a resumable multipart upload.

These are plain top-level functions of picklable arguments (operators, paths,
:class:`~pystorage.Metadata`, :class:`CopySettings`), so the dask executor
runs the very same code on its workers.

Memory per object in flight is at most ``chunk × (concurrent + 2)``:

* a streamed copy reads the source as one sequential stream (pieces of
  about 1 MiB) into the destination's writer, which holds at most
  ``chunk × (concurrent + 2)`` (the multipart engine's bound);
* a multipart copy (explicit multipart API: resumable with a journal, and
  used without one where the destination's parts are native, S3) reads
  ``concurrent`` ranges of ``chunk`` bytes at a time, each uploaded as one part;
* an object of at most ``small`` bytes is read with one request and
  written with one (``small ≤ chunk``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .. import errors
from .._operator import Operator
from ..raw.multipart import DEFAULT_PART_SIZE
from ..raw.tasks import run_concurrently
from ..types import Capability, Metadata, Part
from .compare import MTIME_KEY, effective_mtime, format_mtime
from .journal import Journal, fingerprint

__all__ = [
    "DEFAULT_CONCURRENT",
    "SMALL_OBJECT",
    "CopyResult",
    "CopySettings",
    "copy_object",
    "part_size_for",
    "write_options",
]

#: parts (or ranges) of one object in flight when ``concurrent`` is not given
DEFAULT_CONCURRENT = 4

#: objects up to this size are read with one request and written with one
SMALL_OBJECT = 1024 * 1024

#: ``throttle(nbytes)``: waits until ``nbytes`` may be moved (``bwlimit``)
Throttle = Callable[[int], Awaitable[None]]
#: ``await moved(nbytes)``: called as bytes of the object are moved
Moved = Callable[[int], Awaitable[None]]


@dataclasses.dataclass(frozen=True, slots=True)
class CopySettings:
    """How objects are copied (picklable).

    Attributes:
        chunk: part size of uploads (``None``: the destination's default,
            :data:`~pystorage.raw.multipart.DEFAULT_PART_SIZE`, raised to its
            minimum part size).
        concurrent: parts of one object in flight.
        server_side: copy with the service's own copy (source and
            destination are one operator).
    """

    chunk: int | None = None
    concurrent: int = DEFAULT_CONCURRENT
    server_side: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CopyResult:
    """What copying one object did.

    Attributes:
        bytes: bytes of the object copied by this call (server-side: its size).
        how: ``"server-side"``, ``"stream"``, ``"multipart"`` or ``"resumed"``.
        metadata: what the destination reported after the write (may be ``None``).
        resumed_bytes: bytes of parts an earlier run had uploaded, reused.
    """

    bytes: int
    how: str
    metadata: Metadata | None = None
    resumed_bytes: int = 0


def part_size_for(cap: Capability, size: int, chunk: int | None) -> int:
    """The part size for an object of ``size`` bytes: ``chunk`` (default
    :data:`DEFAULT_PART_SIZE`) raised to the service's minimum part size and
    to what ``write_multi_max_parts`` parts need.

    Raises:
        ConfigInvalid: ``chunk`` is above the service's maximum part size.
    """
    part = chunk or DEFAULT_PART_SIZE
    if cap.write_multi_min_size:
        part = max(part, cap.write_multi_min_size)
    if cap.write_multi_max_parts:
        part = max(part, math.ceil(size / cap.write_multi_max_parts))
    if cap.write_multi_max_size and part > cap.write_multi_max_size:
        raise errors.ConfigInvalid(
            f"part size {part} is above the destination's write_multi_max_size ({cap.write_multi_max_size})"
        )
    return part


def write_options(cap: Capability, source: Metadata | None, listed: Metadata) -> dict[str, Any]:
    """The write options carrying ``source``'s metadata to a destination of
    capability ``cap``: content type, cache control, disposition, encoding and
    user metadata where the destination stores them, plus the listed source
    mtime as user metadata :data:`~pystorage.transfer.compare.MTIME_KEY`."""
    options: dict[str, Any] = {}
    if source is not None:
        for name in ("content_type", "cache_control", "content_disposition", "content_encoding"):
            value = getattr(source, name)
            if value and getattr(cap, f"write_with_{name}"):
                options[name] = value
    if cap.write_with_user_metadata:
        user = dict(source.user_metadata or {}) if source is not None else {}
        when = effective_mtime(listed)
        if when is not None:
            user[MTIME_KEY] = format_mtime(when)
        if user:
            options["user_metadata"] = user
    return options


def _stores_metadata(cap: Capability) -> bool:
    """Whether a service keeps any metadata worth carrying (content type, user metadata ...)."""
    return any(
        getattr(cap, f"write_with_{name}")
        for name in ("content_type", "cache_control", "content_disposition", "content_encoding",
                     "user_metadata")
    )


async def _noop(_: int) -> None:
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Object:
    """One object to copy and how: what the streamed and the multipart copy share."""

    src: Operator
    src_key: str
    dst: Operator
    dst_key: str
    listed: Metadata
    settings: CopySettings
    throttle: Throttle
    moved: Moved | None

    def changed(self, when: str) -> errors.ConditionNotMatch:
        """The error for a source that changed ``when`` (``"during the copy"`` ...)."""
        return errors.ConditionNotMatch(
            f"the source changed {when}", operation="copy", path=self.src_key, service=self.src.info.scheme
        )


async def copy_object(
    src: Operator,
    src_key: str,
    dst: Operator,
    dst_key: str,
    listed: Metadata,
    settings: CopySettings,
    *,
    journal: Journal | None = None,
    journal_key: str | None = None,
    throttle: Throttle | None = None,
    moved: Moved | None = None,
) -> CopyResult:
    """Copy ``src_key`` of ``src`` to ``dst_key`` of ``dst``.

    Args:
        listed: the source's listing entry metadata (size, etag, mtime).
        settings: see :class:`CopySettings`.
        journal: with a journal, objects of more than one part go to
            destinations with the explicit ``multipart`` capability as a
            resumable upload journaled under ``journal_key``. Without one,
            such objects go the same way to destinations whose automatic
            writes are multipart too (S3), aborted on any failure.
        throttle: awaited with each piece's size before it is moved.
        moved: called with each piece's size once moved.

    Warning:
        With a journal, a failed or cancelled multipart copy leaves its upload
        (journaled) for the next run to resume; :func:`~pystorage.transfer.sync`
        aborts journaled uploads it no longer needs once a run succeeds.
    """
    if settings.server_side:
        await src.copy(src_key, dst_key)
        if moved is not None:
            await moved(listed.content_length or 0)
        return CopyResult(listed.content_length or 0, "server-side")
    obj = _Object(src, src_key, dst, dst_key, listed, settings, throttle or _noop, moved)
    cap = dst.capability()
    size = listed.content_length
    # the explicit multipart API: resumable with a journal; without one, on services whose parts are
    # native (S3: not GCS, whose composite objects would lose their MD5), for its parallel ranged reads
    if cap.multipart and size is not None and (journal is not None or cap.write_can_multi):
        part = part_size_for(cap, size, settings.chunk)
        if size > part:
            return await _multipart(obj, part, journal, journal_key or dst_key)
    return await _stream(obj)


async def _stream(obj: _Object) -> CopyResult:
    cap = obj.dst.capability()
    size = obj.listed.content_length
    chunk = obj.settings.chunk
    if size is not None and size <= min(SMALL_OBJECT, chunk or SMALL_OBJECT):
        if _stores_metadata(obj.src.capability()):
            async with obj.src.open(obj.src_key, "rb") as reader:  # its stat gives what to carry over
                data = await reader.read()
                source = reader.metadata
        else:  # fs: nothing to carry but the listed mtime, so one plain read
            data = await obj.src.read(obj.src_key)
            source = None
        await obj.throttle(len(data))
        meta = await obj.dst.write(obj.dst_key, data, **write_options(cap, source, obj.listed))
        if obj.moved is not None:
            await obj.moved(len(data))
        return CopyResult(len(data), "stream", meta)
    options: dict[str, Any] = {"concurrent": obj.settings.concurrent}
    if chunk is not None:
        options["chunk"] = part_size_for(cap, size or 0, chunk) if cap.write_can_multi else chunk
    async with obj.src.open(obj.src_key, "rb") as reader:
        options.update(write_options(cap, reader.metadata, obj.listed))
        async with obj.dst.open(obj.dst_key, "wb", **options) as writer:
            async for piece in reader:
                await obj.throttle(len(piece))
                await writer.write(piece)
                if obj.moved is not None:
                    await obj.moved(len(piece))
            meta = await writer.close()
    return CopyResult(writer.bytes_written, "stream", meta)


async def _multipart(obj: _Object, part: int, journal: Journal | None, key: str) -> CopyResult:
    size = obj.listed.content_length
    assert size is not None
    count = math.ceil(size / part)
    source = await obj.src.stat(obj.src_key)
    if source.content_length != size:
        raise obj.changed("since it was listed")
    pin: dict[str, Any] = {}
    if source.etag and obj.src.capability().read_with_if_match:
        pin["if_match"] = source.etag  # every part from one version of the source
    options = write_options(obj.dst.capability(), source, obj.listed)

    def expected(number: int) -> int:
        return part if number < count else size - part * (count - 1)

    have: dict[int, Part] = {}
    upload = None
    old = journal.upload(key) if journal is not None else None
    if old is not None and old.source == fingerprint(obj.listed) and old.part_size == part:
        upload = obj.dst.resume_multipart(obj.dst_key, old.upload_id, **options)
        try:
            held = [p async for p in upload.list_parts()]
        except errors.NotFound:  # completed, aborted or expired meanwhile
            upload = None
        else:
            have = {p.number: p for p in held if 1 <= p.number <= count and p.size == expected(p.number)}
    elif old is not None:  # started from another version of the source: worthless
        try:
            await obj.dst.resume_multipart(obj.dst_key, old.upload_id, **options).abort()
        except errors.NotFound:
            pass
    if upload is None:
        have = {}
        if journal is not None:
            journal.forget_upload(key)
        upload = await obj.dst.create_multipart(obj.dst_key, **options)
        if journal is not None:
            journal.record_upload(key, upload.upload_id, part, obj.listed)
    reused = sum(p.size for p in have.values())
    up = upload

    def sender(number: int) -> Callable[[], Awaitable[Part]]:
        async def send() -> Part:
            length = expected(number)
            await obj.throttle(length)
            data = await obj.src.read(obj.src_key, offset=(number - 1) * part, size=length, **pin)
            if len(data) != length:
                raise obj.changed("during the copy")
            written = await up.write_part(number, data)
            if journal is not None:
                journal.record_part(key, written)
            if obj.moved is not None:
                await obj.moved(length)
            return written

        return send

    async def abandon() -> None:
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(errors.Error):
                await up.abort()
            if journal is not None:
                journal.forget_upload(key)

    try:
        missing = [n for n in range(1, count + 1) if n not in have]
        senders = [sender(n) for n in missing]
        sent = await run_concurrently(senders, obj.settings.concurrent) if senders else []
        parts = sorted([*have.values(), *sent], key=lambda p: p.number)
        if not pin:  # no if_match on the source (fs): check it did not change while being read
            now = await obj.src.stat(obj.src_key)
            if (now.etag, now.content_length, now.last_modified) != (
                source.etag, source.content_length, source.last_modified
            ):
                await abandon()
                raise obj.changed("during the copy")
        meta = await up.complete(parts)
    except BaseException:
        if journal is None:  # nobody could resume it: leave nothing behind
            await abandon()
        raise
    if journal is not None:
        journal.forget_upload(key)
    return CopyResult(size - reused, "resumed" if reused else "multipart", meta, reused)
