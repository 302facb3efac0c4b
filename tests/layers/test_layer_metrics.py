"""MetricsLayer: counts, bytes, errors by kind and latency per service/operation."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint

from pystorage import errors
from pystorage.layers import ChaosLayer, MetricsLayer
from pystorage.raw.accessor import Accessor
from pystorage.raw.ops import OpList, OpRead, OpStat, OpWrite
from pystorage.raw.ranged import read_all

Key = tuple[str, frozenset[tuple[str, object]]]


def metrics_layer() -> tuple[MetricsLayer, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    return MetricsLayer(meter_provider=MeterProvider(metric_readers=[reader])), reader


def points(reader: InMemoryMetricReader) -> dict[Key, object]:
    """``(metric name, attributes) -> value`` (a histogram: its data point)."""
    data = reader.get_metrics_data()
    out: dict[Key, object] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name == "pystorage"
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, frozenset(dict(point.attributes or {}).items()))
                    out[key] = point.value if isinstance(point, NumberDataPoint) else point
    return out


def attrs(operation: str, **extra: str) -> frozenset[tuple[str, object]]:
    base: Mapping[str, str] = {"pystorage.service": "memory", "pystorage.operation": operation, **extra}
    return frozenset(base.items())


@pytest.mark.anyio
async def test_counts_bytes_and_latency(mem: Accessor) -> None:
    layer, reader = metrics_layer()
    acc = layer.layer(mem)
    await acc.write_once("a", b"x" * 1000, OpWrite())
    await acc.write_once("b", b"y" * 24, OpWrite())
    assert await read_all(await acc.read("a", OpRead(offset=10))) == b"x" * 990
    await acc.stat("a", OpStat())
    assert len([e async for e in acc.list("/", OpList())]) == 2

    got = points(reader)
    ok = {"pystorage.outcome": "ok"}
    assert got[("pystorage.operations", attrs("write", **ok))] == 2
    assert got[("pystorage.operations", attrs("read", **ok))] == 1
    assert got[("pystorage.operations", attrs("stat", **ok))] == 1
    assert got[("pystorage.operations", attrs("list", **ok))] == 1
    assert got[("pystorage.bytes", attrs("write"))] == 1024
    assert got[("pystorage.bytes", attrs("read"))] == 990
    assert not [k for k in got if k[0] == "pystorage.bytes" and dict(k[1])["pystorage.operation"] == "stat"]
    latency = got[("pystorage.operation.duration", attrs("write", **ok))]
    assert isinstance(latency, HistogramDataPoint)
    assert latency.count == 2 and latency.sum >= 0
    assert not [k for k in got if k[0] == "pystorage.errors"]
    assert all("pystorage.path" not in dict(k[1]) for k in got)  # no high-cardinality attribute


@pytest.mark.anyio
async def test_errors_by_kind(mem: Accessor) -> None:
    layer, reader = metrics_layer()
    acc = layer.layer(mem)
    for _ in range(2):
        with pytest.raises(errors.NotFound):
            await acc.stat("missing", OpStat())
    failing = layer.layer(ChaosLayer(error_ratio=1.0, seed=3).layer(mem))
    with pytest.raises(errors.Unexpected):
        await failing.read("missing", OpRead())

    got = points(reader)
    assert got[("pystorage.errors", attrs("stat", **{"error.type": "NotFound"}))] == 2
    assert got[("pystorage.errors", attrs("read", **{"error.type": "Unexpected"}))] == 1
    assert got[("pystorage.operations", attrs("stat", **{"pystorage.outcome": "NotFound"}))] == 2


@pytest.mark.anyio
async def test_a_stream_closed_early_is_not_an_error(mem: Accessor) -> None:
    await mem.write_once("a", b"z" * 10, OpWrite())
    layer, reader = metrics_layer()
    acc = layer.layer(mem)
    stream = await acc.read("a", OpRead())
    await stream.aclose()
    got = points(reader)
    assert got[("pystorage.operations", attrs("read", **{"pystorage.outcome": "closed"}))] == 1
    assert not [k for k in got if k[0] == "pystorage.errors"]
