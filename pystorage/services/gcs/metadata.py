"""Object metadata of the gcs driver: from JSON API resources and from media headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...raw.dates import parse_http_date, parse_rfc3339
from ...raw.etags import strip_etag
from ...raw.http import parse_content_range, prefixed_headers
from ...types import EncryptionInfo, EntryMode, Metadata, new_metadata

__all__ = ["goog_hash", "metadata_from_headers", "metadata_from_resource"]

_FILE, _DIR = EntryMode.FILE, EntryMode.DIR
_USER_PREFIX = "x-goog-meta-"


#: the last ``Last-Modified`` value parsed and its datetime (the answers of one
#: object repeat it: a ranged read's requests, a stream's re-requests)
_last_date: tuple[str | None, dt.datetime | None] = (None, None)


def _http_date(value: str | None) -> dt.datetime | None:
    global _last_date
    last = _last_date
    if value == last[0]:
        return last[1]
    parsed = parse_http_date(value)
    _last_date = (value, parsed)
    return parsed


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
    return new_metadata(
        _DIR if name.endswith("/") else _FILE,
        int(size) if size is not None else None,
        strip_etag(get("etag")),
        parse_rfc3339(get("updated") or get("timeCreated")),
        get("contentType"),
        get("md5Hash"),
        str(generation) if generation is not None else None,
        get("cacheControl"),
        get("contentDisposition"),
        get("contentEncoding"),
        {str(k): str(v) for k, v in user.items()} if user and isinstance(user, dict) else None,
        _encryption(resource) if "kmsKeyName" in resource or "customerEncryption" in resource else None,
    )


def goog_hash(value: str | None, algorithm: str) -> str | None:
    """The base64 digest of ``algorithm`` (``crc32c``, ``md5``) in an
    ``X-Goog-Hash: crc32c=...,md5=...`` header value, or ``None``."""
    for item in (value or "").split(","):
        name, sep, digest = item.strip().partition("=")
        if sep and name.lower() == algorithm and digest:
            return digest
    return None


def metadata_from_headers(headers: Mapping[str, str], *, total: int | None = None) -> Metadata:
    """A :class:`~pystorage.types.Metadata` from a media download's headers
    (``content_length`` is the whole object's size: ``total`` when the caller
    has already read it from the ``Content-Range``, else from the headers)."""
    get = headers.get
    length = total
    if length is None:
        content_range = get("Content-Range")
        if content_range:
            parsed = parse_content_range(content_range)
            if parsed is not None:
                length = parsed[2]
        else:
            size = get("Content-Length")
            if size is not None:
                length = int(size)
    # user metadata: the names are scanned as one string first (most answers have none)
    user = prefixed_headers(headers, _USER_PREFIX) if _USER_PREFIX in "|".join(headers).lower() else None
    stored = get("X-Goog-Stored-Content-Encoding") or get("Content-Encoding")
    return new_metadata(
        _FILE,
        length,
        strip_etag(get("ETag")),
        _http_date(get("Last-Modified")),
        get("Content-Type"),
        None,
        get("X-Goog-Generation"),
        get("Cache-Control"),
        get("Content-Disposition"),
        None if stored in (None, "identity") else stored,
        user or None,
        None,
    )
