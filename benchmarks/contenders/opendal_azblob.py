"""The OpenDAL peer of the azblob family: ``opendal.AsyncOperator("azblob", ...)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .opendal_s3 import OpendalS3

__all__ = ["CONTENDER", "OpendalAzblob"]


class OpendalAzblob(OpendalS3):
    """``AsyncOperator("azblob")`` with the same calls as :class:`OpendalS3`."""

    name = "opendal_azblob"
    family = "azblob"
    role = "peer"
    label = "opendal.AsyncOperator('azblob')"

    async def setup(self, cfg: Mapping[str, Any]) -> None:
        """Build the operator with the account key (no environment lookups)."""
        import opendal

        self.op = opendal.AsyncOperator(
            "azblob",
            container=cfg["container"],
            endpoint=cfg["endpoint"],
            account_name=cfg["account_name"],
            account_key=cfg["account_key"],
        )


CONTENDER = OpendalAzblob
