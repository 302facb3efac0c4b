"""The streams of :mod:`pystorage.layers.encryption`: the writer sealing
segments as plaintext arrives and the reader decrypting the segments of one
ranged read."""

from __future__ import annotations

import collections
import dataclasses
import io
from typing import TYPE_CHECKING

from ..crypto.streaming import HEADER_SIZE, TAG_SIZE, Encrypter, SegmentCipher
from ..errors import DecryptionFailed, RangeNotSatisfied, Unexpected
from ..raw.accessor import Buffer, RawReader, RawWriter
from ..raw.buffered import as_view
from ..raw.ops import Operation, OpRead
from ..types import Metadata

if TYPE_CHECKING:
    from .encryption import _EncryptionAccessor

__all__ = ["BATCH", "WRITE_STEP", "DecryptingReader", "EncryptingWriter", "version_token"]

#: small segments are decrypted and handed over in batches of about this many bytes
BATCH = 256 * 1024
#: a large write is encrypted this many bytes at a time (its ciphertext is never held whole)
WRITE_STEP = 1024 * 1024


def version_token(meta: Metadata | None) -> tuple[str | None, str | None] | None:
    """What identifies one version of an object, if the service said."""
    if meta is None or (meta.etag is None and meta.version is None):
        return None
    return (meta.etag, meta.version)


