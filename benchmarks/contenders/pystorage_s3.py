"""pystorage's S3 service (``Operator("s3", ...)``) against the local S3 server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._pystorage import PystorageContender

__all__ = ["CONTENDER", "PystorageS3"]


class PystorageS3(PystorageContender):
    """``Operator("s3", bucket=, region=, endpoint=, access_key_id=, secret_access_key=)``."""

    name = "pystorage_s3"
    family = "s3"
    label = "pystorage Operator('s3')"

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """S3 config keys named as OpenDAL's."""
        return "s3", {
            "bucket": cfg["bucket"],
            "region": cfg["region"],
            "endpoint": cfg["endpoint"],
            "access_key_id": cfg["access_key_id"],
            "secret_access_key": cfg["secret_access_key"],
        }


CONTENDER = PystorageS3
