"""The Blob service REST calls, one method each, named after the API.

:class:`AzblobCore` knows the endpoint, the container and the root; it
builds each request's headers from the option dataclasses and sends it on
the shared :class:`~pystorage.services.azblob.http.AzureHttp` session. It
does not translate errors: the backend wraps every call in
:func:`~pystorage.services.azblob.errors.map_errors`, which knows the path.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import anyio
import anyio.to_thread

from ...errors import ConfigInvalid, Unexpected, Unsupported
from ...raw.accessor import Buffer
from ...raw.buffered import as_view
from ...raw.dates import format_http_date
from ...raw.http import HttpLimits, content_headers, read_condition_headers, write_condition_headers
from ...raw.ops import OpRead, OpStat, OpWrite
from ...raw.path import normalize_root
from ...sse import CustomerKey, Kms, S3Managed, SseSpec
from .answers import BatchResult, ListPage, metadata_from_headers, parse_batch, parse_list_blobs
from .config import DEV_ACCOUNT_KEY, DEV_ACCOUNT_NAME, AzblobConfig
from .errors import SCHEME
from .http import (
    AnonymousAuth,
    Auth,
    AzureHttp,
    SasAuth,
    SharedKeyAuth,
    TokenAuth,
)
from .signer import SharedKeySigner, quote_blob

__all__ = ["AzblobCore", "BatchResult", "ListPage", "block_id", "metadata_from_headers", "resolve_endpoint"]

_META = "x-ms-meta-"
#: bodies at least this large are hashed (Content-MD5) in a worker thread
MD5_IN_THREAD = 256 * 1024
_CRLF = "\r\n"


def _md5_digest(view: memoryview) -> bytes:
    return hashlib.md5(view, usedforsecurity=False).digest()


def block_id(upload_id: str, number: int) -> str:
    """The base64 block id of part ``number`` of ``upload_id``: every id of one
    upload has the same length, as Put Block List requires."""
    return base64.b64encode(f"{upload_id}-{number:06d}".encode()).decode()


def resolve_endpoint(config: AzblobConfig) -> tuple[str, str, str, bool]:
    """``(origin, path prefix, account, is emulator)`` of the config's endpoint.

    An emulator endpoint carries the account as its first path segment
    (``http://127.0.0.1:10000/devstoreaccount1``); a cloud endpoint has it
    as its first host label (``https://acct.blob.core.windows.net``).
    """
    if config.endpoint is None:
        cloud = str(config.account_name)
        return f"https://{cloud}.blob.core.windows.net", "", cloud, False
    parts = urlsplit(config.endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    prefix = parts.path.rstrip("/")
    host = parts.hostname or ""
    emulator = bool(prefix) or host in ("127.0.0.1", "localhost", "::1")
    account: str | None = config.account_name
    if account is None:
        if prefix:
            account = unquote(prefix.strip("/").split("/")[0])
        elif "." in host and not host.replace(".", "").isdigit():
            account = host.split(".", 1)[0]
        else:
            account = DEV_ACCOUNT_NAME
    return origin, prefix, account or DEV_ACCOUNT_NAME, emulator


class AzblobCore:
    """The Blob service calls of one accessor.

    Args:
        config: the parsed service config.
    """

    def __init__(self, config: AzblobConfig) -> None:
        assert config.container is not None
        self.config = config
        self.container: str = config.container
        #: the root in ``/a/b/`` form
        self.root = normalize_root(config.root)
        #: the blob-name prefix every path is under (``""`` for the whole container)
        self.root_key = self.root.lstrip("/")
        origin, prefix, account, emulator = resolve_endpoint(config)
        self.origin = origin
        self.account = account
        self._container_path = f"{prefix}/{quote_blob(self.container)}"
        #: the Shared Key signer, when there is an account key (presign needs it)
        self.signer: SharedKeySigner | None = None
        self.http = AzureHttp(
            origin, self._auth(emulator), limits=HttpLimits.of(config), transport=config.http_transport
        )

    def _auth(self, emulator: bool) -> Auth:
        config = self.config
        mode = config.credential
        if config.account_key is not None and mode in (None, "default"):
            self.signer = SharedKeySigner(self.account, config.account_key)
            return SharedKeyAuth(self.signer)
        if config.sas_token is not None and mode is None:
            return SasAuth(config.sas_token)
        if mode == "anonymous":
            return AnonymousAuth()
        if mode == "dev" or (mode is None and emulator):
            self.signer = SharedKeySigner(self.account, config.account_key or DEV_ACCOUNT_KEY)
            return SharedKeyAuth(self.signer)
        if importlib.util.find_spec("azure.identity") is None:
            raise ConfigInvalid(
                "service 'azblob' has no credential: set account_key or sas_token, or install "
                "'pystorage[azblob-identity]' for Entra ID (DefaultAzureCredential)",
                service=SCHEME,
            )
        return TokenAuth()

    # names --------------------------------------------------------------------------------
    def key(self, path: str) -> str:
        """The blob name of a normalised path (``"/"`` is the root prefix)."""
        return self.root_key + ("" if path == "/" else path)

    def path(self, key: str) -> str:
        """The path, relative to the root, of a blob name under the root."""
        return key[len(self.root_key) :]

    def blob_path(self, key: str) -> str:
        """The URL path of a blob."""
        return f"{self._container_path}/{quote_blob(key)}"

    def blob_url(self, key: str) -> str:
        """The URL of a blob (a copy source, a presigned request)."""
        return self.origin + self.blob_path(key)

    async def close(self) -> None:
        """Close the session (and a token credential's own clients)."""
        await self.http.close()
        await self.http.auth.close()

    # request headers --------------------------------------------------------------------------
    @staticmethod
    def sse_headers(spec: SseSpec | None, *, write: bool) -> dict[str, str]:
        """The headers of ``spec``: customer-provided key headers on every data
        request, the encryption scope on writes.

        Raises:
            Unsupported: a spec the service cannot honour as given.
        """
        if spec is None or isinstance(spec, S3Managed):
            return {}  # Azure always encrypts at rest with Microsoft-managed keys
        if isinstance(spec, CustomerKey):
            return {
                "x-ms-encryption-key": spec.key_b64,
                "x-ms-encryption-key-sha256": spec.key_sha256_b64,
                "x-ms-encryption-algorithm": "AES256",
            }
        if isinstance(spec, Kms):
            if spec.key_id is None or spec.context is not None or spec.bucket_key is not None:
                raise Unsupported(
                    "azblob takes sse.Kms(key_id=<encryption scope>) only (no context, no bucket_key)",
                    service=SCHEME,
                )
            return {"x-ms-encryption-scope": spec.key_id} if write else {}
        raise Unsupported(f"azblob cannot honour {type(spec).__name__}", service=SCHEME)

    def read_headers(self, op: OpStat | OpRead) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query of a read or stat: version, conditions, CPK."""
        headers = read_condition_headers(op)
        headers.update(self.sse_headers(op.sse, write=False))
        query = {} if op.version is None else {"versionid": op.version}
        return headers, query

    def blob_headers(self, op: OpWrite) -> dict[str, str]:
        """The blob's properties and metadata of a write (Put Blob, Put Block List)."""
        return content_headers(op, prefix="x-ms-blob-", meta_prefix=_META)

    async def _md5(self, body: Buffer) -> dict[str, str]:
        if self.config.checksum_algorithm != "md5":
            return {}
        view = as_view(body)
        if len(view) < MD5_IN_THREAD:
            digest = hashlib.md5(view, usedforsecurity=False).digest()
        else:
            # hashlib releases the GIL: parts in flight are hashed in parallel, off the loop
            digest = await anyio.to_thread.run_sync(_md5_digest, view)
        return {"content-md5": base64.b64encode(digest).decode()}

    def _tier(self) -> dict[str, str]:
        tier = self.config.default_storage_class
        return {} if tier is None else {"x-ms-access-tier": tier}

    # blobs --------------------------------------------------------------------------------------
    async def _call(self, method: str, key: str, **kwargs: Any) -> dict[str, str]:
        response = await self.http.request(method, self.blob_path(key), **kwargs)
        response.release()
        return {name.lower(): value for name, value in response.headers.items()}

    async def get_blob_properties(self, key: str, op: OpStat) -> dict[str, str]:
        """Get Blob Properties (HEAD) with ``op``'s version, conditions and key."""
        headers, query = self.read_headers(op)
        return await self._call("HEAD", key, headers=headers, query=query)

    async def get_blob(self, key: str, op: OpRead, *, range_header: str | None) -> aiohttp.ClientResponse:
        """Get Blob; ``range_header`` (``bytes=a-b``) when only part is wanted.
        The caller reads and releases the answer."""
        headers, query = self.read_headers(op)
        if range_header is not None:
            headers["x-ms-range"] = range_header
        return await self.http.request("GET", self.blob_path(key), headers=headers, query=query)

    async def put_blob(self, key: str, body: Buffer, op: OpWrite) -> dict[str, str]:
        """Put Blob (a block blob of ``body``) with ``op``'s properties, conditions and SSE."""
        headers = {"x-ms-blob-type": "BlockBlob", **self.blob_headers(op), **write_condition_headers(op)}
        headers.update(self._tier())
        headers.update(self.sse_headers(op.sse, write=True))
        headers.update(await self._md5(body))
        return await self._call("PUT", key, headers=headers, body=body)

    async def create_append_blob(self, key: str, op: OpWrite, *, if_none_match: bool) -> dict[str, str]:
        """Put Blob of an empty append blob (``If-None-Match: *`` when ``if_none_match``)."""
        headers = {"x-ms-blob-type": "AppendBlob", **self.blob_headers(op)}
        if if_none_match:
            headers["if-none-match"] = "*"
        headers.update(self.sse_headers(op.sse, write=True))
        return await self._call("PUT", key, headers=headers)

    async def append_block(
        self, key: str, body: Buffer, op: OpWrite, *, position: int, etag: str | None = None
    ) -> dict[str, str]:
        """Append Block at ``position`` (``x-ms-blob-condition-appendpos``: fails with 412
        when the blob's length is not ``position``, so appenders never interleave)."""
        headers = {"x-ms-blob-condition-appendpos": str(position)}
        if etag is not None:
            headers["if-match"] = etag
        headers.update(self.sse_headers(op.sse, write=True))
        headers.update(await self._md5(body))
        return await self._call("PUT", key, headers=headers, body=body, query={"comp": "appendblock"})

    async def put_block(self, key: str, block: str, body: Buffer, op: OpWrite) -> dict[str, str]:
        """Put Block ``block`` (an uncommitted block of the blob)."""
        headers = self.sse_headers(op.sse, write=True)
        headers.update(await self._md5(body))
        query = {"comp": "block", "blockid": block}
        return await self._call("PUT", key, headers=headers, body=body, query=query)

    async def put_block_list(
        self, key: str, blocks: Sequence[tuple[str, str]], op: OpWrite, *, etag: str | None = None
    ) -> dict[str, str]:
        """Put Block List: commit ``blocks`` (``(kind, id)``, kind ``Latest`` /
        ``Committed`` / ``Uncommitted``) with ``op``'s properties, conditions and SSE.
        ``etag`` (If-Match) pins the commit to the blob it was based on."""
        items = "".join(f"<{kind}>{block}</{kind}>" for kind, block in blocks)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{items}</BlockList>'.encode()
        headers = {**self.blob_headers(op), **write_condition_headers(op), "content-type": "application/xml"}
        if etag is not None:
            headers["if-match"] = etag
        headers.update(self._tier())
        headers.update(self.sse_headers(op.sse, write=True))
        headers.update(await self._md5(body))
        return await self._call("PUT", key, headers=headers, body=body, query={"comp": "blocklist"})

    async def get_block_list(self, key: str, *, etag: str | None = None) -> list[tuple[str, int]]:
        """Get Block List (committed): ``[(block id, size)]``, pinned to ``etag`` when given."""
        headers = {} if etag is None else {"if-match": etag}
        response = await self.http.request(
            "GET",
            self.blob_path(key),
            headers=headers,
            query={"comp": "blocklist", "blocklisttype": "committed"},
        )
        try:
            payload = await response.read()
        finally:
            response.release()
        try:
            root = ET.fromstring(payload)
        except ET.ParseError as exc:
            raise Unexpected("the Get Block List answer is not XML", service=SCHEME, temporary=True) from exc
        found = []
        for block in root.iterfind("./CommittedBlocks/Block"):
            found.append((block.findtext("Name") or "", int(block.findtext("Size") or 0)))
        return found

    async def delete_blob(self, key: str, *, version: str | None = None) -> None:
        """Delete Blob (one version when given; with its snapshots otherwise)."""
        query = {} if version is None else {"versionid": version}
        headers = {} if version is not None else {"x-ms-delete-snapshots": "include"}
        await self._call("DELETE", key, query=query, headers=headers)

    async def copy_blob(
        self, src_key: str, dst_key: str, *, source_etag: str | None, sse: SseSpec | None
    ) -> dict[str, str]:
        """Copy Blob from ``src_key`` (``x-ms-source-if-match``: pinned to ``source_etag``)."""
        headers = {"x-ms-copy-source": self.blob_url(src_key)}
        if source_etag is not None:
            headers["x-ms-source-if-match"] = source_etag
        headers.update(self.sse_headers(sse, write=True))
        return await self._call("PUT", dst_key, headers=headers)

    async def abort_copy_blob(self, key: str, copy_id: str) -> None:
        """Abort Copy Blob."""
        await self._call(
            "PUT",
            key,
            headers={"x-ms-copy-action": "abort"},
            query={"comp": "copy", "copyid": copy_id},
        )

    # container ------------------------------------------------------------------------------
    async def list_blobs(
        self,
        prefix: str,
        *,
        delimiter: str | None = None,
        marker: str | None = None,
        max_results: int | None = None,
        versions: bool = False,
    ) -> ListPage:
        """One page of List Blobs (with every version when asked; user metadata is not
        asked for: it makes the service slower and entries do not need it)."""
        query = {"restype": "container", "comp": "list", "prefix": prefix}
        if versions:
            query["include"] = "versions"
        if delimiter is not None:
            query["delimiter"] = delimiter
        if marker is not None:
            query["marker"] = marker
        if max_results is not None:
            query["maxresults"] = str(max_results)
        response = await self.http.request("GET", self._container_path, query=query)
        try:
            payload = await response.read()
        finally:
            response.release()
        return parse_list_blobs(payload)

    async def any_blob_below(self, prefix: str) -> bool:
        """Whether a blob or a blob prefix lies below ``prefix`` (List Blobs of at most one item)."""
        page = await self.list_blobs(prefix, delimiter="/", max_results=1)
        return bool(page.blobs or page.prefixes)

    async def delete_blobs_batch(self, keys: Sequence[str]) -> list[BatchResult]:
        """Blob Batch: one Delete Blob sub-request per key, each authorised on its own.

        Returns:
            one :class:`BatchResult` per key, in order.

        Raises:
            Unexpected: the answer cannot be parsed (temporary).
        """
        boundary = f"batch_{uuid.uuid4()}"
        auth = self.http.auth
        parts: list[str] = []
        for index, key in enumerate(keys):
            path = self.blob_path(key)
            sub = {"x-ms-date": format_http_date(), "x-ms-delete-snapshots": "include", "content-length": "0"}
            await auth.authorize("DELETE", path, {}, sub)
            url = path + (f"?{auth.sas}" if auth.sas else "")
            lines = [
                f"--{boundary}",
                "Content-Type: application/http",
                "Content-Transfer-Encoding: binary",
                f"Content-ID: {index}",
                "",
                f"DELETE {url} HTTP/1.1",
                *(f"{name}: {value}" for name, value in sub.items()),
                "",
                "",
            ]
            parts.append(_CRLF.join(lines))
        body = ("".join(parts) + f"--{boundary}--{_CRLF}").encode()
        headers = {"content-type": f"multipart/mixed; boundary={boundary}"}
        response = await self.http.request(
            "POST",
            self._container_path,
            query={"restype": "container", "comp": "batch"},
            headers=headers,
            body=body,
        )
        try:
            payload = await response.read()
            content_type = response.headers.get("content-type", "")
        finally:
            response.release()
        return parse_batch(payload, content_type, keys)
