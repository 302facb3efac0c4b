"""Layers through the public API: ``op.layer(...)`` returns a new Operator; layered operators behave."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pystorage import Operator, errors, sse
from pystorage.layers import (
    ChaosLayer,
    ConcurrentLimitLayer,
    LoggingLayer,
    MetricsLayer,
    RetryLayer,
    TimeoutLayer,
    TracingLayer,
)

from .helpers import KiB, payload

pytestmark = pytest.mark.anyio

LOGGER = "pystorage.behavior-test"


async def test_layer_returns_new_operator(op: Operator, caplog: pytest.LogCaptureFixture) -> None:
    layered = op.layer(LoggingLayer(logger=LOGGER, level=logging.DEBUG))
    assert isinstance(layered, Operator)
    assert layered is not op
    assert layered.capability() == op.capability()
    assert layered.info.scheme == op.info.scheme
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    await op.write("plain", b"x")
    assert not [r for r in caplog.records if r.name == LOGGER], "the original operator must stay unlayered"
    await layered.write("logged", b"y")
    assert [r for r in caplog.records if r.name == LOGGER]


async def test_layered_shares_storage(op: Operator) -> None:
    layered = op.layer(RetryLayer(max_times=1, min_delay=0.0, max_delay=0.0, jitter=False))
    await layered.write("file", b"via layer")
    assert await op.read("file") == b"via layer"
    await op.write("other", b"direct")
    assert await layered.read("other") == b"direct"


async def test_logging_layer_never_logs_data(op: Operator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layered = op.layer(LoggingLayer(logger=LOGGER, level=logging.DEBUG))
    secret = b"TOP-SECRET-PAYLOAD-42"
    await layered.write("file", secret)
    assert await layered.read("file") == secret
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "TOP-SECRET-PAYLOAD-42" not in text
    assert "file" in text


async def test_logging_layer_not_found_is_debug(op: Operator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layered = op.layer(LoggingLayer(logger=LOGGER, level=logging.DEBUG))
    with pytest.raises(errors.NotFound):
        await layered.read("missing")
    records = [r for r in caplog.records if r.name == LOGGER and "missing" in r.getMessage()]
    assert records
    assert all(r.levelno == logging.DEBUG for r in records)


async def test_timeout_and_concurrent_limit_round_trip(op: Operator) -> None:
    layered = op.layer(TimeoutLayer(timeout=30.0, io_timeout=10.0), ConcurrentLimitLayer(2))
    data = payload(700 * KiB, seed=61)
    await layered.write("file", data)
    assert await layered.read("file", chunk=64 * KiB, concurrent=8) == data


async def test_retry_over_chaos_reads_exact_bytes(op: Operator) -> None:
    data = payload(600 * KiB, seed=62)
    await op.write("file", data)
    layered = op.layer(
        RetryLayer(max_times=50, min_delay=0.0, max_delay=0.0, jitter=False),
        ChaosLayer(error_ratio=0.3, seed=7),
    )
    assert await layered.read("file") == data
    assert await layered.read("file", chunk=64 * KiB, concurrent=4) == data
    async with layered.open("file", "rb", chunk=64 * KiB) as reader:
        await reader.seek(100_000)
        assert await reader.read(200_000) == data[100_000:300_000]


async def test_chaos_without_retry_raises_temporary(op: Operator) -> None:
    await op.write("file", b"x")
    layered = op.layer(ChaosLayer(error_ratio=1.0, seed=1))
    with pytest.raises(errors.Error) as info:
        await layered.read("file")
    assert info.value.temporary is True


@pytest.mark.parametrize(
    ("capability", "spec"),
    [
        ("write_with_sse_s3", sse.S3Managed()),
        ("write_with_sse_kms", sse.Kms()),
        ("write_with_sse_c", sse.CustomerKey(b"k" * 32)),
    ],
    ids=["sse-s3", "sse-kms", "sse-c"],
)
async def test_sse_unsupported_writes_nothing(op: Operator, capability: str, spec: object) -> None:
    if getattr(op.capability(), capability):
        pytest.skip(f"has {capability}")
    from pystorage.layers import ServerSideEncryptionLayer  # its own helper may still be writing it

    layered = op.layer(ServerSideEncryptionLayer(spec))  # type: ignore[arg-type]
    with pytest.raises(errors.Unsupported):
        await layered.write("file", b"plaintext")
    with pytest.raises(errors.Unsupported):
        async with layered.open("file2", "wb") as writer:
            await writer.write(b"plaintext")
    assert not await op.exists("file")
    assert not await op.exists("file2")


async def test_tracing_and_metrics_layers_observe_every_operation(op: Operator) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    metric_reader = InMemoryMetricReader()
    layered = op.layer(
        TracingLayer(tracer_provider=tracer_provider),
        MetricsLayer(meter_provider=MeterProvider(metric_readers=[metric_reader])),
    )
    data = payload(300 * KiB, seed=63)
    await layered.write("dir/file", data)
    assert await layered.read("dir/file") == data
    assert [e.path async for e in layered.list("dir/")] == ["dir/file"]
    assert (await layered.stat("dir/file")).content_length == len(data)
    await layered.delete("dir/file")
    assert not await layered.exists("dir/file")

    scheme = op.info.scheme
    spans = exporter.get_finished_spans()
    assert spans
    assert all(s.name.startswith(f"{scheme} ") for s in spans)
    attributes = [dict(s.attributes or {}) for s in spans]
    assert all(a["pystorage.service"] == scheme for a in attributes)
    operations = {a["pystorage.operation"] for a in attributes}
    assert {"read", "list", "stat", "delete"} <= operations
    assert operations & {"write", "write_part"}
    reads = [a for a in attributes if a["pystorage.operation"] == "read"]
    assert sum(int(str(a["pystorage.bytes"])) for a in reads) >= len(data)
    assert all(repr(data[:16]) not in repr(a) for a in attributes)  # never data

    data_points = metric_reader.get_metrics_data()
    assert data_points is not None
    totals: dict[tuple[str, str], int] = {}
    for resource in data_points.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, NumberDataPoint):
                        key = (metric.name, str((point.attributes or {})["pystorage.operation"]))
                        totals[key] = totals.get(key, 0) + int(point.value)
    assert totals[("pystorage.bytes", "read")] >= len(data)
    written = sum(v for (name, what), v in totals.items() if name == "pystorage.bytes" and what != "read")
    assert written >= len(data)
    assert totals[("pystorage.operations", "stat")] >= 1
