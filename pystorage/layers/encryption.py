"""Client-side encryption in Tink's streaming AEAD format, on every service.

Example::

    from pystorage import Operator
    from pystorage.crypto import Keyset
    from pystorage.layers import EncryptionLayer, RetryLayer

    keyset = Keyset.from_keys({"1": key32}, primary="1")     # or Keyset.from_tink_json(text)
    op = Operator("s3", bucket="b").layer(EncryptionLayer(keyset), RetryLayer())
    await op.write("dump.bin", data)                          # stored encrypted
    part = await op.read("dump.bin", offset=1 << 30, size=4096)   # fetches one or two segments

Every object written through the layer is ``AES256_GCM_HKDF_1MB`` (or
``_4KB``) ciphertext, readable by Tink in any language with the same keyset
(see :mod:`pystorage.crypto.streaming` and ``docs/guide/client-side-encryption.md``).

* **Reads** map a plaintext range to the ciphertext segments covering it
  (plus one byte, to tell whether the last of them is the final segment) and
  decrypt only those. The header (salt and nonce prefix, 40 bytes) comes
  with segment 0, or from a per-path cache of the headers already seen,
  used only when the service reports the same etag/version as when the
  header was read; else it costs one extra 40-byte request (sent alongside
  the segments' request on the first read of a path). No byte is
  returned before its segment authenticates: a wrong key, a tampered,
  truncated, extended or spliced object, or one that was never encrypted
  raises :class:`~pystorage.errors.DecryptionFailed`.
* **Writes** encrypt segment by segment into the inner service's own engine
  (the multipart engine on S3, the streamed writer on fs, memory and GCS), so
  memory stays within the usual bound plus two segments.
* ``stat`` and ``list`` report the plaintext ``content_length``, computed
  from the ciphertext size (no extra request); ``content_md5`` (of the
  ciphertext) is dropped; etags stay the service's. ``stat`` of an object
  whose size no ciphertext can have raises ``DecryptionFailed``.
* Declared capabilities: no append, no explicit multipart API, no presign
  (a presigned URL would hand out ciphertext; ``presign_ciphertext=True``
  allows ``presign_read``/``presign_stat`` of the raw ciphertext). With
  ``bind_path=True`` the path is authenticated too, so server-side
  ``copy``/``rename`` are off and the Operator copies through the layer
  (decrypt, re-encrypt under the new path).

Ordering: put it outside ``RetryLayer``/``TimeoutLayer`` (so that they retry
ciphertext requests), or inside them (then a retried read resumes at the
plaintext offset reached); both work. Keys never appear in ``repr``, logs or errors.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import AsyncIterator, Sequence

import anyio

from .._writer import open_raw_writer
from ..errors import ConfigInvalid, DecryptionFailed, RangeNotSatisfied, Unsupported
from ..raw.accessor import Accessor, AccessorInfo, Buffer, EmptyReader, RawReader, RawWriter
from ..raw.buffered import as_view
from ..raw.layer import Layer, LayeredAccessor
from ..raw.multipart import DEFAULT_PART_SIZE
from ..raw.ops import OpCopy, OpDelete, Operation, OpList, OpPresign, OpRead, OpRename, OpStat, OpWrite
from ..raw.ranged import read_all
from ..raw.read import stat_op
from ..raw.tasks import aclose_iterator, run_concurrently
from ..types import Entry, EntryMode, Metadata, Part, PresignedRequest, UploadInfo

try:
    from ..crypto import Keyset
    from ..crypto.streaming import (
        HEADER_SIZE,
        SEGMENT_SIZE_1MB,
        TAG_SIZE,
        Encrypter,
        Layout,
        SegmentCipher,
        open_header,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('EncryptionLayer needs the "crypto" extra: pip install "pystorage[crypto]"') from exc

from ._encryption_streams import DecryptingReader, EncryptingWriter

__all__ = ["EncryptionLayer"]

#: why the explicit multipart API is off
_APART = "parts cannot be encrypted apart"
#: headers (salt, nonce prefix, derived key) kept per path, least recently used dropped
HEADER_CACHE_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class EncryptionLayer(Layer):
    """Encrypt every object on the client (see the module docs).

    Args:
        keyset: the keys; its primary encrypts, every key decrypts.
        segment_size: ciphertext segment size in bytes: ``1048576``
            (``AES256_GCM_HKDF_1MB``, the default) or ``4096``
            (``AES256_GCM_HKDF_4KB``: less read amplification for small
            ranged reads, 0.4 % size overhead instead of 0.0015 %). Default:
            the keyset's (Tink keysets declare it), else 1 MiB. Objects must be
            read with the segment size they were written with.
        bind_path: authenticate the object's path (relative to the operator's
            root) as associated data (default ``False``). Then an object moved
            or copied on the server no longer decrypts, and ``copy``/``rename``
            through the layer decrypt and re-encrypt.
        presign_ciphertext: allow ``presign_read``/``presign_stat``, whose
            URLs serve the raw ciphertext (default ``False``: ``Unsupported``).

    Raises:
        errors.ConfigInvalid: ``keyset`` is not a :class:`~pystorage.crypto.Keyset`,
            or ``segment_size`` is out of range or differs from the keyset's.
    """

    keyset: Keyset
    segment_size: int | None = None
    bind_path: bool = False
    presign_ciphertext: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.keyset, Keyset):
            raise ConfigInvalid(f"EncryptionLayer.keyset must be a Keyset, not {type(self.keyset).__name__}")
        size = self.segment_size
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or not 1024 <= size < 2**31:
                raise ConfigInvalid(
                    f"EncryptionLayer.segment_size must be an int in [1024, 2**31), got {size!r}"
                )
            if self.keyset.segment_size is not None and size != self.keyset.segment_size:
                raise ConfigInvalid(
                    f"EncryptionLayer.segment_size {size} differs from the keyset's "
                    f"{self.keyset.segment_size}"
                )
        for name in ("bind_path", "presign_ciphertext"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigInvalid(f"EncryptionLayer.{name} must be a bool")

    @property
    def layout(self) -> Layout:
        """The segment layout in use."""
        return Layout(self.segment_size or self.keyset.segment_size or SEGMENT_SIZE_1MB)

    def layer(self, inner: Accessor) -> Accessor:
        """Wrap ``inner`` so that everything stored through it is encrypted."""
        return _EncryptionAccessor(inner, self)


@dataclasses.dataclass(slots=True)
class _Header:
    header: bytes
    cipher: SegmentCipher
    #: (etag, version) of the object the header was read from
    token: tuple[str | None, str | None]


class _EncryptionAccessor(LayeredAccessor):
    def __init__(self, inner: Accessor, config: EncryptionLayer) -> None:
        super().__init__(inner)
        self._config = config
        self._keyset = config.keyset
        self.layout = config.layout
        self._cache: collections.OrderedDict[str, _Header] = collections.OrderedDict()
        self._lock = threading.Lock()  # an operator may be used from several threads
        info = inner.info()
        cap = info.capability
        self._info = dataclasses.replace(
            info,
            capability=dataclasses.replace(
                cap,
                write_can_multi=False,
                write_can_append=False,
                multipart=False,
                copy=cap.copy and not config.bind_path,
                rename=cap.rename and not config.bind_path,
                presign=cap.presign and config.presign_ciphertext,
                presign_read=cap.presign_read and config.presign_ciphertext,
                presign_stat=cap.presign_stat and config.presign_ciphertext,
                presign_write=False,
                write_total_max_size=self._plain_max(cap.write_total_max_size),
            ),
        )

    def _plain_max(self, ciphertext_max: int | None) -> int | None:
        """The largest plaintext whose ciphertext fits in ``ciphertext_max`` bytes."""
        if ciphertext_max is None:
            return None
        segments = -(-ciphertext_max // self.layout.segment_size)
        return max(0, ciphertext_max - HEADER_SIZE - TAG_SIZE * segments)

    def __repr__(self) -> str:
        return (
            f"<EncryptionLayer {self._keyset!r} segment_size={self.layout.segment_size} over {self.inner!r}>"
        )

    def info(self) -> AccessorInfo:
        return self._info

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_cache"], state["_lock"]  # derived keys stay in this process
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()

    # helpers ------------------------------------------------------------------
    def associated_data(self, path: str) -> bytes:
        return path.encode() if self._config.bind_path else b""

    def cached(self, path: str, token: tuple[str | None, str | None] | None) -> _Header | None:
        """The header seen for this version of the object (same etag/version), if any."""
        if token is None:
            return None
        with self._lock:
            entry = self._cache.get(path)
            if entry is None or entry.token != token:
                return None
            self._cache.move_to_end(path)
            return entry

    def remember(
        self, path: str, header: bytes, cipher: SegmentCipher, token: tuple[str | None, str | None] | None
    ) -> None:
        if token is None:
            return
        with self._lock:
            self._cache[path] = _Header(header, cipher, token)
            self._cache.move_to_end(path)
            while len(self._cache) > HEADER_CACHE_SIZE:
                self._cache.popitem(last=False)

    def has_header(self, path: str) -> bool:
        """Whether a header is cached for ``path`` (of whichever version)."""
        return path in self._cache

    def forget(self, *paths: str) -> None:
        with self._lock:
            for path in paths:
                self._cache.pop(path, None)

    def candidates(self, path: str, header: bytes) -> list[SegmentCipher]:
        return open_header(header, self._keyset.keys(), self.associated_data(path))

    def plain_metadata(self, meta: Metadata, path: str, *, strict: bool) -> Metadata:
        if meta.mode is EntryMode.DIR or meta.content_length is None:
            return meta
        size = self.layout.plaintext_size(meta.content_length)
        if size is None and strict:
            raise DecryptionFailed(
                f"an object of {meta.content_length} bytes is not a ciphertext of this format "
                f"(segment size {self.layout.segment_size})",
                path=path,
            )
        return dataclasses.replace(meta, content_length=size, content_md5=None)

    def _unsupported_here(self, operation: str, path: str, why: str) -> Unsupported:
        return Unsupported(
            f"{operation} is not supported through EncryptionLayer ({why})",
            operation=str(operation),
            path=path,
            service=self._info.scheme,
        )

    # metadata -----------------------------------------------------------------
    async def stat(self, path: str, op: OpStat) -> Metadata:
        return self.plain_metadata(await self.inner.stat(path, op), path, strict=True)

    def list_pages(self, path: str, op: OpList) -> AsyncIterator[Sequence[Entry]]:
        return self._plain_pages(self.inner.list_pages(path, op))

    async def _plain_pages(self, pages: AsyncIterator[Sequence[Entry]]) -> AsyncIterator[Sequence[Entry]]:
        try:
            async for page in pages:
                yield [Entry(e.path, self.plain_metadata(e.metadata, e.path, strict=False)) for e in page]
        finally:
            await aclose_iterator(pages)

    # reads ------------------------------------------------------------------------
    async def read(self, path: str, op: OpRead) -> RawReader:
        lay = self.layout
        offset = op.offset
        if op.size == 0:
            meta = await self.stat(path, stat_op(op, conditions=True))
            if meta.content_length is not None and offset > meta.content_length:
                raise RangeNotSatisfied(
                    f"offset {offset} is past the end ({meta.content_length} bytes)", path=path
                )
            return EmptyReader(meta)
        first = lay.segment_of(offset)
        end = None if op.size is None else offset + op.size
        last = None if end is None else lay.segment_of(end - 1)
        cstart = 0 if first == 0 else lay.cipher_start(first)
        # one byte past the last segment wanted tells whether it is the final one
        csize = None if last is None else (last + 1) * lay.segment_size + 1 - cstart
        segments = dataclasses.replace(op, offset=cstart, size=csize)
        header: bytes | None = None
        try:
            if first > 0 and not self.has_header(path):
                # first read of this path: fetch the header alongside, not after
                stream, header = await self._read_with_header(path, op, segments)
            else:
                stream = await self.inner.read(path, segments)
        except RangeNotSatisfied as exc:
            raise RangeNotSatisfied(f"offset {offset} is past the end of the object", path=path) from exc
        reader = DecryptingReader(self, path, op, stream, first, last, cstart, csize, header)
        try:
            await reader.start()
        except BaseException:
            await reader.aclose()
            raise
        return reader

    async def _read_with_header(self, path: str, op: OpRead, segments: OpRead) -> tuple[RawReader, bytes]:
        """Open the segments' stream and fetch the 40-byte header concurrently."""
        opened: list[RawReader] = []

        async def open_stream() -> bytes:
            opened.append(await self.inner.read(path, segments))
            return b""

        async def fetch_header() -> bytes:
            return await self.fetch(path, op, 0, HEADER_SIZE)

        try:
            _, header = await run_concurrently([open_stream, fetch_header], 2)
        except BaseException:
            with anyio.CancelScope(shield=True):
                for stream in opened:
                    await stream.aclose()
            raise
        return opened[0], header

    async def fetch(self, path: str, op: OpRead, offset: int, size: int) -> bytes:
        """Ciphertext bytes ``[offset, offset + size)`` (clamped at the end)."""
        raw = await self.inner.read(path, dataclasses.replace(op, offset=offset, size=size))
        return await read_all(raw)

    # writes -------------------------------------------------------------------------
    async def write(self, path: str, op: OpWrite) -> RawWriter:
        if op.append:
            raise self._unsupported_here("append", path, "the format ends with a final segment")
        encrypter = Encrypter(self._keyset.key(self._keyset.primary), self.associated_data(path), self.layout)
        inner = await open_raw_writer(self.inner, path, op)
        return EncryptingWriter(self, path, encrypter, inner)

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        if op.append:
            raise self._unsupported_here("append", path, "the format ends with a final segment")
        view = as_view(data)
        if len(view) <= (op.chunk or DEFAULT_PART_SIZE):
            enc = Encrypter(self._keyset.key(self._keyset.primary), self.associated_data(path), self.layout)
            ciphertext = b"".join([*enc.push(view), *enc.finish()])
            self.forget(path)
            meta = await self.inner.write_once(path, ciphertext, op)
            meta = dataclasses.replace(meta, content_length=len(view), content_md5=None)
            return meta
        # larger: stream through the inner engine, one chunk of ciphertext at a time
        writer = await self.write(path, op)
        step = op.chunk or DEFAULT_PART_SIZE
        try:
            for start in range(0, len(view), step):
                await writer.write(view[start : start + step])
            return await writer.close()
        except BaseException:
            await writer.abort()
            raise

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        raise self._unsupported_here(Operation.INITIATE_MULTIPART, path, _APART)

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        raise self._unsupported_here(Operation.WRITE_PART, path, _APART)

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        raise self._unsupported_here(Operation.COMPLETE_MULTIPART, path, _APART)

    def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        raise self._unsupported_here(Operation.LIST_PARTS, path, _APART)

    def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        raise self._unsupported_here(Operation.LIST_MULTIPART_UPLOADS, prefix, _APART)

    # the rest ---------------------------------------------------------------------------
    async def delete(self, path: str, op: OpDelete) -> None:
        self.forget(path)
        await self.inner.delete(path, op)

    async def delete_batch(self, paths: Sequence[str]) -> None:
        self.forget(*paths)
        await self.inner.delete_batch(paths)

    async def copy(self, src: str, dst: str, op: OpCopy) -> None:
        if self._config.bind_path:
            raise self._unsupported_here(Operation.COPY, src, "bind_path: the object must be re-encrypted")
        self.forget(dst)
        await self.inner.copy(src, dst, op)

    async def rename(self, src: str, dst: str, op: OpRename) -> None:
        if self._config.bind_path:
            raise self._unsupported_here(Operation.RENAME, src, "bind_path: the object must be re-encrypted")
        self.forget(src, dst)
        await self.inner.rename(src, dst, op)

    async def presign(self, path: str, op: OpPresign) -> PresignedRequest:
        if not self._config.presign_ciphertext or op.method not in ("GET", "HEAD"):
            raise self._unsupported_here(
                Operation.PRESIGN, path, "a presigned URL would serve or accept data without encryption"
            )
        return await self.inner.presign(path, op)
