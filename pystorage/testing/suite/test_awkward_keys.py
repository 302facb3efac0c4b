"""Awkward keys round-trip on every service: write, stat, list, read, copy, rename, delete, presign.

Characters that URL encoding, signing, XML listings and file systems each
treat specially: ``?``, ``#``, ``%``, ``+``, spaces (inside, leading,
trailing), NFC and NFD spellings of the same letter (two different keys),
a control character other than NUL, and a key of 1,024 bytes (the S3 and
GCS limit, the root included).
"""

from __future__ import annotations

import unicodedata

import pytest

from pystorage import Operator

from .helpers import collect, need

pytestmark = pytest.mark.anyio

NAMES = {
    "question": "what?x=1&y=2",
    "hash": "tag#fragment",
    "percent": "100%25 %zz %",
    "plus": "a+b=c",
    "spaces": "two  spaces",
    "leading": " leading",
    "trailing": "trailing ",
    "nfc": unicodedata.normalize("NFC", "café"),
    "nfd": unicodedata.normalize("NFD", "café"),
    "control": "bell\x07tab\tend",
    "brackets": "[x]{y}<z>|'\"`^~!$(),;=@",
}


def _long_path(op: Operator) -> str:
    """A path whose full key (root included) is exactly 1,024 bytes, in
    segments of at most 200 bytes (a file name's limit on most file systems is 255)."""
    room = 1024 - len(op.info.root.lstrip("/").encode())
    segments: list[str] = []
    while room > 201:
        segments.append("d" * 199)
        room -= 200
    segments.append("f" * room)
    path = "/".join(segments)
    assert len((op.info.root.lstrip("/") + path).encode()) == 1024
    return path


#: Azurite answers 500 to a listing that would hold a control character (XML 1.0
#: cannot carry it; Azure itself percent-encodes such names, ``Encoded="true"``)
UNLISTABLE_ON_AZURITE = {NAMES["control"]}


async def _round_trip(op: Operator, path: str) -> None:
    data = path.encode("utf-8", "surrogateescape") + b"|payload"
    await op.write(path, data)
    assert (await op.stat(path)).content_length == len(data)
    assert await op.read(path) == data
    assert await op.read(path, offset=3, size=5) == data[3:8]
    if not (op.info.scheme == "azblob" and path.rsplit("/", 1)[-1] in UNLISTABLE_ON_AZURITE):
        listed = {entry.path for entry in await collect(op, "/", recursive=True)}
        assert path in listed, (path, sorted(listed))
    cap = op.capability()
    target = "copies/" + path.rsplit("/", 1)[-1]
    if cap.copy:
        await op.copy(path, target)
        assert await op.read(target) == data
        await op.delete(target)
    if cap.rename:
        await op.rename(path, target)
        assert not await op.exists(path)
        assert await op.read(target) == data
        await op.rename(target, path)
    if cap.presign_read:
        import aiohttp

        signed = await op.presign_read(path, 60)
        async with aiohttp.ClientSession() as session, session.get(
            signed.url, headers=dict(signed.headers)
        ) as answer:
            assert answer.status == 200, await answer.text()
            assert await answer.read() == data
    await op.delete(path)
    assert not await op.exists(path)


@pytest.mark.parametrize("name", list(NAMES.values()), ids=list(NAMES))
async def test_awkward_name_round_trips(op: Operator, name: str) -> None:
    need(op, "write", "read", "list", "delete")
    await _round_trip(op, "dir with space/" + name)


async def test_nfc_and_nfd_are_two_keys(op: Operator) -> None:
    need(op, "write", "read", "list")
    nfc, nfd = NAMES["nfc"], NAMES["nfd"]
    assert nfc != nfd
    await op.write(nfc, b"composed")
    await op.write(nfd, b"decomposed")
    if await op.read(nfc) == await op.read(nfd):
        pytest.skip("this file system normalises names (macOS HFS+/APFS)")
    assert await op.read(nfc) == b"composed"
    assert await op.read(nfd) == b"decomposed"
    assert {e.path for e in await collect(op, "/")} >= {nfc, nfd}


async def test_a_1024_byte_key_round_trips(op: Operator) -> None:
    need(op, "write", "read", "list", "delete")
    await _round_trip(op, _long_path(op))
