"""The OpenDAL GCS peer: ``opendal.AsyncOperator("gcs", ...)`` on fake-gcs-server (Rust core)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from . import Contender

__all__ = ["CONTENDER", "OpendalGcs"]


class OpendalGcs(Contender):
    """``AsyncOperator("gcs")``: ``read``, ``open(.., "rb"/"wb")``, ``write(chunk=, concurrent=)``, ``list``.

    Built with ``allow_anonymous`` (the emulator takes no credentials),
    ``disable_vm_metadata`` and ``disable_config_load`` so that it never looks
    for credentials elsewhere.

    Its chunked writes (``write(chunk=)``, ``open("wb", chunk=)``) are GCS's XML
    API multipart upload (``POST /bucket/key?uploads``), which fake-gcs-server
    does not serve (it answers 400 "invalid uploadType"): those workloads are
    not run.
    """

    name = "opendal_gcs"
    family = "gcs"
    role = "peer"
    label = "opendal.AsyncOperator('gcs')"
    unsupported: ClassVar[Mapping[str, str]] = {
        kind: "opendal's chunked GCS write is the XML API multipart upload, which fake-gcs-server"
        " refuses (400 invalid uploadType)"
        for kind in ("put_buffer", "put_stream")
    }

    def __init__(self) -> None:
        self.op: Any = None

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the operator (anonymous; no config file or VM metadata lookups)."""
        import opendal

        self.op = opendal.AsyncOperator(
            "gcs",
            bucket=cfg["bucket"],
            endpoint=cfg["endpoint"],
            allow_anonymous="true",
            disable_vm_metadata="true",
            disable_config_load="true",
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


CONTENDER = OpendalGcs
