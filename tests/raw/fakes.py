"""A fake multipart service for engine tests: records every primitive call."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence

import anyio

from pystorage import errors
from pystorage.raw.accessor import Accessor, AccessorInfo, Buffer, RawReader
from pystorage.raw.ops import OpRead, OpStat, OpWrite
from pystorage.types import Capability, Metadata, Part, UploadInfo


class ChunkReader(RawReader):
    def __init__(self, data: bytes, piece: int, fail_after: int | None = None) -> None:
        self._data = data
        self._piece = piece
        self._pos = 0
        self._fail_after = fail_after
        self.size = len(data)
        self.closed = False

    async def read(self) -> bytes:
        if self._fail_after is not None and self._pos >= self._fail_after:
            raise errors.Unexpected("broken stream", temporary=True)
        piece = self._data[self._pos : self._pos + self._piece]
        self._pos += len(piece)
        return piece

    async def aclose(self) -> None:
        self.closed = True


@dataclasses.dataclass
class FakeMultipart(Accessor):
    """Objects in a dict; multipart uploads tracked; failures injectable."""

    min_part: int | None = None
    fail_part: int | None = None
    block_part: int | None = None
    objects: dict[str, bytes] = dataclasses.field(default_factory=dict)
    uploads: dict[str, dict[int, bytes]] = dataclasses.field(default_factory=dict)
    calls: list[tuple[str, object]] = dataclasses.field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    part_sizes: list[int] = dataclasses.field(default_factory=list)
    read_calls: list[tuple[int, int | None]] = dataclasses.field(default_factory=list)
    fail_reads: set[int] = dataclasses.field(default_factory=set)
    piece: int = 1000
    part_started: anyio.Event | None = None
    last_reader: ChunkReader | None = None

    def info(self) -> AccessorInfo:
        cap = Capability(
            stat=True, read=True, write=True, write_can_multi=True, multipart=True,
            write_multi_min_size=self.min_part, write_multi_max_size=1 << 20, write_multi_max_parts=100,
        )
        return AccessorInfo("fake", "/", "fake", cap)

    async def stat(self, path: str, op: OpStat) -> Metadata:
        if path not in self.objects:
            raise errors.NotFound("nope", path=path)
        return Metadata(content_length=len(self.objects[path]))

    async def read(self, path: str, op: OpRead) -> RawReader:
        self.read_calls.append((op.offset, op.size))
        data = self.objects[path]
        if op.offset > len(data):
            raise errors.RangeNotSatisfied("past end")
        end = len(data) if op.size is None else min(len(data), op.offset + op.size)
        fail_after = 1 if op.offset in self.fail_reads else None
        if fail_after is not None:
            self.fail_reads.discard(op.offset)
        self.last_reader = ChunkReader(data[op.offset : end], self.piece, fail_after)
        return self.last_reader

    async def write_once(self, path: str, data: Buffer, op: OpWrite) -> Metadata:
        self.calls.append(("write_once", len(data)))
        self.objects[path] = bytes(data)
        return Metadata(content_length=len(data))

    async def initiate_multipart(self, path: str, op: OpWrite) -> str:
        upload_id = f"u{len(self.uploads) + 1}"
        self.uploads[upload_id] = {}
        self.calls.append(("initiate", upload_id))
        return upload_id

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.calls.append(("part", number))
            if self.part_started is not None:
                self.part_started.set()
            await anyio.sleep(0.001 * (5 - number % 5))  # finish out of order
            if number == self.block_part:
                await anyio.sleep_forever()
            if number == self.fail_part:
                raise errors.Unexpected(f"part {number} failed", temporary=False)
            self.uploads[upload_id][number] = bytes(data)
            self.part_sizes.append(len(data))
            return Part(number=number, etag=f"e{number}", size=len(data))
        finally:
            self.in_flight -= 1

    async def complete_multipart(
        self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite
    ) -> Metadata:
        self.calls.append(("complete", [p.number for p in parts]))
        held = self.uploads.pop(upload_id)
        self.objects[path] = b"".join(held[p.number] for p in parts)
        return Metadata(content_length=len(self.objects[path]))

    async def abort_multipart(self, path: str, upload_id: str) -> None:
        self.calls.append(("abort", upload_id))
        self.uploads.pop(upload_id, None)

    async def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:  # type: ignore[override]
        for number, data in sorted(self.uploads[upload_id].items()):
            yield Part(number=number, etag=f"e{number}", size=len(data))

    async def list_multipart_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:  # type: ignore[override]
        for upload_id in self.uploads:
            yield UploadInfo("k", upload_id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
