"""Every layer keeps a reader's ``read_rest`` fast path (the fs driver's one
``pread`` for the whole rest of a range), and the retry layer resumes it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pystorage import errors, layers
from pystorage.raw.accessor import Accessor, RawReader
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.raw.ops import OpRead, OpWrite
from pystorage.raw.ranged import read_all
from pystorage.services import fs

DATA = bytes(range(256)) * 4096  # 1 MiB

LAYERS: list[Layer] = [
    layers.RetryLayer(max_times=1, min_delay=0),
    layers.TimeoutLayer(),
    layers.LoggingLayer(logger="pystorage.test.fast-path", level=logging.INFO),
    layers.ConcurrentLimitLayer(4),
    layers.ChaosLayer(error_ratio=0.0),
    layers.TracingLayer(),
    layers.MetricsLayer(),
]


@pytest.fixture
def disk(tmp_path: Path) -> Accessor:
    return fs.build({"root": str(tmp_path)})


@pytest.mark.anyio
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
async def test_each_layer_keeps_read_rest(disk: Accessor, layer: Layer) -> None:
    await disk.write_once("big", DATA, OpWrite())
    plain = await disk.read("big", OpRead())
    assert plain.read_rest is not None  # the driver has the fast path ...
    await plain.aclose()
    reader = await layer.layer(disk).read("big", OpRead(offset=1))
    assert reader.read_rest is not None  # ... and the layer keeps it
    assert reader.size == len(DATA) - 1
    assert await read_all(reader) == DATA[1:]


@pytest.mark.anyio
async def test_all_layers_stacked_keep_read_rest(disk: Accessor) -> None:
    await disk.write_once("big", DATA, OpWrite())
    acc = disk
    for layer in reversed(LAYERS):
        acc = layer.layer(acc)
    reader = await acc.read("big", OpRead())
    assert reader.read_rest is not None
    assert await reader.read_rest() == DATA
    assert await reader.read_rest() == b""
    await reader.aclose()


class _RestReader(RawReader):
    """Serves ``data`` through ``read_rest``; the first of them all fails
    after the stream opened (a connection reset while reading)."""

    def __init__(self, data: bytes, fail: bool) -> None:
        self._data = data
        self._fail = fail
        self.size = len(data)
        self.read_rest = self._rest
        self.rest_calls = 0

    async def read(self) -> bytes:
        data, self._data = self._data, b""
        return data

    async def _rest(self) -> bytes:
        self.rest_calls += 1
        if self._fail:
            self._fail = False
            raise errors.Unexpected("connection reset", temporary=True)
        return await self.read()


class _BreaksOnce(LayeredAccessor):
    def __init__(self, inner: Accessor) -> None:
        super().__init__(inner)
        self.opened: list[tuple[OpRead, _RestReader]] = []

    async def read(self, path: str, op: OpRead) -> RawReader:
        data = await read_all(await self.inner.read(path, op))
        reader = _RestReader(data, fail=not self.opened)
        self.opened.append((op, reader))
        return reader


@pytest.mark.anyio
async def test_retry_resumes_a_failed_read_rest(disk: Accessor) -> None:
    await disk.write_once("big", DATA, OpWrite())
    flaky = _BreaksOnce(disk)
    reader = await layers.RetryLayer(max_times=2, min_delay=0).layer(flaky).read("big", OpRead(offset=5))
    assert reader.read_rest is not None
    assert await read_all(reader) == DATA[5:]
    assert [op.offset for op, _ in flaky.opened] == [5, 5]  # reopened where nothing had been delivered
    assert [r.rest_calls for _, r in flaky.opened] == [1, 2]  # the fast path on the reopened stream too
