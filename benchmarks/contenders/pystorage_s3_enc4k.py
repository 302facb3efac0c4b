"""pystorage's S3 service through ``EncryptionLayer`` with 4 KiB segments (ranged reads)."""

from __future__ import annotations

from .pystorage_s3_enc import CONTENDER_4KB as CONTENDER

__all__ = ["CONTENDER"]
