"""The read planner (``raw/read.py``) over a driver that knows no range rules,
and the writer chooser (``raw/write.py``)."""

from __future__ import annotations

import os

import pytest

from pystorage import Operator, errors
from pystorage.raw.accessor import Accessor, RawReader
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import OpRead, OpStat, OpWrite
from pystorage.raw.ranged import read_all
from pystorage.raw.read import clamp, open_range
from pystorage.raw.write import Writer, choose
from pystorage.types import Capability, Metadata

pytestmark = pytest.mark.anyio

DATA = os.urandom(1000)


class _Http(LayeredAccessor):
    """Reads as an HTTP service does: a 416 for any offset at or past the end,
    and counts what it is asked."""

    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.calls: list[str] = []

    async def stat(self, path: str, op: OpStat) -> Metadata:
        self.calls.append("stat")
        return await self.inner.stat(path, op)

    async def read(self, path: str, op: OpRead) -> RawReader:
        self.calls.append("read")
        length = (await self.inner.stat(path, OpStat())).content_length or 0
        if op.offset >= length and (length or op.size is not None):
            raise errors.RangeNotSatisfied("416", path=path)
        return await self.inner.read(path, op)


async def _service() -> _Http:
    memory = Operator("memory").accessor
    await memory.write_once("f", DATA, OpWrite())
    await memory.write_once("empty", b"", OpWrite())
    return _Http(memory)


async def test_a_read_sends_only_the_read() -> None:
    http = await _service()
    assert await read_all(await open_range(http, "f", OpRead(offset=10, size=5000))) == DATA[10:]
    assert http.calls == ["read"]


async def test_a_416_at_the_end_is_an_empty_read_after_one_stat() -> None:
    http = await _service()
    assert await read_all(await open_range(http, "f", OpRead(offset=len(DATA), size=5))) == b""
    assert http.calls == ["read", "stat"]
    http.calls.clear()
    with pytest.raises(errors.RangeNotSatisfied):
        await open_range(http, "f", OpRead(offset=len(DATA) + 1))
    assert http.calls == ["read", "stat"]


async def test_a_416_at_offset_zero_is_an_empty_object() -> None:
    http = await _service()
    assert await read_all(await open_range(http, "empty", OpRead(size=5))) == b""
    assert http.calls == ["read", "stat"]
    assert await read_all(await open_range(http, "empty", OpRead())) == b""  # no range: no 416


async def test_size_zero_needs_only_the_length() -> None:
    http = await _service()
    assert await read_all(await open_range(http, "f", OpRead(offset=3, size=0))) == b""
    assert http.calls == ["stat"]
    with pytest.raises(errors.RangeNotSatisfied):
        await open_range(http, "f", OpRead(offset=len(DATA) + 1, size=0))


async def test_a_known_length_clamps_before_any_request() -> None:
    http = await _service()
    raw = await open_range(http, "f", OpRead(offset=len(DATA), size=5), length=len(DATA))
    assert await read_all(raw) == b""
    raw = await open_range(http, "f", OpRead(offset=990, size=50), length=len(DATA))
    assert raw.size == 10 and await read_all(raw) == DATA[990:]
    assert http.calls == ["read"]
    with pytest.raises(errors.RangeNotSatisfied):
        await open_range(http, "f", OpRead(offset=len(DATA) + 1), length=len(DATA))


async def test_a_driver_reading_past_the_end_as_empty_is_caught() -> None:
    class _Lenient(LayeredAccessor):  # slices past the end, as a file or bytes object does
        async def read(self, path: str, op: OpRead) -> RawReader:
            return await self.inner.read(path, OpRead(offset=min(op.offset, len(DATA)), size=op.size))

    lenient = _Lenient((await _service()).inner)
    with pytest.raises(errors.RangeNotSatisfied):
        await open_range(lenient, "f", OpRead(offset=len(DATA) + 7))


def test_clamp() -> None:
    assert clamp("p", 0, None, 10) == 10
    assert clamp("p", 4, 3, 10) == 7
    assert clamp("p", 8, 30, 10) == 10
    assert clamp("p", 10, 3, 10) == 10
    with pytest.raises(errors.RangeNotSatisfied):
        clamp("p", 11, None, 10)


MULTI = Capability(write=True, write_can_multi=True, write_multi_min_size=5)
STREAM = Capability(write=True, write_can_append=True)


@pytest.mark.parametrize(
    ("capability", "op", "size", "expected"),
    [
        (MULTI, OpWrite(), 100, Writer.ONCE),  # fits in one 8 MiB part
        (MULTI, OpWrite(chunk=10), 100, Writer.MULTIPART),
        (MULTI, OpWrite(chunk=10), None, Writer.MULTIPART),  # streamed: the engine starts lazily
        (MULTI, OpWrite(chunk=10), 10, Writer.ONCE),
        (STREAM, OpWrite(chunk=10), 100, Writer.ONCE),  # no engine: bytes go in one request
        (STREAM, OpWrite(), None, Writer.STREAM),
        (STREAM, OpWrite(append=True), 100, Writer.STREAM),  # appends never become write_once
        (MULTI, OpWrite(append=True), 100, Writer.STREAM),
    ],
)
def test_the_writer_chooser(capability: Capability, op: OpWrite, size: int | None, expected: Writer) -> None:
    assert choose(capability, op, size) is expected
