"""Copies above the CopyObject limit go through UploadPartCopy (threshold
lowered so the test stays small)."""

from __future__ import annotations

import hashlib
import os

import pytest

from pystorage import Operator, errors
from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

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


async def test_large_copy_is_pinned_to_the_source_seen_first(moto_s3: S3Server, root: str) -> None:
    from pystorage.raw.ops import OpCopy, OpStat
    from pystorage.services.s3 import S3Accessor
    from pystorage.services.s3.copier import copy_in_parts

    config = moto_s3.config(root, copy_multipart_threshold=6 * MiB, copy_part_size=5 * MiB)
    op = Operator("s3", **config)
    accessor = op.accessor
    while not isinstance(accessor, S3Accessor):  # below the layers the config adds
        accessor = accessor.inner  # type: ignore[attr-defined]
    await op.write("src.bin", os.urandom(11 * MiB))
    seen = await accessor.stat("src.bin", OpStat())
    await op.write("src.bin", os.urandom(11 * MiB))  # replaced after the copy looked at it
    with pytest.raises(errors.ConditionNotMatch):
        await copy_in_parts(accessor, accessor.core, "src.bin", "dst.bin", seen, OpCopy())
    # moto ignores the header, the check before Complete catches it; the header is sent all the same
    assert not await op.exists("dst.bin")
    assert [u async for u in op.list_multipart_uploads("")] == []
    await op.close()


async def test_every_part_copy_names_the_source_etag(s3_proxy: tuple[S3Proxy, S3Server], root: str) -> None:
    proxy, server = s3_proxy
    op = Operator("s3", **server.config(root, copy_multipart_threshold=6 * MiB, copy_part_size=5 * MiB))
    await op.write("src.bin", os.urandom(11 * MiB))
    etag = (await op.stat("src.bin")).etag
    await op.copy("src.bin", "dst.bin")
    copies = [r for r in proxy.recorded("PUT") if "x-amz-copy-source-range" in r.headers]
    assert len(copies) == 3
    assert all(r.headers["x-amz-copy-source-if-match"] == etag for r in copies)
    await op.close()
