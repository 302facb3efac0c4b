"""RetryLayer: attempts, persistent marking, backoff, resumable reads and listings."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import pytest

from pystorage import errors
from pystorage.layers import ChaosLayer, RetryLayer
from pystorage.raw.accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import (
    OpCopy,
    OpCreateDir,
    OpDelete,
    OpList,
    OpPresign,
    OpRead,
    OpRename,
    OpStat,
    OpWrite,
)
from pystorage.types import Entry, Metadata, Part, PresignedRequest

FAST: dict[str, Any] = {"min_delay": 0.0, "max_delay": 0.0, "jitter": False}


def temp(msg: str = "boom") -> errors.Error:
    return errors.Unexpected(msg, temporary=True)


@dataclasses.dataclass
class StreamPlan:
    """What the n-th opened read stream does: fail (or end, if ``error`` is
    None) once it has delivered ``after`` bytes."""

    after: int
    error: errors.Error | None = None
    on_fail: Callable[[], object] | None = None


class PieceReader(RawReader):
    def __init__(self, data: bytes, meta: Metadata | None, piece: int, plan: StreamPlan | None) -> None:
        self._data = data
        self._pos = 0
        self._piece = piece
        self._plan = plan
        self.size = len(data)
        self.metadata = meta
        self.closed = False

    async def read(self) -> bytes:
        plan = self._plan
        limit = len(self._data)
        if plan is not None:
            limit = min(limit, plan.after)
            if self._pos >= limit:
                if plan.on_fail is not None:
                    plan.on_fail()
                if plan.error is None:
                    return b""  # ends early, silently
                raise plan.error
        piece = self._data[self._pos : min(limit, self._pos + self._piece)]
        self._pos += len(piece)
        return piece

    async def aclose(self) -> None:
        self.closed = True


class Flaky(LayeredAccessor):
    """Fails chosen calls, breaks read streams and listings as planned."""

    def __init__(self, inner: Accessor, *, piece: int = 1024, start_after: bool = True) -> None:
        super().__init__(inner)
        self.calls: collections.Counter[str] = collections.Counter()
        self.fail: dict[str, list[errors.Error]] = collections.defaultdict(list)
        self.streams: list[StreamPlan | None] = []
        self.readers: list[PieceReader] = []
        self.read_ops: list[OpRead] = []
        self.list_plan: list[tuple[int, errors.Error]] = []
        self.list_ops: list[OpList] = []
        self.parts: dict[int, bytes] = {}
        self.part_calls: collections.Counter[int] = collections.Counter()
        self.piece = piece
        info = inner.info()
        self._info = AccessorInfo(
            info.scheme, info.root, info.name,
            info.capability.replace(list_with_start_after=start_after, multipart=True),
        )

    def info(self) -> AccessorInfo:
        return self._info

    def check(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail[name]:
            raise self.fail[name].pop(0)

    async def stat(self, path: str, op: OpStat) -> Metadata:
        self.check("stat")
        return await self.inner.stat(path, op)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        self.check("create_dir")
        await self.inner.create_dir(path, op)

    async def delete(self, path: str, op: OpDelete) -> None:
        self.check("delete")
        await self.inner.delete(path, op)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        self.check("delete_batch")
        await self.inner.delete_batch(paths)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        self.check("copy")
        await self.inner.copy(src, dst, op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        self.check("rename")
        await self.inner.rename(src, dst, op)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        self.check("presign")
        return PresignedRequest(op.method, f"memory://{path}")

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        self.check("write")
        return FailingWriter(self, await self.inner.write(path, op))

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        self.check("write_once")
        return await self.inner.write_once(path, data, op)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        self.check("initiate_multipart")
        self.parts.clear()
        return "upload-1"

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        self.part_calls[number] += 1
        self.check(f"write_part:{number}")
        self.parts[number] = bytes(data)
        return Part(number, f"etag-{number}", len(data))

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        self.check("complete_multipart")
        data = b"".join(self.parts[p.number] for p in sorted(parts, key=lambda p: p.number))
        return await self.inner.write_once(path, data, op)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        self.check("abort_multipart")
        self.parts.clear()

    async def read(self, path: str, op: OpRead) -> RawReader:
        self.check("read")
        self.read_ops.append(op)
        raw = await self.inner.read(path, op)
        chunks = []
        while piece := await raw.read():
            chunks.append(piece)
        plan = self.streams.pop(0) if self.streams else None
        reader = PieceReader(b"".join(chunks), raw.metadata, self.piece, plan)
        self.readers.append(reader)
        return reader

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        self.list_ops.append(op)
        plan = self.list_plan.pop(0) if self.list_plan else None
        return self._list(path, op, plan)

    async def _list(
        self, path: str, op: OpList, plan: tuple[int, errors.Error] | None
    ) -> AsyncIterator[Sequence[Entry]]:
        # one entry per page, failing before page number plan[0] (0-based)
        count = 0
        async with contextlib.aclosing(self.inner.list(path, op)) as it:  # type: ignore[type-var]
            async for entry in it:
                if plan is not None and count == plan[0]:
                    raise plan[1]
                count += 1
                yield [entry]
        if plan is not None and count == plan[0]:
            raise plan[1]


class FailingWriter(RawWriter):
    def __init__(self, accessor: Flaky, inner: RawWriter) -> None:
        self._accessor = accessor
        self._inner = inner

    async def write(self, data: Buffer) -> None:
        self._accessor.check("writer.write")
        await self._inner.write(data)

    async def close(self) -> Metadata:
        return await self._inner.close()

    async def abort(self) -> None:
        await self._inner.abort()


async def read_all(reader: RawReader) -> bytes:
    out = []
    try:
        while piece := await reader.read():
            out.append(piece)
    finally:
        await reader.aclose()
    return b"".join(out)


# attempts and persistent marking ----------------------------------------------


@pytest.mark.anyio
async def test_max_times_3_means_4_attempts_then_persistent(mem: Accessor) -> None:
    flaky = Flaky(mem)
    flaky.fail["stat"] = [temp() for _ in range(10)]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    with pytest.raises(errors.Unexpected) as info:
        await acc.stat("a", OpStat())
    assert flaky.calls["stat"] == 4
    assert info.value.temporary is False
    assert "gave up after 4 attempts" in str(info.value)
    assert "temporary" not in str(info.value)


@pytest.mark.anyio
async def test_giving_up_raises_a_copy_and_leaves_the_error_intact(mem: Accessor) -> None:
    native = ConnectionResetError("reset by peer")
    last = errors.RateLimited("slow down", operation="stat", path="a", service="memory", retry_after=0.0)
    last.__cause__ = native
    flaky = Flaky(mem)
    flaky.fail["stat"] = [temp(), last]
    acc = RetryLayer(max_times=1, **FAST).layer(flaky)
    with pytest.raises(errors.RateLimited) as info:
        await acc.stat("a", OpStat())
    raised = info.value
    assert raised is not last
    assert last.temporary is True and last.message == "slow down"  # not mutated
    assert raised.temporary is False
    assert raised.message == "slow down (gave up after 2 attempts)"
    assert (raised.operation, raised.path, raised.service, raised.retry_after) == ("stat", "a", "memory", 0.0)
    assert raised.__cause__ is native  # the native error stays the cause
    assert raised.__context__ is last


@pytest.mark.anyio
async def test_success_after_temporary_failures(mem: Accessor) -> None:
    await mem.write_once("a", b"hello", OpWrite())
    flaky = Flaky(mem)
    flaky.fail["stat"] = [temp(), errors.RateLimited("slow down")]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    meta = await acc.stat("a", OpStat())
    assert meta.content_length == 5
    assert flaky.calls["stat"] == 3


@pytest.mark.anyio
async def test_max_times_zero_is_one_attempt_marked_persistent(mem: Accessor) -> None:
    flaky = Flaky(mem)
    flaky.fail["stat"] = [temp()]
    acc = RetryLayer(max_times=0, **FAST).layer(flaky)
    with pytest.raises(errors.Unexpected) as info:
        await acc.stat("a", OpStat())
    assert flaky.calls["stat"] == 1
    assert info.value.temporary is False


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [
        errors.Unexpected("persistent", temporary=False),
        errors.NotFound("missing"),
        errors.PermissionDenied("no"),
        errors.ConditionNotMatch("stale"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_non_temporary_errors_are_not_retried(mem: Accessor, error: errors.Error) -> None:
    flaky = Flaky(mem)
    flaky.fail["stat"] = [error]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    with pytest.raises(type(error)) as info:
        await acc.stat("a", OpStat())
    assert info.value is error
    assert flaky.calls["stat"] == 1
    assert "gave up" not in str(info.value)


@pytest.mark.anyio
async def test_foreign_exceptions_are_not_retried(mem: Accessor) -> None:
    class Boom(Flaky):
        async def stat(self, path: str, op: OpStat) -> Metadata:
            self.calls["stat"] += 1
            raise ValueError("not a pystorage error")

    flaky = Boom(mem)
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    with pytest.raises(ValueError, match="not a pystorage error"):
        await acc.stat("a", OpStat())
    assert flaky.calls["stat"] == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("stat", lambda a: a.stat("src", OpStat())),
        ("create_dir", lambda a: a.create_dir("d/", OpCreateDir())),
        ("delete", lambda a: a.delete("src", OpDelete())),
        ("delete_batch", lambda a: a.delete_batch(["x", "y"])),
        ("copy", lambda a: a.copy("src", "dst", OpCopy())),
        ("rename", lambda a: a.rename("src", "dst", OpRename())),
        ("presign", lambda a: a.presign("src", OpPresign(method="GET", expire=dt.timedelta(seconds=60)))),
        ("write_once", lambda a: a.write_once("w", b"data", OpWrite())),
        ("write", lambda a: a.write("w", OpWrite())),
        ("initiate_multipart", lambda a: a.initiate_multipart("m", OpWrite())),
        ("complete_multipart", lambda a: a.complete_multipart("m", "upload-1", [], OpWrite())),
        ("abort_multipart", lambda a: a.abort_multipart("m", "upload-1")),
        ("read", lambda a: a.read("src", OpRead())),
    ],
)
async def test_every_one_shot_call_is_retried(
    mem: Accessor, name: str, call: Callable[[Accessor], object]
) -> None:
    await mem.write_once("src", b"source", OpWrite())
    flaky = Flaky(mem)
    flaky.fail[name] = [temp(), temp()]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    result = await call(acc)  # type: ignore[misc]
    if isinstance(result, RawReader):
        assert await read_all(result) == b"source"
    assert flaky.calls[name] == 3


@pytest.mark.anyio
async def test_write_part_retries_the_failed_part_alone(mem: Accessor) -> None:
    flaky = Flaky(mem)
    flaky.fail["write_part:2"] = [temp(), temp()]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    upload = await acc.initiate_multipart("big", OpWrite())
    chunks = [b"a" * 10, b"b" * 10, b"c" * 5]
    parts = []
    async with anyio.create_task_group() as tg:

        async def send(number: int, data: bytes) -> None:
            parts.append(await acc.write_part("big", upload, number, data, OpWrite()))

        for number, data in enumerate(chunks, start=1):
            tg.start_soon(send, number, data)
    meta = await acc.complete_multipart("big", upload, parts, OpWrite())
    assert flaky.part_calls == {1: 1, 2: 3, 3: 1}
    assert meta.content_length == 25
    assert await read_all(await mem.read("big", OpRead())) == b"".join(chunks)


@pytest.mark.anyio
async def test_streamed_writer_chunks_are_not_retried(mem: Accessor) -> None:
    flaky = Flaky(mem)
    flaky.fail["writer.write"] = [temp()]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    writer = await acc.write("w", OpWrite())
    with pytest.raises(errors.Unexpected) as info:
        await writer.write(b"data")
    assert info.value.temporary is True  # untouched: not this layer's to give up on
    assert flaky.calls["writer.write"] == 1
    await writer.abort()


# delays ------------------------------------------------------------------------


def test_backoff_is_exponential_and_capped(mem: Accessor) -> None:
    acc = RetryLayer(min_delay=0.5, max_delay=3.0, factor=2.0, jitter=False).layer(mem)
    delays = [acc.delay(n, temp()) for n in range(6)]  # type: ignore[attr-defined]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_backoff_survives_huge_exponents(mem: Accessor) -> None:
    acc = RetryLayer(max_times=10_000, min_delay=1.0, max_delay=7.0, factor=10.0, jitter=False).layer(mem)
    assert acc.delay(5000, temp()) == 7.0  # type: ignore[attr-defined]


def test_jitter_stays_within_half_and_full_delay(mem: Accessor) -> None:
    acc = RetryLayer(min_delay=1.0, max_delay=60.0, factor=2.0, jitter=True).layer(mem)
    samples = [acc.delay(2, temp()) for _ in range(200)]  # type: ignore[attr-defined]
    assert all(2.0 <= s <= 4.0 for s in samples)
    assert len(set(samples)) > 1


def test_retry_after_wins_over_a_shorter_backoff(mem: Accessor) -> None:
    acc = RetryLayer(min_delay=0.1, max_delay=10.0, jitter=False).layer(mem)
    assert acc.delay(0, errors.RateLimited("slow", retry_after=5.0)) == 5.0  # type: ignore[attr-defined]
    assert acc.delay(0, errors.RateLimited("slow", retry_after=0.01)) == 0.1  # type: ignore[attr-defined]


def test_retry_after_is_capped_at_max_delay(mem: Accessor) -> None:
    acc = RetryLayer(min_delay=0.1, max_delay=1.0, jitter=False).layer(mem)
    assert acc.delay(0, errors.RateLimited("slow", retry_after=86400.0)) == 1.0  # type: ignore[attr-defined]
    assert acc.delay(0, errors.Unexpected("503", retry_after=5.0)) == 1.0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_rate_limited_retry_after_is_slept(mem: Accessor) -> None:
    await mem.write_once("a", b"x", OpWrite())
    flaky = Flaky(mem)
    flaky.fail["stat"] = [errors.RateLimited("slow down", retry_after=0.03)]
    acc = RetryLayer(max_times=3, min_delay=0.001, max_delay=1.0, factor=1.0, jitter=False).layer(flaky)
    start = anyio.current_time()
    await acc.stat("a", OpStat())
    elapsed = anyio.current_time() - start
    assert flaky.calls["stat"] == 2
    assert 0.029 <= elapsed < 1.0


@pytest.mark.anyio
async def test_backoff_delays_are_slept(mem: Accessor) -> None:
    flaky = Flaky(mem)
    flaky.fail["stat"] = [temp() for _ in range(3)]
    acc = RetryLayer(max_times=2, min_delay=0.01, max_delay=0.02, factor=2.0, jitter=False).layer(flaky)
    start = anyio.current_time()
    with pytest.raises(errors.Unexpected):
        await acc.stat("a", OpStat())
    assert anyio.current_time() - start >= 0.029  # 0.01 + 0.02
    assert flaky.calls["stat"] == 3


# resumable reads ---------------------------------------------------------------


@pytest.mark.anyio
async def test_read_resumes_mid_stream_without_gaps_or_duplicates(mem: Accessor) -> None:
    data = os.urandom(10_000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=700)
    flaky.streams = [StreamPlan(2500, temp()), StreamPlan(3000, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    reader = await acc.read("obj", OpRead())
    assert reader.size == 10_000
    assert await read_all(reader) == data
    assert [(op.offset, op.size) for op in flaky.read_ops] == [(0, None), (2500, None), (5500, None)]
    assert all(r.closed for r in flaky.readers)


@pytest.mark.anyio
async def test_ranged_read_resumes_within_its_range(mem: Accessor) -> None:
    data = os.urandom(10_000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=300)
    flaky.streams = [StreamPlan(1000, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    got = await read_all(await acc.read("obj", OpRead(offset=123, size=4000)))
    assert got == data[123:4123]
    assert [(op.offset, op.size) for op in flaky.read_ops] == [(123, 4000), (1123, 3000)]


@pytest.mark.anyio
async def test_resumed_read_pins_the_etag(mem: Accessor) -> None:
    await mem.write_once("obj", b"A" * 5000, OpWrite())
    etag = (await mem.stat("obj", OpStat())).etag

    def overwrite() -> None:
        mem.put("obj", b"B" * 5000, OpWrite())  # type: ignore[attr-defined]

    flaky = Flaky(mem, piece=1000)
    flaky.streams = [StreamPlan(2000, temp(), on_fail=overwrite)]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    reader = await acc.read("obj", OpRead())
    with pytest.raises(errors.ConditionNotMatch):
        await read_all(reader)
    assert flaky.read_ops[1].if_match == etag
    assert flaky.read_ops[1].offset == 2000


@pytest.mark.anyio
async def test_resumed_read_refuses_to_splice_without_if_match_support(mem: Accessor) -> None:
    await mem.write_once("obj", b"A" * 5000, OpWrite())

    def overwrite() -> None:
        mem.put("obj", b"B" * 5000, OpWrite())  # type: ignore[attr-defined]

    class NoIfMatch(Flaky):
        def info(self) -> AccessorInfo:
            info = super().info()
            return dataclasses.replace(info, capability=info.capability.replace(read_with_if_match=False))

    flaky = NoIfMatch(mem, piece=1000)
    flaky.streams = [StreamPlan(2000, temp(), on_fail=overwrite)]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    reader = await acc.read("obj", OpRead())
    with pytest.raises(errors.ConditionNotMatch, match="changed while it was being read"):
        await read_all(reader)
    assert flaky.read_ops[1].if_match is None
    assert flaky.readers[1].closed


@pytest.mark.anyio
async def test_resumed_read_keeps_the_callers_conditions(mem: Accessor) -> None:
    await mem.write_once("obj", b"A" * 5000, OpWrite())
    etag = (await mem.stat("obj", OpStat())).etag
    flaky = Flaky(mem, piece=1000)
    flaky.streams = [StreamPlan(2000, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    assert await read_all(await acc.read("obj", OpRead(if_match="*"))) == b"A" * 5000
    assert flaky.read_ops[1].if_match == "*"
    assert etag != "*"


@pytest.mark.anyio
async def test_read_gives_up_after_max_times_failures_without_progress(mem: Accessor) -> None:
    data = os.urandom(5000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=100)
    flaky.fail["read"] = [temp()]  # the opening uses one retry ...
    flaky.streams = [StreamPlan(30, temp()), StreamPlan(0, temp()), StreamPlan(0, temp()),
                     StreamPlan(0, temp()), StreamPlan(0, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    reader = await acc.read("obj", OpRead())
    got = []
    with pytest.raises(errors.Unexpected) as info:
        while piece := await reader.read():
            got.append(piece)
    # ... progress resets the budget; then 4 failures in a row without a byte: given up
    assert info.value.temporary is False
    assert "gave up after 4 attempts" in str(info.value)
    assert b"".join(got) == data[:30]
    assert flaky.calls["read"] == 5  # 1 failed opening + the first stream + 3 reopenings
    await reader.aclose()


@pytest.mark.anyio
async def test_read_progress_resets_the_retry_budget(mem: Accessor) -> None:
    data = os.urandom(5000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=100)
    flaky.streams = [StreamPlan(10, temp()) for _ in range(8)]
    acc = RetryLayer(max_times=1, **FAST).layer(flaky)
    assert await read_all(await acc.read("obj", OpRead())) == data
    assert [op.offset for op in flaky.read_ops] == [10 * n for n in range(9)]


@pytest.mark.anyio
async def test_read_stream_ending_early_is_resumed(mem: Accessor) -> None:
    data = os.urandom(4000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=512)
    flaky.streams = [StreamPlan(1500, None)]  # b"" after 1500 of 4000 bytes
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    assert await read_all(await acc.read("obj", OpRead())) == data
    assert flaky.read_ops[1].offset == 1500


@pytest.mark.anyio
async def test_failure_after_the_last_byte_needs_no_reopen(mem: Accessor) -> None:
    data = os.urandom(3000)
    await mem.write_once("obj", data, OpWrite())
    flaky = Flaky(mem, piece=1000)
    flaky.streams = [StreamPlan(3000, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    assert await read_all(await acc.read("obj", OpRead())) == data
    assert flaky.calls["read"] == 1


@pytest.mark.anyio
async def test_non_temporary_stream_error_is_not_resumed(mem: Accessor) -> None:
    await mem.write_once("obj", b"x" * 3000, OpWrite())
    flaky = Flaky(mem, piece=1000)
    flaky.streams = [StreamPlan(1000, errors.PermissionDenied("revoked"))]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    reader = await acc.read("obj", OpRead())
    with pytest.raises(errors.PermissionDenied):
        await read_all(reader)
    assert flaky.calls["read"] == 1


class Chunked(LayeredAccessor):
    """Serves reads in small pieces so that streams have many read() calls."""

    async def read(self, path: str, op: OpRead) -> RawReader:
        raw = await self.inner.read(path, op)
        data = await read_all(raw)
        return PieceReader(data, raw.metadata, 997, None)


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["one-piece", "many-pieces"])
async def test_chaos_under_retry_reads_exact_bytes(mem: Accessor, chunked: bool) -> None:
    data = os.urandom(64 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    await mem.write_once("obj", data, OpWrite())
    base: Accessor = Chunked(mem) if chunked else mem
    for seed in range(40):
        chaos = ChaosLayer(error_ratio=0.3, seed=seed).layer(base)
        acc = RetryLayer(max_times=50, min_delay=0).layer(chaos)
        got = await read_all(await acc.read("obj", OpRead()))
        assert hashlib.sha256(got).hexdigest() == digest, f"seed {seed}"
        offset, size = seed * 101, 20_000 + seed
        got = await read_all(await acc.read("obj", OpRead(offset=offset, size=size)))
        assert got == data[offset : offset + size], f"seed {seed}"


@pytest.mark.anyio
async def test_chaos_provokes_mid_stream_resumption(mem: Accessor) -> None:
    data = os.urandom(8192)
    await mem.write_once("obj", data, OpWrite())
    offsets: list[int] = []

    class Recorder(LayeredAccessor):
        async def read(self, path: str, op: OpRead) -> RawReader:
            offsets.append(op.offset)
            return await self.inner.read(path, op)

    for seed in range(30):
        acc = RetryLayer(max_times=50, min_delay=0).layer(
            ChaosLayer(error_ratio=0.3, seed=seed).layer(Recorder(mem))
        )
        assert await read_all(await acc.read("obj", OpRead())) == data
    assert any(0 < o < len(data) for o in offsets), "no stream was resumed mid-object"


# listings ----------------------------------------------------------------------


async def fill(mem: Accessor) -> list[str]:
    for name in ["a", "b", "c/x", "c/y", "d", "e", "f"]:
        await mem.write_once(f"dir/{name}", b"1", OpWrite())
    return [e.path async for e in mem.list("dir/", OpList())]


@pytest.mark.anyio
@pytest.mark.parametrize("start_after", [True, False], ids=["start_after", "restart"])
async def test_list_resumes_after_the_last_entry(mem: Accessor, start_after: bool) -> None:
    expected = await fill(mem)
    flaky = Flaky(mem, start_after=start_after)
    flaky.list_plan = [(3, temp()), (1, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    got = [e.path async for e in acc.list("dir/", OpList())]
    assert got == expected
    assert len(flaky.list_ops) == 3
    if start_after:
        assert flaky.list_ops[1].start_after == expected[2]
        # a delimited listing started after "dir/c/" may list "dir/c/" again
        # (S3 rolls "dir/c/x" into that prefix too); the layer skips it
        assert flaky.list_ops[2].start_after in expected[2:4]
    else:
        assert all(op.start_after is None for op in flaky.list_ops)


@pytest.mark.anyio
async def test_list_gives_up_after_max_times(mem: Accessor) -> None:
    await fill(mem)
    flaky = Flaky(mem)
    flaky.list_plan = [(0, temp()) for _ in range(5)]
    acc = RetryLayer(max_times=2, **FAST).layer(flaky)
    with pytest.raises(errors.Unexpected) as info:
        [e async for e in acc.list("dir/", OpList())]
    assert info.value.temporary is False
    assert len(flaky.list_ops) == 3


@pytest.mark.anyio
async def test_version_listing_is_retried_only_before_the_first_entry(mem: Accessor) -> None:
    expected = await fill(mem)
    flaky = Flaky(mem)
    flaky.list_plan = [(0, temp()), (2, temp())]
    acc = RetryLayer(max_times=3, **FAST).layer(flaky)
    got = []
    with pytest.raises(errors.Unexpected) as info:
        async for entry in acc.list("dir/", OpList(versions=True)):
            got.append(entry.path)
    assert got == expected[:2]
    assert info.value.temporary is True
    assert len(flaky.list_ops) == 2
