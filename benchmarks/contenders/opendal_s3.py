"""The OpenDAL peer: ``opendal.AsyncOperator("s3", ...)`` (Rust core, Python binding)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import Contender

__all__ = ["CONTENDER", "OpendalS3"]


class OpendalS3(Contender):
    """``AsyncOperator("s3")``: ``read``, ``open(.., "rb"/"wb")``, ``write(chunk=, concurrent=)``, ``list``.

    Built with ``disable_config_load`` and ``disable_ec2_metadata`` so that it
    never looks for credentials elsewhere.
    """

    name = "opendal_s3"
    family = "s3"
    role = "peer"
    label = "opendal.AsyncOperator('s3')"

    def __init__(self) -> None:
        self.op: Any = None

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the operator (no config file or EC2 metadata lookups)."""
        import opendal

        self.op = opendal.AsyncOperator(
            "s3",
            bucket=cfg["bucket"],
            endpoint=cfg["endpoint"],
            region=cfg["region"],
            access_key_id=cfg["access_key_id"],
            secret_access_key=cfg["secret_access_key"],
            disable_config_load="true",
            disable_ec2_metadata="true",
        )

    async def get(self, key: str) -> int:
        """``await op.read(key)``."""
        return len(await self.op.read(key))

    async def get_stream(self, key: str, chunk: int) -> int:
        """``op.open(key, "rb")`` then ``read(chunk)`` until empty."""
        n = 0
        async with await self.op.open(key, "rb") as f:
            while piece := await f.read(chunk):
                n += len(piece)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``op.read(key, offset=, size=)``."""
        return len(await self.op.read(key, offset=offset, size=size))

    async def put(self, key: str, data: bytes) -> None:
        """``op.write(key, data)``."""
        await self.op.write(key, data)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``op.write(key, data, chunk=, concurrent=)``."""
        await self.op.write(key, data, chunk=chunk, concurrent=concurrency)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``op.open(key, "wb", chunk=, concurrent=)`` and ``write`` each piece."""
        async with await self.op.open(key, "wb", chunk=chunk, concurrent=concurrency) as f:
            async for piece in source:
                await f.write(piece)

    async def delete(self, key: str) -> None:
        """``op.delete(key)``."""
        await self.op.delete(key)

    async def list(self, prefix: str) -> int:
        """Count ``op.list(prefix)`` entries other than ``prefix`` itself."""
        n = 0
        async for entry in await self.op.list(prefix):
            if entry.path != prefix:
                n += 1
        return n


CONTENDER = OpendalS3
