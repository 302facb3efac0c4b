"""Copies above the CopyObject limit go through UploadPartCopy (threshold
lowered so the test stays small)."""

from __future__ import annotations

import hashlib
import os

import pytest

from pystorage import Operator, errors
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


async def test_large_copy_in_parts_keeps_bytes_and_metadata(moto_s3: S3Server, root: str) -> None:
    config = moto_s3.config(root, copy_multipart_threshold=6 * MiB, copy_part_size=5 * MiB)
    op = Operator("s3", **config)
    data = os.urandom(13 * MiB + 7)
    await op.write("src.bin", data, content_type="application/x-test", user_metadata={"k": "v"})
    await op.copy("src.bin", "dst.bin")
    copied = await op.read("dst.bin")
    assert hashlib.sha256(copied).digest() == hashlib.sha256(data).digest()
    meta = await op.stat("dst.bin")
    assert meta.content_type == "application/x-test"
    assert meta.user_metadata == {"k": "v"}
    assert [u async for u in op.list_multipart_uploads("")] == []
    # a small object still takes the CopyObject path
    await op.write("small", b"tiny")
    await op.copy("small", "small2")
    assert await op.read("small2") == b"tiny"
    await op.close()


async def test_large_copy_of_missing_source(moto_s3: S3Server, root: str) -> None:
    op = Operator("s3", **moto_s3.config(root, copy_multipart_threshold=6 * MiB, copy_part_size=5 * MiB))
    with pytest.raises(errors.NotFound):
        await op.copy("missing", "dst")
    assert [u async for u in op.list_multipart_uploads("")] == []
    await op.close()
