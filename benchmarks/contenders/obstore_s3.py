"""The obstore peer: ``obstore.store.S3Store`` with the ``*_async`` functions (Rust object_store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from . import Contender

__all__ = ["CONTENDER", "ObstoreS3", "store_config"]


def store_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """obstore's S3 config reaching the local server (path-style, signed)."""
    return {
        "endpoint": cfg["endpoint"],
        "region": cfg["region"],
        "access_key_id": cfg["access_key_id"],
        "secret_access_key": cfg["secret_access_key"],
        "virtual_hosted_style_request": False,
        "skip_signature": False,
    }


class ObstoreS3(Contender):
    """``S3Store``: ``get_async``, ``put_async``, ``delete_async``, ``list_with_delimiter_async``.

    ``get`` keeps obstore's zero-copy ``Bytes`` (buffer protocol), as an
    obstore user would, instead of copying it into ``bytes``.
    """

    name = "obstore_s3"
    family = "s3"
    role = "peer"
    label = "obstore S3Store (async functions)"
    unsupported: ClassVar[Mapping[str, str]] = {
        "get_range": "rclone serve s3 answers ranged GETs with 200 (not 206), which obstore rejects "
        "('Received non-partial response when range requested')",
    }

    def __init__(self) -> None:
        self.store: Any = None
        self.obs: Any = None

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the store (path-style, plain HTTP allowed)."""
        import obstore
        from obstore.store import S3Store

        self.obs = obstore
        self.store = S3Store(
            cfg["bucket"],
            config=store_config(cfg),
            client_options={"allow_http": True},
        )

    async def get(self, key: str) -> int:
        """``(await get_async(store, key)).bytes_async()``."""
        result = await self.obs.get_async(self.store, key)
        data = await result.bytes_async()
        return len(data)

    async def get_stream(self, key: str, chunk: int) -> int:
        """``get_async(store, key).stream(min_chunk_size=chunk)``."""
        result = await self.obs.get_async(self.store, key)
        n = 0
        async for piece in result.stream(min_chunk_size=chunk):
            n += len(piece)
        return n

    async def put(self, key: str, data: bytes) -> None:
        """``put_async(store, key, data)``."""
        await self.obs.put_async(self.store, key, data)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``put_async(store, key, data, chunk_size=, max_concurrency=)`` (multipart when above one part)."""
        await self.obs.put_async(
            self.store,
            key,
            data,
            use_multipart=len(data) > chunk,
            chunk_size=chunk,
            max_concurrency=concurrency,
        )

    async def put_stream(
        self, key: str, source: AsyncIterator[bytes], size: int, chunk: int, concurrency: int
    ) -> None:
        """``put_async(store, key, <async iterator>, chunk_size=, max_concurrency=)``."""
        await self.obs.put_async(self.store, key, source, chunk_size=chunk, max_concurrency=concurrency)

    async def delete(self, key: str) -> None:
        """``delete_async(store, key)``."""
        await self.obs.delete_async(self.store, key)

    async def list(self, prefix: str) -> int:
        """``list_with_delimiter_async(store, prefix)`` (fetches every page)."""
        result = await self.obs.list_with_delimiter_async(self.store, prefix)
        return len(result["objects"])


CONTENDER = ObstoreS3
