"""``read``: whole objects, ranges, chunked concurrent reads, missing objects, options a service lacks."""

from __future__ import annotations

import pytest

from pystorage import Operator, errors

from .helpers import KiB, MiB, Options, conditional_options, lacking, need, payload, per_option

pytestmark = pytest.mark.anyio

DATA = payload(1000, seed=11)


async def test_read_whole(op: Operator) -> None:
    await op.write("file", DATA)
    assert await op.read("file") == DATA


async def test_read_returns_bytes(op: Operator) -> None:
    await op.write("file", DATA)
    assert type(await op.read("file")) is bytes


@pytest.mark.parametrize(
    ("offset", "size", "expected"),
    [
        (0, None, (0, 1000)),
        (100, None, (100, 1000)),
        (0, 10, (0, 10)),
        (250, 500, (250, 750)),
        (999, None, (999, 1000)),
        (999, 1, (999, 1000)),
        (900, 500, (900, 1000)),
        (0, 5000, (0, 1000)),
        (10, 0, (10, 10)),
    ],
    ids=["all", "offset", "size", "offset-size", "last-byte", "last-byte-sized", "clamped", "size-past-end",
         "size-zero"],
)
async def test_read_range(op: Operator, offset: int, size: int | None, expected: tuple[int, int]) -> None:
    await op.write("file", DATA)
    start, end = expected
    assert await op.read("file", offset=offset, size=size) == DATA[start:end]


async def test_read_offset_at_length_is_empty(op: Operator) -> None:
    await op.write("file", DATA)
    assert await op.read("file", offset=len(DATA)) == b""
    assert await op.read("file", offset=len(DATA), size=10) == b""


async def test_read_offset_past_length_raises(op: Operator) -> None:
    await op.write("file", DATA)
    with pytest.raises(errors.RangeNotSatisfied) as info:
        await op.read("file", offset=len(DATA) + 1)
    assert info.value.kind is errors.ErrorKind.RANGE_NOT_SATISFIED


async def test_read_empty_object_at_zero(op: Operator) -> None:
    need(op, "write_can_empty")
    await op.write("empty", b"")
    assert await op.read("empty", offset=0) == b""


async def test_read_missing_raises_not_found(op: Operator) -> None:
    with pytest.raises(errors.NotFound):
        await op.read("missing")
    with pytest.raises(FileNotFoundError):
        await op.read("missing", offset=10, size=10)


@pytest.mark.parametrize("bad", [{"offset": -1}, {"size": -1}], ids=["offset", "size"])
async def test_read_negative_range_rejected(op: Operator, bad: dict[str, int]) -> None:
    await op.write("file", DATA)
    with pytest.raises(ValueError):
        await op.read("file", **bad)  # type: ignore[arg-type]


BIG = payload(3 * MiB + 4321, seed=12)


async def test_read_chunked_concurrent_equals_plain(op: Operator) -> None:
    await op.write("big", BIG)
    plain = await op.read("big")
    assert plain == BIG
    assert await op.read("big", chunk=256 * KiB, concurrent=4) == plain


async def test_read_chunked_prefetch_equals_plain(op: Operator) -> None:
    await op.write("big", BIG)
    assert await op.read("big", chunk=256 * KiB, concurrent=2, prefetch=3) == BIG


@pytest.mark.parametrize(("offset", "size"), [(1, None), (300_000, 1_000_000), (3 * MiB, 10_000),
                                              (len(BIG) - 1, None), (12345, 256 * KiB)])
async def test_read_chunked_range(op: Operator, offset: int, size: int | None) -> None:
    await op.write("big", BIG)
    end = len(BIG) if size is None else min(len(BIG), offset + size)
    got = await op.read("big", offset=offset, size=size, chunk=256 * KiB, concurrent=4)
    assert got == BIG[offset:end]


async def test_read_chunk_larger_than_object(op: Operator) -> None:
    await op.write("file", DATA)
    assert await op.read("file", chunk=MiB, concurrent=4) == DATA


# -- options a service lacks ------------------------------------------------------------------

@per_option(conditional_options("read"))
async def test_read_option_unsupported(op: Operator, capability: str, options: Options) -> None:
    lacking(op, capability)
    await op.write("file", DATA)
    with pytest.raises(errors.Unsupported):
        await op.read("file", **options)
    with pytest.raises(errors.Unsupported):
        async with op.open("file", "rb", **options) as reader:
            await reader.read()


async def test_read_version(op: Operator) -> None:
    need(op, "read_with_version")
    first = await op.write("file", b"first version")
    await op.write("file", b"second")
    assert first.version is not None
    assert await op.read("file", version=first.version) == b"first version"
    assert await op.read("file") == b"second"
