"""The read planner, written once for every driver and layer.

Drivers implement one primitive: ``Accessor.read`` of a valid, non-empty
byte range (``offset``, then ``size`` bytes or to the end), honouring the
conditions and version of the :class:`~pystorage.raw.ops.OpRead`, and
mapping the service's ``416`` to :class:`~pystorage.errors.RangeNotSatisfied`.
Everything else about a range is decided here:

* **stat only when needed**: a read of ``size == 0`` needs the object's
  length (is ``offset`` past the end?); nothing else does — a read learns the
  object's size, etag and version from the answer (:attr:`RawReader.metadata`);
* **the clamp**: ``[offset, min(offset + size, length))``; ``offset ==
  length`` is an empty read, ``offset > length`` raises ``RangeNotSatisfied``;
* **the 416**: a service answers ``416`` for ``offset >= length`` (an empty
  object answers it even at offset 0); one ``stat`` tells an empty read from
  one past the end (the rare case). It is not guessed from the offset: a
  layer below the planner (client-side encryption) may refuse a range of its
  own, and only the object's length says what the refusal means;
* **pinning** (:func:`pin_to_version`): the requests of one read stay on the
  version its first answer (or ``stat``) saw.

A service answering ``200`` with the whole object to a ranged request is the
driver's to handle where the bytes are (``max_range_skip`` and
:func:`~pystorage.raw.http.skip_refused`). The engines built on this planner
are :class:`~pystorage.raw.ranged.RangeReader` (chunked reads, the
``open("rb")`` reader) and :func:`~pystorage.raw.coalesce.read_ranges`.
"""

from __future__ import annotations

import dataclasses

from ..errors import RangeNotSatisfied
from ..types import Capability, Metadata
from .accessor import Accessor, EmptyReader, RawReader
from .ops import OpRead, OpStat

__all__ = [
    "Pin",
    "check_range",
    "clamp",
    "open_range",
    "past_end",
    "pin_to_version",
    "stat_op",
]


def check_range(offset: object, size: object) -> None:
    """Check a caller's ``offset`` (an int >= 0) and ``size`` (an int >= 0 or ``None``).

    Raises:
        ValueError: naming the bad value.
    """
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ValueError(f"size must be an int >= 0 or None, got {size!r}")


def past_end(path: str, offset: int, length: int | None, service: str = "") -> RangeNotSatisfied:
    """The error of a read starting after the object's last byte."""
    what = "" if length is None else f" ({length} bytes)"
    return RangeNotSatisfied(
        f"offset {offset} is past the end{what}", operation="read", path=path, service=service
    )


def clamp(path: str, offset: int, size: int | None, length: int, service: str = "") -> int:
    """The end (exclusive) of ``[offset, offset + size)`` clamped to an object
    of ``length`` bytes (``size=None``: to the end).

    Raises:
        RangeNotSatisfied: ``offset > length``.
    """
    if offset > length:
        raise past_end(path, offset, length, service)
    return length if size is None else min(length, offset + size)


def stat_op(op: OpRead, *, conditions: bool = False) -> OpStat:
    """The ``stat`` of the object ``op`` reads: same version and SSE, and with
    ``conditions`` its conditions too (a read that sends no request must
    still check them)."""
    if not conditions:
        return OpStat(version=op.version, sse=op.sse)
    return OpStat(**{name: getattr(op, name) for name in _STAT_FIELDS})


#: what a stat shares with a read: its conditions, version and SSE spec
_STAT_FIELDS = tuple(field.name for field in dataclasses.fields(OpStat))


async def open_range(accessor: Accessor, path: str, op: OpRead, *, length: int | None = None) -> RawReader:
    """A stream of bytes ``[op.offset, min(op.offset + op.size, length))`` of ``path``.

    Args:
        accessor: where to read from (a driver or a layered one).
        path: normalised file path.
        op: the range, conditions and version.
        length: the object's size when the caller already knows it (from a
            ``stat`` or an earlier answer): the range is clamped before any
            request, and an empty one sends none.

    Raises:
        RangeNotSatisfied: ``op.offset`` is past the end.
    """
    if length is None and op.size == 0:
        meta = await accessor.stat(path, stat_op(op, conditions=True))
        if meta.content_length is not None:
            clamp(path, op.offset, 0, meta.content_length, accessor.info().scheme)
        return EmptyReader(meta)
    if length is not None:
        end = clamp(path, op.offset, op.size, length, accessor.info().scheme)
        if end <= op.offset:
            return EmptyReader()
        if op.size is not None and end - op.offset != op.size:
            op = dataclasses.replace(op, size=end - op.offset)
    try:
        raw = await accessor.read(path, op)
    except RangeNotSatisfied:
        # a 416 (offset >= length) or a layer's own refusal: the rare case
        # that needs the length to tell an empty read from one past the end
        meta = await accessor.stat(path, stat_op(op))
        if meta.content_length != op.offset:
            raise
        return EmptyReader(meta)
    if op.offset:  # (nothing starts past the end of an object at 0)
        known = raw.metadata
        total = known.content_length if known is not None else None
        if total is not None and op.offset > total:
            # a service that reads past the end as empty (fs, memory)
            await raw.aclose()
            raise past_end(path, op.offset, total, accessor.info().scheme)
    return raw


@dataclasses.dataclass(frozen=True, slots=True)
class Pin:
    """How the requests of one read stay on one version (see :func:`pin_to_version`).

    Attributes:
        op: the read options every request is sent with.
        by_version: ``op.version`` was set by the pin, not by the caller.
        expect_etag: the etag every answer must carry, when the service can
            take neither ``if_match`` nor ``version`` (checked on the answer).
    """

    op: OpRead
    by_version: bool = False
    expect_etag: str | None = None


def pin_to_version(op: OpRead, meta: Metadata, capability: Capability) -> Pin:
    """``op`` pinned to the object version ``meta`` describes, for a read of
    several requests (chunks, re-requests after a seek, copies).

    A caller's own ``version`` or ``if_match`` is kept as is. Otherwise the
    read is pinned to ``meta.etag`` with ``if_match`` where the service takes
    it (a change between two requests then fails the read with
    ``ConditionNotMatch`` instead of splicing two versions), else to
    ``meta.version`` (a pinned version that disappears means the object
    changed: see :class:`~pystorage.raw.ranged.RangeReader`); where the service
    can take neither, every answer's etag is compared with ``meta.etag``.
    """
    if op.version is not None or op.if_match is not None:
        return Pin(op)
    if meta.etag is not None and capability.read_with_if_match:
        return Pin(dataclasses.replace(op, if_match=meta.etag))
    if meta.version is not None and capability.read_with_version:
        return Pin(dataclasses.replace(op, version=meta.version), by_version=True)
    return Pin(op, expect_etag=meta.etag)
