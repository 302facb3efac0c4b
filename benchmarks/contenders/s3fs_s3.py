"""The s3fs peer (fsspec), in its asynchronous mode (``asynchronous=True``, the ``_``-methods)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import Contender
from .aiobotocore_s3 import botocore_config_kwargs

__all__ = ["CONTENDER", "S3fsS3", "s3fs_options"]


def s3fs_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """``S3FileSystem`` arguments reaching the local server: the raw SDK line's botocore
    settings (s3fs retries by itself), no instance or listing cache."""
    kwargs = botocore_config_kwargs()
    kwargs.pop("retries")
    return {
        "key": cfg["access_key_id"],
        "secret": cfg["secret_access_key"],
        "endpoint_url": cfg["endpoint"],
        "client_kwargs": {"region_name": cfg["region"]},
        "config_kwargs": kwargs,
        "skip_instance_cache": True,
        "use_listings_cache": False,
    }


class S3fsS3(Contender):
    """``s3fs.S3FileSystem(asynchronous=True)``: ``_cat_file``, ``_pipe_file``, ``_rm_file``, ``_ls``.

    Listing uses ``refresh=True`` so that the directory cache never answers.
    The botocore client gets the same settings as the raw SDK line.
    """

    name = "s3fs"
    family = "s3"
    role = "peer"
    label = "s3fs (fsspec) async API"
    unsupported: ClassVar[Mapping[str, str]] = {
        "put_stream": "s3fs has no asynchronous streamed writer (its files are sync)"
    }

    def __init__(self) -> None:
        self.fs: Any = None
        self.bucket = ""

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Create the filesystem and its session."""
        import s3fs  # type: ignore[import-untyped,unused-ignore]

        self.bucket = cfg["bucket"]
        self.fs = s3fs.S3FileSystem(**s3fs_options(cfg), asynchronous=True)
        await self.fs.set_session()

    def _path(self, key: str) -> str:
        return f"{self.bucket}/{key}"

    async def get(self, key: str) -> int:
        """``_cat_file(path)``."""
        return len(await self.fs._cat_file(self._path(key)))

    async def get_stream(self, key: str, chunk: int) -> int:
        """``open_async(path, "rb")`` then ``read(chunk)`` until empty."""
        f = await self.fs.open_async(self._path(key), "rb")
        n = 0
        try:
            while piece := await f.read(chunk):
                n += len(piece)
        finally:
            await f.close()
        return n

    async def get_range(self, key: str, offset: int, size: int) -> int:
        """``_cat_file(path, start=, end=)``."""
        return len(await self.fs._cat_file(self._path(key), start=offset, end=offset + size))

    async def put(self, key: str, data: bytes) -> None:
        """``_pipe_file(path, data)``."""
        await self.fs._pipe_file(self._path(key), data)

    async def put_buffer(self, key: str, data: bytes, chunk: int, concurrency: int) -> None:
        """``_pipe_file(path, data, chunksize=chunk, max_concurrency=concurrency)``."""
        await self.fs._pipe_file(self._path(key), data, chunksize=chunk, max_concurrency=concurrency)

    async def delete(self, key: str) -> None:
        """``_rm_file(path)``."""
        await self.fs._rm_file(self._path(key))

    async def list(self, prefix: str) -> int:
        """``_ls(path, detail=False, refresh=True)``."""
        return len(await self.fs._ls(self._path(prefix.rstrip("/")), detail=False, refresh=True))

    async def close(self) -> None:
        """Close the session's client."""
        if self.fs is not None and getattr(self.fs, "_s3", None) is not None:
            await self.fs._s3.close()


CONTENDER = S3fsS3
