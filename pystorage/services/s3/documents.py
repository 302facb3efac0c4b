"""The XML documents of the S3 API: the answers the driver reads and the two request bodies it sends.

Answers are read by targeted scanning of the decoded text, not by building
an element tree: an S3 answer is a flat document of known elements whose
text holds no ``<`` (XML escapes it), so ``<Key>`` … ``</`` is the element's
text, and a listing's ``<Contents>`` blocks are found by splitting on the tag.
Only the elements the driver uses are looked at (a ListObjectsV2 entry:
``Key``, ``Size``, ``ETag``, ``LastModified``), entities are decoded only in
a value holding ``&``, and each distinct ``LastModified`` text is parsed once
per page. That is about a third of the CPU of ``ElementTree.fromstring`` alone.

Every parser checks the document's root element and that the document is
complete (it ends with the root's closing tag): an HTML page, a foreign or a
truncated document raises :class:`~pystorage.services.s3.errors.MalformedAnswer`,
never passing for an empty result.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import unquote, unquote_plus
from xml.sax.saxutils import escape

from ...types import Part
from .errors import MalformedAnswer

__all__ = [
    "ListPage",
    "PartRecord",
    "UploadRecord",
    "blocks",
    "complete_body",
    "delete_body",
    "delete_errors",
    "document",
    "field",
    "parse_iso",
    "parse_list_parts",
    "parse_list_uploads",
    "parse_listing",
]

_UTC = dt.timezone.utc
_ROOT = re.compile(r"<([A-Za-z][^\s/>]*)")
_STRICT = frozenset({"ListBucketResult", "ListVersionsResult"})
_CHECKSUMS = ("ChecksumCRC32C", "ChecksumCRC32", "ChecksumSHA1", "ChecksumSHA256")


def document(body: bytes, *roots: str) -> tuple[str, str]:
    """``(root element name, text)`` of a complete XML answer whose root is one of ``roots``.

    Only the listings' roots are enforced (every S3-compatible names them as AWS
    does); other answers are read under any root but an HTML page, as botocore
    reads them (moto answers ListParts with a ``ListPartsResponse``).

    Raises:
        MalformedAnswer: not UTF-8, another root element, or a document cut short.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise MalformedAnswer(f"the answer is not UTF-8 text ({exc})") from exc
    match = _ROOT.search(text)
    root = match.group(1) if match else ""
    if root not in roots and (not root or root.lower() == "html" or roots[0] in _STRICT):
        shown = f"a {root!r} document" if root else "not XML"
        raise MalformedAnswer(f"the answer is {shown}, not {' or '.join(roots)}")
    assert match is not None
    closed = text.find(">", match.end())
    empty_root = closed > 0 and text[closed - 1] == "/"  # <DeleteResult xmlns="…"/>
    if not empty_root and not text.rstrip().endswith(f"</{root}>"):
        raise MalformedAnswer(f"the {root} document is cut short")
    return root, text


def field(text: str, tag: str) -> str | None:
    """The text of the first ``<tag>`` element in ``text`` (entities decoded;
    ``""`` for an empty element), or ``None`` when there is none."""
    opening = f"<{tag}>"
    start = text.find(opening)
    if start < 0:
        return "" if f"<{tag}/>" in text else None
    start += len(opening)
    value = text[start : text.find("</", start)]
    return html.unescape(value) if "&" in value else value


def blocks(text: str, tag: str) -> list[str]:
    """The content of every ``<tag>`` … ``</tag>`` element in ``text`` (not nested in itself).

    Raises:
        MalformedAnswer: an element is not closed.
    """
    closing = f"</{tag}>"
    out = []
    for piece in text.split(f"<{tag}>")[1:]:
        end = piece.find(closing)
        if end < 0:
            raise MalformedAnswer(f"an unclosed <{tag}> element")
        out.append(piece[:end])
    return out


def _flag(text: str, tag: str) -> bool:
    return (field(text, tag) or "").strip().lower() == "true"


