"""Finite transport defaults shared by every HTTP driver (s3, gcs).

Every network service takes the same four config keys, checked by
:func:`check_http_limits` and turned into aiohttp settings by
:class:`HttpLimits`:

* ``connect_timeout`` (default 10 s): opening a TCP (+TLS) connection;
* ``read_timeout`` (default 60 s): the longest wait for the next byte of an
  answer (its status line, headers or body) — aiohttp's ``sock_read``,
  botocore's ``read_timeout``. A server that goes quiet fails the request
  with a temporary error, which ``RetryLayer`` retries; a slow but moving
  transfer never does;
* ``pool_timeout`` (default 60 s): the longest wait for a free pooled
  connection when ``pool_size`` requests are already in flight (urllib3's and
  httpx's name for it; object_store and OpenDAL have no bound here: their
  pools open a new connection instead of waiting);
* ``pool_size`` (default 128): connections kept to the endpoint.

``read_timeout`` also bounds an upload's progress: aiohttp starts its read
timer only once the request body is sent, so a server that stops reading an
upload would block it forever. Bodies sent with :func:`write_pieces` (the
S3 lean path's streamed bodies, every GCS upload) fail with a
``TimeoutError`` when no piece could be handed to the socket for
``read_timeout`` seconds (botocore's ``read_timeout`` is a socket timeout,
which bounds sends the same way).

aiohttp bounds "wait for a pooled connection, then open it" with one
deadline (``ClientTimeout.connect``), which is set to ``pool_timeout +
connect_timeout``; ``sock_connect`` bounds the connect alone.

This module imports aiohttp: only the drivers that need it import this module.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
import aiohttp.payload
import anyio
from aiohttp.abc import AbstractStreamWriter

from ..errors import ConfigInvalid, Error, RangeNotSatisfied, RateLimited, Unexpected
from ..types import EncryptionInfo, EntryMode, Metadata
from .dates import format_http_date, parse_http_date, retry_after
from .etags import quote_etag
from .ops import OpRead, OpStat, OpWrite
from .redact import redact

__all__ = [
    "read_condition_headers",
    "write_condition_headers",
    "answer_error",
    "range_header",
    "metadata_from_headers",
    "content_headers",
    "parse_xml_error",
    "answer_mismatch",
    "parse_content_range",
    "prefixed_headers",
    "read_capped",
    "skip_refused",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_POOL_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "SMALL_BODY",
    "BoundedBody",
    "ErrorAnswer",
    "header_retry_after",
    "HttpLimits",
    "check_http_limits",
    "new_session",
    "no_silent_resend",
    "write_pieces",
]

#: seconds to open a connection
DEFAULT_CONNECT_TIMEOUT = 10.0
#: seconds without a byte from the server before a request fails (temporary)
DEFAULT_READ_TIMEOUT = 60.0
#: seconds to wait for a free pooled connection
DEFAULT_POOL_TIMEOUT = 60.0
#: connections kept to the endpoint
DEFAULT_POOL_SIZE = 128

#: request bodies up to this size (with their framing) are written to the socket at once
SMALL_BODY = 64 * 1024

_TIMEOUT_KEYS = ("connect_timeout", "read_timeout", "pool_timeout")


def check_http_limits(scheme: str, config: Any) -> None:
    """Check the transport keys of a service config.

    Raises:
        ConfigInvalid: a timeout that is not a finite number > 0, or a
            ``pool_size`` that is not an int >= 1 (the message names the key).
    """
    for key in _TIMEOUT_KEYS:
        value = getattr(config, key)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not value > 0
        ):
            raise ConfigInvalid(
                f"config key {key!r} of service {scheme!r} must be a finite number of seconds > 0, "
                f"got {value!r}",
                service=scheme,
            )
    size = config.pool_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ConfigInvalid(
            f"config key 'pool_size' of service {scheme!r} must be an int >= 1, got {size!r}",
            service=scheme,
        )


@dataclasses.dataclass(frozen=True)
class HttpLimits:
    """The transport keys of a config, as aiohttp settings.

    Attributes:
        connect_timeout: seconds to open a connection.
        read_timeout: seconds without a byte before a request fails.
        pool_timeout: seconds to wait for a free pooled connection.
        pool_size: connections kept to the endpoint.
    """

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    pool_size: int = DEFAULT_POOL_SIZE

    @classmethod
    def of(cls, config: Any) -> HttpLimits:
        """The limits of a config carrying the four keys."""
        return cls(
            float(config.connect_timeout),
            float(config.read_timeout),
            float(config.pool_timeout),
            int(config.pool_size),
        )

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """No whole-request deadline (a large transfer may take hours; ``TimeoutLayer``
        is for that), a per-read one, and bounded connection waits."""
        return aiohttp.ClientTimeout(
            total=None,
            connect=self.pool_timeout + self.connect_timeout,
            sock_connect=self.connect_timeout,
            sock_read=self.read_timeout,
        )

    def connector(self, **kwargs: Any) -> aiohttp.TCPConnector:
        """A connector keeping at most ``pool_size`` connections."""
        return aiohttp.TCPConnector(limit=self.pool_size, limit_per_host=self.pool_size, **kwargs)


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def parse_content_range(value: Any) -> tuple[int, int, int | None] | None:
    """``(first, last, total)`` of a ``Content-Range: bytes a-b/total`` value
    (``total`` is ``None`` for ``*``), or ``None`` if absent or malformed.
    Every HTTP driver checks its ranged answers with it."""
    if not isinstance(value, str):
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def answer_mismatch(path: str, what: str, *, service: str) -> Unexpected:
    """The temporary error of a ranged answer that is not what was asked (a
    ``Content-Range`` elsewhere, a body shorter than its range): a retry resumes."""
    return Unexpected(
        f"the answer does not match the request: {what}",
        operation="read",
        path=path,
        service=service,
        temporary=True,
    )


def skip_refused(path: str, skip: int, limit: int, *, service: str) -> Unexpected:
    """The error of a ranged request answered with the whole object when more
    than ``limit`` bytes (``max_range_skip``) would be read only to be discarded."""
    return Unexpected(
        f"the service ignored the requested range: {skip} bytes would be downloaded and "
        f"discarded, above max_range_skip ({limit})",
        operation="read",
        path=path,
        service=service,
    )


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of an (error) answer's body: what a message needs,
    never an unbounded read of whatever a server or proxy sends."""
    pieces: list[bytes] = []
    left = limit
    while left > 0:
        piece = await response.content.read(left)
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def prefixed_headers(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The headers whose name starts with ``prefix`` (lower-case; matched in any
    case), keyed by the rest of the name: the user metadata of an answer
    (``x-amz-meta-``, ``x-goog-meta-``, ``x-ms-meta-``).

    Runs once per answer: a name is compared only when its character at the
    end of the prefix matches, which rules out nearly every other header cheaply.
    """
    size, last = len(prefix), len(prefix) - 1
    marks = {prefix[-1], prefix[-1].upper()}
    return {
        name[size:]: value
        for name, value in headers.items()
        if len(name) >= size and name[last] in marks and name[:size].lower() == prefix
    }


class ErrorAnswer(Exception):
    """An error answer (a status of 300 or more) of an HTTP service, as a driver's
    transport raises it for its ``map_errors`` to translate (drivers subclass it).

    Args:
        status: the HTTP status.
        code: the service's error code (``""`` when the answer had none).
        message: the service's message (may be empty).
        headers: the answer's headers.
    """

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, Any]) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable (dask and tblib ship an error's __cause__ between processes)
        return (type(self), (self.status, self.code, self.message, dict(self.headers)))



#: the :class:`~pystorage.raw.ops.OpWrite` fields that are HTTP content headers, and their names
CONTENT_FIELDS = (
    ("content_type", "content-type"),
    ("cache_control", "cache-control"),
    ("content_disposition", "content-disposition"),
    ("content_encoding", "content-encoding"),
)


def content_headers(op: OpWrite, *, prefix: str = "", meta_prefix: str) -> dict[str, str]:
    """The content headers and user metadata of a write, each header name after
    ``prefix`` (Azure's ``x-ms-blob-``), each metadata key (lower-cased) after
    ``meta_prefix`` (``x-amz-meta-``, ``x-ms-meta-``)."""
    headers = {
        prefix + name: value for field, name in CONTENT_FIELDS if (value := getattr(op, field)) is not None
    }
    for key, value in (op.user_metadata or {}).items():
        headers[meta_prefix + key.lower()] = value
    return headers


def metadata_from_headers(
    headers: Mapping[str, str],
    *,
    mode: EntryMode,
    meta_prefix: str,
    version: str | None,
    content_md5: str | None = None,
    encryption: EncryptionInfo | None = None,
) -> Metadata:
    """The :class:`Metadata` of an object answer's standard headers (names in any
    case): length, type, etag, date and content headers; user metadata from the
    headers after ``meta_prefix`` (names lower-cased, ``None`` when there is none).
    ``content_length`` is the answer's (the caller fixes it for ranged reads)."""
    length = headers.get("content-length")
    user = {name.lower(): value for name, value in prefixed_headers(headers, meta_prefix).items()}
    return Metadata(
        mode=mode,
        content_length=int(length) if length is not None and length.isdigit() else None,
        content_type=headers.get("content-type"),
        content_md5=content_md5,
        etag=quote_etag(headers.get("etag")),
        last_modified=parse_http_date(headers.get("last-modified")),
        version=version or None,
        cache_control=headers.get("cache-control"),
        content_disposition=headers.get("content-disposition"),
        content_encoding=headers.get("content-encoding"),
        user_metadata=user or None,
        encryption=encryption,
    )


def read_condition_headers(op: OpStat | OpRead) -> dict[str, str]:
    """The conditions of a read or stat: ``If-Match``, ``If-None-Match``,
    ``If-Modified-Since``, ``If-Unmodified-Since`` (dates as HTTP dates)."""
    headers: dict[str, str] = {}
    if op.if_match is not None:
        headers["if-match"] = op.if_match
    if op.if_none_match is not None:
        headers["if-none-match"] = op.if_none_match
    if op.if_modified_since is not None:
        headers["if-modified-since"] = format_http_date(op.if_modified_since)
    if op.if_unmodified_since is not None:
        headers["if-unmodified-since"] = format_http_date(op.if_unmodified_since)
    return headers


def write_condition_headers(op: OpWrite) -> dict[str, str]:
    """The preconditions of a write: ``if_not_exists`` as ``If-None-Match: *``, else
    ``if_none_match``; ``if_match``."""
    headers: dict[str, str] = {}
    if op.if_not_exists:
        headers["if-none-match"] = "*"
    elif op.if_none_match is not None:
        headers["if-none-match"] = op.if_none_match
    if op.if_match is not None:
        headers["if-match"] = op.if_match
    return headers


def range_header(offset: int, size: int | None) -> str | None:
    """The ``Range`` header of ``size`` bytes (to the end when ``None``) from
    ``offset``; ``None`` for the whole object."""
    if size is None:
        return None if offset == 0 else f"bytes={offset}-"
    return f"bytes={offset}-{offset + size - 1}"


def parse_xml_error(body: bytes) -> tuple[str, str]:
    """``(code, message)`` of an XML error body (S3's and Azure's ``<Error><Code>``
    ``<Message>``, any namespace); the message's first line (Azure appends request
    ids and times on further lines). Empty strings when there is none or it is garbage."""
    if not body:
        return "", ""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "", ""
    code = message = ""
    for child in root:
        tag = child.tag.rpartition("}")[2]
        if tag == "Code":
            code = child.text or ""
        elif tag == "Message":
            message = (child.text or "").split("\n", 1)[0]
    return code.strip(), message.strip()


def answer_error(
    cls: type[Error],
    temporary: bool,
    status: int | None,
    code: str,
    text: str,
    headers: Mapping[str, Any],
    *,
    operation: str,
    path: str,
    service: str,
) -> Error:
    """The pystorage error of a service's error answer, once its driver chose the
    class and the text: ``"text (HTTP 412 Code)"`` (redacted), a 304 saying which
    conditions did not hold, an empty 416 saying what it is, and the answer's
    ``Retry-After`` on a temporary error."""
    if status == 304:
        text = "not modified: if_none_match / if_modified_since did not hold"
    elif cls is RangeNotSatisfied and not text:
        text = "the requested range is not satisfiable"
    detail = f"HTTP {status}" + (f" {code}" if code and code != str(status) else "")
    message = f"{text} ({detail})" if text and text != code else detail
    return cls(
        redact(message),
        operation=operation,
        path=path,
        service=service,
        temporary=temporary,
        retry_after=header_retry_after(headers) if cls is RateLimited or temporary else None,
    )


def header_retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds of an answer's ``Retry-After`` header (a delay or an HTTP date), or ``None``."""
    return retry_after(headers.get("retry-after") or headers.get("Retry-After"))


def no_silent_resend(session: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """Switch off aiohttp's own resend of an idempotent request (>= 3.13 resends a
    ``PUT``/``DELETE``/``GET`` once when its connection drops before the answer).

    ``RetryLayer`` is the only retrier: a resend hidden below the driver turns a
    lost answer to a conditional ``PUT`` into a ``412`` the driver cannot tell from
    a real one. aiohttp has no public switch; the attribute is set where it exists.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


def new_session(limits: HttpLimits, **kwargs: Any) -> aiohttp.ClientSession:
    """An aiohttp session with ``limits`` (its connector, timeouts and no silent resend);
    ``kwargs`` go to :class:`aiohttp.ClientSession`."""
    return no_silent_resend(
        aiohttp.ClientSession(connector=limits.connector(), timeout=limits.client_timeout(), **kwargs)
    )


async def write_pieces(
    writer: AbstractStreamWriter, pieces: Iterable[Any], stall_timeout: float | None
) -> None:
    """Write ``pieces`` of a request body to aiohttp's ``writer``, failing with
    ``TimeoutError`` when one of them waits more than ``stall_timeout`` seconds for
    the socket to take it (a server that stopped reading); ``None``: no bound.

    One cancel scope for the whole body, its deadline pushed forward after each piece.
    """
    if stall_timeout is None:
        for piece in pieces:
            await writer.write(piece)
        return
    with anyio.CancelScope() as scope:
        for piece in pieces:
            scope.deadline = anyio.current_time() + stall_timeout
            await writer.write(piece)
    if scope.cancelled_caught:
        # the connection is unusable, and closing it would wait for its unsent buffer
        # to drain, which a server that stopped reading never lets happen: abort it
        transport = getattr(writer, "transport", None)
        if transport is not None:
            transport.abort()
        raise TimeoutError(f"the server took no request body bytes for {stall_timeout}s")


class BoundedBody(aiohttp.payload.Payload):
    """A bytes-like request body sent in zero-copy slices of ``piece`` bytes,
    each bounded by ``stall_timeout`` (see :func:`write_pieces`), optionally
    framed by ``head`` and ``tail`` bytes (e.g. a multipart preamble); a body
    of at most :data:`SMALL_BODY` bytes is joined with its framing and
    written at once.

    (aiohttp's own bytes payload warns on bodies over 1 MiB, and its
    multipart writer issues several small writes per part.)

    Args:
        view: the body.
        piece: bytes per socket write.
        stall_timeout: seconds a piece may wait for the socket (``None``: no bound).
        content_type: the request's ``Content-Type`` (default ``application/octet-stream``).
        head: bytes sent before the body (default none).
        tail: bytes sent after it (default none).
    """

    _autoclose = True

    def __init__(
        self,
        view: memoryview,
        piece: int,
        stall_timeout: float | None,
        *,
        content_type: str = "application/octet-stream",
        head: bytes = b"",
        tail: bytes = b"",
    ) -> None:
        super().__init__(view, content_type=content_type)
        self._view = view
        self._piece = piece
        self._stall_timeout = stall_timeout
        self._head = head
        self._tail = tail
        self._size = len(head) + view.nbytes + len(tail)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text (aiohttp's payload interface; not used for uploads)."""
        return (self._head + bytes(self._view) + self._tail).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body."""
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the body (aiohttp passes its own ``Content-Length``: the whole body)."""
        view, step = self._view, self._piece
        if len(self._head) + view.nbytes + len(self._tail) <= SMALL_BODY:
            await writer.write(b"".join((self._head, view, self._tail)))
            return
        pieces = (view[i : i + step] for i in range(0, len(view), step))
        framed = itertools.chain(
            (self._head,) if self._head else (), pieces, (self._tail,) if self._tail else ()
        )
        await write_pieces(writer, framed, self._stall_timeout)
