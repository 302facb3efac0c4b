"""Object metadata of the gcs driver: from JSON API resources and from media headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...raw.dates import parse_http_date, parse_rfc3339
from ...raw.etags import strip_etag
from ...raw.http import parse_content_range, prefixed_headers
from ...types import EncryptionInfo, EntryMode, Metadata

__all__ = ["goog_hash", "metadata_from_headers", "metadata_from_resource"]


def _encryption(resource: Mapping[str, Any]) -> EncryptionInfo | None:
    kms = resource.get("kmsKeyName")
    if kms:
        return EncryptionInfo("CMEK", kms_key_id=str(kms))
    customer = resource.get("customerEncryption")
    if isinstance(customer, Mapping):
        return EncryptionInfo("CSEK", customer_key_md5=customer.get("keySha256"))
    return None


def metadata_from_resource(resource: Mapping[str, Any]) -> Metadata:
    """A :class:`~pystorage.types.Metadata` from a JSON API object resource.

    Called once per listed object: the fields read are looked up once each,
    and the encryption fields only when present.
    """
    get = resource.get
    name = get("name") or ""
    user = get("metadata")
    size = get("size")
    generation = get("generation")
    return Metadata(
        mode=EntryMode.DIR if name.endswith("/") else EntryMode.FILE,
        content_length=int(size) if size is not None else None,
        content_type=get("contentType"),
        content_md5=get("md5Hash"),
        etag=strip_etag(get("etag")),
        last_modified=parse_rfc3339(get("updated") or get("timeCreated")),
        version=str(generation) if generation is not None else None,
        cache_control=get("cacheControl"),
        content_disposition=get("contentDisposition"),
        content_encoding=get("contentEncoding"),
        user_metadata={str(k): str(v) for k, v in user.items()} if user and isinstance(user, dict) else None,
        encryption=_encryption(resource)
        if "kmsKeyName" in resource or "customerEncryption" in resource
        else None,
    )


def goog_hash(value: str | None, algorithm: str) -> str | None:
    """The base64 digest of ``algorithm`` (``crc32c``, ``md5``) in an
    ``X-Goog-Hash: crc32c=...,md5=...`` header value, or ``None``."""
    for item in (value or "").split(","):
        name, sep, digest = item.strip().partition("=")
        if sep and name.lower() == algorithm and digest:
            return digest
    return None


def metadata_from_headers(headers: Mapping[str, str]) -> Metadata:
    """A :class:`~pystorage.types.Metadata` from a media download's headers
    (``content_length`` is the whole object's size)."""
    length: int | None = None
    content_range = headers.get("Content-Range")
    if content_range:
        parsed = parse_content_range(content_range)
        if parsed is not None:
            length = parsed[2]
    elif headers.get("Content-Length") is not None:
        length = int(headers["Content-Length"])
    user = prefixed_headers(headers, "x-goog-meta-")
    stored = headers.get("X-Goog-Stored-Content-Encoding") or headers.get("Content-Encoding")
    return Metadata(
        mode=EntryMode.FILE,
        content_length=length,
        content_type=headers.get("Content-Type"),
        etag=strip_etag(headers.get("ETag")),
        last_modified=parse_http_date(headers.get("Last-Modified")),
        version=headers.get("X-Goog-Generation"),
        cache_control=headers.get("Cache-Control"),
        content_disposition=headers.get("Content-Disposition"),
        content_encoding=None if stored in (None, "identity") else stored,
        user_metadata=user or None,
    )
