"""Server-side encryption for every request that needs it.

Example::

    from pystorage import Operator, sse
    from pystorage.layers import ServerSideEncryptionLayer

    op = Operator("s3", bucket="b").layer(ServerSideEncryptionLayer(sse.CustomerKey(key)))

The spec is attached to every write (one-shot, every multipart step), read,
stat, copy (both sides) and presign that passes through the layer. When the
service below cannot honour it, every one of those calls raises
:class:`~pystorage.errors.Unsupported` before any request: pystorage never
writes plaintext when encryption was asked for.

Ordering: put it anywhere; it only decorates the options. Keys never appear
in ``repr``, logs or errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from ..errors import ConfigInvalid, Unsupported
from ..raw.accessor import Accessor, AccessorInfo, Buffer, RawReader, RawWriter
from ..raw.layer import Layer, LayeredAccessor
from ..raw.ops import OpCopy, Operation, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..sse import CustomerKey, Kms, S3Managed, SseSpec
from ..types import Metadata, Part, PresignedRequest

__all__ = ["ServerSideEncryptionLayer"]

OpT = TypeVar("OpT", OpRead, OpStat, OpWrite, OpCopy, OpRename, OpPresign)

_FLAG = {S3Managed: "write_with_sse_s3", Kms: "write_with_sse_kms", CustomerKey: "write_with_sse_c"}


@dataclasses.dataclass(frozen=True)
class ServerSideEncryptionLayer(Layer):
    """Encrypt every object with ``spec`` (see the module docs).

    Args:
        spec: ``sse.S3Managed()``, ``sse.Kms(...)`` or ``sse.CustomerKey(key)``.
    """

    spec: SseSpec

    def __post_init__(self) -> None:
        if not isinstance(self.spec, (S3Managed, Kms, CustomerKey)):
            raise ConfigInvalid(
                f"ServerSideEncryptionLayer.spec must be an sse spec, not {type(self.spec).__name__}"
            )

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` so every request carries the spec."""
        return _SseAccessor(inner, self.spec)


class _SseAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, spec: SseSpec) -> None:
        super().__init__(inner)
        self._spec = spec
        self._flag = _FLAG[type(spec)]

    def __repr__(self) -> str:
        return f"<ServerSideEncryptionLayer {type(self._spec).__name__} over {self.inner!r}>"

    def info(self) -> AccessorInfo:
        return self.inner.info()

    def _with(self, op: OpT, operation: Operation, path: str) -> OpT:
        info = self.inner.info()
        if not getattr(info.capability, self._flag):
            raise Unsupported(
                f"service {info.scheme!r} cannot honour {type(self._spec).__name__} encryption "
                f"({self._flag} is not supported); refusing to send data unencrypted",
                operation=str(operation), path=path, service=info.scheme,
            )
        return dataclasses.replace(op, sse=self._spec)

    async def stat(self, path: str, op: OpStat) -> Metadata:
        return await self.inner.stat(path, self._with(op, Operation.STAT, path))

    async def read(self, path: str, op: OpRead) -> RawReader:
        return await self.inner.read(path, self._with(op, Operation.READ, path))

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        return await self.inner.write(path, self._with(op, Operation.WRITE, path))

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        return await self.inner.write_once(path, data, self._with(op, Operation.WRITE_ONCE, path))

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        return await self.inner.initiate_multipart(path, self._with(op, Operation.INITIATE_MULTIPART, path))

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        op = self._with(op, Operation.WRITE_PART, path)
        return await self.inner.write_part(path, upload_id, number, data, op)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        return await self.inner.complete_multipart(
            path, upload_id, parts, self._with(op, Operation.COMPLETE_MULTIPART, path)
        )

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self.inner.copy(src, dst, self._with(op, Operation.COPY, src))

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.inner.rename(src, dst, self._with(op, Operation.RENAME, src))

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        return await self.inner.presign(path, self._with(op, Operation.PRESIGN, path))


