"""The raw GCS SDK line: gcloud-aio-storage's ``Storage`` used directly (anonymous, emulator endpoint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import Contender

__all__ = ["CONTENDER", "GcloudAioGcs"]

_TIMEOUT = 600


class GcloudAioGcs(Contender):
    """``Storage(api_root=endpoint)`` over an ``aiohttp`` session with up to 64 connections.

    ``put_buffer`` is ``upload(bucket, key, data)``: the SDK picks a resumable
    upload for large bodies and has no part size or concurrency to set.
    """

    name = "gcloud_aio_gcs"
    family = "gcs"
    role = "sdk"
    label = "gcloud-aio-storage used directly"
    unsupported: ClassVar[Mapping[str, str]] = {
        "put_stream": "gcloud-aio-storage uploads only bytes or a sync file object"
    }

    def __init__(self) -> None:
        self.storage: Any = None
        self.session: Any = None
        self.bucket = ""

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Open the aiohttp session and the ``Storage`` client."""
        import aiohttp
        from gcloud.aio.storage import Storage

        self.bucket = cfg["bucket"]
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        self.storage = Storage(api_root=cfg["endpoint"], session=self.session)

    async def get(self, key: str) -> int:
        """``download(bucket, key)``."""
        return len(await self.storage.download(self.bucket, key, timeout=_TIMEOUT))

    async def get_stream(self, key: str, chunk: int) -> int:
        """``download_stream(bucket, key)`` then ``read(chunk)`` until empty."""
        stream = await self.storage.download_stream(self.bucket, key, timeout=_TIMEOUT)
        n = 0
        while piece := await stream.read(chunk):
            n += len(piece)
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``download(bucket, key, headers={"Range": ...})``."""
        data = await self.storage.download(
            self.bucket, key, headers={"Range": f"bytes={offset}-{offset + size - 1}"}, timeout=_TIMEOUT
        )
        return len(data)

    async def put(self, key: str, data: bytes) -> None:
        """``upload(bucket, key, data)``."""
        await self.storage.upload(self.bucket, key, data, timeout=_TIMEOUT)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``upload(bucket, key, data)`` (chunk and concurrency do not apply)."""
        await self.storage.upload(self.bucket, key, data, timeout=_TIMEOUT)

    async def delete(self, key: str) -> None:
        """``delete(bucket, key)``."""
        await self.storage.delete(self.bucket, key, timeout=_TIMEOUT)

    async def list(self, prefix: str) -> int:
        """``list_objects`` pages with ``delimiter="/"``."""
        n = 0
        params = {"prefix": prefix, "delimiter": "/", "maxResults": "1000"}
        while True:
            page = await self.storage.list_objects(self.bucket, params=params, timeout=_TIMEOUT)
            n += len(page.get("items", ()))
            token = page.get("nextPageToken")
            if not token:
                return n
            params["pageToken"] = token

    async def close(self) -> None:
        """Close the client and the session."""
        if self.storage is not None:
            await self.storage.close()
        if self.session is not None:
            await self.session.close()


CONTENDER = GcloudAioGcs
