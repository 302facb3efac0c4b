"""The lean S3 request path: hot-path calls straight on one aiohttp session.

GetObject, HeadObject, PutObject, DeleteObject, UploadPart and
ListObjectsV2 are sent by :class:`LeanHttp` with the small
:class:`~pystorage.services.s3.signer.SigV4Signer` and answered with the
same dict shape botocore's parser produces (only the fields the driver
uses), so the backend does not care which path served a call. Everything
else (credential chain, presign, multipart initiate/complete/abort/list,
copies, batch deletes) stays on aiobotocore.

Error answers raise :class:`~pystorage.services.s3.errors.S3ErrorAnswer`,
translated by the same mapping as botocore's ``ClientError``.

Bodies: a request body above :data:`BODY_PIECE` bytes is streamed in
zero-copy ``memoryview`` slices with an explicit ``Content-Length`` (never
copied whole into the transport's buffer); a response body is read piece
by piece by the reader. Responses are never decompressed (bytes are bytes).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import aiohttp
import yarl

from ...raw.accessor import Buffer
from ...raw.http import BoundedBody, HttpLimits, new_session
from ...raw.redact import register_secrets
from .errors import MalformedAnswer, S3ErrorAnswer, is_html_page
from .signer import EMPTY_SHA256, UNSIGNED_PAYLOAD, SigV4Signer, canonical_query, quote_path

__all__ = ["BODY_PIECE", "LeanBody", "LeanHttp", "parse_error", "parse_http_date", "parse_list_objects_v2"]

#: request bodies larger than this go out as a stream of slices of this size
BODY_PIECE = 256 * 1024

_UTC = dt.timezone.utc
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}
#: response header -> botocore field, for HeadObject / GetObject / PutObject / UploadPart answers
_FIELDS = (
    ("content-type", "ContentType"),
    ("etag", "ETag"),
    ("x-amz-version-id", "VersionId"),
    ("cache-control", "CacheControl"),
    ("content-disposition", "ContentDisposition"),
    ("content-encoding", "ContentEncoding"),
    ("content-range", "ContentRange"),
    ("x-amz-server-side-encryption", "ServerSideEncryption"),
    ("x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId"),
    ("x-amz-server-side-encryption-customer-algorithm", "SSECustomerAlgorithm"),
    ("x-amz-server-side-encryption-customer-key-md5", "SSECustomerKeyMD5"),
    ("x-amz-checksum-crc32c", "ChecksumCRC32C"),
)
_META = "x-amz-meta-"


def parse_http_date(value: str) -> dt.datetime | None:
    """An aware UTC datetime of an HTTP date (``Mon, 23 Nov 2026 07:31:10 GMT``), or ``None``."""
    try:
        _, day, month, year, clock, _zone = value.split()
        hour, minute, second = clock.split(":")
        return dt.datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=_UTC
        )
    except (ValueError, KeyError):
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def _parse_iso(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_error(body: bytes) -> tuple[str, str]:
    """``(code, message)`` of an S3 error body (empty strings when there is none)."""
    if not body:
        return "", ""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "", ""
    code = message = ""
    for child in root:
        tag = _local(child.tag)
        if tag == "Code":
            code = child.text or ""
        elif tag == "Message":
            message = child.text or ""
    return code, message


def parse_list_objects_v2(body: bytes) -> dict[str, Any]:
    """A ListObjectsV2 answer in botocore's shape, only the fields the lister uses:
    ``Contents`` (``Key``, ``Size``, ``ETag``, ``LastModified``),
    ``CommonPrefixes`` (``Prefix``), ``IsTruncated``, ``NextContinuationToken``.
    Keys sent URL-encoded (``encoding-type=url``) are decoded.

    Per key this is the C parser's work plus a few comparisons: tags are
    compared with their namespaced names, and each distinct ``LastModified``
    text is parsed once per page (objects written together share it)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedAnswer(f"the ListObjectsV2 answer is not XML ({exc})") from exc
    if _local(root.tag) != "ListBucketResult":
        # an HTML page or another document that parsed as XML: never an empty listing
        raise MalformedAnswer(f"the ListObjectsV2 answer is a {_local(root.tag)!r} document")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    t_contents, t_prefixes, t_key, t_size = ns + "Contents", ns + "CommonPrefixes", ns + "Key", ns + "Size"
    t_etag, t_modified, t_prefix = ns + "ETag", ns + "LastModified", ns + "Prefix"
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, Any]] = []
    out: dict[str, Any] = {"IsTruncated": False}
    dates: dict[str, dt.datetime | None] = {}
    encoded = False
    for child in root:
        tag = child.tag
        if tag == t_contents:
            item: dict[str, Any] = {}
            for field in child:
                name = field.tag
                if name == t_key:
                    item["Key"] = field.text or ""
                elif name == t_size:
                    item["Size"] = int(field.text or 0)
                elif name == t_etag:
                    item["ETag"] = field.text or ""
                elif name == t_modified:
                    text = field.text or ""
                    when = dates.get(text)
                    if when is None:
                        when = dates[text] = _parse_iso(text)
                    item["LastModified"] = when
            contents.append(item)
        elif tag == t_prefixes:
            for field in child:
                if field.tag == t_prefix:
                    prefixes.append({"Prefix": field.text or ""})
        else:
            local = _local(tag)
            if local == "IsTruncated":
                out["IsTruncated"] = (child.text or "").strip().lower() == "true"
            elif local == "NextContinuationToken":
                out["NextContinuationToken"] = child.text or ""
            elif local == "EncodingType":
                encoded = (child.text or "").strip().lower() == "url"
    if encoded:
        for item in contents:
            if "Key" in item:
                item["Key"] = unquote_plus(item["Key"])
        for item in prefixes:
            item["Prefix"] = unquote_plus(item["Prefix"])
    if contents:
        out["Contents"] = contents
    if prefixes:
        out["CommonPrefixes"] = prefixes
    return out


