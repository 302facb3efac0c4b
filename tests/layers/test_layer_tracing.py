"""TracingLayer: one span per operation, semantic attributes, never data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from pystorage import errors
from pystorage.layers import ChaosLayer, TracingLayer
from pystorage.raw.accessor import Accessor
from pystorage.raw.layer import Call, LayeredAccessor
from pystorage.raw.ops import OpCopy, OpDelete, Operation, OpList, OpRead, OpStat, OpWrite
from pystorage.raw.ranged import read_all

T = TypeVar("T")

PAYLOAD = b"TOP-SECRET-" * 100


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def tracing(exporter: InMemorySpanExporter, **options: object) -> TracingLayer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracingLayer(tracer_provider=provider, **options)  # type: ignore[arg-type]


def no_data(spans: tuple[ReadableSpan, ...]) -> None:
    for span in spans:
        assert "TOP-SECRET" not in repr(dict(span.attributes or {})) + span.name


@pytest.mark.anyio
async def test_one_span_per_operation_with_attributes(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    acc = tracing(exporter).layer(mem)
    await acc.write_once("a/b", PAYLOAD, OpWrite())
    assert await read_all(await acc.read("a/b", OpRead())) == PAYLOAD
    await acc.stat("a/b", OpStat())
    await acc.copy("a/b", "a/c", OpCopy())
    await acc.delete("a/c", OpDelete())

    spans = exporter.get_finished_spans()
    names = ["memory write", "memory read", "memory stat", "memory copy", "memory delete"]
    assert [s.name for s in spans] == names
    assert all(s.kind is SpanKind.CLIENT for s in spans)
    attrs = [dict(s.attributes or {}) for s in spans]
    assert all(a["pystorage.service"] == "memory" and a["pystorage.outcome"] == "ok" for a in attrs)
    assert [a["pystorage.operation"] for a in attrs] == ["write", "read", "stat", "copy", "delete"]
    assert [a["pystorage.path"] for a in attrs] == ["a/b"] * 4 + ["a/c"]
    assert attrs[0]["pystorage.bytes"] == len(PAYLOAD)
    assert attrs[1]["pystorage.bytes"] == len(PAYLOAD)
    assert attrs[3]["pystorage.target"] == "a/c"
    assert "pystorage.bytes" not in attrs[2]
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    no_data(spans)


@pytest.mark.anyio
async def test_read_span_covers_the_stream(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    await mem.write_once("f", PAYLOAD, OpWrite())
    acc = tracing(exporter).layer(mem)
    reader = await acc.read("f", OpRead(offset=100))
    assert exporter.get_finished_spans() == ()  # open until the stream is over
    assert await reader.read() == PAYLOAD[100:]
    assert await reader.read() == b""
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes["pystorage.bytes"] == len(PAYLOAD) - 100


@pytest.mark.anyio
async def test_streamed_write_and_abort(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    acc = tracing(exporter).layer(mem)
    writer = await acc.write("w", OpWrite())
    await writer.write(b"abc")
    await writer.write(b"de")
    await writer.close()
    writer = await acc.write("x", OpWrite())
    await writer.write(b"zz")
    await writer.abort()
    spans = exporter.get_finished_spans()
    assert [(s.name, (s.attributes or {})["pystorage.bytes"], (s.attributes or {})["pystorage.outcome"])
            for s in spans] == [("memory write", 5, "ok"), ("memory write", 2, "aborted")]


@pytest.mark.anyio
async def test_listing_span_counts_entries(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    for name in ["d/a", "d/b", "d/c"]:
        await mem.write_once(name, b"1", OpWrite())
    acc = tracing(exporter).layer(mem)
    assert [e.path async for e in acc.list("d/", OpList())] == ["d/a", "d/b", "d/c"]
    (span,) = exporter.get_finished_spans()
    assert span.name == "memory list"
    assert span.attributes is not None
    assert span.attributes["pystorage.entries"] == 3
    assert span.attributes["pystorage.outcome"] == "ok"


@pytest.mark.anyio
async def test_not_found_is_an_outcome_not_an_error(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    acc = tracing(exporter).layer(mem)
    with pytest.raises(errors.NotFound):
        await acc.stat("missing", OpStat())
    with pytest.raises(errors.NotFound):
        await acc.read("missing", OpRead())
    spans = exporter.get_finished_spans()
    assert [(s.attributes or {})["pystorage.outcome"] for s in spans] == ["NotFound", "NotFound"]
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    assert all("error.type" not in (s.attributes or {}) for s in spans)


@pytest.mark.anyio
async def test_failure_sets_error_status_and_type(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    acc = tracing(exporter).layer(ChaosLayer(error_ratio=1.0, seed=1).layer(mem))
    with pytest.raises(errors.Unexpected):
        await acc.stat("a", OpStat())
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is not None and "chaos: injected failure" in span.status.description
    assert span.attributes is not None and span.attributes["error.type"] == "Unexpected"


@pytest.mark.anyio
async def test_paths_can_be_left_out(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    acc = tracing(exporter, paths=False).layer(mem)
    await acc.write_once("secret-name", b"x", OpWrite())
    await acc.copy("secret-name", "other-secret", OpCopy())
    for span in exporter.get_finished_spans():
        assert "secret" not in repr(dict(span.attributes or {}))


def test_config_is_checked() -> None:
    with pytest.raises(errors.ConfigInvalid):
        TracingLayer(paths="yes")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_spans_made_below_are_children(mem: Accessor, exporter: InMemorySpanExporter) -> None:
    layer = tracing(exporter)
    assert layer.tracer_provider is not None
    tracer = layer.tracer_provider.get_tracer("below")

    class Below(LayeredAccessor):  # stands for an instrumented HTTP client
        async def _call(self, op: Operation, path: str, fn: Call[T]) -> T:
            with tracer.start_as_current_span("http request"):
                return await fn()

    await layer.layer(Below(mem)).write_once("a", b"x", OpWrite())
    inner, outer = exporter.get_finished_spans()
    assert (inner.name, outer.name) == ("http request", "memory write")
    assert inner.parent is not None and outer.context is not None
    assert inner.parent.span_id == outer.context.span_id
