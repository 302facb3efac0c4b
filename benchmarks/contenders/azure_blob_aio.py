"""The raw SDK baseline of the azblob family: ``azure.storage.blob.aio.ContainerClient``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import Contender

__all__ = ["CONTENDER", "AzureBlobAio"]


class AzureBlobAio(Contender):
    """The official async client (aiohttp transport), SDK retries off (``retry_total=0``).

    ``put_buffer`` / ``put_stream`` use ``upload_blob`` with the client's
    ``max_block_size`` and ``max_single_put_size`` set to the workload's chunk and
    ``max_concurrency`` to its concurrency, so both sides upload the same blocks.
    """

    name = "azure_blob_aio"
    family = "azblob"
    role = "sdk"
    label = "azure-storage-blob aio ContainerClient"

    def __init__(self) -> None:
        self.container: Any = None

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the container client from a connection string."""
        from azure.storage.blob.aio import ContainerClient

        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={cfg['account_name']};"
            f"AccountKey={cfg['account_key']};BlobEndpoint={cfg['endpoint']};"
        )
        self.container = ContainerClient.from_connection_string(
            connection, cfg["container"], retry_total=0, connection_data_block_size=1 << 20
        )

    async def get(self, key: str) -> int:
        """``(await download_blob(key)).readall()``."""
        stream = await self.container.download_blob(key)
        return len(await stream.readall())

    async def get_stream(self, key: str, chunk: int) -> int:
        """``download_blob(key).chunks()``."""
        stream = await self.container.download_blob(key)
        n = 0
        async for piece in stream.chunks():
            n += len(piece)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``download_blob(key, offset=, length=).readall()``."""
        stream = await self.container.download_blob(key, offset=offset, length=size)
        return len(await stream.readall())

    async def put(self, key: str, data: bytes) -> None:
        """``upload_blob(key, data, overwrite=True)`` (one Put Blob)."""
        await self.container.upload_blob(key, data, overwrite=True)

    def _blocks_of(self, chunk: int) -> None:
        # block sizes are client settings in this SDK, not upload_blob arguments
        self.container._config.max_block_size = chunk
        self.container._config.max_single_put_size = chunk

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``upload_blob`` in ``chunk``-byte blocks, ``concurrency`` at a time."""
        self._blocks_of(chunk)
        await self.container.upload_blob(key, data, overwrite=True, max_concurrency=concurrency)

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``upload_blob`` of the async iterator (``length=size``), in ``chunk``-byte blocks."""
        self._blocks_of(chunk)
        await self.container.upload_blob(
            key, source, length=size, overwrite=True, max_concurrency=concurrency
        )

    async def delete(self, key: str) -> None:
        """``delete_blob(key)``."""
        await self.container.delete_blob(key)

    async def list(self, prefix: str) -> int:
        """Count ``walk_blobs(name_starts_with=prefix, delimiter="/")``."""
        n = 0
        async for _ in self.container.walk_blobs(name_starts_with=prefix, delimiter="/"):
            n += 1
        return n

    async def close(self) -> None:
        """Close the client."""
        if self.container is not None:
            await self.container.close()


CONTENDER = AzureBlobAio
