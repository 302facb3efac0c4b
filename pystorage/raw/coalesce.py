"""Many byte ranges of one object in few requests, written once
(``Operator.read_ranges``, fsspec's ``cat_ranges``).

Ranges are sorted and neighbours merged into *spans* when the gap between
them is at most ``coalesce`` bytes (overlapping ranges always merge); a span
larger than ``max_request`` is split into requests of that size. The requests
run ``concurrent`` at a time, every answer's length is checked, and each
range is sliced back out of its span. Memory held: the bytes of the spans
(the requested bytes plus the gaps merged over).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence

from ..errors import IsADirectory, Unexpected, Unsupported
from .accessor import Accessor
from .ops import OpRead
from .ranged import read_all
from .read import check_range, clamp, pin_to_version, stat_op
from .tasks import run_concurrently

__all__ = ["Span", "coalesce_ranges", "fetch_ranges", "read_ranges"]


@dataclasses.dataclass(frozen=True)
class Span:
    """Bytes ``[start, end)`` covering the ranges at ``members`` (indices into the input)."""

    start: int
    end: int
    members: tuple[int, ...]


def coalesce_ranges(ranges: Sequence[tuple[int, int]], gap: int) -> list[Span]:
    """Merge ``[start, end)`` ranges whose distance is at most ``gap`` bytes.

    Empty ranges (``start >= end``) belong to no span. The spans are sorted
    and disjoint, and further apart than ``gap``.
    """
    order = sorted((i for i, (s, e) in enumerate(ranges) if e > s), key=lambda i: ranges[i])
    spans: list[Span] = []
    start = end = 0
    members: list[int] = []
    for i in order:
        s, e = ranges[i]
        if members and s - end <= gap:
            end = max(end, e)
            members.append(i)
            continue
        if members:
            spans.append(Span(start, end, tuple(members)))
        start, end, members = s, e, [i]
    if members:
        spans.append(Span(start, end, tuple(members)))
    return spans


async def fetch_ranges(
    accessor: Accessor,
    path: str,
    op: OpRead,
    ranges: Sequence[tuple[int, int]],
    *,
    coalesce: int,
    concurrent: int,
    max_request: int,
) -> list[bytes]:
    """The bytes of each valid, clamped ``[start, end)`` range of ``path``.

    Args:
        accessor: where to read from.
        path: normalised path.
        op: the read options every request carries (its pinning condition or
            version); its offset/size are replaced per request.
        ranges: ``[start, end)`` pairs within the object.
        coalesce: merge ranges at most this many bytes apart.
        concurrent: requests in flight.
        max_request: bytes per request at most (larger spans are split).
    """
    spans = coalesce_ranges(ranges, coalesce)
    pieces: list[tuple[int, int]] = []
    for span in spans:
        starts = range(span.start, span.end, max_request)
        pieces.extend((lo, min(span.end, lo + max_request)) for lo in starts)

    def fetcher(lo: int, hi: int) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            raw = await accessor.read(path, dataclasses.replace(op, offset=lo, size=hi - lo))
            data = await read_all(raw)
            if len(data) != hi - lo:
                raise Unexpected(
                    f"ranged read of bytes {lo}-{hi} returned {len(data)} bytes",
                    operation="read",
                    path=path,
                    temporary=True,
                )
            return data

        return fetch

    fetched = await run_concurrently([fetcher(lo, hi) for lo, hi in pieces], concurrent) if pieces else []
    out: list[bytes] = [b""] * len(ranges)
    at = 0
    for span in spans:
        count = -(-(span.end - span.start) // max_request)
        parts, at = fetched[at : at + count], at + count
        data = parts[0] if count == 1 else b"".join(parts)
        del parts
        view = memoryview(data)
        for i in span.members:
            s, e = ranges[i]
            whole = (s, e) == (span.start, span.end)
            out[i] = data if whole else bytes(view[s - span.start : e - span.start])
    return out


async def read_ranges(
    accessor: Accessor,
    path: str,
    op: OpRead,
    ranges: Sequence[tuple[int, int | None]],
    *,
    coalesce: int,
    concurrent: int,
    max_request: int,
) -> list[bytes]:
    """The bytes of each ``(offset, size)`` range of ``path`` (``size=None``: to
    the end), following the read planner's rules (:mod:`pystorage.raw.read`).

    One ``stat`` gives the size; every range is clamped to it (``offset >
    length`` raises ``RangeNotSatisfied``) and every request pinned to the
    version it saw, then :func:`fetch_ranges` does the requests.
    """
    for offset, size in ranges:
        check_range(offset, size)
    if not ranges:
        return []
    info = accessor.info()
    meta = await accessor.stat(path, stat_op(op))
    if meta.is_dir:
        raise IsADirectory("the path is a directory", operation="read", path=path, service=info.scheme)
    length = meta.content_length
    if length is None:
        raise Unsupported("read_ranges needs the object's size", operation="read", path=path)
    spans = [(offset, clamp(path, offset, size, length, info.scheme)) for offset, size in ranges]
    pinned = op if op.version is not None else pin_to_version(op, meta, info.capability).op
    return await fetch_ranges(
        accessor, path, pinned, spans, coalesce=coalesce, concurrent=concurrent, max_request=max_request
    )
