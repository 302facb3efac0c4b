"""Explicit, resumable multipart uploads (gated on ``multipart``) and their converse."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest

from pystorage import Operator, Part, errors

from .helpers import MiB, need, payload

pytestmark = pytest.mark.anyio


def _part_size(op: Operator) -> int:
    return max(op.capability().write_multi_min_size or 0, MiB)


async def test_multipart_round_trip(op: Operator) -> None:
    need(op, "multipart")
    size = _part_size(op)
    one, two, three = payload(size, seed=71), payload(size, seed=72), b"tail"
    up = await op.create_multipart("big")
    assert up.path == "big" and up.upload_id
    parts: list[Part] = []
    slots: dict[int, Part] = {}

    async def put(i: int, data: bytes) -> None:
        slots[i] = await up.write_part(i + 1, data)

    async with anyio.create_task_group() as tg:  # any order, concurrently
        tg.start_soon(put, 2, three)
        tg.start_soon(put, 0, one)
        tg.start_soon(put, 1, two)
    parts = [slots[i] for i in range(3)]
    assert [p.number for p in parts] == [1, 2, 3]
    assert [p.size for p in parts] == [size, size, 4]
    assert not await op.exists("big")
    meta = await up.complete(parts)
    assert meta.content_length == 2 * size + 4
    assert await op.read("big") == one + two + three


async def test_multipart_abort(op: Operator) -> None:
    need(op, "multipart")
    up = await op.create_multipart("big")
    await up.write_part(1, payload(_part_size(op)))
    await up.abort()
    assert not await op.exists("big")
    assert [u async for u in op.list_multipart_uploads("big")] == []


async def test_multipart_resume(op: Operator) -> None:
    need(op, "multipart")
    size = _part_size(op)
    first = payload(size, seed=73)
    up = await op.create_multipart("big")
    part1 = await up.write_part(1, first)
    uploads = [u async for u in op.list_multipart_uploads("big")]
    assert [u.upload_id for u in uploads] == [up.upload_id]
    assert uploads[0].path == "big"
    if uploads[0].initiated is not None:
        assert uploads[0].initiated.utcoffset() == dt.timedelta(0)
    resumed = op.resume_multipart("big", up.upload_id)
    held = [p async for p in resumed.list_parts()]
    assert [(p.number, p.size) for p in held] == [(1, size)]
    part2 = await resumed.write_part(2, b"end")
    await resumed.complete([part1, part2])
    assert await op.read("big") == first + b"end"


async def test_abort_multipart_uploads(op: Operator) -> None:
    need(op, "multipart")
    for name in ("stale/a", "stale/b"):
        up = await op.create_multipart(name)
        await up.write_part(1, b"x" * 10)
    n = await op.abort_multipart_uploads("stale/", older_than=dt.timedelta(0))
    assert n == 2
    assert [u async for u in op.list_multipart_uploads("stale/")] == []


async def test_multipart_part_number_limit_checked(op: Operator) -> None:
    need(op, "multipart")
    max_parts = op.capability().write_multi_max_parts
    if not max_parts:
        pytest.skip("no write_multi_max_parts")
    up = await op.create_multipart("big")
    try:
        with pytest.raises(errors.ConfigInvalid):
            await up.write_part(max_parts + 1, b"x")
    finally:
        await up.abort()
    assert not await op.exists("big")


async def test_multipart_unsupported(op: Operator) -> None:
    if op.capability().multipart:
        pytest.skip("has multipart")
    with pytest.raises(errors.Unsupported):
        await op.create_multipart("big")
    with pytest.raises(errors.Unsupported):
        [u async for u in op.list_multipart_uploads("")]
    with pytest.raises(errors.Unsupported):
        await op.abort_multipart_uploads("", older_than=dt.timedelta(days=1))
    assert not await op.exists("big")
