"""pystorage's S3 service on the ``aiohttp`` transport: the ``pystorage_s3`` contender, the
other HTTP client (``http_transport="aiohttp"``; the default is ``"h1"``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "PystorageS3Aiohttp"]


class PystorageS3Aiohttp(PystorageS3):
    """``Operator("s3", ..., http_transport="aiohttp")``: its own row, role ``"transport"``
    (the same pystorage code on the other transport; not a peer, not the pystorage line)."""

    name = "pystorage_s3_aiohttp"
    role = "transport"
    label = "pystorage Operator('s3') on aiohttp"

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """``pystorage_s3``'s config with ``http_transport="aiohttp"``."""
        scheme, config = super().operator_config(cfg)
        return scheme, {**config, "http_transport": "aiohttp"}


CONTENDER = PystorageS3Aiohttp