def parse_iso(value: str | None, cache: dict[str, dt.datetime | None] | None = None) -> dt.datetime | None:
    """An aware UTC datetime of an ISO 8601 timestamp (``2026-11-23T07:31:10.000Z``),
    or ``None``; ``cache`` remembers each text parsed (objects written together share one)."""
    if not value:
        return None
    if cache is not None and value in cache:
        return cache[value]
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        when = None
    else:
        when = parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)
    if cache is not None:
        cache[value] = when
    return when


def _url_decoded(text: str) -> str:
    """``unquote_plus(text)``, ten times cheaper for the usual listed key, whose
    only escapes are ``/`` (``%2F``): in valid percent-encoding every ``%``
    starts an escape, so replacing those first cannot change the result."""
    if "+" in text:
        return unquote_plus(text)
    plain = text.replace("%2F", "/")
    return plain if "%" not in plain else unquote(plain)


class ListPage:
    """One page of ListObjectsV2 or ListObjectVersions, keys decoded.

    Attributes:
        files: ``(key, size, etag, last_modified, version)`` of each object (or
            version; delete markers are not listed), ``etag`` as sent.
        prefixes: the CommonPrefixes.
        truncated: ``IsTruncated``.
        token: ``NextContinuationToken`` (ListObjectsV2) or ``NextKeyMarker`` (versions).
        version_marker: ``NextVersionIdMarker`` (versions).
    """

    __slots__ = ("files", "prefixes", "token", "truncated", "version_marker")

    def __init__(self) -> None:
        self.files: list[tuple[str, int | None, str | None, dt.datetime | None, str | None]] = []
        self.prefixes: list[str] = []
        self.truncated = False
        self.token: str | None = None
        self.version_marker: str | None = None


def parse_listing(body: bytes, *, versions: bool = False) -> ListPage:
    """A ListObjectsV2 answer (``ListBucketResult``), or with ``versions`` a
    ListObjectVersions one (``ListVersionsResult``; ``Version`` entries, with
    ``VersionId``). Keys sent URL-encoded (``encoding-type=url``) are decoded."""
    _, text = document(body, "ListVersionsResult" if versions else "ListBucketResult")
    page = ListPage()
    page.truncated = _flag(text, "IsTruncated")
    decode = (field(text, "EncodingType") or "").strip().lower() == "url"
    if versions:
        page.token = field(text, "NextKeyMarker")
        page.version_marker = field(text, "NextVersionIdMarker")
    else:
        page.token = field(text, "NextContinuationToken")
    if decode and versions and page.token:
        page.token = _url_decoded(page.token)  # a key (the continuation token is opaque)
    dates: dict[str, dt.datetime | None] = {}
    append = page.files.append
    find = str.find
    try:
        for item in blocks(text, "Version" if versions else "Contents"):
            # the four elements every entry has, read inline (this loop is the listing's CPU per key)
            start = find(item, "<Key>") + 5
            key = item[start : find(item, "</", start)]
            if "&" in key:
                key = html.unescape(key)
            if decode and ("%" in key or "+" in key):
                key = _url_decoded(key)
            start = find(item, "<Size>")
            size = int(item[start + 6 : find(item, "</", start)]) if start >= 0 else None
            start = find(item, "<ETag>")
            etag = item[start + 6 : find(item, "</", start)] if start >= 0 else None
            if etag is not None and "&" in etag:
                # the quotes of an ETag come escaped (rclone ``&#34;``, AWS ``&quot;``)
                etag = etag.replace("&#34;", '"').replace("&quot;", '"')
                if "&" in etag:
                    etag = html.unescape(etag)
            start = find(item, "<LastModified>")
            when = None
            if start >= 0:
                modified = item[start + 14 : find(item, "</", start)]
                when = dates[modified] if modified in dates else parse_iso(modified, dates)
            append((key, size, etag, when, field(item, "VersionId") if versions else None))
    except ValueError as exc:  # a Size that is not a number
        raise MalformedAnswer(f"a listing entry is malformed ({exc})") from exc
    for item in blocks(text, "CommonPrefixes"):
        prefix = field(item, "Prefix")
        if prefix:
            page.prefixes.append(_url_decoded(prefix) if decode else prefix)
    return page


