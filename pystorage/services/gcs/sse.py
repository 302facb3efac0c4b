"""Server-side encryption on GCS: CMEK and CSEK, and what each request kind carries.

Everything here is pure (no I/O). How the specs map:

* :class:`~pystorage.sse.S3Managed` — GCS always encrypts at rest with
  Google-managed keys, which is what SSE-S3 asks for: accepted, and nothing
  is sent (``write_with_sse_s3`` is declared).
* :class:`~pystorage.sse.Kms` — CMEK: the Cloud KMS key name
  (``projects/P/locations/L/keyRings/R/cryptoKeys/K``) goes out as
  ``kmsKeyName`` on uploads and compose and as ``destinationKmsKeyName`` on
  rewrite. ``Kms(key_id=None)`` is refused (``ConfigInvalid``): GCS would
  silently fall back to Google-managed keys when the bucket has no default
  KMS key. ``context`` (an S3 encryption context) has no GCS equivalent and
  is refused with ``Unsupported``; ``bucket_key`` (an S3 cost setting) is
  ignored.
* :class:`~pystorage.sse.CustomerKey` — CSEK: ``x-goog-encryption-algorithm:
  AES256``, ``x-goog-encryption-key`` and ``x-goog-encryption-key-sha256`` on
  every request that touches an object's data or metadata, plus
  ``x-goog-copy-source-encryption-*`` on the source side of a rewrite.

========================  ==============================  ==================================
request kind              CMEK (query parameter)          CSEK (headers)
========================  ==============================  ==================================
``insert``                ``kmsKeyName``                  yes
``resumable_start``       ``kmsKeyName``                  yes
``resumable_chunk``       —                               yes, on every chunk
``get_media``             —                               yes
``get_metadata``          —                               yes
``rewrite``               ``destinationKmsKeyName``       yes, and ``x-goog-copy-source-...``
``compose``               ``kmsKeyName``                  yes (sources and destination)
``presign``               — (not signable)                yes, signed; the caller sends them
========================  ==============================  ==================================
"""

from __future__ import annotations

import hmac
import typing
from typing import Literal

from ...errors import ConfigInvalid, Unsupported
from ...raw.config import customer_key_from_config, invalid_key
from ...raw.redact import RedactedHeaders
from ...sse import CustomerKey, Kms, SseSpec

__all__ = [
    "KINDS",
    "RedactedHeaders",
    "RequestKind",
    "check_spec",
    "spec_from_config",
    "sse_headers",
    "sse_params",
]

RequestKind = Literal[
    "insert",
    "resumable_start",
    "resumable_chunk",
    "get_media",
    "get_metadata",
    "rewrite",
    "compose",
    "presign",
]
"""The GCS requests that take encryption settings."""

#: every :data:`RequestKind`
KINDS: tuple[RequestKind, ...] = typing.get_args(RequestKind)

_KMS_PARAM: dict[str, str] = {
    "insert": "kmsKeyName",
    "resumable_start": "kmsKeyName",
    "compose": "kmsKeyName",
    "rewrite": "destinationKmsKeyName",
}





def check_spec(spec: SseSpec | None, *, operation: str = "", path: str = "") -> None:
    """Refuse what GCS cannot honour, before any request.

    Raises:
        ConfigInvalid: ``Kms`` without a ``key_id``.
        Unsupported: ``Kms`` with an S3 encryption ``context``.
    """
    if isinstance(spec, Kms):
        if not spec.key_id:
            raise ConfigInvalid(
                "GCS CMEK needs a key: Kms(key_id='projects/P/locations/L/keyRings/R/cryptoKeys/K')",
                operation=operation, path=path, service="gcs",
            )
        if spec.context is not None:
            raise Unsupported(
                "GCS has no KMS encryption context (Kms.context); refusing to write without it",
                operation=operation, path=path, service="gcs",
            )


def sse_params(spec: SseSpec | None, kind: RequestKind) -> dict[str, str]:
    """The query parameters of ``spec`` for one request (CMEK only).

    Raises:
        ConfigInvalid / Unsupported: see :func:`check_spec`.
    """
    if kind not in KINDS:
        raise ValueError(f"not a GCS request kind: {kind!r}")
    check_spec(spec)
    if isinstance(spec, Kms) and kind in _KMS_PARAM:
        assert spec.key_id is not None
        return {_KMS_PARAM[kind]: spec.key_id}
    return {}


def _customer(spec: CustomerKey, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-algorithm": "AES256",
        f"{prefix}-key": spec.key_b64,
        f"{prefix}-key-sha256": spec.key_sha256_b64,
    }


def sse_headers(spec: SseSpec | None, kind: RequestKind) -> RedactedHeaders:
    """The HTTP headers of ``spec`` for one request (CSEK only).

    Returns:
        A :class:`RedactedHeaders` (its ``repr`` hides the key); empty for
        ``None``, ``S3Managed`` and ``Kms``.
    """
    if kind not in KINDS:
        raise ValueError(f"not a GCS request kind: {kind!r}")
    headers = RedactedHeaders()
    if isinstance(spec, CustomerKey):
        headers.update(_customer(spec, "x-goog-encryption"))
        if kind == "rewrite":
            headers.update(_customer(spec, "x-goog-copy-source-encryption"))
    return headers


# config ---------------------------------------------------------------------------------------------

_C_KEY = "server_side_encryption_customer_key"
_C_ALGORITHM = "server_side_encryption_customer_algorithm"
_C_SHA256 = "server_side_encryption_customer_key_sha256"
_KMS = "kms_key_name"


def _invalid(key: str, why: str) -> ConfigInvalid:
    return invalid_key("gcs", key, why)


def spec_from_config(
    *,
    kms_key_name: str | None = None,
    customer_key: str | None = None,
    customer_algorithm: str | None = None,
    customer_key_sha256: str | None = None,
) -> SseSpec | None:
    """The spec of the gcs encryption config keys.

    Args:
        kms_key_name: CMEK: the Cloud KMS key name.
        customer_key: CSEK: the base64 of a 32-byte key (secret).
        customer_algorithm: ``"AES256"`` (the only one; implied by a key).
        customer_key_sha256: the base64 SHA-256 of the key; checked when given.

    Returns:
        ``Kms(key_id=kms_key_name)``, ``CustomerKey(...)`` or ``None``.

    Raises:
        ConfigInvalid: an invalid value or combination, naming the key.
    """
    if customer_key is None:
        for name, value in ((_C_ALGORITHM, customer_algorithm), (_C_SHA256, customer_key_sha256)):
            if value is not None:
                raise _invalid(name, f"needs {_C_KEY!r}")
        if kms_key_name is not None:
            if not kms_key_name.strip():
                raise _invalid(_KMS, "must not be empty")
            return Kms(key_id=kms_key_name)
        return None
    if kms_key_name is not None:
        raise _invalid(_C_KEY, f"cannot be combined with {_KMS!r} (an object has one encryption)")
    if customer_algorithm is not None and customer_algorithm != "AES256":
        raise _invalid(_C_ALGORITHM, f'must be "AES256", got {customer_algorithm!r}')
    spec = customer_key_from_config("gcs", customer_key, _C_KEY)
    if customer_key_sha256 is not None and not hmac.compare_digest(
        customer_key_sha256.strip(), spec.key_sha256_b64
    ):
        raise _invalid(_C_SHA256, "does not match the SHA-256 of the customer key")
    return spec
