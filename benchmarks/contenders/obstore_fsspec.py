"""obstore's fsspec filesystem, ``obstore.fsspec.FsspecStore`` (Rust object_store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender

__all__ = ["CONTENDER", "ObstoreFsspec"]


class ObstoreFsspec(FsspecContender):
    """``FsspecStore("s3", config=..., client_options={"allow_http": True})``: paths ``bucket/key``."""

    name = "obstore_fsspec"
    label = "obstore.fsspec.FsspecStore('s3')"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """Path-style requests, plain HTTP allowed (as the ``obstore_s3`` line)."""
        from obstore.fsspec import FsspecStore

        self.prefix = f"{cfg['bucket']}/"
        return FsspecStore(
            "s3",
            config={
                "endpoint": cfg["endpoint"],
                "region": cfg["region"],
                "access_key_id": cfg["access_key_id"],
                "secret_access_key": cfg["secret_access_key"],
                "virtual_hosted_style_request": False,
            },
            client_options={"allow_http": True},
            skip_instance_cache=True,
        )


CONTENDER = ObstoreFsspec
