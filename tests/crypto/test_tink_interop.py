"""Interoperability with Google's ``tink`` package (the reference implementation).

Objects written through :class:`EncryptionLayer` are decrypted by
``tink.streaming_aead`` with the same keyset, and Tink's ciphertexts, stored
raw, are read back through the layer (whole, ranged, and with a seeking
reader), for both ``AES256_GCM_HKDF_4KB`` and ``AES256_GCM_HKDF_1MB``.
"""

from __future__ import annotations

import io
import random

import pytest
import tink  # a test dependency (pyproject.toml): a missing tink fails here, it is not skipped
from tink import cleartext_keyset_handle, streaming_aead

from pystorage import Operator, errors
from pystorage.crypto import Keyset
from pystorage.crypto.streaming import Layout
from pystorage.layers import EncryptionLayer

streaming_aead.register()
TEMPLATES = streaming_aead.streaming_aead_key_templates

pytestmark = pytest.mark.anyio

CASES = [
    pytest.param(TEMPLATES.AES256_GCM_HKDF_4KB, 4096, id="4KB"),
    pytest.param(TEMPLATES.AES256_GCM_HKDF_1MB, 1 << 20, id="1MB"),
]


class _Buffer(io.BytesIO):
    def close(self) -> None:  # tink closes its destination; keep the bytes
        pass


def _tink_keyset(template: object) -> tuple[object, Keyset]:
    handle = tink.new_keyset_handle(template)
    out = io.StringIO()
    cleartext_keyset_handle.write(tink.JsonKeysetWriter(out), handle)
    return handle.primitive(streaming_aead.StreamingAead), Keyset.from_tink_json(out.getvalue())


def _tink_encrypt(primitive: object, data: bytes, ad: bytes) -> bytes:
    buf = _Buffer()
    with primitive.new_encrypting_stream(buf, ad) as stream:  # type: ignore[attr-defined]
        stream.write(data)
    return buf.getvalue()


def _tink_decrypt(primitive: object, ciphertext: bytes, ad: bytes) -> bytes:
    with primitive.new_decrypting_stream(io.BytesIO(ciphertext), ad) as stream:  # type: ignore[attr-defined]
        out = bytearray()
        while True:
            piece = stream.read(1 << 20)
            if not piece:
                return bytes(out)
            out += piece


def _sizes(segment_size: int) -> list[int]:
    lay = Layout(segment_size)
    return [0, 1, lay.plain_first - 1, lay.plain_first, lay.plain_first + 1, 3 * segment_size + 7]


@pytest.mark.parametrize(("template", "segment_size"), CASES)
@pytest.mark.parametrize("bind_path", [False, True], ids=["no-ad", "bind-path"])
async def test_tink_decrypts_what_we_write(template: object, segment_size: int, bind_path: bool) -> None:
    primitive, keyset = _tink_keyset(template)
    raw = Operator("memory")
    enc = raw.layer(EncryptionLayer(keyset, bind_path=bind_path))
    assert enc.accessor.layout.segment_size == segment_size  # type: ignore[attr-defined]
    for size in _sizes(segment_size):
        data = random.Random(size).randbytes(size)
        path = f"dir/obj-{size}"
        async with enc.open(path, "wb") as writer:  # streamed, in odd pieces
            for start in range(0, size, 3001):
                await writer.write(data[start : start + 3001])
        ad = path.encode() if bind_path else b""
        assert _tink_decrypt(primitive, await raw.read(path), ad) == data, size


@pytest.mark.parametrize(("template", "segment_size"), CASES)
@pytest.mark.parametrize("bind_path", [False, True], ids=["no-ad", "bind-path"])
async def test_we_read_what_tink_writes(template: object, segment_size: int, bind_path: bool) -> None:
    primitive, keyset = _tink_keyset(template)
    raw = Operator("memory")
    enc = raw.layer(EncryptionLayer(keyset, bind_path=bind_path))
    lay = Layout(segment_size)
    for size in _sizes(segment_size):
        data = random.Random(size).randbytes(size)
        path = f"tink-{size}"
        await raw.write(path, _tink_encrypt(primitive, data, path.encode() if bind_path else b""))
        assert await enc.read(path) == data
        assert (await enc.stat(path)).content_length == size
        for offset in {0, max(size - 1, 0), lay.plain_first - 1, lay.plain_first, size // 2}:
            if offset <= size:
                assert await enc.read(path, offset=offset, size=20) == data[offset : offset + 20]
        async with enc.open(path, "rb", chunk=max(1, segment_size // 3)) as reader:
            await reader.seek(size // 3)
            assert await reader.read() == data[size // 3 :]


@pytest.mark.parametrize(("template", "segment_size"), CASES)
async def test_tink_ciphertext_with_other_ad_fails(template: object, segment_size: int) -> None:
    primitive, keyset = _tink_keyset(template)
    raw = Operator("memory")
    await raw.write("x", _tink_encrypt(primitive, b"hello" * 100, b"some context"))
    with pytest.raises(errors.DecryptionFailed):
        await raw.layer(EncryptionLayer(keyset)).read("x")


async def test_rotated_keyset_reads_objects_of_every_key() -> None:
    """Streaming AEAD ciphertexts carry no key id: the reader tries each key."""
    old, old_keys = _tink_keyset(TEMPLATES.AES256_GCM_HKDF_4KB)
    new, new_keys = _tink_keyset(TEMPLATES.AES256_GCM_HKDF_4KB)
    merged = Keyset.from_keys(
        {**{i: old_keys.key(i) for i in old_keys.ids}, **{i: new_keys.key(i) for i in new_keys.ids}},
        primary=new_keys.primary,
    )
    raw = Operator("memory")
    await raw.write("old", _tink_encrypt(old, b"by tink, old key", b""))
    await raw.write("new", _tink_encrypt(new, b"by tink, new key", b""))
    enc = raw.layer(EncryptionLayer(merged, segment_size=4096))
    assert await enc.read("old") == b"by tink, old key"
    assert await enc.read("new") == b"by tink, new key"
    await enc.write("ours", b"by pystorage")
    assert _tink_decrypt(new, await raw.read("ours"), b"") == b"by pystorage"
