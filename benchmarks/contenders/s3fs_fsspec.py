"""s3fs, the fsspec filesystem pandas and dask use for ``s3://`` by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender
from .aiobotocore_s3 import botocore_config_kwargs

__all__ = ["CONTENDER", "S3fsFsspec"]


class S3fsFsspec(FsspecContender):
    """``s3fs.S3FileSystem`` (synchronous mode, no listing cache, default block size and cache)."""

    name = "s3fs_fsspec"
    label = "s3fs.S3FileSystem"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The same botocore settings as the ``s3fs`` line of the s3 family."""
        import s3fs  # type: ignore[import-untyped,unused-ignore]

        self.prefix = f"{cfg['bucket']}/"
        kwargs = botocore_config_kwargs()
        kwargs.pop("retries")
        return s3fs.S3FileSystem(
            key=cfg["access_key_id"],
            secret=cfg["secret_access_key"],
            endpoint_url=cfg["endpoint"],
            client_kwargs={"region_name": cfg["region"]},
            config_kwargs=kwargs,
            skip_instance_cache=True,
            use_listings_cache=False,
        )


CONTENDER = S3fsFsspec
