"""Conditional writes, reads and stats (``if_not_exists``, ``if_match``, ``if_none_match``, dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pystorage import Operator, errors

from .helpers import need

pytestmark = pytest.mark.anyio

HOUR = dt.timedelta(hours=1)
# the conditional reads and stats run once each for ``op.read`` and ``op.stat``
read_and_stat = pytest.mark.parametrize("call", ["read", "stat"])


async def _etag(op: Operator, path: str) -> str:
    etag = (await op.stat(path)).etag
    assert etag, "a service with etag conditions must report etags"
    return etag


async def _stale_etag(op: Operator, current: bytes = b"version 2") -> str:
    """Write ``v1`` to ``file``, take its etag, overwrite with ``current``; the old etag."""
    await op.write("file", b"v1")
    stale = await _etag(op, "file")
    await op.write("file", current)
    return stale


async def _last_modified(op: Operator) -> dt.datetime:
    """Write ``abc`` to ``file``; its last-modified time."""
    await op.write("file", b"abc")
    lm = (await op.stat("file")).last_modified
    assert lm is not None
    return lm


async def _call(op: Operator, call: str, **conditions: Any) -> Any:
    """``op.read("file", ...)`` or ``op.stat("file", ...)``, as ``call`` names."""
    return await getattr(op, call)("file", **conditions)


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
    stale = await _stale_etag(op, b"version two")
    with pytest.raises(errors.ConditionNotMatch):
        await op.write("file", b"v3", if_match=stale)
    assert await op.read("file") == b"version two"


# -- reads and stats -----------------------------------------------------------------------------

@read_and_stat
async def test_if_none_match_current_raises(op: Operator, call: str) -> None:
    need(op, f"{call}_with_if_none_match")
    await op.write("file", b"abc")
    etag = await _etag(op, "file")
    with pytest.raises(errors.ConditionNotMatch):
        await _call(op, call, if_none_match=etag)


async def test_read_if_none_match_other_reads(op: Operator) -> None:
    need(op, "read_with_if_none_match")
    stale = await _stale_etag(op)
    assert await op.read("file", if_none_match=stale) == b"version 2"


@pytest.mark.parametrize(("call", "length"), [("read", None), ("stat", 9)])
async def test_if_match(op: Operator, call: str, length: int | None) -> None:
    need(op, f"{call}_with_if_match")
    stale = await _stale_etag(op)
    current = await _etag(op, "file")
    got = await _call(op, call, if_match=current)
    if length is None:
        assert got == b"version 2"
    else:
        assert got.content_length == length
    with pytest.raises(errors.ConditionNotMatch):
        await _call(op, call, if_match=stale)


@pytest.mark.parametrize(
    ("option", "passes", "fails"),
    [("if_modified_since", -HOUR, HOUR), ("if_unmodified_since", HOUR, -HOUR)],
)
async def test_read_if_modified_since(
    op: Operator, option: str, passes: dt.timedelta, fails: dt.timedelta
) -> None:
    need(op, f"read_with_{option}")
    lm = await _last_modified(op)
    assert await _call(op, "read", **{option: lm + passes}) == b"abc"
    with pytest.raises(errors.ConditionNotMatch):
        await _call(op, "read", **{option: lm + fails})


async def test_read_conditions_accept_other_timezones(op: Operator) -> None:
    need(op, "read_with_if_unmodified_since")
    lm = await _last_modified(op)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert await op.read("file", if_unmodified_since=(lm + HOUR).astimezone(tokyo)) == b"abc"


@read_and_stat
@pytest.mark.parametrize("option", ["if_modified_since", "if_unmodified_since"])
async def test_naive_datetime_raises_value_error(op: Operator, call: str, option: str) -> None:
    need(op, f"{call}_with_{option}")
    await op.write("file", b"abc")
    with pytest.raises(ValueError):
        await _call(op, call, **{option: dt.datetime(2020, 1, 1)})
