"""The answers of the blob service, parsed: blob headers, List Blobs and Blob Batch."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

from ...errors import Unexpected
from ...raw.dates import parse_http_date
from ...raw.etags import quote_etag
from ...raw.http import metadata_from_headers as raw_metadata
from ...types import EncryptionInfo, EntryMode, Metadata
from .errors import SCHEME, AzureErrorAnswer

__all__ = [
    "BatchResult",
    "ListPage",
    "metadata_from_headers",
    "parse_batch",
    "parse_list_blobs",
]

_META = "x-ms-meta-"


def _encryption(headers: Mapping[str, str]) -> EncryptionInfo | None:
    sha = headers.get("x-ms-encryption-key-sha256")
    if sha:
        return EncryptionInfo("SSE-C", customer_key_md5=sha)
    scope = headers.get("x-ms-encryption-scope")
    if scope:
        return EncryptionInfo("CMEK", kms_key_id=scope)
    encrypted = headers.get("x-ms-server-encrypted") or headers.get("x-ms-request-server-encrypted")
    if encrypted and encrypted.lower() == "true":
        return EncryptionInfo("AES256")
    return None


def metadata_from_headers(headers: Mapping[str, str], *, mode: EntryMode = EntryMode.FILE) -> Metadata:
    """The :class:`Metadata` of a Get Blob / Get Blob Properties / Put Blob answer
    (``content_length`` is the answer's; the caller fixes it for ranged reads)."""
    return raw_metadata(
        headers,
        mode=mode,
        meta_prefix=_META,
        version=headers.get("x-ms-version-id"),
        content_md5=headers.get("content-md5") or headers.get("x-ms-blob-content-md5"),
        encryption=_encryption(headers),
    )


class ListPage:
    """One page of List Blobs: ``blobs`` (name → :class:`Metadata`, in order,
    with ``version``), ``prefixes`` and ``next_marker`` (``None`` on the last page)."""

    def __init__(self) -> None:
        self.blobs: list[tuple[str, Metadata, bool]] = []  # (name, metadata, is current version)
        self.prefixes: list[str] = []
        self.next_marker: str | None = None


def _name(element: ET.Element | None) -> str:
    if element is None:
        return ""
    text = element.text or ""
    return unquote(text) if element.get("Encoded") == "true" else text


_PROPERTY_FIELDS = {
    "Content-Type": "content_type",
    "Content-Encoding": "content_encoding",
    "Content-MD5": "content_md5",
    "Cache-Control": "cache_control",
    "Content-Disposition": "content_disposition",
}


def parse_list_blobs(payload: bytes) -> ListPage:
    """Parse a List Blobs answer.

    Raises:
        Unexpected: the body is not a List Blobs answer (temporary).
    """
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        raise Unexpected("the List Blobs answer is not XML", service=SCHEME, temporary=True) from exc
    if root.tag != "EnumerationResults":
        raise Unexpected("the List Blobs answer is not an EnumerationResults", service=SCHEME, temporary=True)
    page = ListPage()
    blobs = root.find("Blobs")
    for child in blobs if blobs is not None else ():
        if child.tag == "BlobPrefix":
            page.prefixes.append(_name(child.find("Name")))
        elif child.tag == "Blob":
            meta = Metadata()
            props = child.find("Properties")
            if props is not None:
                for prop in props:
                    text = prop.text or ""
                    tag = prop.tag
                    if tag == "Content-Length":
                        meta.content_length = int(text or 0)
                    elif tag == "Etag":
                        meta.etag = quote_etag(text)
                    elif tag == "Last-Modified":
                        meta.last_modified = parse_http_date(text)
                    elif tag in _PROPERTY_FIELDS and text:
                        setattr(meta, _PROPERTY_FIELDS[tag], text)
            user = child.find("Metadata")
            if user is not None and len(user):
                meta.user_metadata = {item.tag.lower(): item.text or "" for item in user}
            version = child.findtext("VersionId")
            meta.version = version or None
            # with versions listed, only the current one says IsCurrentVersion=true
            current = not version or (child.findtext("IsCurrentVersion") or "").lower() == "true"
            page.blobs.append((_name(child.find("Name")), meta, current))
    page.next_marker = root.findtext("NextMarker") or None
    return page


class BatchResult:
    """The answer to one sub-request of a Blob Batch: the key, status and error code."""

    def __init__(self, key: str, status: int, code: str) -> None:
        self.key, self.status, self.code = key, status, code


_STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3})")
_CONTENT_ID = re.compile(rb"(?im)^content-id:\s*(\d+)\s*$")
_ERROR_CODE = re.compile(rb"(?im)^x-ms-error-code:\s*(\S+)\s*$")


def parse_batch(payload: bytes, content_type: str, keys: Sequence[str]) -> list[BatchResult]:
    """The per-key results of a Blob Batch answer, in the order of ``keys``.

    Raises:
        AzureErrorAnswer: the batch was refused as a whole.
        Unexpected: the answer cannot be parsed (temporary).
    """
    match = re.search(r"boundary=([^;\s]+)", content_type)
    if match is None:
        raise Unexpected("the Blob Batch answer has no multipart boundary", service=SCHEME, temporary=True)
    delimiter = b"--" + match.group(1).strip('"').encode()
    results: dict[int, BatchResult] = {}
    for chunk in payload.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        status = _STATUS_LINE.search(chunk)
        index = _CONTENT_ID.search(chunk)
        if status is None or index is None:
            continue
        number = int(index.group(1))
        if not 0 <= number < len(keys):
            continue
        code = _ERROR_CODE.search(chunk)
        results[number] = BatchResult(
            keys[number], int(status.group(1)), code.group(1).decode() if code else ""
        )
    if len(results) != len(keys):
        # a batch refused as a whole answers one part without a Content-ID
        whole = _STATUS_LINE.search(payload)
        if whole is not None and not results and int(whole.group(1)) >= 400:
            code = _ERROR_CODE.search(payload)
            raise AzureErrorAnswer(int(whole.group(1)), code.group(1).decode() if code else "", "", {})
        raise Unexpected(
            f"the Blob Batch answer has {len(results)} results for {len(keys)} deletes",
            service=SCHEME,
            temporary=True,
        )
    return [results[i] for i in range(len(keys))]
