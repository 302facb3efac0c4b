"""pystorage's azblob service (``Operator("azblob", ...)``) against Azurite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._pystorage import PystorageContender

__all__ = ["CONTENDER", "PystorageAzblob"]


class PystorageAzblob(PystorageContender):
    """``Operator("azblob", container=, endpoint=, account_name=, account_key=)``."""

    name = "pystorage_azblob"
    family = "azblob"
    label = "pystorage Operator('azblob')"

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """azblob config keys named as OpenDAL's."""
        return "azblob", {
            "container": cfg["container"],
            "endpoint": cfg["endpoint"],
            "account_name": cfg["account_name"],
            "account_key": cfg["account_key"],
        }


CONTENDER = PystorageAzblob
