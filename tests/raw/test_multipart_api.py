"""The explicit multipart API of the Operator, over a fake service."""

from __future__ import annotations

import datetime as dt

import pytest

from pystorage import Operator, errors

from .fakes import FakeMultipart

pytestmark = pytest.mark.anyio


async def test_resume_after_restart_and_complete_in_order() -> None:
    fake = FakeMultipart(min_part=10)
    op = Operator.from_accessor(fake)
    up = await op.create_multipart("k")
    p2 = await up.write_part(2, b"b" * 10)
    saved = up.upload_id
    # "crash": a new operator object resumes from the saved id
    again = Operator.from_accessor(fake).resume_multipart("k", saved)
    held = [p async for p in again.list_parts()]
    assert [p.number for p in held] == [2]
    p1 = await again.write_part(1, b"a" * 10)
    p3 = await again.write_part(3, b"c" * 3)
    meta = await again.complete([p3, p2, p1])
    assert fake.objects["k"] == b"a" * 10 + b"b" * 10 + b"c" * 3
    assert meta.content_length == 23


async def test_limits_checked_before_any_request() -> None:
    fake = FakeMultipart(min_part=10)
    op = Operator.from_accessor(fake)
    up = await op.create_multipart("k")
    calls = len(fake.calls)
    with pytest.raises(errors.ConfigInvalid, match="write_multi_max_parts"):
        await up.write_part(101, b"x")
    with pytest.raises(errors.ConfigInvalid, match="write_multi_max_size"):
        await up.write_part(1, b"x" * ((1 << 20) + 1))
    small = await up.write_part(1, b"x" * 5)
    last = await up.write_part(2, b"y" * 5)
    with pytest.raises(errors.ConfigInvalid, match="write_multi_min_size"):
        await up.complete([small, last])
    assert [c for c in fake.calls[calls:] if c[0] != "part"] == []


async def test_abort_stale_uploads() -> None:
    fake = FakeMultipart()
    op = Operator.from_accessor(fake)
    for _ in range(3):
        await op.create_multipart("k")
    assert await op.abort_multipart_uploads("", older_than=dt.timedelta(days=1)) == 0
    assert await op.abort_multipart_uploads("", older_than=0) == 3
    assert [u async for u in op.list_multipart_uploads()] == []


async def test_unsupported_on_memory() -> None:
    op = Operator("memory")
    with pytest.raises(errors.Unsupported):
        await op.create_multipart("k")
