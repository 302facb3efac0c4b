"""Trees to transfer, and how to read them back."""

from __future__ import annotations

import hashlib
import os

from pystorage import Operator

MiB = 1024 * 1024

#: the part size the tests transfer with (S3's minimum)
PART = 5 * MiB


def tree() -> dict[str, bytes]:
    """Nested directories, empty files, unicode names and one object of
    nine parts (40 MiB + 5 B at :data:`PART`: eight full parts and a short one)."""
    files = {
        "top.txt": b"top level\n",
        "empty": b"",
        "a/empty-too": b"",
        "a/b/c/deep.txt": b"deep " * 100,
        "a/b/sibling.bin": os.urandom(70_000),
        "a-b/dash.txt": b"sorts before a/ in key order",
        "ünïcødé/naïve ☃ file.txt": "snow ☃\n".encode(),
        "日本/データ.bin": os.urandom(3_000),
        "big/multipart.bin": os.urandom(40 * MiB + 5),
    }
    files.update({f"many/f{i:02d}.dat": os.urandom(1000 + i) for i in range(12)})
    return files


async def put_tree(op: Operator, files: dict[str, bytes], prefix: str = "") -> None:
    """Write ``files`` below ``prefix``."""
    for path, data in files.items():
        await op.write(prefix + path, data)


async def read_tree(op: Operator, prefix: str = "") -> dict[str, str]:
    """Relative path → SHA-256 of every file below ``prefix``."""
    out: dict[str, str] = {}
    async for entry in op.list(prefix or "/", recursive=True):
        if entry.path.endswith("/"):
            continue
        out[entry.path[len(prefix) :]] = hashlib.sha256(await op.read(entry.path)).hexdigest()
    return out


def digests(files: dict[str, bytes]) -> dict[str, str]:
    """Relative path → SHA-256 of ``files``."""
    return {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}


async def pending_uploads(op: Operator) -> list[str]:
    """Paths of multipart uploads still open (``[]`` without the capability)."""
    if not op.capability().multipart:
        return []
    return [u.path async for u in op.list_multipart_uploads("")]
