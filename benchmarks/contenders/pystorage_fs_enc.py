"""pystorage's fs service through ``EncryptionLayer`` (1 MiB segments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ._encrypted import EncryptedContender
from .pystorage_fs import PystorageFs

__all__ = ["CONTENDER", "PystorageFsEncrypted"]


class PystorageFsEncrypted(EncryptedContender, PystorageFs):
    """``Operator("fs", root=...).layer(EncryptionLayer(keyset))``: AES256_GCM_HKDF_1MB."""

    name = "pystorage_fs_enc"
    label = "pystorage Operator('fs') + EncryptionLayer (1 MiB segments)"
    unsupported: ClassVar[Mapping[str, str]] = {
        "small_get": "the seeded small files are plaintext; see the put/get workloads"
    }


CONTENDER = PystorageFsEncrypted
