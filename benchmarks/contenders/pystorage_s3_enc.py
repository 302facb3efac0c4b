"""pystorage's S3 service through ``EncryptionLayer`` (1 MiB segments, and 4 KiB for ranged reads)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ._encrypted import EncryptedContender
from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "CONTENDER_4KB", "PystorageS3Encrypted", "PystorageS3Encrypted4KB"]

_SMALL = "the seeded small objects are plaintext; see the put/get workloads"


class PystorageS3Encrypted(EncryptedContender, PystorageS3):
    """``Operator("s3", ...).layer(EncryptionLayer(keyset))``: AES256_GCM_HKDF_1MB."""

    name = "pystorage_s3_enc"
    label = "pystorage Operator('s3') + EncryptionLayer (1 MiB segments)"
    unsupported: ClassVar[Mapping[str, str]] = {"small_get": _SMALL}


class PystorageS3Encrypted4KB(EncryptedContender, PystorageS3):
    """The same with AES256_GCM_HKDF_4KB, measured on ranged reads only."""

    name = "pystorage_s3_enc4k"
    label = "pystorage Operator('s3') + EncryptionLayer (4 KiB segments)"
    segment_size = 4096
    unsupported: ClassVar[Mapping[str, str]] = {
        kind: "4 KiB segments are measured on ranged reads only"
        for kind in ("get_bytes", "get_stream", "put_buffer", "put_stream", "small_put", "small_get",
                     "small_delete", "list")
    }  # fmt: skip


CONTENDER = PystorageS3Encrypted
CONTENDER_4KB = PystorageS3Encrypted4KB
