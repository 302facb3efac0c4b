"""``write`` and round trips through ``read``: data sources, results, metadata options."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator

import pytest

from pystorage import Metadata, Operator, errors

from .helpers import MiB, OptionCase, Options, agen, chunk_size, lacking, need, payload, per_option, split

pytestmark = pytest.mark.anyio


async def test_write_bytes_round_trip(op: Operator) -> None:
    data = payload(1000)
    meta = await op.write("file", data)
    assert isinstance(meta, Metadata)
    assert meta.content_length == len(data)
    assert await op.read("file") == data


async def test_write_bytearray(op: Operator) -> None:
    data = bytearray(payload(777, seed=1))
    meta = await op.write("file", data)
    assert meta.content_length == 777
    assert await op.read("file") == bytes(data)


async def test_write_memoryview(op: Operator) -> None:
    data = payload(4096, seed=2)
    meta = await op.write("file", memoryview(data)[100:3100])
    assert meta.content_length == 3000
    assert await op.read("file") == data[100:3100]


async def test_write_sync_iterable(op: Operator) -> None:
    data = payload(10_000, seed=3)
    meta = await op.write("file", split(data, 999))
    assert meta.content_length == len(data)
    assert await op.read("file") == data


async def test_write_sync_generator(op: Operator) -> None:
    data = payload(10_000, seed=4)

    def gen() -> Iterator[bytes]:
        yield from split(data, 1234)

    await op.write("file", gen())
    assert await op.read("file") == data


async def test_write_async_generator(op: Operator) -> None:
    data = payload(10_000, seed=5)
    meta = await op.write("file", agen(*split(data, 4000)))
    assert meta.content_length == len(data)
    assert await op.read("file") == data


async def test_write_async_iterable_object(op: Operator) -> None:
    data = payload(5000, seed=6)

    class Source:
        def __aiter__(self) -> AsyncIterator[bytes]:
            return agen(*split(data, 700))

    await op.write("file", Source())
    assert await op.read("file") == data


async def test_write_iterable_of_mixed_bytes_like(op: Operator) -> None:
    await op.write("file", [b"ab", bytearray(b"cd"), memoryview(b"ef")])  # type: ignore[list-item]
    assert await op.read("file") == b"abcdef"


async def test_write_empty_object(op: Operator) -> None:
    need(op, "write_can_empty")
    meta = await op.write("empty", b"")
    assert meta.content_length == 0
    assert await op.read("empty") == b""
    assert (await op.stat("empty")).content_length == 0
    assert await op.exists("empty")


async def test_write_empty_iterable(op: Operator) -> None:
    need(op, "write_can_empty")
    await op.write("empty", agen())
    assert await op.read("empty") == b""


async def test_write_empty_unsupported(op: Operator) -> None:
    if op.capability().write_can_empty:
        pytest.skip("has write_can_empty")
    with pytest.raises(errors.Unsupported):
        await op.write("empty", b"")
    assert not await op.exists("empty")


@pytest.mark.parametrize("bad", ["text", 42, 1.5, None, {"a": 1}],
                         ids=["str", "int", "float", "None", "dict"])
async def test_write_rejects_non_bytes(op: Operator, bad: object) -> None:
    with pytest.raises(TypeError) as info:
        await op.write("file", bad)  # type: ignore[arg-type]
    assert type(bad).__name__ in str(info.value)
    assert not await op.exists("file")


async def test_write_iterable_of_str_rejected(op: Operator) -> None:
    with pytest.raises(TypeError, match="str"):
        await op.write("file", ["a", "b"])  # type: ignore[list-item]
    assert not await op.exists("file")


async def test_overwrite_replaces_content(op: Operator) -> None:
    await op.write("file", payload(5000, seed=1))
    await op.write("file", b"short")
    assert await op.read("file") == b"short"
    assert (await op.stat("file")).content_length == 5


async def test_write_nested_path(op: Operator) -> None:
    await op.write("a/b/c/file", b"deep")
    assert await op.read("a/b/c/file") == b"deep"
    assert (await op.stat("a/b/")).is_dir


async def test_write_chunked_concurrent_round_trip(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    data = payload(3 * chunk + 123, seed=7)
    meta = await op.write("big", agen(*split(data, 100_000)), chunk=chunk, concurrent=3)
    assert meta.content_length == len(data)
    assert await op.read("big") == data


async def test_write_chunked_bytes_round_trip(op: Operator) -> None:
    chunk = chunk_size(op, MiB)
    data = payload(2 * chunk + 5, seed=8)
    meta = await op.write("big", data, chunk=chunk, concurrent=2)
    assert meta.content_length == len(data)
    assert await op.read("big") == data


async def test_write_failing_source_leaves_nothing(op: Operator) -> None:
    class Boom(Exception):
        pass

    async def source() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise Boom

    with pytest.raises(Boom):
        await op.write("file", source())
    assert not await op.exists("file")


async def test_write_failing_source_keeps_old_content(op: Operator) -> None:
    class Boom(Exception):
        pass

    def source() -> Iterator[bytes]:
        yield b"new" * 100
        raise Boom

    await op.write("file", b"old")
    with pytest.raises(Boom):
        await op.write("file", source())
    assert await op.read("file") == b"old"


async def test_bytes_are_bytes(op: Operator) -> None:
    data = bytes(range(256)) + b"a\r\nb\nc\r" + b"\x00" * 10
    await op.write("binary", data)
    assert await op.read("binary") == data


async def test_content_encoding_not_decoded(op: Operator) -> None:
    need(op, "write_with_content_encoding")
    raw = gzip.compress(b"hello " * 1000)
    await op.write("file.gz", raw, content_encoding="gzip")
    assert await op.read("file.gz") == raw
    assert (await op.stat("file.gz")).content_encoding == "gzip"


async def test_gzip_bytes_without_encoding_returned_as_stored(op: Operator) -> None:
    raw = gzip.compress(b"hello " * 1000)
    await op.write("file.gz", raw)
    assert await op.read("file.gz") == raw


# -- metadata options ---------------------------------------------------------------------------

async def test_content_type_round_trip(op: Operator) -> None:
    need(op, "write_with_content_type")
    await op.write("file", b"{}", content_type="application/json")
    assert (await op.stat("file")).content_type == "application/json"


async def test_cache_control_round_trip(op: Operator) -> None:
    need(op, "write_with_cache_control")
    await op.write("file", b"x", cache_control="no-cache, max-age=0")
    assert (await op.stat("file")).cache_control == "no-cache, max-age=0"


async def test_content_disposition_round_trip(op: Operator) -> None:
    need(op, "write_with_content_disposition")
    value = 'attachment; filename="report.csv"'
    await op.write("file", b"x", content_disposition=value)
    assert (await op.stat("file")).content_disposition == value


async def test_user_metadata_round_trip(op: Operator) -> None:
    need(op, "write_with_user_metadata")
    await op.write("file", b"x", user_metadata={"owner": "alice", "purpose": "backup"})
    meta = await op.stat("file")
    assert meta.user_metadata == {"owner": "alice", "purpose": "backup"}


async def test_metadata_options_through_writer(op: Operator) -> None:
    need(op, "write_with_content_type", "write_with_user_metadata")
    async with op.open("file", "wb", content_type="text/plain", user_metadata={"k": "v"}) as writer:
        await writer.write(b"hello")
    meta = await op.stat("file")
    assert meta.content_type == "text/plain"
    assert meta.user_metadata == {"k": "v"}


# -- options a service lacks: Unsupported before any request, nothing written -----------------------

UNSUPPORTED_WRITE_OPTIONS: list[OptionCase] = [
    ("write_can_append", {"append": True}),
    ("write_with_if_not_exists", {"if_not_exists": True}),
    ("write_with_if_match", {"if_match": '"0123456789abcdef"'}),
    ("write_with_if_none_match", {"if_none_match": '"0123456789abcdef"'}),
    ("write_with_content_type", {"content_type": "text/plain"}),
    ("write_with_cache_control", {"cache_control": "no-cache"}),
    ("write_with_content_disposition", {"content_disposition": "inline"}),
    ("write_with_content_encoding", {"content_encoding": "gzip"}),
    ("write_with_user_metadata", {"user_metadata": {"k": "v"}}),
]


@per_option(UNSUPPORTED_WRITE_OPTIONS)
async def test_write_option_unsupported_writes_nothing(
    op: Operator, capability: str, options: Options
) -> None:
    lacking(op, capability)
    with pytest.raises(errors.Unsupported):
        await op.write("file", b"new", **options)
    assert not await op.exists("file")


@per_option(UNSUPPORTED_WRITE_OPTIONS)
async def test_write_option_unsupported_keeps_existing(
    op: Operator, capability: str, options: Options
) -> None:
    lacking(op, capability)
    await op.write("file", b"old")
    with pytest.raises(errors.Unsupported):
        await op.write("file", b"new", **options)
    assert await op.read("file") == b"old"


@per_option(UNSUPPORTED_WRITE_OPTIONS[1:])
async def test_open_writer_option_unsupported(op: Operator, capability: str, options: Options) -> None:
    lacking(op, capability)
    with pytest.raises(errors.Unsupported):
        async with op.open("file", "wb", **options) as writer:
            await writer.write(b"new")
    assert not await op.exists("file")
