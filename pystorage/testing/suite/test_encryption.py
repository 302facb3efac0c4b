"""EncryptionLayer on every service: round trips, ranged reads, seeks, tampering.

``op`` is the raw service; ``enc`` the same service through the layer, so a
test can look at (and damage) the ciphertext the service really stores.
Most tests use 4 KiB segments, so that many segment boundaries fit in a small
object; the multipart and 1 MiB cases use the default segment size.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import AsyncIterator, Callable

import pytest

from pystorage import Operator, errors
from pystorage.crypto import Keyset
from pystorage.crypto.streaming import SEGMENT_SIZE_1MB, SEGMENT_SIZE_4KB, Layout
from pystorage.layers import EncryptionLayer

from .helpers import KiB, MiB, chunk_size, collect, payload

pytestmark = pytest.mark.anyio

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
KEYSET = Keyset.from_keys({"1": KEY_A}, primary="1")
SMALL = Layout(SEGMENT_SIZE_4KB)
BIG = Layout(SEGMENT_SIZE_1MB)


def encrypted(op: Operator, segment_size: int = SEGMENT_SIZE_4KB, **options: bool) -> Operator:
    return op.layer(EncryptionLayer(KEYSET, segment_size=segment_size, **options))


def sizes(lay: Layout) -> list[int]:
    """Empty, one byte, the first segment exactly and ±1, two full segments ±1."""
    first, second = lay.plain_first, lay.plain_first + lay.plain_segment
    return [0, 1, first - 1, first, first + 1, second - 1, second, second + 1]


@pytest.mark.parametrize("segment_size", [SEGMENT_SIZE_4KB, SEGMENT_SIZE_1MB], ids=["4KB", "1MB"])
async def test_round_trip_sizes(op: Operator, segment_size: int) -> None:
    enc = encrypted(op, segment_size)
    lay = Layout(segment_size)
    for size in sizes(lay):
        data = payload(size, seed=size)
        meta = await enc.write("obj", data)
        assert meta.content_length == size
        assert await enc.read("obj") == data, size
        assert (await enc.stat("obj")).content_length == size
        raw = await op.stat("obj")
        assert raw.content_length == lay.ciphertext_size(size)
        assert raw.content_length > size  # the raw object is ciphertext
        async with enc.open("obj", "rb") as reader:
            assert await reader.read() == data


async def test_streamed_writer_and_iterator(op: Operator) -> None:
    enc = encrypted(op)
    data = payload(50_000, seed=3)
    async with enc.open("w", "wb") as writer:
        for start in range(0, len(data), 777):
            await writer.write(data[start : start + 777])
    assert await enc.read("w") == data

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    await enc.write("it", pieces())
    assert await enc.read("it") == data
    assert (await enc.stat("it")).content_length == len(data)


async def test_large_streamed_write_crosses_parts(op: Operator) -> None:
    """~40 MiB from an async iterator, in parts of the service's smallest size
    (S3: 5 MiB, so the multipart engine uploads 8+ parts), 1 MiB segments."""
    enc = encrypted(op, SEGMENT_SIZE_1MB)
    piece = payload(1_000_003, seed=40)
    count = 40
    whole = piece * count
    total = len(whole)
    digest = hashlib.sha256(whole).hexdigest()

    async def source() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield piece

    chunk = chunk_size(op, 4 * MiB)
    meta = await enc.write("big", source(), chunk=chunk, concurrent=2)
    assert meta.content_length == total
    assert (await op.stat("big")).content_length == BIG.ciphertext_size(total)
    assert hashlib.sha256(await enc.read("big")).hexdigest() == digest
    # a range straddling a segment boundary deep inside, and the tail
    boundary = BIG.plain_start(25)
    assert await enc.read("big", offset=boundary - 10, size=20) == whole[boundary - 10 : boundary + 10]
    assert await enc.read("big", offset=total - 5) == whole[-5:]
    assert await enc.read("big", chunk=3 * MiB, concurrent=3) == whole


async def test_ranged_reads_at_every_segment_boundary(op: Operator) -> None:
    enc = encrypted(op)
    size = SMALL.plain_first + 5 * SMALL.plain_segment + 123
    data = payload(size, seed=5)
    await enc.write("r", data)
    index = 1
    while SMALL.plain_start(index) <= size:
        b = SMALL.plain_start(index)
        for offset, length in [(b - 1, 1), (b - 1, 2), (b, 1), (b, SMALL.plain_segment), (b - 7, 100)]:
            got = await enc.read("r", offset=offset, size=length)
            assert got == data[offset : offset + length], (offset, length)
        index += 1
    assert await enc.read("r", offset=size) == b""
    assert await enc.read("r", offset=size - 1, size=10) == data[-1:]
    with pytest.raises(errors.RangeNotSatisfied):
        await enc.read("r", offset=size + 1)


async def test_read_at_end_of_full_final_segment(op: Operator) -> None:
    """The object ends exactly at a segment boundary: offset == length is empty,
    offset > length is RangeNotSatisfied (the final segment is checked)."""
    enc = encrypted(op)
    size = SMALL.plain_first + SMALL.plain_segment
    data = payload(size, seed=6)
    await enc.write("full", data)
    assert await enc.read("full", offset=size) == b""
    assert await enc.read("full", offset=size, size=10) == b""
    with pytest.raises(errors.RangeNotSatisfied):
        await enc.read("full", offset=size + 3, size=10)
    assert await enc.read("full", offset=size - 2) == data[-2:]


async def test_random_ranges_seeded(op: Operator) -> None:
    enc = encrypted(op)
    size = 7 * SMALL.segment_size + 999
    data = payload(size, seed=7)
    await enc.write("rnd", data)
    rng = random.Random(1234)
    for _ in range(40):
        offset = rng.randrange(0, size + 1)
        length = rng.choice([1, 15, 16, 17, 4000, 4096, 9000, size])
        assert await enc.read("rnd", offset=offset, size=length) == data[offset : offset + length]
    for chunk in (1000, 4096, 10_000):
        assert await enc.read("rnd", offset=333, chunk=chunk, concurrent=3) == data[333:]


@pytest.mark.parametrize("chunk", [None, 3000, 8192], ids=["stream", "chunk3000", "chunk8192"])
async def test_reader_seek_tell_sequence(op: Operator, chunk: int | None) -> None:
    enc = encrypted(op)
    size = 5 * SMALL.segment_size + 77
    data = payload(size, seed=8)
    await enc.write("seek", data)
    model = io.BytesIO(data)
    rng = random.Random(99)
    async with enc.open("seek", "rb", chunk=chunk, concurrent=2, prefetch=1) as reader:
        for _ in range(30):
            whence = rng.choice([0, 1, 2])
            if whence == 0:
                target = rng.randrange(0, size + 1)
            elif whence == 1:
                target = rng.randrange(-model.tell(), size - model.tell() + 1)
            else:
                target = -rng.randrange(0, size + 1)
            assert await reader.seek(target, whence) == model.seek(target, whence)
            n = rng.choice([0, 1, 100, 4056, 5000, -1])
            assert await reader.read(n) == model.read(n)
            assert await reader.tell() == model.tell()


async def test_ciphertext_has_no_plaintext_run(op: Operator) -> None:
    enc = encrypted(op)
    repetitive = b"A" * 20_000 + b"0123456789" * 2000
    for name, data in [("random", payload(40 * KiB, seed=9)), ("repetitive", repetitive)]:
        await enc.write(name, data)
        raw = await op.read(name)
        windows = {raw[i : i + 16] for i in range(len(raw) - 15)}
        leaks = [i for i in range(len(data) - 15) if data[i : i + 16] in windows]
        assert not leaks, f"{name}: plaintext runs found at {leaks[:5]}"


async def test_list_reports_plaintext_length(op: Operator) -> None:
    enc = encrypted(op)
    await enc.write("d/a", b"x" * 5000)
    await enc.write("d/b", b"")
    await op.write("d/plain", b"not encrypted")  # listed, with no length
    entries = {e.path: e.metadata.content_length for e in await collect(enc, "d/")}
    raw = {e.path: e.metadata.content_length for e in await collect(op, "d/")}
    assert set(entries) == set(raw) == {"d/a", "d/b", "d/plain"}
    expected = {"d/a": 5000, "d/b": 0, "d/plain": None}
    for path, raw_length in raw.items():  # a service may list no lengths
        assert entries[path] == (None if raw_length is None else expected[path]), path


async def test_copy_and_rename_keep_working(op: Operator) -> None:
    enc = encrypted(op)
    data = payload(10_000, seed=10)
    await enc.write("src", data)
    await enc.copy("src", "copied")
    assert await enc.read("copied") == data
    await enc.rename("copied", "moved")
    assert await enc.read("moved", offset=5000, size=10) == data[5000:5010]
    assert not await enc.exists("copied")


async def test_bind_path_reencrypts_on_copy(op: Operator) -> None:
    enc = encrypted(op, bind_path=True)
    data = payload(9000, seed=11)
    await enc.write("bound", data)
    await enc.copy("bound", "bound-copy")  # decrypt + re-encrypt under the new path
    assert await enc.read("bound-copy") == data
    await enc.rename("bound-copy", "bound-moved")
    assert await enc.read("bound-moved") == data
    # the same ciphertext at another path does not decrypt
    await op.write("elsewhere", await op.read("bound"))
    with pytest.raises(errors.DecryptionFailed):
        await enc.read("elsewhere")


async def test_unsupported_options(op: Operator) -> None:
    enc = encrypted(op)
    cap = enc.capability()
    assert not cap.write_can_append and not cap.write_can_multi and not cap.multipart
    assert not cap.presign_read and not cap.presign_write
    with pytest.raises(errors.Unsupported):
        await enc.write("x", b"data", append=True)
    with pytest.raises(errors.Unsupported):
        await enc.presign_read("x", 60)
    assert not await op.exists("x")


# --- tampering -----------------------------------------------------------------------------

SIZE = SMALL.plain_first + 4 * SMALL.plain_segment + 500  # 6 segments, the last one short
SEG = SMALL.segment_size


def _flip(at: int) -> Callable[[bytes], bytes]:
    def tamper(ct: bytes) -> bytes:
        i = at % len(ct)
        return ct[:i] + bytes([ct[i] ^ 0x01]) + ct[i + 1 :]

    return tamper


def _swap(ct: bytes) -> bytes:
    return ct[:SEG] + ct[2 * SEG : 3 * SEG] + ct[SEG : 2 * SEG] + ct[3 * SEG :]


async def _undecryptable(enc: Operator, path: str, offset: int, size: int) -> None:
    """Assert that a whole read, a ranged read (``offset``, ``size``) and a streamed
    read of ``path`` through ``enc`` all raise ``DecryptionFailed``."""
    with pytest.raises(errors.DecryptionFailed):
        await enc.read(path)
    with pytest.raises(errors.DecryptionFailed):
        await enc.read(path, offset=offset, size=size)
    with pytest.raises(errors.DecryptionFailed):
        async with enc.open(path, "rb") as reader:
            await reader.read()


#: tamper id -> (damage, a plaintext range (offset, size) whose read touches it)
TAMPERS: dict[str, tuple[Callable[[bytes], bytes], tuple[int, int]]] = {
    "header-length-byte": (_flip(0), (SMALL.plain_start(3), 10)),
    "header-salt": (_flip(5), (SMALL.plain_start(3), 10)),
    "header-nonce-prefix": (_flip(36), (SMALL.plain_start(3), 10)),
    "first-segment": (_flip(100), (0, 10)),
    "middle-segment": (_flip(2 * SEG + 1000), (SMALL.plain_start(2) + 900, 200)),
    "last-tag": (_flip(-1), (SIZE - 10, 10)),
    "truncated-at-boundary": (lambda ct: ct[: 5 * SEG], (SMALL.plain_start(4) + 10, 10)),
    "truncated-mid-segment": (lambda ct: ct[:-100], (SIZE - 450, 10)),
    "truncated-to-header": (lambda ct: ct[:40], (0, 10)),
    "swapped-segments": (_swap, (SMALL.plain_start(1) + 10, 10)),
    "extended": (lambda ct: ct + b"\x00" * 20, (SIZE - 10, 10)),
}


@pytest.mark.parametrize("tamper_id", sorted(TAMPERS))
async def test_tampered_ciphertext_raises(op: Operator, tamper_id: str) -> None:
    enc = encrypted(op)
    data = payload(SIZE, seed=12)
    await enc.write("t", data)
    damage, (offset, length) = TAMPERS[tamper_id]
    await op.write("t", damage(await op.read("t")))
    await _undecryptable(enc, "t", offset, length)
    with pytest.raises(errors.DecryptionFailed):
        await enc.read("t", chunk=5000, concurrent=2)
    with pytest.raises(errors.DecryptionFailed):
        async with enc.open("t", "rb", chunk=4000) as reader:
            await reader.seek(offset)
            await reader.read(length)


async def test_damage_elsewhere_leaves_other_segments_readable(op: Operator) -> None:
    """Segments are authenticated one by one: a range away from the damage still reads."""
    enc = encrypted(op)
    data = payload(SIZE, seed=13)
    await enc.write("t", data)
    await op.write("t", _flip(3 * SEG + 10)(await op.read("t")))
    assert await enc.read("t", offset=10, size=100) == data[10:110]
    with pytest.raises(errors.DecryptionFailed):
        await enc.read("t", offset=SMALL.plain_start(3), size=1)


async def test_concatenated_objects_raise(op: Operator) -> None:
    enc = encrypted(op)
    first, second = payload(6000, seed=14), payload(6000, seed=15)
    await enc.write("a", first)
    await enc.write("b", second)
    await op.write("ab", await op.read("a") + await op.read("b"))
    await _undecryptable(enc, "ab", 5990, 20)


@pytest.mark.parametrize("size", [0, 5, 100, SIZE], ids=["empty", "5B", "100B", "6seg"])
async def test_plaintext_object_raises(op: Operator, size: int) -> None:
    enc = encrypted(op)
    await op.write("plain", payload(size, seed=16))
    await _undecryptable(enc, "plain", 0, 1)


async def test_wrong_key_raises(op: Operator) -> None:
    await encrypted(op).write("k", payload(9000, seed=17))
    other = op.layer(EncryptionLayer(Keyset.from_keys({"2": KEY_B}, primary="2"), segment_size=SEG))
    with pytest.raises(errors.DecryptionFailed) as info:
        await other.read("k", offset=5000, size=10)
    assert info.value.kind is errors.ErrorKind.DECRYPTION_FAILED and not info.value.temporary
    text = str(info.value) + repr(info.value)
    assert KEY_A.hex() not in text and KEY_B.hex() not in text
