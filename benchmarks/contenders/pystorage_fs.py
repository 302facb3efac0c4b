"""pystorage's fs service (``Operator("fs", root=...)``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._pystorage import PystorageContender

__all__ = ["CONTENDER", "PystorageFs"]


class PystorageFs(PystorageContender):
    """``Operator("fs", root=<the benchmark directory>)``."""

    name = "pystorage_fs"
    family = "fs"
    label = "pystorage Operator('fs')"

    def operator_config(self, cfg: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Only ``root``."""
        return "fs", {"root": cfg["root"]}


CONTENDER = PystorageFs
