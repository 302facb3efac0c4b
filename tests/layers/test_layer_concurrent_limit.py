"""ConcurrentLimitLayer: at most ``limit`` requests in flight per operator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

import anyio
import pytest

from pystorage.layers import ConcurrentLimitLayer
from pystorage.raw.accessor import Accessor, Buffer, RawReader
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import OpList, OpRead, OpStat, OpWrite
from pystorage.services import memory
from pystorage.types import Metadata, Part


class Gauge(LayeredAccessor):
    """Counts requests in flight; each takes 10 ms."""

    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.in_flight = 0
        self.peak = 0
        self.done = 0

    @contextlib.asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(0.01)
            yield
        finally:
            self.in_flight -= 1
            self.done += 1

    async def stat(self, path: str, op: OpStat) -> Metadata:
        async with self.request():
            return await self.inner.stat(path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        async with self.request():
            return await self.inner.write_once(path, data, op)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        async with self.request():
            return Part(number, "etag", len(data))


async def run_all(funcs: Sequence[Callable[[], object]]) -> None:
    async with anyio.create_task_group() as tg:
        for func in funcs:
            tg.start_soon(func)  # type: ignore[arg-type]


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 3, 8])
async def test_in_flight_requests_never_exceed_the_limit(mem: Accessor, limit: int) -> None:
    await mem.write_once("a", b"1", OpWrite())
    gauge = Gauge(mem)
    acc = ConcurrentLimitLayer(limit).layer(gauge)
    funcs: list[Callable[[], object]] = [lambda: acc.stat("a", OpStat()) for _ in range(12)]
    funcs += [lambda: acc.write_once("b", b"2", OpWrite()) for _ in range(6)]
    funcs += [lambda: acc.write_part("c", "u", 1, b"3", OpWrite()) for _ in range(6)]
    await run_all(funcs)
    assert gauge.done == 24
    assert gauge.peak == limit


@pytest.mark.anyio
async def test_without_the_layer_the_gauge_sees_everything(mem: Accessor) -> None:
    await mem.write_once("a", b"1", OpWrite())
    gauge = Gauge(mem)
    await run_all([lambda: gauge.stat("a", OpStat()) for _ in range(10)])
    assert gauge.peak == 10  # the gauge itself does not limit


@pytest.mark.anyio
async def test_operators_have_separate_limits(mem: Accessor) -> None:
    await mem.write_once("a", b"1", OpWrite())
    gauge = Gauge(mem)
    layer = ConcurrentLimitLayer(2)
    one, two = layer.layer(gauge), layer.layer(gauge)
    await run_all([lambda: one.stat("a", OpStat()) for _ in range(6)] +
                  [lambda: two.stat("a", OpStat()) for _ in range(6)])
    assert gauge.peak == 4


@pytest.mark.anyio
async def test_read_stream_holds_a_token_until_closed(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    acc = ConcurrentLimitLayer(1).layer(mem)
    reader = await acc.read("a", OpRead())
    with anyio.move_on_after(0.02) as scope:
        await acc.stat("a", OpStat())
    assert scope.cancelled_caught, "stat ran while the only token was held by the stream"
    await reader.aclose()
    with anyio.fail_after(1):
        assert (await acc.stat("a", OpStat())).content_length == 4


@pytest.mark.anyio
async def test_exhausted_read_stream_releases_its_token(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    acc = ConcurrentLimitLayer(1).layer(mem)
    reader = await acc.read("a", OpRead())
    assert await reader.read() == b"data"
    assert await reader.read() == b""
    with anyio.fail_after(1):
        await acc.stat("a", OpStat())
    await reader.aclose()  # closing after the release is harmless
    with anyio.fail_after(1):
        await acc.stat("a", OpStat())


@pytest.mark.anyio
async def test_failed_read_opening_releases_its_token(mem: Accessor) -> None:
    acc = ConcurrentLimitLayer(1).layer(mem)
    for _ in range(3):
        with pytest.raises(FileNotFoundError):
            await acc.read("missing", OpRead())
    await mem.write_once("a", b"1", OpWrite())
    with anyio.fail_after(1):
        await acc.stat("a", OpStat())


@pytest.mark.anyio
async def test_token_released_on_cancellation(mem: Accessor) -> None:
    await mem.write_once("a", b"1", OpWrite())
    gauge = Gauge(mem)
    acc = ConcurrentLimitLayer(1).layer(gauge)
    with anyio.move_on_after(0.005):
        await acc.stat("a", OpStat())
    with anyio.fail_after(1):
        await acc.stat("a", OpStat())


@pytest.mark.anyio
async def test_nested_listing_does_not_deadlock(mem: Accessor) -> None:
    for path in ["d1/a", "d1/b", "d2/c", "d2/d"]:
        await mem.write_once(path, b"1", OpWrite())
    acc = ConcurrentLimitLayer(1).layer(mem)
    seen = []
    with anyio.fail_after(2):
        async for outer in acc.list("/", OpList()):
            async for inner in acc.list(outer.path, OpList()):
                seen.append(inner.path)
                await acc.stat(inner.path, OpStat())
    assert seen == ["d1/a", "d1/b", "d2/c", "d2/d"]


@pytest.mark.anyio
async def test_streamed_writer_holds_tokens_per_call(mem: Accessor) -> None:
    acc = ConcurrentLimitLayer(1).layer(mem)
    writer = await acc.write("w", OpWrite())
    await writer.write(b"abc")
    with anyio.fail_after(1):
        await acc.write_once("other", b"x", OpWrite())  # no token held between writer calls
    await writer.write(b"def")
    assert (await writer.close()).content_length == 6


def test_limiter_is_per_event_loop(anyio_backend: str) -> None:
    acc = ConcurrentLimitLayer(2).layer(memory.build({}))

    async def main() -> int:
        gauge_peak = 0
        in_flight = 0

        class Sleepy(LayeredAccessor):
            async def stat(self, path: str, op: OpStat) -> Metadata:
                nonlocal in_flight, gauge_peak
                in_flight += 1
                gauge_peak = max(gauge_peak, in_flight)
                await anyio.sleep(0.005)
                in_flight -= 1
                return Metadata()

        acc.inner = Sleepy(acc.inner)  # type: ignore[attr-defined]
        try:
            await run_all([lambda: acc.stat("a", OpStat()) for _ in range(6)])
        finally:
            acc.inner = acc.inner.inner  # type: ignore[attr-defined]
        return gauge_peak

    # two successive event loops (as a blocking wrapper might create) both work
    assert anyio.run(main, backend=anyio_backend) == 2
    assert anyio.run(main, backend=anyio_backend) == 2


@pytest.mark.anyio
async def test_read_stream_through_the_layer_delivers_the_bytes(mem: Accessor) -> None:
    await mem.write_once("a", b"0123456789", OpWrite())
    acc = ConcurrentLimitLayer(2).layer(mem)
    readers: list[RawReader] = [await acc.read("a", OpRead(offset=n, size=3)) for n in (0, 5)]
    assert [await r.read() for r in readers] == [b"012", b"567"]
    assert readers[0].size == 3
    for r in readers:
        await r.aclose()