class EncryptingWriter(RawWriter):
    """Seals segments as the plaintext arrives and feeds them to the inner writer."""

    def __init__(
        self, accessor: _EncryptionAccessor, path: str, encrypter: Encrypter, inner: RawWriter
    ) -> None:
        self._accessor = accessor
        self._path = path
        self._enc = encrypter
        self._inner = inner
        lay = encrypter.layout
        self._step = lay.plain_segment * max(1, WRITE_STEP // lay.plain_segment)

    async def write(self, data: Buffer) -> None:
        # a step at a time, so that a huge write never holds its whole ciphertext
        view = as_view(data)
        step = self._step
        for start in range(0, len(view), step):
            for piece in self._enc.push(view[start : start + step]):
                await self._inner.write(piece)

    async def close(self) -> Metadata:
        for piece in self._enc.finish():
            await self._inner.write(piece)
        self._accessor.forget(self._path)
        meta = await self._inner.close()
        return dataclasses.replace(meta, content_length=self._enc.plaintext_size, content_md5=None)

    async def abort(self) -> None:
        await self._inner.abort()


class DecryptingReader(RawReader):
    """Decrypts the ciphertext segments ``first..last`` streamed by ``stream``
    and serves the plaintext bytes ``[op.offset, op.offset + op.size)`` of them."""

    def __init__(
        self,
        accessor: _EncryptionAccessor,
        path: str,
        op: OpRead,
        stream: RawReader,
        first: int,
        last: int | None,
        cstart: int,
        csize: int | None,
        header: bytes | None = None,
    ) -> None:
        self._acc = accessor
        self._prefetched = header
        self._lay = accessor.layout
        self._path = path
        self._op = op
        self._stream: RawReader | None = stream
        self._index = first
        self._last = last
        self._start = op.offset
        self._end = None if op.size is None else op.offset + op.size
        # ciphertext received and not yet decrypted: zero-copy views of the pieces
        self._pieces: collections.deque[memoryview] = collections.deque()
        self._buffered = 0
        self._eof = False
        self._done = False
        self._cipher: SegmentCipher | None = None
        self._ready: bytes | None = None
        self.size = self._expected_size(stream.size, cstart, csize)
        if self.size is not None:
            self.read_rest = self._read_rest
        meta = stream.metadata
        self._token = version_token(meta)
        self.metadata = None if meta is None else accessor.plain_metadata(meta, path, strict=False)

    def _expected_size(self, inner_size: int | None, cstart: int, csize: int | None) -> int | None:
        """The plaintext bytes this read delivers, if the inner stream says how much it has."""
        if inner_size is None:
            return None
        if csize is not None and inner_size >= csize:
            return self._end - self._start if self._end is not None else None
        length = self._acc.layout.plaintext_size(cstart + inner_size)
        if length is None or self._start > length:
            return None
        return max(0, min(length, self._end if self._end is not None else length) - self._start)

    def _failed(self, message: str) -> DecryptionFailed:
        return DecryptionFailed(message, operation=str(Operation.READ), path=self._path)

    async def _fill(self, need: int) -> None:
        """Buffer more than ``need`` bytes, or all that is left."""
        while self._buffered <= need and not self._eof:
            assert self._stream is not None
            piece = await self._stream.read()
            if piece:
                self._pieces.append(memoryview(piece))
                self._buffered += len(piece)
            else:
                self._eof = True
                await self._close_stream()

    def _take(self, size: int) -> bytes | memoryview:
        """The next ``size`` buffered bytes (at most what is buffered); a view
        when they lie in one piece, else one copy."""
        size = min(size, self._buffered)
        self._buffered -= size
        first = self._pieces[0] if self._pieces else memoryview(b"")
        if len(first) >= size:
            if len(first) == size:
                self._pieces.popleft()
            else:
                self._pieces[0] = first[size:]
            return first[:size]
        parts = []
        while size:
            piece = self._pieces.popleft()
            if len(piece) > size:
                self._pieces.appendleft(piece[size:])
                piece = piece[:size]
            parts.append(piece)
            size -= len(piece)
        return b"".join(parts)

    async def _segment(self, index: int) -> tuple[bytes | memoryview, bool] | None:
        """The ciphertext of segment ``index`` and whether it is the final one;
        ``None`` if the stream has no byte of it."""
        need = self._lay.cipher_full(index)
        await self._fill(need)
        if not self._buffered:
            return None
        final = self._buffered <= need
        return self._take(need), final

    async def start(self) -> None:
        """Read the header and authenticate the first segment before any byte is served."""
        lay = self._lay
        first = self._index
        fresh = True
        if first == 0:
            await self._fill(HEADER_SIZE - 1)
            if self._buffered < HEADER_SIZE:
                raise self._failed("the object is shorter than a ciphertext header")
            header = bytes(self._take(HEADER_SIZE))
            candidates = self._acc.candidates(self._path, header)
        else:
            cached = self._acc.cached(self._path, self._token)
            if cached is not None:
                header, candidates, fresh = cached.header, [cached.cipher], False
            else:
                header = self._prefetched if self._prefetched is not None else await self._header()
                if len(header) < HEADER_SIZE:
                    raise self._failed("the object is shorter than a ciphertext header")
                candidates = self._acc.candidates(self._path, header)
        segment = await self._segment(first)
        if segment is None:
            if first == 0:
                raise self._failed("the object ends after the ciphertext header")
            # the object ends exactly where segment `first` would start: the
            # previous segment must be an authentic final segment
            previous = first - 1
            data = await self._acc.fetch(
                self._path, self._op, lay.cipher_start(previous), lay.cipher_full(previous)
            )
            await self._open(previous, data, True, header, candidates, fresh)
            length = lay.plain_start(first)
            if self._start > length:
                raise RangeNotSatisfied(
                    f"offset {self._start} is past the end ({length} bytes)", path=self._path
                )
            self._done = True
            return
        ciphertext, final = segment
        plaintext = await self._open(first, ciphertext, final, header, candidates, fresh)
        self._serve(first, plaintext, final)
        self._index = first + 1
        if self._start > lay.plain_start(first) + len(plaintext):
            raise RangeNotSatisfied(
                f"offset {self._start} is past the end ({lay.plain_start(first) + len(plaintext)} bytes)",
                path=self._path,
            )

    async def _header(self) -> bytes:
        header = await self._acc.fetch(self._path, self._op, 0, HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            raise self._failed("the object is shorter than a ciphertext header")
        return header

    async def _open(
        self,
        index: int,
        ciphertext: bytes | memoryview,
        final: bool,
        header: bytes,
        candidates: list[SegmentCipher],
        fresh: bool,
    ) -> bytes:
        """Decrypt the first segment with the key that authenticates it."""
        for cipher in candidates:
            try:
                plaintext = cipher.decrypt(index, ciphertext, final)
            except DecryptionFailed:
                continue
            self._cipher = cipher
            self._acc.remember(self._path, header, cipher, self._token)
            return plaintext
        if not fresh:  # the cached header may be of an older object at this path
            self._acc.forget(self._path)
            header = await self._header()
            return await self._open(
                index, ciphertext, final, header, self._acc.candidates(self._path, header), True
            )
        self._acc.forget(self._path)
        raise self._failed(
            f"segment {index} does not decrypt with any key of the keyset "
            "(wrong key, tampered or truncated ciphertext, or not an encrypted object)"
        )

    def _serve(self, index: int, plaintext: bytes, final: bool) -> None:
        """Keep the part of segment ``index`` inside the range; note the end."""
        base = self._lay.plain_start(index)
        lo = max(self._start - base, 0)
        hi = len(plaintext) if self._end is None else min(len(plaintext), self._end - base)
        if lo < hi:
            self._ready = plaintext if (lo == 0 and hi == len(plaintext)) else plaintext[lo:hi]
        if final or (self._last is not None and index >= self._last):
            self._done = True

    async def _next(self, into: memoryview | None = None) -> int:
        """Decrypt the next segment: straight into ``into`` (returns the bytes
        written) when it lies wholly inside the range and fits, else into
        ``self._ready`` (returns 0)."""
        index = self._index
        segment = await self._segment(index)
        if segment is None:  # cannot happen after a segment known not to be final
            raise self._failed(f"the ciphertext ends before segment {index}")
        assert self._cipher is not None
        ciphertext, final = segment
        self._index = index + 1
        base = self._lay.plain_start(index)
        size = len(ciphertext) - TAG_SIZE
        whole = self._start <= base and (self._end is None or base + size <= self._end)
        try:
            if into is not None and whole and 0 <= size <= len(into):
                self._cipher.decrypt_into(index, ciphertext, final, into[:size])
                if final or (self._last is not None and index >= self._last):
                    self._done = True
                return size
            plaintext = self._cipher.decrypt(index, ciphertext, final)
        except DecryptionFailed as exc:
            self._acc.forget(self._path)
            raise self._failed(exc.message) from None
        self._serve(index, plaintext, final)
        return 0

    async def read(self) -> bytes:
        pieces: list[bytes] = []
        held = 0
        while True:
            if self._ready is not None:
                piece, self._ready = self._ready, None
                pieces.append(piece)
                held += len(piece)
            # small segments: decrypt on while the next one is already buffered
            more = not self._done and (self._eof or self._buffered > self._lay.cipher_full(self._index))
            if pieces and not (more and held < BATCH):
                return pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if self._done:
                await self._close_stream()
                return b""
            await self._next()

    async def _read_rest(self) -> bytes:
        """The rest of the range as one ``bytes``: whole segments are decrypted
        in place into one buffer of the announced size (no other copy)."""
        assert self.size is not None
        out = io.BytesIO()
        if self.size:
            out.seek(self.size - 1)
            out.write(b"\0")  # allocates exactly `size` bytes, once
            out.seek(0)
        pos = 0
        view = out.getbuffer()
        try:
            while True:
                if self._ready is not None:
                    piece, self._ready = self._ready, None
                    if pos + len(piece) > len(view):
                        raise self._overflow()
                    view[pos : pos + len(piece)] = piece
                    pos += len(piece)
                    continue
                if self._done:
                    break
                pos += await self._next(view[pos:])
        finally:
            view.release()
        await self._close_stream()
        if pos < self.size:  # the final segment came earlier than announced: it is authentic
            out.truncate(pos)
        return out.getvalue()

    def _overflow(self) -> Unexpected:
        return Unexpected(
            "the service sent more bytes than it announced",
            operation=str(Operation.READ),
            path=self._path,
            temporary=True,
        )

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()

    async def aclose(self) -> None:
        self._ready = None
        self._pieces.clear()
        self._buffered = 0
        await self._close_stream()
