"""The range-write engine, driven through an in-memory session service."""

from __future__ import annotations

import logging

import anyio
import pytest

from pystorage import errors
from pystorage.raw.range_write import RESENDS, RangeAnswer, RangeUpload, RangeWriter, align_chunk
from pystorage.types import Metadata

pytestmark = pytest.mark.anyio

GRAIN = 4


class FakeSession(RangeUpload[bytes]):
    """A session service holding bytes in order; ``faults`` fail the next chunk
    requests (``"lost"``: persisted but the answer lost; ``"drop"``: nothing persisted)."""

    granularity = GRAIN

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.held = bytearray()
        self.sealed: list[tuple[bytes, bool]] = []
        self.faults: list[str] = []
        self.started = self.cancelled = False
        self.finished: bytes | None = None
        self.object: bytes | None = None
        self.cancel_error: Exception | None = None

    def seal(self, chunk: memoryview, *, last: bool) -> None:
        self.sealed.append((bytes(chunk), last))

    async def write_once(self, data: memoryview) -> Metadata:
        self.calls.append(("once", 0, len(data)))
        self.object = bytes(data)
        return Metadata(content_length=len(data))

    async def start(self) -> None:
        self.calls.append(("start", 0, 0))
        self.started = True

    async def write_range(self, offset: int, data: memoryview, *, total: int | None) -> RangeAnswer[bytes]:
        self.calls.append(("put", offset, len(data)))
        assert offset == len(self.held), "the engine writes at the session's offset"
        if total is None:
            assert len(data) % GRAIN == 0, "every chunk but the last is a multiple of the granularity"
        fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            raise errors.Unexpected("connection reset", temporary=True)
        if fault == "half":
            self.held += data[: len(data) // 2]
            raise errors.Unexpected("connection reset", temporary=True)
        if fault == "fatal":
            raise errors.PermissionDenied("no")
        self.held += data
        if total is not None and len(self.held) == total:
            self.finished = bytes(self.held)
        if fault == "lost":
            raise errors.Unexpected("answer lost", temporary=True)
        return RangeAnswer(len(self.held), self.finished)

    async def query(self, offset: int) -> RangeAnswer[bytes]:
        self.calls.append(("query", offset, 0))
        return RangeAnswer(len(self.held), self.finished)

    async def finish(self, done: bytes) -> Metadata:
        self.object = done
        return Metadata(content_length=len(done))

    async def cancel(self) -> None:
        self.calls.append(("cancel", 0, 0))
        self.cancelled = True
        if self.cancel_error is not None:
            raise self.cancel_error


def test_align_chunk() -> None:
    assert align_chunk(None, 4, 16) == 16
    assert align_chunk(10, 4, 16) == 8
    assert align_chunk(1, 4, 16) == 4


def test_chunk_must_be_a_multiple_of_the_granularity() -> None:
    with pytest.raises(ValueError):
        RangeWriter(FakeSession(), chunk=6, path="p", service="fake")


async def test_small_object_is_one_request() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    await w.write(b"abc")
    await w.write(b"defgh")  # exactly one chunk: not sent until more bytes follow
    meta = await w.close()
    assert fake.calls == [("once", 0, 8)]
    assert fake.object == b"abcdefgh" and meta.content_length == 8
    assert not fake.sealed


async def test_chunks_are_sent_in_order_and_the_last_finishes() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    data = bytes(range(30))
    for i in range(0, 30, 3):
        await w.write(data[i : i + 3])
    assert w.offset == 24  # three chunks sent, six bytes held
    meta = await w.close()
    assert fake.calls == [("start", 0, 0), ("put", 0, 8), ("put", 8, 8), ("put", 16, 8), ("put", 24, 6)]
    assert fake.object == data and meta.content_length == 30
    assert [last for _, last in fake.sealed] == [False, False, False, True]
    assert b"".join(chunk for chunk, _ in fake.sealed) == data


async def test_a_large_write_is_cut_from_the_callers_bytes() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    data = bytes(range(20))
    await w.write(data)
    await w.close()
    assert fake.calls[1:] == [("put", 0, 8), ("put", 8, 8), ("put", 16, 4)]
    assert fake.object == data


@pytest.mark.parametrize("fault", ["drop", "lost", "half"])
async def test_a_temporary_failure_resumes_from_the_persisted_offset(fault: str) -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    data = bytes(range(20))
    fake.faults = ["ok", fault]  # the second chunk fails
    await w.write(data)
    await w.close()
    assert fake.object == data
    assert ("query", 8, 0) in fake.calls
    resent = [c for c in fake.calls if c[0] == "put" and c[1] >= 8]
    expected_first_resend = {"drop": 8, "lost": 16, "half": 12}[fault]
    assert resent[1][1] == expected_first_resend
    assert len(fake.sealed) == 3  # a resent chunk is sealed (hashed) once


async def test_a_lost_answer_to_the_last_chunk_is_found_by_the_query() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    fake.faults = ["ok", "lost"]
    await w.write(bytes(12))
    meta = await w.close()
    assert meta.content_length == 12 and fake.object == bytes(12)
    assert fake.calls[-1] == ("query", 8, 0)


async def test_resends_are_bounded() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    fake.faults = ["drop"] * (RESENDS + 1)
    with pytest.raises(errors.Unexpected):
        await w.write(bytes(12))
    assert sum(1 for c in fake.calls if c[0] == "put") == RESENDS + 1


async def test_a_permanent_failure_is_raised_and_abort_cancels_the_session() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    fake.faults = ["fatal"]
    with pytest.raises(errors.PermissionDenied):
        await w.write(bytes(12))
    assert not any(c[0] == "query" for c in fake.calls)
    await w.abort()
    await w.abort()  # idempotent
    assert fake.calls.count(("cancel", 0, 0)) == 1


async def test_abort_before_any_chunk_sends_nothing() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    await w.write(b"abc")
    await w.abort()
    assert fake.calls == []
    with pytest.raises(ValueError):
        await w.write(b"more")


async def test_a_failed_cancel_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeSession()
    fake.cancel_error = errors.Unexpected("gone")
    w = RangeWriter(fake, chunk=8, path="secret-free/p", service="fake")
    await w.write(bytes(12))
    with caplog.at_level(logging.WARNING, logger="pystorage"):
        await w.abort()
    assert fake.cancelled
    assert "could not cancel the upload session of 'secret-free/p'" in caplog.text


async def test_abort_runs_in_a_cancelled_scope() -> None:
    fake = FakeSession()
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    await w.write(bytes(12))
    with anyio.CancelScope() as scope:
        scope.cancel()
        await w.abort()
    assert fake.cancelled


async def test_a_session_that_does_not_complete_is_a_temporary_error() -> None:
    fake = FakeSession()

    async def never_done(offset: int, data: memoryview, *, total: int | None) -> RangeAnswer[bytes]:
        fake.held += data
        return RangeAnswer(len(fake.held))

    fake.write_range = never_done  # type: ignore[method-assign]
    w = RangeWriter(fake, chunk=8, path="p", service="fake")
    await w.write(bytes(12))
    with pytest.raises(errors.Unexpected) as info:
        await w.close()
    assert info.value.temporary
