"""What the servers do differently, measured, so the rclone capability override
(``RCLONE_CAPABILITY_OVERRIDE``) stays honest: each capability it switches off
is shown here to be ignored by rclone while moto honours it. If rclone starts
honouring one, its test fails and the override can shrink."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from pystorage import Operator, errors, sse
from pystorage.raw.ops import OpList, OpRead, OpStat, OpWrite
from pystorage.services.s3 import S3Accessor
from pystorage.types import EntryMode
from tests.fixtures.s3 import RCLONE_CAPABILITY_OVERRIDE, S3Server

Build = Callable[[dict[str, Any]], S3Accessor]

HOUR = dt.timedelta(hours=1)


def _raw(server: S3Server, root: str, build: Build) -> S3Accessor:
    """An accessor without the override, to probe what the server really does."""
    config = server.config(root)
    config.pop("capability_override", None)
    return build(config)


async def _honours(kind: str, accessor: S3Accessor) -> bool:
    meta = await accessor.write_once("f", b"data", OpWrite())
    now = dt.datetime.now(dt.timezone.utc)
    try:
        if kind == "if_match":
            await accessor.read("f", OpRead(if_match='"stale"'))
        elif kind == "stat_if_match":
            await accessor.stat("f", OpStat(if_match='"stale"'))
        elif kind == "if_modified_since":
            await accessor.read("f", OpRead(if_modified_since=now + HOUR))
        elif kind == "if_unmodified_since":
            await accessor.read("f", OpRead(if_unmodified_since=now - HOUR))
        elif kind == "if_none_match":
            await accessor.read("f", OpRead(if_none_match=meta.etag))
        elif kind == "if_not_exists":
            await accessor.write_once("f", b"other", OpWrite(if_not_exists=True))
        elif kind == "write_if_match":
            await accessor.write_once("f", b"other", OpWrite(if_match='"stale"'))
        else:
            raise AssertionError(kind)
    except errors.ConditionNotMatch:
        return True
    return False


@pytest.mark.anyio
@pytest.mark.parametrize(
    "kind",
    ["if_match", "stat_if_match", "if_modified_since", "if_unmodified_since", "if_none_match",
     "if_not_exists", "write_if_match"],
)
async def test_conditions(kind: str, moto_s3: S3Server, rclone_s3: S3Server, root: str, build: Build) -> None:
    assert await _honours(kind, _raw(moto_s3, root, build))
    # rclone v1.75 honours only If-None-Match on GET/HEAD
    assert await _honours(kind, _raw(rclone_s3, root, build)) is (kind == "if_none_match")


@pytest.mark.anyio
async def test_rclone_stores_a_dir_marker_as_a_file(rclone_s3: S3Server, root: str, build: Build) -> None:
    """PUT ``d/`` (zero bytes) creates a file ``d`` on rclone: hence create_dir=false."""
    accessor = _raw(rclone_s3, root, build)
    await accessor.write_once("d/", b"", OpWrite())
    meta = await accessor.stat("d", OpStat())
    assert meta.is_file and meta.content_length == 0
    entries = [(e.path, e.metadata.mode) async for e in accessor.list("/", OpList())]
    assert entries == [("d", EntryMode.FILE)]


def test_override_matches_the_capability(rclone_s3: S3Server) -> None:
    cap = Operator("s3", **rclone_s3.config("/")).capability()
    for name in RCLONE_CAPABILITY_OVERRIDE.split(","):
        assert getattr(cap, name.split("=")[0]) is False
    assert cap.read_with_if_none_match and cap.stat_with_if_none_match
    assert cap.multipart and cap.presign and cap.copy


@pytest.mark.anyio
async def test_rclone_does_not_enforce_sse_c(rclone_s3: S3Server, root: str, build: Build) -> None:
    """An SSE-C object reads back without its key on rclone: hence write_with_sse_*=false."""
    accessor = _raw(rclone_s3, root, build)
    key = sse.CustomerKey(b"k" * 32)
    await accessor.write_once("enc", b"secret-bytes", OpWrite(sse=key))
    reader = await accessor.read("enc", OpRead())  # no key at all
    data = b""
    while piece := await reader.read():
        data += piece
    await reader.aclose()
    assert data == b"secret-bytes"
