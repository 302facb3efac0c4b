"""Layers: an accessor wrapping an accessor.

A layer is configured by a public frozen ``XxxLayer`` whose :meth:`Layer.layer`
builds a private ``LayeredAccessor`` subclass overriding only what it
intercepts; every other call passes straight to ``inner``.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence

from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo
from .accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from .ops import (
    OpCopy,
    OpCreateDir,
    OpDelete,
    OpList,
    OpPresign,
    OpRead,
    OpRename,
    OpStat,
    OpWrite,
)

__all__ = ["Layer", "LayeredAccessor"]


class Layer(abc.ABC):
    """Configuration of a layer: ``op.layer(a, b)`` puts ``a`` outside ``b``."""

    @abc.abstractmethod
    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` and return the wrapping accessor."""


class LayeredAccessor(Accessor):
    """An accessor that forwards every call to ``inner``."""

    def __init__(self, inner: Accessor) -> None:
        self.inner = inner

    def info(self) -> AccessorInfo:
        return self.inner.info()

    @property
    def driver(self) -> Accessor:
        return self.inner.driver

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def stat(self, path: str, op: OpStat) -> Metadata:
        return await self.inner.stat(path, op)

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await self.inner.create_dir(path, op)

    async def read(self, path: str, op: OpRead) -> RawReader:
        return await self.inner.read(path, op)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        return await self.inner.write(path, op)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        return await self.inner.write_once(path, data, op)

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        return await self.inner.initiate_multipart(path, op)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        return await self.inner.write_part(path, upload_id, number, data, op)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        return await self.inner.complete_multipart(path, upload_id, parts, op)

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        await self.inner.abort_multipart(path, upload_id)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        return self.inner.list_parts(path, upload_id)

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        return self.inner.list_multipart_uploads(prefix)

    async def delete(self, path: str, op: OpDelete) -> None:
        await self.inner.delete(path, op)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        await self.inner.delete_batch(paths)

    def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        return self.inner.list(path, op)

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        if type(self).list is not LayeredAccessor.list:  # this layer intercepts ``list``
            return Accessor.list_pages(self, path, op)
        return self.inner.list_pages(path, op)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self.inner.copy(src, dst, op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.inner.rename(src, dst, op)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        return await self.inner.presign(path, op)
