"""ChaosLayer: injected temporary failures, before calls and inside read streams."""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence

import pytest

from pystorage import errors
from pystorage.layers import ChaosLayer, RetryLayer
from pystorage.raw.accessor import Accessor, AccessorInfo, Buffer, RawReader
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import OpList, OpRead, OpStat, OpWrite
from pystorage.types import Metadata, Part


class Multipart(LayeredAccessor):
    """Adds fake multipart primitives on top of memory; counts calls reaching it."""

    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.parts: dict[int, bytes] = {}
        self.calls: collections.Counter[str] = collections.Counter()

    def info(self) -> AccessorInfo:
        info = self.inner.info()
        return AccessorInfo(info.scheme, info.root, info.name, info.capability.replace(multipart=True))

    async def stat(self, path: str, op: OpStat) -> Metadata:
        self.calls["stat"] += 1
        return await self.inner.stat(path, op)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        self.calls["initiate_multipart"] += 1
        return "upload"

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        self.calls["write_part"] += 1
        self.parts[number] = bytes(data)
        return Part(number, f"e{number}", len(data))

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        self.calls["complete_multipart"] += 1
        data = b"".join(self.parts[p.number] for p in sorted(parts, key=lambda p: p.number))
        return await self.inner.write_once(path, data, op)


async def drain(reader: RawReader) -> bytes:
    out = []
    try:
        while piece := await reader.read():
            out.append(piece)
    finally:
        await reader.aclose()
    return b"".join(out)


async def outcomes(acc: Accessor, n: int) -> list[bool]:
    result = []
    for _ in range(n):
        try:
            await acc.stat("a", OpStat())
            result.append(True)
        except errors.Unexpected as err:
            assert err.temporary is True
            assert "chaos: injected failure" in str(err)
            result.append(False)
    return result


@pytest.mark.anyio
async def test_ratio_zero_never_fails(mem: Accessor) -> None:
    await mem.write_once("a", b"x" * 100, OpWrite())
    acc = ChaosLayer(0.0).layer(mem)
    assert all(await outcomes(acc, 200))
    for _ in range(20):
        assert await drain(await acc.read("a", OpRead())) == b"x" * 100


@pytest.mark.anyio
async def test_ratio_one_always_fails_before_the_inner_call(mem: Accessor) -> None:
    counter = Multipart(mem)
    acc = ChaosLayer(1.0).layer(counter)
    assert not any(await outcomes(acc, 20))
    assert counter.calls["stat"] == 0
    with pytest.raises(errors.Unexpected) as info:
        await acc.write_part("big", "upload", 1, b"data", OpWrite())
    assert info.value.operation == "write_part"
    assert info.value.service == "memory"
    assert counter.calls["write_part"] == 0
    with pytest.raises(errors.Unexpected):
        [e async for e in acc.list("/", OpList())]


@pytest.mark.anyio
async def test_ratio_is_roughly_respected(mem: Accessor) -> None:
    await mem.write_once("a", b"x", OpWrite())
    results = await outcomes(ChaosLayer(0.3, seed=7).layer(mem), 2000)
    assert 0.25 < results.count(False) / len(results) < 0.35


@pytest.mark.anyio
async def test_seed_makes_failures_reproducible(mem: Accessor) -> None:
    await mem.write_once("a", b"x", OpWrite())
    layer = ChaosLayer(0.5, seed=1234)
    first = await outcomes(layer.layer(mem), 100)
    second = await outcomes(layer.layer(mem), 100)
    other = await outcomes(ChaosLayer(0.5, seed=4321).layer(mem), 100)
    assert first == second
    assert first != other


@pytest.mark.anyio
async def test_streams_fail_midway_sometimes_after_a_partial_piece(mem: Accessor) -> None:
    data = os.urandom(1000)
    await mem.write_once("a", data, OpWrite())
    partial = immediate = 0
    for seed in range(200):
        acc = ChaosLayer(0.5, seed=seed).layer(mem)
        try:
            reader = await acc.read("a", OpRead())
        except errors.Unexpected:
            continue
        got = b""
        try:
            while piece := await reader.read():
                got += piece
        except errors.Unexpected as err:
            assert err.temporary is True
            assert data.startswith(got)
            if 0 < len(got) < len(data):
                partial += 1
            elif not got:
                immediate += 1
        else:
            assert got == data
        finally:
            await reader.aclose()
    assert partial > 10
    assert immediate > 10


@pytest.mark.anyio
async def test_multipart_under_retry_survives_chaos(mem: Accessor) -> None:
    chunks = [os.urandom(1000) for _ in range(8)]
    for seed in range(20):
        counter = Multipart(mem)
        acc = RetryLayer(max_times=50, min_delay=0).layer(ChaosLayer(0.4, seed=seed).layer(counter))
        upload = await acc.initiate_multipart("big", OpWrite())
        parts = [await acc.write_part("big", upload, n, c, OpWrite()) for n, c in enumerate(chunks, 1)]
        await acc.complete_multipart("big", upload, parts, OpWrite())
        assert counter.calls["write_part"] == 8  # only successful attempts reach the service
        assert await drain(await mem.read("big", OpRead())) == b"".join(chunks)


@pytest.mark.anyio
async def test_writer_stream_is_left_alone(mem: Accessor) -> None:
    acc = ChaosLayer(1.0).layer(mem)
    with pytest.raises(errors.Unexpected):
        await acc.write("w", OpWrite())
    writer = await ChaosLayer(0.0).layer(mem).write("w", OpWrite())
    await writer.write(b"abc")
    assert (await writer.close()).content_length == 3
