"""LoggingLayer: one record per operation, levels by outcome, never data."""

from __future__ import annotations

import logging

import pytest

from pystorage import errors
from pystorage.layers import LoggingLayer, RetryLayer
from pystorage.raw.accessor import Accessor, RawReader
from pystorage.raw.layer import LayeredAccessor
from pystorage.raw.ops import OpCopy, OpDelete, OpList, OpRead, OpStat, OpWrite
from pystorage.types import Metadata

PAYLOAD = b"TOP-SECRET-PAYLOAD-" * 20
LOGGER = "pystorage.test.layers"


@pytest.fixture
def caplog_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def field(record: logging.LogRecord, name: str) -> object:
    return record.__dict__[f"pystorage_{name}"]


def no_data_logged(records: list[logging.LogRecord]) -> None:
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        assert "TOP-SECRET" not in text


@pytest.mark.anyio
async def test_one_record_per_operation_with_fields(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    await acc.write_once("a/b", PAYLOAD, OpWrite())
    reader = await acc.read("a/b", OpRead())
    while await reader.read():
        pass
    await reader.aclose()
    await acc.stat("a/b", OpStat())
    await acc.copy("a/b", "a/c", OpCopy())
    await acc.delete("a/c", OpDelete())

    records = ours(caplog_debug)
    assert [field(r, "operation") for r in records] == ["write", "read", "stat", "copy", "delete"]
    assert all(r.levelno == logging.DEBUG for r in records)
    assert all(field(r, "service") == "memory" for r in records)
    assert all(field(r, "outcome") == "ok" for r in records)
    durations = [field(r, "duration") for r in records]
    assert all(isinstance(d, float) and d >= 0 for d in durations)
    assert [field(r, "path") for r in records] == ["a/b"] * 4 + ["a/c"]
    assert field(records[0], "bytes") == len(PAYLOAD)
    assert field(records[1], "bytes") == len(PAYLOAD)
    assert field(records[3], "target") == "a/c"
    assert f"memory read 'a/b': ok, {len(PAYLOAD)} bytes in " in records[1].getMessage()
    assert "'a/b' -> 'a/c'" in records[3].getMessage()
    no_data_logged(records)


@pytest.mark.anyio
async def test_not_found_and_condition_are_debug_outcomes(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    await mem.write_once("a", b"x", OpWrite())
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    with pytest.raises(errors.NotFound):
        await acc.stat("missing", OpStat())
    with pytest.raises(errors.ConditionNotMatch):
        await acc.read("a", OpRead(if_match='"stale"'))
    records = ours(caplog_debug)
    assert [(r.levelno, field(r, "outcome")) for r in records] == [
        (logging.DEBUG, "NotFound"),
        (logging.DEBUG, "ConditionNotMatch"),
    ]
    assert "object not found" in str(field(records[0], "error"))


class Failing(LayeredAccessor):
    async def stat(self, path: str, op: OpStat) -> Metadata:
        raise errors.Unexpected("server said 500", temporary=True)

    async def delete(self, path: str, op: OpDelete) -> None:
        raise KeyError("secret-token-in-a-foreign-exception")


@pytest.mark.anyio
async def test_failures_are_warnings_without_foreign_text(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    acc = LoggingLayer(logger=LOGGER).layer(Failing(mem))
    with pytest.raises(errors.Unexpected):
        await acc.stat("a", OpStat())
    with pytest.raises(KeyError):
        await acc.delete("a", OpDelete())
    records = ours(caplog_debug)
    assert [(r.levelno, field(r, "outcome")) for r in records] == [
        (logging.WARNING, "Unexpected"),
        (logging.WARNING, "KeyError"),
    ]
    assert "server said 500" in records[0].getMessage()
    assert field(records[1], "error") is None
    assert "secret-token" not in records[1].getMessage()


@pytest.mark.anyio
async def test_failures_still_logged_when_debug_is_off(
    mem: Accessor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    acc = LoggingLayer(logger=LOGGER).layer(Failing(mem))
    await mem.write_once("ok", b"1", OpWrite())
    await acc.write_once("ok2", b"1", OpWrite())  # DEBUG: filtered
    with pytest.raises(errors.Unexpected):
        await acc.stat("a", OpStat())
    assert [field(r, "outcome") for r in ours(caplog)] == ["Unexpected"]


@pytest.mark.anyio
async def test_custom_level_applies_to_successes_and_outcomes(
    mem: Accessor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    acc = LoggingLayer(logger=logging.getLogger(LOGGER), level=logging.INFO).layer(mem)
    await acc.write_once("a", b"1", OpWrite())
    with pytest.raises(errors.NotFound):
        await acc.stat("b", OpStat())
    assert [r.levelno for r in ours(caplog)] == [logging.INFO, logging.INFO]


@pytest.mark.anyio
async def test_disabled_logger_adds_no_wrappers(mem: Accessor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=LOGGER)
    await mem.write_once("a", b"1", OpWrite())
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    reader = await acc.read("a", OpRead())
    assert type(reader).__module__ == "pystorage.services.memory.backend"
    assert await reader.read() == b"1"
    with pytest.raises(errors.NotFound):
        await acc.stat("b", OpStat())
    assert ours(caplog) == []


@pytest.mark.anyio
async def test_read_stream_closed_early_is_logged_once(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    class Pieces(LayeredAccessor):
        async def read(self, path: str, op: OpRead) -> RawReader:
            inner = await self.inner.read(path, op)
            data = await inner.read()

            class Reader(RawReader):
                def __init__(self) -> None:
                    self.chunks = [data[:10], data[10:]]

                async def read(self) -> bytes:
                    return self.chunks.pop(0) if self.chunks else b""

            return Reader()

    await mem.write_once("a", PAYLOAD, OpWrite())
    acc = LoggingLayer(logger=LOGGER).layer(Pieces(mem))
    reader = await acc.read("a", OpRead())
    assert len(await reader.read()) == 10
    await reader.aclose()
    await reader.aclose()
    records = ours(caplog_debug)
    assert len(records) == 1
    assert field(records[0], "outcome") == "closed"
    assert field(records[0], "bytes") == 10
    no_data_logged(records)


@pytest.mark.anyio
async def test_streamed_write_logged_at_commit_or_abort(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    writer = await acc.write("w", OpWrite())
    await writer.write(PAYLOAD)
    await writer.write(PAYLOAD)
    await writer.close()
    writer = await acc.write("x", OpWrite())
    await writer.write(PAYLOAD)
    await writer.abort()
    records = ours(caplog_debug)
    assert [(field(r, "path"), field(r, "outcome"), field(r, "bytes")) for r in records] == [
        ("w", "ok", 2 * len(PAYLOAD)),
        ("x", "aborted", len(PAYLOAD)),
    ]
    no_data_logged(records)


@pytest.mark.anyio
async def test_listing_logged_once_with_entry_count(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    for name in ["d/a", "d/b", "d/c"]:
        await mem.write_once(name, b"1", OpWrite())
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    assert len([e async for e in acc.list("d/", OpList())]) == 3
    records = ours(caplog_debug)
    assert len(records) == 1
    assert field(records[0], "operation") == "list"
    assert field(records[0], "entries") == 3
    assert "3 entries" in records[0].getMessage()


@pytest.mark.anyio
async def test_listing_closed_early_is_logged_as_closed(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    for name in ["d/a", "d/b", "d/c"]:
        await mem.write_once(name, b"1", OpWrite())
    acc = LoggingLayer(logger=LOGGER).layer(mem)
    it = acc.list("d/", OpList())
    assert (await it.__anext__()).path == "d/a"
    await it.aclose()  # type: ignore[attr-defined]
    records = ours(caplog_debug)
    # the layer sees the listing page by page: it counts the entries of the
    # pages handed over (the memory driver answers in one page of 3)
    assert [(field(r, "outcome"), field(r, "entries")) for r in records] == [("closed", 3)]


@pytest.mark.anyio
async def test_inside_retry_every_attempt_is_logged(
    mem: Accessor, caplog_debug: pytest.LogCaptureFixture
) -> None:
    acc = RetryLayer(max_times=2, min_delay=0).layer(LoggingLayer(logger=LOGGER).layer(Failing(mem)))
    with pytest.raises(errors.Unexpected) as info:
        await acc.stat("a", OpStat())
    assert info.value.temporary is False
    records = ours(caplog_debug)
    assert len(records) == 3
    assert all(r.levelno == logging.WARNING for r in records)
