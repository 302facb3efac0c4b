"""pystorage: one async API over every storage service.

Example::

    from pystorage import Operator
    from pystorage.layers import RetryLayer

    op = Operator("fs", root="/srv/data").layer(RetryLayer())
    async with op:
        await op.write("hello.txt", b"hi")
        data = await op.read("hello.txt", offset=0, size=2)
        async for entry in op.list("/"):
            print(entry.path, entry.metadata.content_length)
"""

from __future__ import annotations

from . import errors, sse
from ._blocking import BlockingFile, BlockingOperator
from ._multipart import MultipartUpload
from ._operator import Operator, Progress
from ._reader import AsyncReader
from ._writer import AsyncWriter
from .types import (
    Capability,
    EncryptionInfo,
    Entry,
    EntryMode,
    Metadata,
    OperatorInfo,
    Part,
    PresignedRequest,
    UploadInfo,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncReader",
    "AsyncWriter",
    "BlockingFile",
    "BlockingOperator",
    "Capability",
    "EncryptionInfo",
    "Entry",
    "EntryMode",
    "Metadata",
    "MultipartUpload",
    "Operator",
    "OperatorInfo",
    "Part",
    "PresignedRequest",
    "Progress",
    "UploadInfo",
    "errors",
    "sse",
]
