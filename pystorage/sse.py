"""Server-side encryption specs.

Give one to :class:`~pystorage.layers.ServerSideEncryptionLayer` or as a
service's config. A service that cannot honour a spec raises
:class:`~pystorage.errors.Unsupported` before any request: pystorage never
writes plaintext when encryption was asked for.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from .errors import ConfigInvalid

__all__ = ["CustomerKey", "Kms", "S3Managed", "SseSpec"]


@dataclasses.dataclass(frozen=True, slots=True)
class S3Managed:
    """SSE-S3: the service manages the key (``AES256``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Kms:
    """SSE-KMS on S3 (``aws:kms``), CMEK (``kmsKeyName``) on GCS.

    Args:
        key_id: the KMS key; ``None`` uses the service's default key.
        context: the S3 encryption context (a JSON-able mapping).
        bucket_key: S3 Bucket Key on or off; ``None`` leaves the bucket default.
    """

    key_id: str | None = None
    context: dict[str, str] | None = None
    bucket_key: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerKey:
    """SSE-C on S3, CSEK on GCS: the caller holds the 32-byte key.

    The key is sent with every request that touches the object and never
    appears in ``repr``, logs or errors. Losing it loses the data.
    """

    key: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, (bytes, bytearray)) or len(self.key) != 32:
            raise ConfigInvalid("CustomerKey.key must be exactly 32 bytes")

    @property
    def key_b64(self) -> str:
        """The key, base64-encoded (for headers)."""
        return base64.b64encode(self.key).decode()

    @property
    def key_md5_b64(self) -> str:
        """Base64 MD5 of the key (S3's ``...-customer-key-MD5``)."""
        return base64.b64encode(hashlib.md5(self.key, usedforsecurity=False).digest()).decode()

    @property
    def key_sha256_b64(self) -> str:
        """Base64 SHA-256 of the key (GCS's ``x-goog-encryption-key-sha256``)."""
        return base64.b64encode(hashlib.sha256(self.key).digest()).decode()

    def __repr__(self) -> str:
        return "CustomerKey(key=<redacted>)"


SseSpec = S3Managed | Kms | CustomerKey
"""Any server-side encryption spec."""
