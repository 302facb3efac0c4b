"""The raw SDK line: aiobotocore used directly, as an application would.

Client settings shared by every botocore-based contender (here and s3fs):
path-style addressing, a pool of 64 connections (the highest concurrency of
any workload; botocore's default of 10 would throttle the per-request
workloads), and checksums only when an operation requires them (botocore's
newer default of trailing CRC checksums on every PUT is what pystorage also
turns off by default, since several S3-compatibles reject it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import Contender

__all__ = ["CONTENDER", "AiobotocoreS3", "botocore_config_kwargs"]


def botocore_config_kwargs() -> dict[str, Any]:
    """The ``botocore.config.Config`` keywords used by every botocore-based contender."""
    return {
        "max_pool_connections": 64,
        "s3": {"addressing_style": "path"},
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "retries": {"max_attempts": 1, "mode": "standard"},
    }


class AiobotocoreS3(Contender):
    """``aiobotocore`` S3 client: ``get_object`` / ``put_object`` / multipart / ``list_objects_v2``.

    Multipart uploads are written the way an application using the SDK
    directly would: ``bytes`` slices of the buffer (one copy per part), at most
    ``concurrency`` parts in flight under a semaphore.
    """

    name = "aiobotocore_s3"
    family = "s3"
    role = "sdk"
    label = "aiobotocore client used directly"

    def __init__(self) -> None:
        self._ctx: Any = None
        self.client: Any = None
        self.bucket = ""

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Create and enter the client."""
        from aiobotocore.config import AioConfig  # type: ignore[import-untyped,unused-ignore]
        from aiobotocore.session import get_session  # type: ignore[import-untyped,unused-ignore]

        self.bucket = cfg["bucket"]
        self._ctx = get_session().create_client(
            "s3",
            endpoint_url=cfg["endpoint"],
            region_name=cfg["region"],
            aws_access_key_id=cfg["access_key_id"],
            aws_secret_access_key=cfg["secret_access_key"],
            config=AioConfig(**botocore_config_kwargs()),
        )
        self.client = await self._ctx.__aenter__()

    async def get(self, key: str) -> int:
        """``get_object`` then ``Body.read()``."""
        resp = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with resp["Body"] as body:
            data = await body.read()
        return len(data)

    async def get_stream(self, key: str, chunk: int) -> int:
        """``get_object`` then ``Body.iter_chunks(chunk)``."""
        resp = await self.client.get_object(Bucket=self.bucket, Key=key)
        n = 0
        async with resp["Body"] as body:
            async for piece in body.iter_chunks(chunk):
                n += len(piece)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``get_object(Range="bytes=a-b")``."""
        resp = await self.client.get_object(
            Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + size - 1}"
        )
        async with resp["Body"] as body:
            data = await body.read()
        return len(data)

    async def put(self, key: str, data: bytes) -> None:
        """``put_object``."""
        await self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def _multipart(self, key: str, parts: AsyncIterator[bytes], concurrency: int) -> None:
        upload = await self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        sem = asyncio.Semaphore(concurrency)
        done: list[dict[str, Any]] = []
        tasks: list[asyncio.Task[None]] = []

        async def send(number: int, body: bytes) -> None:
            try:
                out = await self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
                )
                done.append({"PartNumber": number, "ETag": out["ETag"]})
            finally:
                sem.release()

        try:
            number = 0
            async for body in parts:
                await sem.acquire()
                number += 1
                tasks.append(asyncio.ensure_future(send(number, body)))
            await asyncio.gather(*tasks)
            done.sort(key=lambda p: int(p["PartNumber"]))
            await self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException:
            for t in tasks:
                t.cancel()
            await self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """Multipart upload of ``bytes`` slices of ``data`` (single ``put_object`` if it fits one part)."""
        if len(data) <= chunk:
            await self.put(key, data)
            return

        async def slices() -> AsyncIterator[bytes]:
            for start in range(0, len(data), chunk):
                yield data[start : start + chunk]

        await self._multipart(key, slices(), concurrency)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """Multipart upload, gathering the pieces into ``chunk``-byte parts."""

        async def parts() -> AsyncIterator[bytes]:
            buf = bytearray()
            async for piece in source:
                buf += piece
                while len(buf) >= chunk:
                    yield bytes(buf[:chunk])
                    del buf[:chunk]
            if buf:
                yield bytes(buf)

        await self._multipart(key, parts(), concurrency)

    async def delete(self, key: str) -> None:
        """``delete_object``."""
        await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def list(self, prefix: str) -> int:
        """``list_objects_v2`` paginator with ``Delimiter="/"``."""
        n = 0
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            n += len(page.get("Contents", ()))
        return n

    async def close(self) -> None:
        """Exit the client context."""
        if self._ctx is not None:
            await self._ctx.__aexit__(None, None, None)


CONTENDER = AiobotocoreS3
