"""What a read costs in requests on S3 (counted by the recording proxy).

The read planner sends no ``stat`` a read does not need: a plain ``read``
and a streamed ``open("rb")`` read from the start are one GET each (the
answer's headers give the size and the etag the later requests are pinned
to); the rare 416 (a range at or past the end, or any range of an empty
object) costs one HEAD to tell an empty read from one past the end.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.services.s3 import S3Accessor
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

pytestmark = pytest.mark.anyio

Build = Callable[[dict[str, Any]], S3Accessor]

DATA = os.urandom(3 * 1024 * 1024 + 17)


async def _operator(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> tuple[Operator, S3Proxy]:
    proxy, server = s3_proxy
    op = Operator.from_accessor(build(server.config(root)))
    await op.write("f", DATA)
    await op.write("empty", b"")
    proxy.clear()
    return op, proxy


def _object_requests(proxy: S3Proxy) -> list[str]:
    return [r.method for r in proxy.recorded() if r.key]


async def test_a_plain_read_is_one_get(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    op, proxy = await _operator(s3_proxy, root, build)
    assert await op.read("f") == DATA
    assert _object_requests(proxy) == ["GET"]


async def test_a_streamed_open_is_one_get(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    op, proxy = await _operator(s3_proxy, root, build)
    async with op.open("f", "rb") as reader:
        assert await reader.read() == DATA
        assert reader.metadata is not None and reader.metadata.content_length == len(DATA)
    assert _object_requests(proxy) == ["GET"]
    proxy.clear()
    async with op.open("f", "rb") as reader:
        assert b"".join([piece async for piece in reader]) == DATA
    assert _object_requests(proxy) == ["GET"]


async def test_a_reopened_stream_is_pinned_to_the_first_answer(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    op, proxy = await _operator(s3_proxy, root, build)
    async with op.open("f", "rb") as reader:
        assert await reader.read(10) == DATA[:10]
        await reader.seek(3 * 1024 * 1024)  # beyond the skip window: a new request
        assert await reader.read(10) == DATA[3 * 1024 * 1024 : 3 * 1024 * 1024 + 10]
        etag = reader.metadata.etag if reader.metadata else None
    gets = proxy.recorded("GET")
    assert _object_requests(proxy) == ["GET", "GET"]
    assert "If-Match" not in gets[0].headers and etag
    assert gets[1].headers["If-Match"] == etag


async def test_empty_object_reads(
    s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build
) -> None:
    op, proxy = await _operator(s3_proxy, root, build)
    assert await op.read("empty") == b""
    async with op.open("empty", "rb") as reader:
        assert await reader.read() == b""
    assert _object_requests(proxy) == ["GET", "GET"]
    proxy.clear()
    assert await op.read("empty", size=5) == b""  # a ranged GET of an empty object: 416, then HEAD
    assert _object_requests(proxy) == ["GET", "HEAD"]


async def test_reads_at_and_past_the_end(s3_proxy: tuple[S3Proxy, S3Server], root: str, build: Build) -> None:
    op, proxy = await _operator(s3_proxy, root, build)
    assert await op.read("f", offset=len(DATA), size=5) == b""
    assert _object_requests(proxy) == ["GET", "HEAD"]  # the 416 is told apart by one HEAD
    proxy.clear()
    with pytest.raises(errors.RangeNotSatisfied):
        await op.read("f", offset=len(DATA) + 1)
    assert _object_requests(proxy) == ["GET", "HEAD"]
    proxy.clear()
    assert await op.read("f", offset=3, size=0) == b""
    assert _object_requests(proxy) == ["HEAD"]  # no bytes wanted: only the size is