class PartRecord:
    """One part of a ListParts answer: ``number``, ``etag``, ``size`` and
    ``checksums`` (``{"ChecksumCRC32C": …}``, the fields present)."""

    __slots__ = ("checksums", "etag", "number", "size")

    def __init__(self, number: int, etag: str | None, size: int, checksums: dict[str, str]) -> None:
        self.number, self.etag, self.size, self.checksums = number, etag, size, checksums


def parse_list_parts(body: bytes) -> tuple[list[PartRecord], bool, str | None]:
    """``(parts, truncated, NextPartNumberMarker)`` of a ListParts answer."""
    _, text = document(body, "ListPartsResult")
    parts = []
    try:
        for item in blocks(text, "Part"):
            checksums = {name: value for name in _CHECKSUMS if (value := field(item, name))}
            size = field(item, "Size")
            parts.append(
                PartRecord(
                    int(field(item, "PartNumber") or 0), field(item, "ETag"), int(size or 0), checksums
                )
            )
    except ValueError as exc:
        raise MalformedAnswer(f"a ListParts entry is malformed ({exc})") from exc
    return parts, _flag(text, "IsTruncated"), field(text, "NextPartNumberMarker")


class UploadRecord:
    """One upload of a ListMultipartUploads answer."""

    __slots__ = ("initiated", "key", "upload_id")

    def __init__(self, key: str, upload_id: str, initiated: dt.datetime | None) -> None:
        self.key, self.upload_id, self.initiated = key, upload_id, initiated


def parse_list_uploads(body: bytes) -> tuple[list[UploadRecord], bool, str | None, str | None]:
    """``(uploads, truncated, NextKeyMarker, NextUploadIdMarker)`` of a ListMultipartUploads answer."""
    _, text = document(body, "ListMultipartUploadsResult")
    uploads = [
        UploadRecord(
            field(item, "Key") or "", field(item, "UploadId") or "", parse_iso(field(item, "Initiated"))
        )
        for item in blocks(text, "Upload")
    ]
    return (
        uploads,
        _flag(text, "IsTruncated"),
        field(text, "NextKeyMarker"),
        field(text, "NextUploadIdMarker"),
    )


def delete_errors(body: bytes) -> list[tuple[str, str, str]]:
    """``(key, code, message)`` of each key a DeleteObjects answer could not delete
    (an empty answer, which some S3-compatibles give in quiet mode, reports none)."""
    if not body.strip():
        return []
    _, text = document(body, "DeleteResult")
    return [
        (field(item, "Key") or "", field(item, "Code") or "", field(item, "Message") or "")
        for item in blocks(text, "Error")
    ]


def complete_body(parts: Sequence[Part], checksums: dict[int, dict[str, str]] | None) -> bytes:
    """The CompleteMultipartUpload request body (each part's number, etag and,
    when given, its ``Checksum*`` fields)."""
    out = ["<CompleteMultipartUpload>"]
    for part in parts:
        out.append(f"<Part><PartNumber>{part.number}</PartNumber><ETag>{escape(part.etag)}</ETag>")
        for name, value in (checksums or {}).get(part.number, {}).items():
            out.append(f"<{name}>{escape(value)}</{name}>")
        out.append("</Part>")
    out.append("</CompleteMultipartUpload>")
    return "".join(out).encode()


def delete_body(keys: Iterable[str]) -> bytes:
    """The DeleteObjects request body, in quiet mode (only failures are answered)."""
    objects = "".join(f"<Object><Key>{escape(key)}</Key></Object>" for key in keys)
    return f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()
