"""pystorage's fsspec adapter: ``PyStorageFileSystem`` over an s3 ``Operator``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fsspec import FsspecContender
from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "PystorageFsspec"]


class PystorageFsspec(FsspecContender):
    """``PyStorageFileSystem(Operator("s3", ...).layer(RetryLayer()))``: paths relative to the bucket.

    With a ``RetryLayer``, as the adapter's guide advises: s3fs and obstore retry by
    default, and ``rclone serve s3`` answers some concurrent PUTs into a new
    directory with ``500``.
    """

    name = "pystorage_fsspec"
    role = "pystorage"
    label = "pystorage.fsspec.PyStorageFileSystem (Operator('s3') + RetryLayer)"

    def filesystem(self, cfg: Mapping[str, Any]) -> Any:
        """The adapter over the same operator config as the ``pystorage_s3`` line."""
        from pystorage import Operator
        from pystorage.fsspec import PyStorageFileSystem
        from pystorage.layers import RetryLayer

        scheme, config = PystorageS3().operator_config(cfg)
        operator = Operator(scheme, **config).layer(RetryLayer())
        return PyStorageFileSystem(operator, skip_instance_cache=True)

    async def close(self) -> None:
        """Close the operator's clients on fsspec's loop."""
        if self.fs is not None:
            import fsspec.asyn

            await self._run(lambda: fsspec.asyn.sync(self.fs.loop, self.fs.operator.close))


CONTENDER = PystorageFsspec
