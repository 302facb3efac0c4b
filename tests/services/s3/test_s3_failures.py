"""Failures through the public Operator and the core engines, provoked by the proxy:
an upload failing on part 3 and a cancelled upload leave nothing behind;
SlowDown and broken bodies are retried by the RetryLayer."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import Fault, Recorded, S3Proxy, is_upload_part

MiB = 1024 * 1024


def _aborts(proxy: S3Proxy) -> list[Recorded]:
    return [r for r in proxy.recorded("DELETE") if "uploadId" in r.query]


async def _nothing_left(op: Operator, path: str) -> None:
    assert not await op.exists(path)
    assert [u async for u in op.list_multipart_uploads()] == []


async def _chunks(count: int, size: int = MiB) -> AsyncIterator[bytes]:
    for i in range(count):
        yield bytes([i % 256]) * size


@pytest.mark.anyio
async def test_upload_failing_on_part_3_leaves_nothing(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    fault = proxy.inject(Fault(is_upload_part(3), status=500, code="InternalError", times=None))
    async with Operator("s3", **server.config(root)) as op:
        with pytest.raises(errors.Unexpected) as info:
            await op.write("big", _chunks(30), chunk=5 * MiB, concurrent=2)
        assert info.value.temporary and info.value.path == "big"
        assert fault.hits >= 1
        assert len(_aborts(proxy)) == 1
        await _nothing_left(op, "big")


@pytest.mark.anyio
async def test_writer_failing_on_part_3_leaves_nothing(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    proxy.inject(Fault(is_upload_part(3), status=503, code="SlowDown", times=None))
    async with Operator("s3", **server.config(root)) as op:
        with pytest.raises(errors.RateLimited):
            async with op.open("big", "wb", chunk=5 * MiB, concurrent=1) as writer:
                async for piece in _chunks(30):
                    await writer.write(piece)
        assert len(_aborts(proxy)) == 1
        await _nothing_left(op, "big")


@pytest.mark.anyio
async def test_cancelled_upload_leaves_nothing(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    async with Operator("s3", **server.config(root)) as op:
        with anyio.CancelScope() as scope:

            async def source() -> AsyncIterator[bytes]:
                async for piece in _chunks(40):
                    yield piece
                    if len([r for r in proxy.recorded("PUT") if is_upload_part()(r)]) >= 2:
                        scope.cancel()

            await op.write("big", source(), chunk=5 * MiB, concurrent=2)
        assert scope.cancelled_caught
        parts = [r for r in proxy.recorded("PUT") if is_upload_part()(r)]
        assert 2 <= len(parts) < 8
        assert len(_aborts(proxy)) == 1
        await _nothing_left(op, "big")


@pytest.mark.anyio
async def test_slow_down_is_retried_per_part(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    proxy.inject(Fault(is_upload_part(2), status=503, code="SlowDown", headers={"Retry-After": "0"}))
    data = os.urandom(11 * MiB)
    op = Operator("s3", **server.config(root)).layer(RetryLayer(max_times=3, min_delay=0.01, jitter=False))
    async with op:
        meta = await op.write("big", data, chunk=5 * MiB, concurrent=2)
        assert meta.content_length == len(data)
        parts = [r.query["partNumber"] for r in proxy.recorded("PUT") if is_upload_part()(r)]
        assert sorted(parts) == ["1", "2", "2", "3"]  # only the failed part was sent again
        assert hashlib.sha256(await op.read("big")).digest() == hashlib.sha256(data).digest()
        assert [u async for u in op.list_multipart_uploads()] == []


@pytest.mark.anyio
async def test_broken_read_resumes_without_gaps(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    data = os.urandom(3 * MiB + 17)
    op = Operator("s3", **server.config(root)).layer(RetryLayer(max_times=3, min_delay=0.01, jitter=False))
    async with op:
        await op.write("f", data)
        fault = proxy.inject(Fault(lambda r: r.method == "GET" and bool(r.key), truncate=MiB + 5, times=2))
        assert await op.read("f") == data
        assert fault.hits == 2
        gets = [r for r in proxy.recorded("GET") if r.key]
        # each retry resumed where the broken body stopped
        assert gets[1].headers.get("Range", "").startswith(f"bytes={MiB + 5}-")
