"""Reads: ranges (including servers answering 200 to a ranged GET), empty
reads at the end, streaming in pieces, bytes returned as stored."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from typing import Any

import pytest

from pystorage import errors
from pystorage.raw.accessor import RawReader
from pystorage.raw.ops import OpRead, OpStat, OpWrite
from pystorage.raw.read import open_range
from pystorage.services.s3 import S3Accessor
from pystorage.services.s3.reader import PIECE, parse_content_range
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import Fault, S3Proxy

Build = Callable[[dict[str, Any]], S3Accessor]

DATA = bytes(range(256)) * 40  # 10240 bytes


async def _drain(reader: RawReader) -> bytes:
    pieces = []
    while piece := await reader.read():
        pieces.append(piece)
    await reader.aclose()
    return b"".join(pieces)


def test_parse_content_range() -> None:
    assert parse_content_range("bytes 2-4/10") == (2, 4, 10)
    assert parse_content_range("bytes 0-0/*") == (0, 0, None)
    assert parse_content_range(None) is None
    assert parse_content_range("items 1-2/3") is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("offset", "size"),
    [(0, None), (0, 1), (1, None), (100, 1000), (10000, 240), (10000, 5000), (10239, None), (5, 10235)],
)
async def test_ranges(accessor: S3Accessor, offset: int, size: int | None) -> None:
    await accessor.write_once("f", DATA, OpWrite())
    reader = await accessor.read("f", OpRead(offset=offset, size=size))
    expected = DATA[offset:] if size is None else DATA[offset:offset + size]
    assert reader.size == len(expected)
    assert reader.metadata is not None and reader.metadata.content_length == len(DATA)
    assert reader.metadata.etag and reader.metadata.etag.startswith('"')
    assert await _drain(reader) == expected


@pytest.mark.anyio
async def test_offset_at_end_is_empty_and_past_end_fails(accessor: S3Accessor) -> None:
    # the driver maps the 416; the read planner (raw/read.py) makes the range rules of it
    await accessor.write_once("f", DATA, OpWrite())
    for size in (None, 1, 100):
        reader = await open_range(accessor, "f", OpRead(offset=len(DATA), size=size))
        assert reader.size == 0
        assert await _drain(reader) == b""
    for size in (None, 0, 5):
        with pytest.raises(errors.RangeNotSatisfied):
            await open_range(accessor, "f", OpRead(offset=len(DATA) + 1, size=size))
    reader = await open_range(accessor, "f", OpRead(offset=3, size=0))
    assert await _drain(reader) == b""


@pytest.mark.anyio
async def test_empty_object(accessor: S3Accessor) -> None:
    await accessor.write_once("empty", b"", OpWrite())
    assert (await accessor.stat("empty", OpStat())).content_length == 0
    for size in (None, 5):
        reader = await open_range(accessor, "empty", OpRead(size=size))
        assert await _drain(reader) == b""
    with pytest.raises(errors.RangeNotSatisfied):
        await open_range(accessor, "empty", OpRead(offset=1))


@pytest.mark.anyio
async def test_large_body_streams_in_pieces(accessor: S3Accessor) -> None:
    data = os.urandom(3 * PIECE + 12345)
    await accessor.write_once("big", data, OpWrite())
    reader = await accessor.read("big", OpRead(offset=7, size=len(data) - 100))
    pieces = []
    while piece := await reader.read():
        assert 0 < len(piece) <= PIECE
        pieces.append(piece)
    assert b"".join(pieces) == data[7:len(data) - 93]
    assert await reader.read() == b""  # stays at the end
    await reader.aclose()
    await reader.aclose()  # twice is fine


@pytest.mark.anyio
async def test_abandoned_reader_can_be_closed(accessor: S3Accessor) -> None:
    data = os.urandom(4 * PIECE)
    await accessor.write_once("big", data, OpWrite())
    for _ in range(3):  # the pool is not exhausted by abandoned bodies
        reader = await accessor.read("big", OpRead())
        assert (await reader.read())[:10] == data[:10]
        await reader.aclose()
    assert await _drain(await accessor.read("big", OpRead(offset=PIECE))) == data[PIECE:]


@pytest.mark.anyio
async def test_ranged_get_status_by_server(server: S3Server, accessor: S3Accessor) -> None:
    """Measured: moto answers a ranged GET with 206, rclone with 200 but only
    the range in the body and a Content-Range header; both read correctly."""
    await accessor.write_once("f", DATA, OpWrite())
    response = await accessor.core.get_object(accessor.core.key("f"), OpRead(), range_header="bytes=10-19")
    assert response.status == (200 if server.name == "rclone" else 206)
    assert response.content_range == f"bytes 10-19/{len(DATA)}"
    assert response.body is not None
    assert await response.body.read() == DATA[10:20]
    response.body.close()
    assert await _drain(await accessor.read("f", OpRead(offset=10, size=10))) == DATA[10:20]


@pytest.mark.anyio
async def test_server_ignoring_range_answers_whole_object(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    """A 200 with the whole object to a ranged GET is not taken as the range:
    the reader skips to the offset and stops after the size."""
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    data = os.urandom(2 * PIECE + 99)
    await accessor.write_once("f", data, OpWrite())
    for offset, size in [(0, 10), (5, None), (PIECE + 3, PIECE), (len(data) - 1, 50)]:
        fault = proxy.inject(Fault(lambda r: r.method == "GET" and bool(r.key), strip_range=True))
        reader = await accessor.read("f", OpRead(offset=offset, size=size))
        expected = data[offset:] if size is None else data[offset:offset + size]
        assert reader.size == len(expected)
        assert await _drain(reader) == expected
        assert fault.hits == 1
        gets = proxy.recorded("GET")
        # the client asked for a range; the server answered 200 with everything
        assert gets[-1].headers["Range"].startswith("bytes=")
        assert gets[-1].status == 200 and gets[-1].faulted
    fault = proxy.inject(Fault(lambda r: r.method == "GET" and bool(r.key), strip_range=True))
    with pytest.raises(errors.RangeNotSatisfied):  # the planner finds the offset past the answer's size
        await open_range(accessor, "f", OpRead(offset=len(data) + 1, size=5))


@pytest.mark.anyio
async def test_stat_through_proxy_keeps_length(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    proxy, server = s3_proxy
    accessor = build(server.config(root))
    await accessor.write_once("f", DATA, OpWrite())
    assert (await accessor.stat("f", OpStat())).content_length == len(DATA)
    assert [r.method for r in proxy.recorded()] == ["PUT", "HEAD"]


@pytest.mark.anyio
async def test_bytes_are_bytes(accessor: S3Accessor) -> None:
    """A gzip-encoded object comes back compressed, exactly as stored."""
    packed = gzip.compress(b"hello " * 1000)
    await accessor.write_once("g", packed, OpWrite(content_encoding="gzip", content_type="text/plain"))
    reader = await accessor.read("g", OpRead())
    assert await _drain(reader) == packed
    meta = await accessor.stat("g", OpStat())
    assert meta.content_encoding == "gzip" and meta.content_length == len(packed)
    crlf = b"a\r\nb\rc\n"
    await accessor.write_once("t", crlf, OpWrite())
    assert await _drain(await accessor.read("t", OpRead())) == crlf


@pytest.mark.anyio
async def test_keys_with_special_characters(accessor: S3Accessor) -> None:
    path = "dir with space/ünï cödé+plus%percent&amp=eq"
    await accessor.write_once(path, b"x", OpWrite())
    assert await _drain(await accessor.read(path, OpRead())) == b"x"
    assert (await accessor.stat(path, OpStat())).content_length == 1
