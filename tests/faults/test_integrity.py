"""Answers are checked: short, corrupt or range-ignoring answers never read as success.

Against moto, ``rclone serve s3`` and fake-gcs-server, each through the fault
proxy: a ranged answer cut short with a consistent ``Content-Length`` (and
``Content-Range``) is a temporary error that ``RetryLayer`` resumes; a
whole-object answer with one flipped byte or cut short raises
``ChecksumMismatch`` (verified against the checksum the service reports:
``x-amz-checksum-crc32c``, a single-part MD5 ETag, ``X-Goog-Hash``); a
ranged request answered ``200`` is skipped to its offset within
``max_range_skip`` and refused above it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.layers import RetryLayer
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import FaultTarget, FlipByte, IgnoreRange, Truncate, When

DATA = os.urandom(300 * 1024)
RETRY = RetryLayer(max_times=2, min_delay=0, jitter=False)


@pytest.fixture
def anyio_backend() -> str:
    """aiobotocore and gcloud-aio are asyncio-only."""
    return "asyncio"



@pytest.fixture
async def make_op(target: FaultTarget) -> AsyncIterator[Callable[..., Operator]]:
    """``make_op(**config)``: an operator through the proxy; closed afterwards."""
    root = make_random_root("integrity")
    made: list[Operator] = []

    def make(**overrides: Any) -> Operator:
        made.append(Operator(target.scheme, **target.config(root, **overrides)))
        return made[-1]

    yield make
    for op in made:
        await op.close()


def _media_get(target: FaultTarget, key: str) -> When:
    if target.scheme == "gcs":
        return When(method="GET", path=f"/{key}", query={"alt": "media"})
    return When(method="GET", path=f"/{key}")


@pytest.mark.anyio
async def test_short_ranged_answer_is_temporary_then_resumed(
    target: FaultTarget, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    await op.write("obj", DATA)
    target.proxy.inject(Truncate(keep=1000), _media_get(target, "obj"))
    with pytest.raises(errors.Unexpected) as info:
        await op.read("obj", offset=5000, size=100_000)
    assert info.value.temporary
    fault = target.proxy.inject(Truncate(keep=1000), _media_get(target, "obj"))
    assert await op.layer(RETRY).read("obj", offset=5000, size=100_000) == DATA[5000:105_000]
    assert fault.hits == 1


@pytest.mark.anyio
@pytest.mark.parametrize("action", [FlipByte(offset=12345), Truncate(keep=200_000)], ids=["flip", "short"])
async def test_corrupt_whole_download_raises_checksum_mismatch(
    target: FaultTarget, make_op: Callable[..., Operator], action: Any
) -> None:
    op = make_op()
    await op.write("obj", DATA)
    target.proxy.inject(action, _media_get(target, "obj"))
    with pytest.raises(errors.ChecksumMismatch) as info:
        await op.read("obj")
    assert info.value.temporary
    assert await op.read("obj") == DATA


@pytest.mark.anyio
async def test_corrupt_whole_stream_raises_in_the_reader(
    target: FaultTarget, make_op: Callable[..., Operator]
) -> None:
    op = make_op()
    await op.write("obj", DATA)
    target.proxy.inject(FlipByte(offset=7), _media_get(target, "obj"))
    async with op.open("obj", "rb") as reader:
        with pytest.raises(errors.ChecksumMismatch):
            while await reader.read(64 * 1024):
                pass


@pytest.mark.anyio
async def test_range_answered_whole_is_skipped_within_the_bound(
    target: FaultTarget, make_op: Callable[..., Operator]
) -> None:
    if target.name == "rclone":
        pytest.skip("rclone checks that Range was signed: the proxy cannot strip it (moto and gcs can)")
    op = make_op(max_range_skip=64 * 1024)
    await op.write("obj", DATA)
    target.proxy.inject(IgnoreRange(), _media_get(target, "obj"))
    assert await op.read("obj", offset=1000, size=500) == DATA[1000:1500]
    target.proxy.inject(IgnoreRange(), _media_get(target, "obj"))
    with pytest.raises(errors.Unexpected, match="max_range_skip"):
        await op.read("obj", offset=200 * 1024, size=500)
