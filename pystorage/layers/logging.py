"""One stdlib log record per operation.

:class:`LoggingLayer` logs what each call did, how long it took and how it
ended::

    import logging
    logging.basicConfig(level=logging.DEBUG)
    op = Operator("memory").layer(LoggingLayer())
    await op.write("a.txt", b"hello")
    # DEBUG:pystorage:memory write 'a.txt': ok, 5 bytes in 0.000s

Each record carries its fields in ``extra`` too, for structured handlers:
``pystorage_service``, ``pystorage_operation``, ``pystorage_path``,
``pystorage_target`` (destination of ``copy``/``rename``), ``pystorage_bytes``,
``pystorage_entries`` (items listed, or paths of a ``delete_many``),
``pystorage_duration`` (seconds), ``pystorage_outcome`` (``"ok"``, an
:class:`~pystorage.errors.ErrorKind` value such as ``"NotFound"``,
``"closed"``, ``"aborted"``, ``"cancelled"``, or the class name of a foreign
exception) and ``pystorage_error`` (``str()`` of a pystorage error, else ``None``).

* Successes are logged at ``level``. So are ``NotFound`` and
  ``ConditionNotMatch``: they are outcomes (``exists()`` and conditional
  requests expect them), not failures. Every other failure is logged at
  ``WARNING``.
* A read stream is logged once, when it ends, fails or is closed, with the
  bytes delivered and the time since it was opened; a streamed write when it
  is committed, fails or is aborted, with the bytes written; a listing when it
  ends, fails or is closed, with the number of entries. A stream abandoned
  without being closed is not logged.
* Data is never logged, nor anything but ``str()`` of a pystorage error
  (which carries no secret); a foreign exception is logged by class name only.
  Presigned URLs are not logged.
* When the logger is disabled for both ``level`` and ``WARNING`` the layer
  costs one ``isEnabledFor`` check per call and wraps no stream.

Ordering caveat: outside :class:`~pystorage.layers.RetryLayer` this layer
logs each operation once with its final outcome; inside it, every attempt.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from ..errors import ConditionNotMatch, ConfigInvalid, Error, NotFound
from ..raw.accessor import Accessor, Buffer, RawReader, RawWriter
from ..raw.layer import Layer, LayeredAccessor
from ..raw.ops import OpCopy, OpCreateDir, OpDelete, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..raw.tasks import aclose_iterator
from ..types import Entry, Metadata, Part, PresignedRequest, UploadInfo

__all__ = ["LoggingLayer"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class LoggingLayer(Layer):
    """Log one record per operation with the stdlib :mod:`logging` module.

    Args:
        logger: a logger name or a :class:`logging.Logger` (default ``"pystorage"``).
        level: level of successes and of ``NotFound`` / ``ConditionNotMatch``
            outcomes (default ``logging.DEBUG``); other failures use ``WARNING``.

    Raises:
        errors.ConfigInvalid: ``logger`` is not a name or logger, or ``level``
            is not a positive int (the message names the field).
    """

    logger: str | logging.Logger = "pystorage"
    level: int = logging.DEBUG

    def __post_init__(self) -> None:
        if not isinstance(self.logger, (str, logging.Logger)):
            raise ConfigInvalid(
                f"LoggingLayer: logger must be a name or a logging.Logger, got {self.logger!r}"
            )
        if not isinstance(self.level, int) or isinstance(self.level, bool) or self.level <= 0:
            raise ConfigInvalid(f"LoggingLayer: level must be a logging level > 0, got {self.level!r}")

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` in a logging accessor."""
        return _LoggingAccessor(inner, self)


def _outcome(exc: BaseException | None, level: int) -> tuple[str, int, str | None]:
    """``(outcome, log level, error text)`` of how a call ended."""
    if exc is None:
        return "ok", level, None
    if isinstance(exc, (NotFound, ConditionNotMatch)):
        return exc.kind.value, level, str(exc)
    if isinstance(exc, Error):
        return exc.kind.value, logging.WARNING, str(exc)
    if isinstance(exc, Exception):
        return type(exc).__name__, logging.WARNING, None
    if isinstance(exc, GeneratorExit):
        return "closed", level, None
    return "cancelled", level, None


