"""obstore's fsspec filesystem, ``obstore.fsspec.FsspecStore`` (Rust object_store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender
from .obstore_s3 import store_config

__all__ = ["CONTENDER", "ObstoreFsspec"]


class ObstoreFsspec(FsspecContender):
    """``FsspecStore("s3", config=..., client_options={"allow_http": True})``: paths ``bucket/key``."""

    name = "obstore_fsspec"
    label = "obstore.fsspec.FsspecStore('s3')"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The ``obstore_s3`` line's config (path-style requests), plain HTTP allowed."""
        from obstore.fsspec import FsspecStore

        self.prefix = f"{cfg['bucket']}/"
        return FsspecStore(
            "s3",
            config=store_config(cfg),
            client_options={"allow_http": True},
            skip_instance_cache=True,
        )


CONTENDER = ObstoreFsspec