def object_fields(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The botocore-shaped fields of an object answer's headers."""
    headers = response.headers
    out: dict[str, Any] = {}
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        out["ContentLength"] = int(length)
    for header, field in _FIELDS:
        value = headers.get(header)
        if value is not None:
            out[field] = value
    modified = headers.get("last-modified")
    if modified is not None:
        out["LastModified"] = parse_http_date(modified)
    # names in lower case, as botocore gives them (Go servers send X-Amz-Meta-Name)
    user = {
        name[len(_META):].lower(): value for name, value in headers.items() if name.lower().startswith(_META)
    }
    if user:
        out["Metadata"] = user
    out["ResponseMetadata"] = {"HTTPStatusCode": response.status}
    return out


class LeanBody:
    """A GetObject body as the reader wants it: ``await read(n)`` (at most
    ``n`` bytes, ``b""`` at the end) and ``close()``."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (what has arrived, waiting for at least one);
        the whole rest of it when ``n`` is negative (the default)."""
        return await self._response.content.read(n)

    def close(self) -> None:
        """Give the connection back when the body was read to its end, else drop it."""
        response = self._response
        if response.content.at_eof():
            response.release()
        else:
            response.close()


class LeanHttp:
    """Signs and sends the hot-path S3 requests on one aiohttp session.

    Args:
        endpoint: the endpoint URL (botocore's resolved one, without the bucket).
        bucket: the bucket.
        region: the signing region.
        virtual_host: address the bucket as ``<bucket>.<host>``.
        credentials: an object with ``get_frozen_credentials()`` (sync or
            async, as botocore's and aiobotocore's credentials have), or
            ``None`` for anonymous (unsigned) requests.
        limits: timeouts and pool bounds (see :mod:`pystorage.raw.http`).
    """

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        region: str,
        virtual_host: bool,
        credentials: Any,
        limits: HttpLimits,
    ) -> None:
        parts = urlsplit(endpoint)
        host = parts.netloc
        base = parts.path.rstrip("/")
        if virtual_host:
            host = f"{bucket}.{host}"
            self._prefix = base + "/"
        else:
            self._prefix = f"{base}/{quote_path(bucket)}/"
        self._origin = f"{parts.scheme}://{host}"
        self._host = host
        self._signer = SigV4Signer(region)
        self._credentials = credentials
        self._limits = limits
        self._registered: str | None = None
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            session = new_session(
                self._limits, auto_decompress=False, skip_auto_headers=("Accept-Encoding", "Content-Type")
            )
            self._session = session
        return session

    async def close(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _frozen(self) -> Any:
        credentials = self._credentials
        if credentials is None:
            return None
        frozen = credentials.get_frozen_credentials()
        if hasattr(frozen, "__await__"):
            frozen = await frozen
        if frozen.secret_key != self._registered:
            # refreshed credentials (web identity, instance roles): keep them out of the logs too
            register_secrets((frozen.access_key, frozen.secret_key, frozen.token))
            self._registered = frozen.secret_key
        return frozen

    async def request(
        self,
        method: str,
        key: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Buffer | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one signed request for ``key``; the answer if its status is below 300.

        Raises:
            S3ErrorAnswer: an error answer (status >= 300), with its code and message.
            aiohttp.ClientError, OSError, asyncio.TimeoutError: transport failures.
        """
        # the bucket itself (a listing) is "/bucket" in path style, "/" on a virtual host
        path = self._prefix + quote_path(key) if key else (self._prefix.rstrip("/") or "/")
        q = canonical_query(query) if query else ""
        sent: dict[str, str] = {"host": self._host}
        if headers:
            sent.update(headers)
        frozen = await self._frozen()
        if frozen is not None:
            self._signer.sign(
                method,
                path,
                q,
                sent,
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                token=frozen.token,
                payload_hash=EMPTY_SHA256 if body is None else UNSIGNED_PAYLOAD,
            )
        data: Any = None
        if body is not None:
            view = memoryview(body)
            if view.ndim != 1 or view.itemsize != 1:
                view = view.cast("B")
            sent["content-length"] = str(len(view))
            stall = self._limits.read_timeout
            data = view if len(view) <= BODY_PIECE else BoundedBody(view, BODY_PIECE, stall)
        url = yarl.URL(self._origin + path + ("?" + q if q else ""), encoded=True)
        response = await self._client().request(method, url, headers=sent, data=data, allow_redirects=False)
        if response.status < 300:
            if is_html_page(response.headers, response.status):
                response.close()
                raise MalformedAnswer(f"HTTP {response.status} with an HTML page instead of an S3 answer")
            return response
        try:
            payload = b"" if method == "HEAD" else await response.read()
        finally:
            response.release()
        code, message = parse_error(payload)
        raise S3ErrorAnswer(response.status, code or str(response.status), message, dict(response.headers))

    # the calls -------------------------------------------------------------------------------------
    async def head_object(
        self, key: str, headers: Mapping[str, str], query: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """HeadObject."""
        response = await self.request("HEAD", key, headers=headers, query=query)
        response.release()
        return object_fields(response)

    async def get_object(
        self, key: str, headers: Mapping[str, str], query: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """GetObject; ``Body`` is a :class:`LeanBody` to read and close."""
        response = await self.request("GET", key, headers=headers, query=query)
        out = object_fields(response)
        out["Body"] = LeanBody(response)
        return out

    async def put_object(self, key: str, body: Buffer, headers: Mapping[str, str]) -> dict[str, Any]:
        """PutObject."""
        response = await self.request("PUT", key, headers=headers, body=body)
        response.release()
        return object_fields(response)

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: Buffer, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """UploadPart."""
        query = {"partNumber": str(number), "uploadId": upload_id}
        response = await self.request("PUT", key, headers=headers, body=body, query=query)
        response.release()
        return object_fields(response)

    async def delete_object(self, key: str, query: Mapping[str, str] | None) -> dict[str, Any]:
        """DeleteObject."""
        response = await self.request("DELETE", key, query=query)
        response.release()
        return {"ResponseMetadata": {"HTTPStatusCode": response.status}}

    async def list_objects_v2(self, query: Mapping[str, str]) -> dict[str, Any]:
        """One page of ListObjectsV2 (``list-type=2`` and ``encoding-type=url`` are added)."""
        params = {"list-type": "2", "encoding-type": "url", **query}
        response = await self.request("GET", "", query=params)
        try:
            payload = await response.read()
        finally:
            response.release()
        return parse_list_objects_v2(payload)