class _LoggingAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: LoggingLayer) -> None:
        super().__init__(inner)
        logger = config.logger
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
        self.level = config.level
        # enabled for ``level`` or for WARNING  <=>  enabled for the higher of the two
        self._any_level = max(config.level, logging.WARNING)

    def enabled(self) -> bool:
        """Whether any record of this layer could be emitted."""
        return self.logger.isEnabledFor(self._any_level)

    def emit(
        self,
        operation: str,
        path: str,
        started: float,
        exc: BaseException | None,
        *,
        nbytes: int | None = None,
        entries: int | None = None,
        target: str | None = None,
        outcome: str | None = None,
    ) -> None:
        """Log how ``operation`` on ``path`` ended (``exc=None``: success)."""
        duration = time.perf_counter() - started
        kind, level, error = _outcome(exc, self.level)
        outcome = outcome or kind
        if not self.logger.isEnabledFor(level):
            return
        service = self.inner.info().scheme
        where = repr(path) if target is None else f"{path!r} -> {target!r}"
        counts = ""
        if nbytes is not None:
            counts += f", {nbytes} bytes"
        if entries is not None:
            counts += f", {entries} entries"
        self.logger.log(
            level,
            "%s %s %s: %s%s in %.3fs%s",
            service, operation, where, outcome, counts, duration, f": {error}" if error else "",
            extra={
                "pystorage_service": service,
                "pystorage_operation": operation,
                "pystorage_path": path,
                "pystorage_target": target,
                "pystorage_bytes": nbytes,
                "pystorage_entries": entries,
                "pystorage_duration": duration,
                "pystorage_outcome": outcome,
                "pystorage_error": error,
            },
        )

    async def logged(
        self,
        operation: str,
        path: str,
        func: Callable[[], Awaitable[T]],
        *,
        nbytes: int | None = None,
        entries: int | None = None,
        target: str | None = None,
    ) -> T:
        """Await ``func()`` and log its outcome."""
        if not self.enabled():
            return await func()
        started = time.perf_counter()
        try:
            result = await func()
        except BaseException as exc:
            self.emit(operation, path, started, exc, nbytes=nbytes, entries=entries, target=target)
            raise
        self.emit(operation, path, started, None, nbytes=nbytes, entries=entries, target=target)
        return result

    # one-shot calls ----------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        return await self.logged("stat", path, lambda: self.inner.stat(path, op))

    async def create_dir(self, path: str, op: OpCreateDir) -> None:
        await self.logged("create_dir", path, lambda: self.inner.create_dir(path, op))

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        return await self.logged(
            "write", path, lambda: self.inner.write_once(path, data, op), nbytes=len(data)
        )

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        return await self.logged("create_multipart", path, lambda: self.inner.initiate_multipart(path, op))

    async def write_part(
        self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite
    ) -> Part:
        return await self.logged(
            "write_part", path, lambda: self.inner.write_part(path, upload_id, number, data, op),
            nbytes=len(data),
        )

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        return await self.logged(
            "complete_multipart", path, lambda: self.inner.complete_multipart(path, upload_id, parts, op),
            nbytes=sum(p.size for p in parts),
        )

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        await self.logged("abort_multipart", path, lambda: self.inner.abort_multipart(path, upload_id))

    async def delete(self, path: str, op: OpDelete) -> None:
        await self.logged("delete", path, lambda: self.inner.delete(path, op))

    async def delete_batch(self, paths: Sequence[str]) -> None:
        await self.logged("delete_many", "", lambda: self.inner.delete_batch(paths), entries=len(paths))

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        await self.logged("copy", src, lambda: self.inner.copy(src, dst, op), target=dst)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        await self.logged("rename", src, lambda: self.inner.rename(src, dst, op), target=dst)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        return await self.logged("presign", path, lambda: self.inner.presign(path, op))

    # streams -----------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        if not self.enabled():
            return await self.inner.read(path, op)
        started = time.perf_counter()
        try:
            reader = await self.inner.read(path, op)
        except BaseException as exc:
            self.emit("read", path, started, exc, nbytes=0)
            raise
        return _LoggingReader(self, path, started, reader)

    async def write(self, path: str, op: OpWrite) -> RawWriter:
        if not self.enabled():
            return await self.inner.write(path, op)
        started = time.perf_counter()
        try:
            writer = await self.inner.write(path, op)
        except BaseException as exc:
            self.emit("write", path, started, exc, nbytes=0)
            raise
        return _LoggingWriter(self, path, started, writer)

    def list(self, path: str, op: OpList) -> AsyncIterator[Entry]:
        it = self.inner.list(path, op)
        return self._counted("list", path, it) if self.enabled() else it

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        it = self.inner.list_parts(path, upload_id)
        return self._counted("list_parts", path, it) if self.enabled() else it

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        it = self.inner.list_multipart_uploads(prefix)
        return self._counted("list_multipart_uploads", prefix, it) if self.enabled() else it

    async def _counted(self, operation: str, path: str, it: AsyncIterator[T]) -> AsyncIterator[T]:
        started = time.perf_counter()
        count = 0
        failure: BaseException | None = None
        try:
            async for item in it:
                count += 1
                yield item
        except BaseException as exc:
            failure = exc
            raise
        finally:
            try:
                await aclose_iterator(it)
            finally:
                self.emit(operation, path, started, failure, entries=count)


class _LoggingReader(RawReader):
    def __init__(self, accessor: _LoggingAccessor, path: str, started: float, inner: RawReader) -> None:
        self._accessor = accessor
        self._path = path
        self._started = started
        self._inner = inner
        self._delivered = 0
        self._logged = False
        self.size = inner.size
        self.metadata = inner.metadata

    def _emit(self, exc: BaseException | None, outcome: str | None = None) -> None:
        if not self._logged:
            self._logged = True
            self._accessor.emit(
                "read", self._path, self._started, exc, nbytes=self._delivered, outcome=outcome
            )

    async def read(self) -> bytes:
        try:
            data = await self._inner.read()
        except BaseException as exc:
            self._emit(exc)
            raise
        if data:
            self._delivered += len(data)
        else:
            self._emit(None)
        return data

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._emit(None, "closed")


class _LoggingWriter(RawWriter):
    def __init__(self, accessor: _LoggingAccessor, path: str, started: float, inner: RawWriter) -> None:
        self._accessor = accessor
        self._path = path
        self._started = started
        self._inner = inner
        self._written = 0
        self._logged = False

    def _emit(self, exc: BaseException | None, outcome: str | None = None) -> None:
        if not self._logged:
            self._logged = True
            self._accessor.emit(
                "write", self._path, self._started, exc, nbytes=self._written, outcome=outcome
            )

    async def write(self, data: Buffer) -> None:
        try:
            await self._inner.write(data)
        except BaseException as exc:
            self._emit(exc)
            raise
        self._written += len(data)

    async def close(self) -> Metadata:
        try:
            meta = await self._inner.close()
        except BaseException as exc:
            self._emit(exc)
            raise
        self._emit(None)
        return meta

    async def abort(self) -> None:
        try:
            await self._inner.abort()
        finally:
            self._emit(None, "aborted")
