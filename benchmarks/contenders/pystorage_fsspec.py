"""pystorage's fsspec adapter: ``PyStorageFileSystem`` over an s3 ``Operator``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender
from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "PystorageFsspec"]


class PystorageFsspec(FsspecContender):
    """``PyStorageFileSystem(Operator("s3", ...))``: paths relative to the bucket."""

    name = "pystorage_fsspec"
    role = "pystorage"
    label = "pystorage.fsspec.PyStorageFileSystem (Operator('s3'))"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The adapter over the same operator config as the ``pystorage_s3`` line."""
        from pystorage import Operator
        from pystorage.fsspec import PyStorageFileSystem

        scheme, config = PystorageS3().operator_config(cfg)
        return PyStorageFileSystem(Operator(scheme, **config), skip_instance_cache=True)

    async def close(self) -> None:
        """Close the operator's clients on fsspec's loop."""
        if self.fs is not None:
            import fsspec.asyn

            await self._run(lambda: fsspec.asyn.sync(self.fs.loop, self.fs.operator.close))


CONTENDER = PystorageFsspec
