"""Layers applied through the public ``Operator.layer``."""

from __future__ import annotations

import hashlib
import logging
import os

import pytest

from pystorage import Operator, errors
from pystorage.layers import ChaosLayer, ConcurrentLimitLayer, LoggingLayer, RetryLayer, TimeoutLayer

LOGGER = "pystorage.test.operator"


@pytest.mark.anyio
async def test_chaos_under_retry_through_the_operator(anyio_backend: str) -> None:
    data = os.urandom(200_000)
    digest = hashlib.sha256(data).hexdigest()
    for seed in range(10):
        op = Operator("memory").layer(
            RetryLayer(max_times=50, min_delay=0),
            TimeoutLayer(),
            ChaosLayer(error_ratio=0.3, seed=seed),
        )
        await op.write("obj", data)
        assert hashlib.sha256(await op.read("obj")).hexdigest() == digest
        assert await op.read("obj", offset=1000, size=50_000, chunk=8192, concurrent=3) == data[1000:51_000]
        async with await op.open("obj", "rb") as reader:
            assert hashlib.sha256(await reader.read()).hexdigest() == digest
        assert [e.path async for e in op.list("/")] == ["obj"]


@pytest.mark.anyio
async def test_chaos_without_retry_surfaces_temporary_errors(anyio_backend: str) -> None:
    op = Operator("memory").layer(ChaosLayer(error_ratio=1.0))
    with pytest.raises(errors.Unexpected) as info:
        await op.stat("a")
    assert info.value.temporary is True


@pytest.mark.anyio
async def test_layer_order_a_outside_b(anyio_backend: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    outside = Operator("memory").layer(LoggingLayer(logger=LOGGER), RetryLayer(max_times=2, min_delay=0),
                                       ChaosLayer(1.0))
    inside = Operator("memory").layer(RetryLayer(max_times=2, min_delay=0), LoggingLayer(logger=LOGGER),
                                      ChaosLayer(1.0))
    for op in (outside, inside):
        with pytest.raises(errors.Unexpected):
            await op.stat("a")
    counts = [r.__dict__["pystorage_outcome"] for r in caplog.records if r.name == LOGGER]
    assert counts == ["Unexpected"] * (1 + 3)  # once outside retry, every attempt inside it


@pytest.mark.anyio
async def test_exists_logs_not_found_at_debug(anyio_backend: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    op = Operator("memory").layer(LoggingLayer(logger=LOGGER))
    assert await op.exists("missing") is False
    records = [r for r in caplog.records if r.name == LOGGER]
    assert [(r.levelno, r.__dict__["pystorage_outcome"]) for r in records] == [(logging.DEBUG, "NotFound")]


def test_concurrent_limit_through_the_blocking_operator() -> None:
    op = Operator("memory").layer(ConcurrentLimitLayer(1))
    with op.blocking() as blocking:
        blocking.write("a", b"hello")
        assert blocking.read("a") == b"hello"
    with op.blocking() as blocking:  # a new event-loop thread: a new limiter
        assert blocking.stat("a").content_length == 5
