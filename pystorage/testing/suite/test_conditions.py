"""Conditional writes, reads and stats (``if_not_exists``, ``if_match``, ``if_none_match``, dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from pystorage import Operator, errors

from .helpers import need

pytestmark = pytest.mark.anyio

HOUR = dt.timedelta(hours=1)


async def _etag(op: Operator, path: str) -> str:
    etag = (await op.stat(path)).etag
    assert etag, "a service with etag conditions must report etags"
    return etag


# -- writes -------------------------------------------------------------------------------------

async def test_if_not_exists_on_missing_writes(op: Operator) -> None:
    need(op, "write_with_if_not_exists")
    await op.write("file", b"first", if_not_exists=True)
    assert await op.read("file") == b"first"


async def test_if_not_exists_on_existing_raises(op: Operator) -> None:
    need(op, "write_with_if_not_exists")
    await op.write("file", b"old")
    with pytest.raises(errors.ConditionNotMatch) as info:
        await op.write("file", b"new", if_not_exists=True)
    assert info.value.kind is errors.ErrorKind.CONDITION_NOT_MATCH
    assert await op.read("file") == b"old"


async def test_if_not_exists_streamed_on_existing_raises(op: Operator) -> None:
    need(op, "write_with_if_not_exists")
    await op.write("file", b"old")
    with pytest.raises(errors.ConditionNotMatch):
        async with op.open("file", "wb", if_not_exists=True) as writer:
            await writer.write(b"new")
    assert await op.read("file") == b"old"


async def test_if_none_match_star_on_existing_raises(op: Operator) -> None:
    need(op, "write_with_if_none_match")
    await op.write("file", b"old")
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("file", b"new", if_none_match="*")
    assert await op.read("file") == b"old"


async def test_if_none_match_star_on_missing_writes(op: Operator) -> None:
    need(op, "write_with_if_none_match")
    await op.write("file", b"new", if_none_match="*")
    assert await op.read("file") == b"new"


async def test_if_match_current_etag_writes(op: Operator) -> None:
    need(op, "write_with_if_match")
    written = await op.write("file", b"v1")
    etag = written.etag or await _etag(op, "file")
    await op.write("file", b"version 2", if_match=etag)
    assert await op.read("file") == b"version 2"


async def test_if_match_stale_etag_raises(op: Operator) -> None:
    need(op, "write_with_if_match")
    await op.write("file", b"v1")
    stale = await _etag(op, "file")
    await op.write("file", b"version two")
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("file", b"v3", if_match=stale)
    assert await op.read("file") == b"version two"


# -- reads --------------------------------------------------------------------------------------

async def test_read_if_none_match_current_raises(op: Operator) -> None:
    need(op, "read_with_if_none_match")
    await op.write("file", b"abc")
    etag = await _etag(op, "file")
    with pytest.raises(errors.ConditionNotMatch):
        await op.read("file", if_none_match=etag)


async def test_read_if_none_match_other_reads(op: Operator) -> None:
    need(op, "read_with_if_none_match")
    await op.write("file", b"v1")
    stale = await _etag(op, "file")
    await op.write("file", b"version 2")
    assert await op.read("file", if_none_match=stale) == b"version 2"


async def test_read_if_match(op: Operator) -> None:
    need(op, "read_with_if_match")
    await op.write("file", b"v1")
    stale = await _etag(op, "file")
    await op.write("file", b"version 2")
    current = await _etag(op, "file")
    assert await op.read("file", if_match=current) == b"version 2"
    with pytest.raises(errors.ConditionNotMatch):
        await op.read("file", if_match=stale)


async def test_read_if_modified_since(op: Operator) -> None:
    need(op, "read_with_if_modified_since")
    await op.write("file", b"abc")
    lm = (await op.stat("file")).last_modified
    assert lm is not None
    assert await op.read("file", if_modified_since=lm - HOUR) == b"abc"
    with pytest.raises(errors.ConditionNotMatch):
        await op.read("file", if_modified_since=lm + HOUR)


async def test_read_if_unmodified_since(op: Operator) -> None:
    need(op, "read_with_if_unmodified_since")
    await op.write("file", b"abc")
    lm = (await op.stat("file")).last_modified
    assert lm is not None
    assert await op.read("file", if_unmodified_since=lm + HOUR) == b"abc"
    with pytest.raises(errors.ConditionNotMatch):
        await op.read("file", if_unmodified_since=lm - HOUR)


async def test_read_conditions_accept_other_timezones(op: Operator) -> None:
    need(op, "read_with_if_unmodified_since")
    await op.write("file", b"abc")
    lm = (await op.stat("file")).last_modified
    assert lm is not None
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert await op.read("file", if_unmodified_since=(lm + HOUR).astimezone(tokyo)) == b"abc"


@pytest.mark.parametrize("option", ["if_modified_since", "if_unmodified_since"])
async def test_read_naive_datetime_raises_value_error(op: Operator, option: str) -> None:
    need(op, f"read_with_{option}")
    await op.write("file", b"abc")
    with pytest.raises(ValueError):
        await op.read("file", **{option: dt.datetime(2020, 1, 1)})  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["if_modified_since", "if_unmodified_since"])
async def test_stat_naive_datetime_raises_value_error(op: Operator, option: str) -> None:
    need(op, f"stat_with_{option}")
    await op.write("file", b"abc")
    with pytest.raises(ValueError):
        await op.stat("file", **{option: dt.datetime(2020, 1, 1)})  # type: ignore[arg-type]


# -- stats --------------------------------------------------------------------------------------

async def test_stat_if_match(op: Operator) -> None:
    need(op, "stat_with_if_match")
    await op.write("file", b"v1")
    stale = await _etag(op, "file")
    await op.write("file", b"version 2")
    current = await _etag(op, "file")
    assert (await op.stat("file", if_match=current)).content_length == 9
    with pytest.raises(errors.ConditionNotMatch):
        await op.stat("file", if_match=stale)


async def test_stat_if_none_match(op: Operator) -> None:
    need(op, "stat_with_if_none_match")
    await op.write("file", b"abc")
    etag = await _etag(op, "file")
    with pytest.raises(errors.ConditionNotMatch):
        await op.stat("file", if_none_match=etag)
