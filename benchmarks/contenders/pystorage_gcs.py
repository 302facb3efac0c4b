"""pystorage's GCS service (``Operator("gcs", ...)``) against fake-gcs-server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._pystorage import PystorageContender

__all__ = ["CONTENDER", "PystorageGcs"]


class PystorageGcs(PystorageContender):
    """``Operator("gcs", bucket=, endpoint=)`` (no credentials: the emulator is anonymous)."""

    name = "pystorage_gcs"
    family = "gcs"
    label = "pystorage Operator('gcs')"

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """GCS config keys named as OpenDAL's."""
        return "gcs", {"bucket": cfg["bucket"], "endpoint": cfg["endpoint"]}


CONTENDER = PystorageGcs
