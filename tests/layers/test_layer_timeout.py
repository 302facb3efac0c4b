"""TimeoutLayer: whole-call and per-chunk deadlines, raised as temporary errors."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import AsyncIterator, Sequence

import anyio
import pytest

from pystorage import errors
from pystorage.layers import RetryLayer, TimeoutLayer
from pystorage.raw.accessor import Accessor, Buffer, RawReader, RawWriter
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import OpCopy, OpList, OpRead, OpStat, OpWrite
from pystorage.types import Entry, Metadata, Part

STALL = 5.0  # never waited for: the deadlines under test are a few ms


class Slow(LayeredAccessor):
    """Stalls chosen calls (the first ``stalls[name]`` times) on the way to memory."""

    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.stalls: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    async def pause(self, name: str) -> None:
        self.calls[name] += 1
        if self.stalls[name] > 0:
            self.stalls[name] -= 1
            await anyio.sleep(STALL)

    async def stat(self, path: str, op: OpStat) -> Metadata:
        await self.pause("stat")
        return await self.inner.stat(path, op)

    async def read(self, path: str, op: OpRead) -> RawReader:
        await self.pause("read")
        return SlowReader(self, await self.inner.read(path, op))

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        await self.pause("write")
        return SlowWriter(self, await self.inner.write(path, op))

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        return self._list(path, op)

    async def _list(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        # one entry per page, each page paused
        async with contextlib.aclosing(self.inner.list(path, op)) as it:  # type: ignore[type-var]
            async for entry in it:
                await self.pause("list.next")
                yield [entry]


class SlowReader(RawReader):
    def __init__(self, accessor: Slow, inner: RawReader) -> None:
        self._accessor = accessor
        self._inner = inner
        self.size = inner.size
        self.metadata = inner.metadata

    async def read(self) -> bytes:
        await self._accessor.pause("reader.read")
        return await self._inner.read()

    async def aclose(self) -> None:
        await self._inner.aclose()


class SlowWriter(RawWriter):
    def __init__(self, accessor: Slow, inner: RawWriter) -> None:
        self._accessor = accessor
        self._inner = inner

    async def write(self, data: Buffer) -> None:
        await self._accessor.pause("writer.write")
        await self._inner.write(data)

    async def close(self) -> Metadata:
        await self._accessor.pause("writer.close")
        return await self._inner.close()

    async def abort(self) -> None:
        await self._inner.abort()


def check_timeout(err: errors.Error, which: str, seconds: float) -> None:
    assert isinstance(err, errors.Unexpected)
    assert err.temporary is True
    assert f"timed out after {seconds}s ({which})" in str(err)
    assert isinstance(err.__cause__, TimeoutError)
    assert err.service == "memory"


@pytest.mark.anyio
async def test_call_timeout_is_a_temporary_error(mem: Accessor) -> None:
    slow = Slow(mem)
    slow.stalls["stat"] = 1
    acc = TimeoutLayer(timeout=0.02, io_timeout=1.0).layer(slow)
    start = anyio.current_time()
    with pytest.raises(errors.Unexpected) as info:
        await acc.stat("a", OpStat())
    assert anyio.current_time() - start < 1.0
    check_timeout(info.value, "timeout", 0.02)
    assert info.value.operation == "stat"
    assert info.value.path == "a"


@pytest.mark.anyio
async def test_fast_calls_pass_through(mem: Accessor) -> None:
    acc = TimeoutLayer(timeout=1.0, io_timeout=1.0).layer(Slow(mem))
    writer = await acc.write("a", OpWrite())
    await writer.write(b"hello ")
    await writer.write(b"world")
    meta = await writer.close()
    assert meta.content_length == 11
    reader = await acc.read("a", OpRead())
    assert reader.size == 11
    assert await reader.read() == b"hello world"
    assert await reader.read() == b""
    await reader.aclose()
    assert [e.path async for e in acc.list("/", OpList())] == ["a"]


@pytest.mark.anyio
async def test_stalled_read_chunk_hits_io_timeout(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    slow = Slow(mem)
    slow.stalls["reader.read"] = 1
    acc = TimeoutLayer(timeout=1.0, io_timeout=0.02).layer(slow)
    reader = await acc.read("a", OpRead())
    with pytest.raises(errors.Unexpected) as info:
        await reader.read()
    check_timeout(info.value, "io_timeout", 0.02)
    assert info.value.operation == "read"
    await reader.aclose()


@pytest.mark.anyio
async def test_stalled_read_opening_hits_timeout(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    slow = Slow(mem)
    slow.stalls["read"] = 1
    acc = TimeoutLayer(timeout=0.02, io_timeout=1.0).layer(slow)
    with pytest.raises(errors.Unexpected) as info:
        await acc.read("a", OpRead())
    check_timeout(info.value, "timeout", 0.02)


@pytest.mark.anyio
async def test_stalled_write_chunk_hits_io_timeout(mem: Accessor) -> None:
    slow = Slow(mem)
    slow.stalls["writer.write"] = 1
    acc = TimeoutLayer(timeout=1.0, io_timeout=0.02).layer(slow)
    writer = await acc.write("a", OpWrite())
    with pytest.raises(errors.Unexpected) as info:
        await writer.write(b"data")
    check_timeout(info.value, "io_timeout", 0.02)
    await writer.abort()


@pytest.mark.anyio
async def test_stalled_commit_hits_complete_timeout(mem: Accessor) -> None:
    # a writer's close is the commit (last chunk + completion): complete_timeout bounds it
    slow = Slow(mem)
    slow.stalls["writer.close"] = 1
    acc = TimeoutLayer(timeout=1.0, io_timeout=1.0, complete_timeout=0.02).layer(slow)
    writer = await acc.write("a", OpWrite())
    await writer.write(b"data")
    with pytest.raises(errors.Unexpected) as info:
        await writer.close()
    check_timeout(info.value, "complete_timeout", 0.02)


@pytest.mark.anyio
async def test_stalled_listing_step_hits_io_timeout(mem: Accessor) -> None:
    for name in "abc":
        await mem.write_once(name, b"1", OpWrite())
    slow = Slow(mem)
    acc = TimeoutLayer(timeout=1.0, io_timeout=0.02).layer(slow)
    got = []
    slow.stalls["list.next"] = 0
    it = acc.list("/", OpList())
    got.append((await it.__anext__()).path)
    slow.stalls["list.next"] = 1
    with pytest.raises(errors.Unexpected) as info:
        await it.__anext__()
    check_timeout(info.value, "io_timeout", 0.02)
    assert got == ["a"]


@pytest.mark.anyio
async def test_timeout_inside_retry_is_retried(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    slow = Slow(mem)
    slow.stalls["stat"] = 2
    acc = RetryLayer(max_times=3, min_delay=0, jitter=False).layer(
        TimeoutLayer(timeout=0.02).layer(slow)
    )
    meta = await acc.stat("a", OpStat())
    assert meta.content_length == 4
    assert slow.calls["stat"] == 3


@pytest.mark.anyio
async def test_stalled_stream_resumes_under_retry(mem: Accessor) -> None:
    await mem.write_once("a", b"data", OpWrite())
    slow = Slow(mem)
    slow.stalls["reader.read"] = 1
    acc = RetryLayer(max_times=3, min_delay=0).layer(TimeoutLayer(io_timeout=0.02).layer(slow))
    reader = await acc.read("a", OpRead())
    assert await reader.read() == b"data"
    assert await reader.read() == b""
    await reader.aclose()
    assert slow.calls["read"] == 2


@pytest.mark.anyio
async def test_retry_gives_up_on_persistent_timeouts(mem: Accessor) -> None:
    slow = Slow(mem)
    slow.stalls["stat"] = 10
    acc = RetryLayer(max_times=2, min_delay=0).layer(TimeoutLayer(timeout=0.01).layer(slow))
    with pytest.raises(errors.Unexpected) as info:
        await acc.stat("a", OpStat())
    assert info.value.temporary is False
    assert "(timeout)" in str(info.value)
    assert slow.calls["stat"] == 3


@pytest.mark.anyio
async def test_a_timeout_error_not_from_the_deadline_passes_unchanged(mem: Accessor) -> None:
    class Raising(LayeredAccessor):
        async def stat(self, path: str, op: OpStat) -> Metadata:
            raise TimeoutError("the driver's own")

    acc = TimeoutLayer(timeout=1.0).layer(Raising(mem))
    with pytest.raises(TimeoutError, match="the driver's own"):
        await acc.stat("a", OpStat())


@pytest.mark.anyio
async def test_outer_cancellation_is_not_turned_into_a_timeout(mem: Accessor) -> None:
    slow = Slow(mem)
    slow.stalls["stat"] = 1
    acc = TimeoutLayer(timeout=1.0).layer(slow)
    with anyio.move_on_after(0.02) as scope:
        await acc.stat("a", OpStat())
    assert scope.cancelled_caught


class Delayed(LayeredAccessor):
    """Body-carrying and completing calls that take ``delay[name]`` seconds
    (a slow server), answered without touching ``inner``."""

    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.delay: collections.Counter[str] = collections.Counter()
        self.done: list[str] = []

    async def _take(self, name: str) -> None:
        await anyio.sleep(self.delay[name])
        self.done.append(name)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        await self._take("write_once")
        return Metadata(content_length=len(data))

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        await self._take("write_part")
        return Part(number, f"etag{number}", len(data))

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        await self._take("complete_multipart")
        return Metadata(content_length=sum(part.size for part in parts))

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self._take("copy")


# 5,000 bytes at 50,000 B/s: 0.1 s on top of timeout=0.05, a bound of 0.15 s
BODY = b"x" * 5_000
# the deadline arithmetic does not depend on the backend (anyio fail_after, tested
# on both above): run these once, to keep the file fast
ONE_BACKEND = pytest.mark.parametrize("anyio_backend", ["asyncio"])
SCALED = TimeoutLayer(timeout=0.05, io_timeout=1.0, min_throughput=50_000)


@ONE_BACKEND
@pytest.mark.anyio
async def test_write_part_deadline_grows_with_the_body(mem: Accessor) -> None:
    slow = Delayed(mem)
    slow.delay["write_part"] = 0.1  # over timeout, under timeout + nbytes / min_throughput
    acc = SCALED.layer(slow)
    part = await acc.write_part("a", "u", 1, BODY, OpWrite())
    assert part == Part(1, "etag1", len(BODY))
    assert slow.done == ["write_part"]


@ONE_BACKEND
@pytest.mark.anyio
async def test_write_part_beyond_the_scaled_deadline_times_out(mem: Accessor) -> None:
    slow = Delayed(mem)
    slow.delay["write_part"] = STALL
    acc = SCALED.layer(slow)
    start = anyio.current_time()
    with pytest.raises(errors.Unexpected) as info:
        await acc.write_part("a", "u", 1, BODY, OpWrite())
    elapsed = anyio.current_time() - start
    assert 0.12 <= elapsed < 1.0  # the scaled bound (0.15 s), not timeout (0.05 s) nor the stall
    check_timeout(info.value, "timeout + 5000 bytes / min_throughput", 0.15)
    assert info.value.operation == "write_part"
    assert slow.done == []


@ONE_BACKEND
@pytest.mark.anyio
async def test_write_once_deadline_grows_with_the_body(mem: Accessor) -> None:
    slow = Delayed(mem)
    slow.delay["write_once"] = 0.1
    acc = SCALED.layer(slow)
    meta = await acc.write_once("a", BODY, OpWrite())
    assert meta.content_length == len(BODY)
    slow.delay["write_once"] = STALL
    with pytest.raises(errors.Unexpected) as info:
        await acc.write_once("a", BODY, OpWrite())
    check_timeout(info.value, "timeout + 5000 bytes / min_throughput", 0.15)


@ONE_BACKEND
@pytest.mark.anyio
async def test_min_throughput_none_keeps_one_deadline_for_bodies(mem: Accessor) -> None:
    slow = Delayed(mem)
    slow.delay["write_part"] = 0.1
    acc = TimeoutLayer(timeout=0.05, min_throughput=None).layer(slow)
    with pytest.raises(errors.Unexpected) as info:
        await acc.write_part("a", "u", 1, BODY, OpWrite())
    check_timeout(info.value, "timeout", 0.05)


@ONE_BACKEND
@pytest.mark.anyio
async def test_complete_multipart_has_its_own_longer_deadline(mem: Accessor) -> None:
    slow = Delayed(mem)
    slow.delay["complete_multipart"] = 0.1  # over timeout, under complete_timeout
    acc = TimeoutLayer(timeout=0.05, complete_timeout=0.15).layer(slow)
    parts = [Part(1, "e1", 5), Part(2, "e2", 7)]
    meta = await acc.complete_multipart("a", "u", parts, OpWrite())
    assert meta.content_length == 12
    slow.delay["complete_multipart"] = STALL
    start = anyio.current_time()
    with pytest.raises(errors.Unexpected) as info:
        await acc.complete_multipart("a", "u", parts, OpWrite())
    assert 0.12 <= anyio.current_time() - start < 1.0
    check_timeout(info.value, "complete_timeout", 0.15)
    assert info.value.operation == "complete_multipart"


@ONE_BACKEND
@pytest.mark.anyio
async def test_copy_gets_complete_timeout(mem: Accessor) -> None:
    # a copy's size is unknown without a request: the longer fixed deadline applies
    slow = Delayed(mem)
    slow.delay["copy"] = 0.1
    acc = TimeoutLayer(timeout=0.05, complete_timeout=0.15).layer(slow)
    await acc.copy("a", "b", OpCopy())
    assert slow.done == ["copy"]
    slow.delay["copy"] = STALL
    with pytest.raises(errors.Unexpected) as info:
        await acc.copy("a", "b", OpCopy())
    check_timeout(info.value, "complete_timeout", 0.15)
