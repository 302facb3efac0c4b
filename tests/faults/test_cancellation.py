"""Cancellation is prompt and transparent.

* the abort after a cancelled or failed upload goes to the driver (not through
  the retry and timeout layers), is bounded by ``ABORT_TIMEOUT``, never
  replaces the original error or the cancellation, and a failed abort is
  logged with the path and the upload id;
* a write cancelled by an anyio cancel scope never commits (memory and fs,
  asyncio and trio), even when it reaches no other checkpoint.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer, TimeoutLayer
from pystorage.raw import multipart as engine
from pystorage.raw.accessor import Accessor, AccessorInfo, Buffer, RawWriter
from pystorage.raw.ops import OpWrite
from pystorage.types import Capability, Metadata
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import FaultTarget, StallBeforeStatus, When
from tests.raw.fakes import FakeMultipart

#: the longest a cancelled upload may take to unwind here (the abort bound plus slack)
BOUND = 5.0
MiB = 1024 * 1024


@pytest.fixture
def short_abort(monkeypatch: pytest.MonkeyPatch) -> float:
    """``ABORT_TIMEOUT`` lowered to 0.3 s for this test."""
    monkeypatch.setattr(engine, "ABORT_TIMEOUT", 0.3)
    return 0.3


@dataclasses.dataclass
class AbortTrouble(FakeMultipart):
    """A fake multipart service whose abort fails (``fail_abort``) or takes
    ``slow_abort`` seconds (a server that answers late)."""

    fail_abort: bool = False
    slow_abort: float = 0.0
    aborts: int = 0

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        self.aborts += 1
        if self.slow_abort:
            await anyio.sleep(self.slow_abort)
        if self.fail_abort:
            raise errors.Unexpected("abort refused by the fake", temporary=True)
        await super().abort_multipart(path, upload_id)


async def _parts(count: int, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(count):
        yield bytes([i % 256]) * size
        await anyio.lowlevel.checkpoint()


async def _cancel_mid_upload(op: Operator, fake: FakeMultipart) -> tuple[bool, float]:
    """Write a multipart object, cancel it once an upload exists; ``(cancelled_caught,
    seconds from the cancel to the end)``."""
    cancelled_at: list[float] = []
    with anyio.CancelScope() as scope:

        async def source() -> AsyncIterator[bytes]:
            async for piece in _parts(50):
                yield piece
                if any(name == "part" for name, _ in fake.calls) and not cancelled_at:
                    cancelled_at.append(time.monotonic())
                    scope.cancel()

        await op.write("big", source(), chunk=1000, concurrent=1)
    return scope.cancelled_caught, time.monotonic() - cancelled_at[0]


def _uploads_of(fake: FakeMultipart) -> list[str]:
    return [str(arg) for name, arg in fake.calls if name == "initiate"]


@pytest.mark.anyio
async def test_cancellation_propagates_when_the_abort_fails(caplog: pytest.LogCaptureFixture) -> None:
    fake = AbortTrouble(fail_abort=True)
    op = Operator.from_accessor(fake).layer(RetryLayer(min_delay=0.01, jitter=False))
    caplog.set_level(logging.WARNING, logger="pystorage")
    caught, _ = await _cancel_mid_upload(op, fake)
    assert caught, "the abort's failure replaced the cancellation"
    assert fake.aborts == 1  # straight to the driver: not retried
    upload_id = _uploads_of(fake)[0]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(upload_id) in m and "'big'" in m for m in messages), messages


@pytest.mark.anyio
async def test_the_abort_skips_the_retry_and_timeout_layers() -> None:
    fake = AbortTrouble(fail_abort=True)
    op = Operator.from_accessor(fake).layer(
        RetryLayer(max_times=5, min_delay=1.0, jitter=False), TimeoutLayer(timeout=60)
    )
    caught, unwind = await _cancel_mid_upload(op, fake)
    assert caught
    assert fake.aborts == 1
    assert unwind < BOUND  # no retry sleeps (1 + 2 + 4 + ... seconds) while cancelling


@pytest.mark.anyio
async def test_the_abort_is_bounded(short_abort: float, caplog: pytest.LogCaptureFixture) -> None:
    fake = AbortTrouble(slow_abort=8.0)  # a server that answers the abort after 8 s
    op = Operator.from_accessor(fake)
    caplog.set_level(logging.WARNING, logger="pystorage")
    caught, unwind = await _cancel_mid_upload(op, fake)
    assert caught
    assert unwind < BOUND, f"cancelling took {unwind:.1f} s"
    assert any("timed out" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_a_failed_upload_raises_its_own_error_when_the_abort_fails() -> None:
    fake = AbortTrouble(fail_part=3, fail_abort=True)
    op = Operator.from_accessor(fake)
    with pytest.raises(errors.Error) as info:
        await op.write("big", _parts(10), chunk=1000, concurrent=1)
    assert "abort" not in str(info.value)
    assert fake.aborts == 1


# a streamed writer (no multipart engine) whose write and abort both fail --------------------------
class _BrokenWriter(RawWriter):
    async def write(self, data: Buffer) -> None:
        raise errors.PermissionDenied("the write failed")

    async def close(self) -> Metadata:
        raise AssertionError("not reached")

    async def abort(self) -> None:
        raise errors.Unexpected("the abort failed too")


class _StreamOnly(Accessor):
    def info(self) -> AccessorInfo:
        return AccessorInfo("fake", "/", "fake", Capability(write=True, write_can_multi=False))

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        return _BrokenWriter()


@pytest.mark.anyio
async def test_a_streamed_write_raises_its_own_error_when_the_abort_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    op = Operator.from_accessor(_StreamOnly())
    caplog.set_level(logging.WARNING, logger="pystorage")
    with pytest.raises(errors.PermissionDenied):
        async with op.open("f", "wb", chunk=1) as w:
            await w.write(b"x")
    with pytest.raises(errors.PermissionDenied):
        await op.write("f", [b"x", b"y"], chunk=1)
    assert any("the abort failed too" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_an_explicit_abort_still_reports_its_failure() -> None:
    fake = AbortTrouble(fail_abort=True)
    op = Operator.from_accessor(fake)
    w = await op.open("big", "wb", chunk=1000, concurrent=1)
    for _ in range(5):
        await w.write(b"x" * 1000)
    with pytest.raises(errors.Unexpected, match="abort refused"):
        await w.abort()


# a cancelled write never commits (the memory driver reached no checkpoint before committing) ------
@pytest.fixture(params=["memory", "fs"])
def local_op(request: pytest.FixtureRequest, tmp_path: Path) -> Operator:
    """A memory or fs operator."""
    if request.param == "fs":
        return Operator("fs", root=str(tmp_path))
    return Operator("memory")


@pytest.mark.parametrize("how", ["bytes", "iterable", "open"])
@pytest.mark.anyio
async def test_a_cancelled_write_never_commits(local_op: Operator, how: str) -> None:
    with anyio.CancelScope() as scope:
        scope.cancel()
        if how == "bytes":
            await local_op.write("k", b"data")
        elif how == "iterable":
            await local_op.write("k", [b"da", b"ta"])
        else:
            async with local_op.open("k", "wb") as w:
                await w.write(b"data")
    assert scope.cancelled_caught
    assert not await local_op.exists("k")


@pytest.mark.anyio
async def test_a_write_cancelled_by_a_deadline_never_commits(local_op: Operator) -> None:
    with anyio.move_on_after(0) as scope:
        await local_op.write("k", b"data")
    assert scope.cancelled_caught
    assert not await local_op.exists("k")


# against real servers: the abort request itself stalls -------------------------------------------
def _release_later(target: FaultTarget, seconds: float) -> threading.Timer:
    """Release the proxy's stalls after ``seconds``: a build without the abort bound
    then fails these tests (too slow) instead of hanging on the shielded abort."""
    timer = threading.Timer(seconds, target.proxy.reset)
    timer.daemon = True
    timer.start()
    return timer


async def _cancel_when(hit: threading.Event, scope: anyio.CancelScope, at: list[float]) -> None:
    assert await anyio.to_thread.run_sync(hit.wait, 30.0)
    at.append(time.monotonic())
    scope.cancel()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_s3_cancel_with_a_stalled_abort_is_prompt(
    faulty_moto: FaultTarget, short_abort: float, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_random_root("cancel")
    proxy = faulty_moto.proxy
    part2 = proxy.inject(StallBeforeStatus(), When(method="PUT", query={"partNumber": "2"}))
    abort = proxy.inject(StallBeforeStatus(), When(method="DELETE", query={"uploadId": None}))
    caplog.set_level(logging.WARNING, logger="pystorage")
    at: list[float] = []
    timer = _release_later(faulty_moto, 20.0)
    try:
        async with Operator("s3", **faulty_moto.config(root, read_timeout=30.0)) as op:
            data = [bytes([i]) * (5 * MiB) for i in range(3)]
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_cancel_when, part2.hit, scope, at)
                    await op.write("big", data, chunk=5 * MiB, concurrent=1)
            unwind = time.monotonic() - at[0]
            assert scope.cancelled_caught
    finally:
        timer.cancel()
    assert abort.hits == 1
    assert unwind < BOUND, f"cancelling took {unwind:.1f} s"
    upload_id = proxy.recorded("DELETE")[0].request.query["uploadId"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(upload_id in m and "'big'" in m for m in messages), messages


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_s3_cancel_is_prompt_and_leaves_no_upload(faulty_moto: FaultTarget) -> None:
    root = make_random_root("cancel")
    proxy = faulty_moto.proxy
    part2 = proxy.inject(StallBeforeStatus(), When(method="PUT", query={"partNumber": "2"}))
    at: list[float] = []
    timer = _release_later(faulty_moto, 20.0)
    try:
        async with Operator("s3", **faulty_moto.config(root, read_timeout=30.0)) as op:
            op = op.layer(RetryLayer(min_delay=1.0), TimeoutLayer(timeout=60))
            data = [bytes([i]) * (5 * MiB) for i in range(3)]
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_cancel_when, part2.hit, scope, at)
                    await op.write("big", data, chunk=5 * MiB, concurrent=1)
            assert time.monotonic() - at[0] < BOUND
            assert scope.cancelled_caught
            assert [u async for u in op.list_multipart_uploads()] == []
            assert not await op.exists("big")
    finally:
        timer.cancel()
    assert len(proxy.recorded("DELETE")) == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_gcs_cancel_with_a_stalled_session_cancel_is_prompt(
    faulty_gcs: FaultTarget, short_abort: float, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_random_root("cancel")
    proxy = faulty_gcs.proxy
    chunk = 256 * 1024
    second = proxy.inject(StallBeforeStatus(), When(method="PUT", query={"upload_id": None}), nth=2)
    cancel = proxy.inject(StallBeforeStatus(), When(method="DELETE", query={"upload_id": None}))
    caplog.set_level(logging.WARNING, logger="pystorage")
    at: list[float] = []
    timer = _release_later(faulty_gcs, 20.0)
    try:
        async with Operator("gcs", **faulty_gcs.config(root, read_timeout=30.0)) as op:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_cancel_when, second.hit, scope, at)
                    async with op.open("big", "wb", chunk=chunk) as w:
                        for i in range(6):
                            await w.write(bytes([i]) * chunk)
            unwind = time.monotonic() - at[0]
            assert scope.cancelled_caught
            assert not await op.exists("big")
    finally:
        timer.cancel()
    assert cancel.hits == 1
    assert unwind < BOUND, f"cancelling took {unwind:.1f} s"
    assert any("'big'" in r.getMessage() and "timed out" in r.getMessage() for r in caplog.records)
