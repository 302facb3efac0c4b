"""The request builder: each S3 API call the driver makes, as method, key, query and headers.

Pure (no I/O): :class:`Requests` turns the option dataclasses into an
:class:`S3Request`, which :class:`~pystorage.services.s3.http.S3Http` signs
and sends. Every header name is lower case; every value is the wire text.

Checksums are computed here, over the body, for every ``checksum_algorithm``
(``crc32c`` and ``md5`` by :mod:`pystorage.raw.checksum`, ``crc32`` by
:mod:`zlib`, ``sha1`` / ``sha256`` by :mod:`hashlib`) and sent as a header
(``x-amz-checksum-<name>``, or ``content-md5``); a multipart upload declares
the algorithm at its creation (``x-amz-checksum-algorithm``). No header is
sent that buys nothing: no ``user-agent`` beyond aiohttp's, no ``expect``,
no ``content-type`` unless the caller set one, no trailers.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from ...raw.accessor import Buffer
from ...raw.checksum import crc32c_b64, md5_b64
from ...raw.http import content_headers, read_condition_headers, write_condition_headers
from ...raw.ops import OpCopy, OpRead, OpStat, OpWrite
from ...sse import SseSpec
from ...types import Part
from .config import S3Config
from .documents import complete_body, delete_body
from .sse import RequestKind, sse_headers

__all__ = ["Requests", "S3Request", "checksum_header"]


class S3Request:
    """One S3 request before signing: ``key`` is the object key (``""``: the bucket)."""

    __slots__ = ("body", "headers", "key", "method", "query")

    def __init__(
        self,
        method: str,
        key: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Buffer | None = None,
    ) -> None:
        self.method, self.key, self.body = method, key, body
        self.query = query
        self.headers: dict[str, str] = headers if headers is not None else {}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def checksum_header(algorithm: str | None, body: Buffer) -> dict[str, str]:
    """The checksum header of ``body`` for ``algorithm`` (``{}`` for ``None``)."""
    if algorithm is None:
        return {}
    if algorithm == "md5":
        return {"content-md5": md5_b64(body)}
    if algorithm == "crc32c":
        value = crc32c_b64(body)
    elif algorithm == "crc32":
        value = _b64(zlib.crc32(body).to_bytes(4, "big"))
    else:
        value = _b64(hashlib.new(algorithm, body).digest())
    return {f"x-amz-checksum-{algorithm}": value}


def _given(**values: str | int | None) -> dict[str, str]:
    return {name.replace("_", "-"): str(value) for name, value in values.items() if value is not None}


class Requests:
    """Builds the requests of one bucket's accessor.

    Args:
        config: the service config (storage class, checksum algorithm, bucket).
    """

    def __init__(self, config: S3Config) -> None:
        assert config.bucket is not None
        self._bucket = config.bucket
        self._checksum = config.checksum_algorithm
        self._storage_class = config.default_storage_class

    # parts of requests ---------------------------------------------------------------
    @staticmethod
    def sse(spec: SseSpec | None, kind: RequestKind) -> dict[str, str]:
        """The encryption headers of ``spec`` for one call kind."""
        return {} if spec is None else {name.lower(): str(v) for name, v in sse_headers(spec, kind).items()}

    def content(self, op: OpWrite) -> dict[str, str]:
        """The content headers, user metadata and storage class of a new object."""
        headers = content_headers(op, meta_prefix="x-amz-meta-")
        if self._storage_class is not None:
            headers["x-amz-storage-class"] = self._storage_class
        return headers

    @staticmethod
    def _read(op: OpStat | OpRead, kind: RequestKind) -> tuple[dict[str, str], dict[str, str] | None]:
        headers = Requests.sse(op.sse, kind)
        headers.update(read_condition_headers(op))
        return headers, None if op.version is None else {"versionId": op.version}

    def _copy_source(self, key: str) -> str:
        return quote(f"{self._bucket}/{key}", safe="/~")

    # objects -------------------------------------------------------------------------
    def head_object(self, key: str, op: OpStat) -> S3Request:
        """HeadObject with ``op``'s version, conditions and SSE-C key."""
        headers, query = self._read(op, "HeadObject")
        return S3Request("HEAD", key, query, headers)

    def get_object(self, key: str, op: OpRead, range_header: str | None) -> S3Request:
        """GetObject; a whole-object GET asks for the stored checksum (to verify the body)."""
        headers, query = self._read(op, "GetObject")
        if range_header is not None:
            headers["range"] = range_header
        elif self._checksum is not None:
            headers["x-amz-checksum-mode"] = "ENABLED"
        return S3Request("GET", key, query, headers)

    def put_object(self, key: str, body: Buffer, op: OpWrite) -> S3Request:
        """PutObject of ``body`` with ``op``'s headers, metadata, conditions and checksum."""
        headers = self.content(op)
        headers.update(write_condition_headers(op))
        headers.update(self.sse(op.sse, "PutObject"))
        headers.update(checksum_header(self._checksum, body))
        return S3Request("PUT", key, None, headers, body)

    def copy_object(self, src_key: str, dst_key: str, op: OpCopy) -> S3Request:
        """CopyObject (metadata is copied with the object)."""
        headers = self.sse(op.sse, "CopyObject")
        headers["x-amz-copy-source"] = self._copy_source(src_key)
        return S3Request("PUT", dst_key, None, headers)

    @staticmethod
    def delete_object(key: str, version: str | None) -> S3Request:
        """DeleteObject (of one version when ``version`` is given)."""
        return S3Request("DELETE", key, None if version is None else {"versionId": version})

    @staticmethod
    def delete_objects(keys: Sequence[str]) -> S3Request:
        """DeleteObjects of up to 1000 keys in quiet mode (S3 requires the body's Content-MD5)."""
        body = delete_body(keys)
        return S3Request("POST", "", {"delete": ""}, {"content-md5": md5_b64(body)}, body)

    # listings -------------------------------------------------------------------------
    @staticmethod
    def list_objects(prefix: str, *, versions: bool = False, **params: str | int | None) -> S3Request:
        """One page of ListObjectsV2, or with ``versions`` of ListObjectVersions, keys
        URL-encoded in the answer (any byte survives XML). ``params``: ``delimiter``,
        ``start_after``, ``continuation_token``, ``key_marker``, ``version_id_marker``,
        ``max_keys`` (``None``: not sent)."""
        query = {"versions": ""} if versions else {"list-type": "2"}
        query.update({"encoding-type": "url", "prefix": prefix, **_given(**params)})
        return S3Request("GET", "", query)

    @staticmethod
    def list_multipart_uploads(prefix: str, key_marker: str | None, upload_marker: str | None) -> S3Request:
        """One page of ListMultipartUploads."""
        query = {
            "uploads": "",
            "prefix": prefix,
            **_given(key_marker=key_marker, upload_id_marker=upload_marker),
        }
        return S3Request("GET", "", query)

    def list_parts(self, key: str, upload_id: str, marker: str | None, sse: SseSpec | None) -> S3Request:
        """One page of ListParts (with the SSE-C key of an SSE-C upload)."""
        query = {"uploadId": upload_id, **_given(part_number_marker=marker)}
        return S3Request("GET", key, query, self.sse(sse, "ListParts"))

    # multipart ------------------------------------------------------------------------
    def create_multipart_upload(self, key: str, op: OpWrite) -> S3Request:
        """CreateMultipartUpload with ``op``'s headers, metadata, SSE and checksum algorithm."""
        headers = self.content(op)
        headers.update(self.sse(op.sse, "CreateMultipartUpload"))
        if self._checksum not in (None, "md5"):
            headers["x-amz-checksum-algorithm"] = str(self._checksum).upper()
        return S3Request("POST", key, {"uploads": ""}, headers)

    def upload_part(self, key: str, upload_id: str, number: int, body: Buffer, op: OpWrite) -> S3Request:
        """UploadPart ``number`` (1-based) with its checksum."""
        headers = self.sse(op.sse, "UploadPart")
        headers.update(checksum_header(self._checksum, body))
        return S3Request("PUT", key, {"partNumber": str(number), "uploadId": upload_id}, headers, body)

    def upload_part_copy(
        self,
        src_key: str,
        part: tuple[str, str, int],
        span: tuple[int, int],
        op: OpCopy,
        if_match: str | None,
    ) -> S3Request:
        """UploadPartCopy of bytes ``span`` (first, last) of the source version whose
        etag is ``if_match``, as ``part`` (key, upload id, number)."""
        headers = self.sse(op.sse, "UploadPartCopy")
        headers["x-amz-copy-source"] = self._copy_source(src_key)
        headers["x-amz-copy-source-range"] = f"bytes={span[0]}-{span[1]}"
        if if_match is not None:
            headers["x-amz-copy-source-if-match"] = if_match
        key, upload_id, number = part
        return S3Request("PUT", key, {"partNumber": str(number), "uploadId": upload_id}, headers)

    def complete_multipart_upload(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[Part],
        op: OpWrite,
        checksums: Mapping[int, Mapping[str, str]] | None,
    ) -> S3Request:
        """CompleteMultipartUpload of ``parts`` with ``op``'s conditions."""
        headers = write_condition_headers(op)
        headers.update(self.sse(op.sse, "CompleteMultipartUpload"))
        body = complete_body(parts, {n: dict(c) for n, c in checksums.items()} if checksums else None)
        return S3Request("POST", key, {"uploadId": upload_id}, headers, body)

    @staticmethod
    def abort_multipart_upload(key: str, upload_id: str) -> S3Request:
        """AbortMultipartUpload."""
        return S3Request("DELETE", key, {"uploadId": upload_id})
