"""s3fs, the fsspec filesystem pandas and dask use for ``s3://`` by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender
from .s3fs_s3 import s3fs_options

__all__ = ["CONTENDER", "S3fsFsspec"]


class S3fsFsspec(FsspecContender):
    """``s3fs.S3FileSystem`` (synchronous mode, no listing cache, default block size and cache)."""

    name = "s3fs_fsspec"
    label = "s3fs.S3FileSystem"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The ``s3fs`` line's settings (s3 family), synchronous mode."""
        import s3fs  # type: ignore[import-untyped,unused-ignore]

        self.prefix = f"{cfg['bucket']}/"
        return s3fs.S3FileSystem(**s3fs_options(cfg))


CONTENDER = S3fsFsspec
