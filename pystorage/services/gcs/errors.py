"""The one place where the gcs driver turns native failures into pystorage errors.

Mapping, by HTTP status (the JSON API's ``error.message`` becomes the message):

=================================  ==================================================
native                             pystorage
=================================  ==================================================
404                                :class:`~pystorage.errors.NotFound`
401, 403                           :class:`~pystorage.errors.PermissionDenied`
400 with a CSEK reason             :class:`~pystorage.errors.PermissionDenied` (the
                                   customer key is missing or wrong)
304, 412                           :class:`~pystorage.errors.ConditionNotMatch`
416                                :class:`~pystorage.errors.RangeNotSatisfied`
429                                :class:`~pystorage.errors.RateLimited` (temporary,
                                   ``retry_after`` from ``Retry-After``)
408, 5xx                           :class:`~pystorage.errors.Unexpected`, temporary
other statuses                     :class:`~pystorage.errors.Unexpected`
connection errors, broken          :class:`~pystorage.errors.Unexpected`, temporary
bodies, timeouts
a 2xx answer that is not JSON      :class:`~pystorage.errors.Unexpected`, temporary
(an HTML page, truncated JSON)     (:class:`GcsMalformedAnswer`)
=================================  ==================================================

The native error is chained as ``__cause__``. Messages never contain request
URLs (a resumable upload's session URI is a credential of its own), headers
or tokens.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

import aiohttp

from ...errors import (
    ConditionNotMatch,
    Error,
    NotFound,
    PermissionDenied,
    RangeNotSatisfied,
    RateLimited,
    Unexpected,
)
from ...raw.dates import retry_after

__all__ = [
    "CSEK_MISMATCH_MESSAGE",
    "CSEK_MISMATCH_REASONS",
    "SERVICE",
    "GcsHttpError",
    "GcsMalformedAnswer",
    "from_native",
    "from_status",
    "map_errors",
]

#: the ``service`` field of every error this driver raises
SERVICE = "gcs"

_BY_STATUS: dict[int, type[Error]] = {
    304: ConditionNotMatch,
    401: PermissionDenied,
    403: PermissionDenied,
    404: NotFound,
    412: ConditionNotMatch,
    416: RangeNotSatisfied,
    429: RateLimited,
}

#: the ``reason`` of GCS's 400 answers to a customer-supplied key (CSEK) that is
#: missing, wrong, or given for an object not encrypted with one
CSEK_MISMATCH_REASONS = frozenset(
    {
        "resourceIsEncryptedWithCustomerEncryptionKey",
        "resourceNotEncryptedWithCustomerEncryptionKey",
        "customerEncryptionKeyIsIncorrect",
        "customerEncryptionKeySha256IsInvalid",
        "customerEncryptionKeyFormatIsInvalid",
    }
)

CSEK_MISMATCH_MESSAGE = (
    "the object is encrypted with a customer-supplied key (CSEK) that was not given or does not "
    "match, or a key was given for an object not encrypted with one"
)

#: how much of an error body is kept for the message
_MAX_BODY = 2048


class GcsHttpError(Exception):
    """A response with an unexpected HTTP status (the native error of this driver).

    Attributes:
        status: the HTTP status.
        message: the JSON API's ``error.message`` (or the reason phrase).
        retry_after: the ``Retry-After`` header in seconds, if any.
        reason: the JSON API's ``error.errors[0].reason`` (``"notFound"`` ...), if any.
    """

    def __init__(
        self, status: int, message: str, retry_after: float | None = None, reason: str | None = None
    ) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable (dask and tblib ship an error's __cause__ between processes)
        return (type(self), (self.status, self.message, self.retry_after, self.reason))

    @classmethod
    def from_body(
        cls, status: int, reason: str | None, body: bytes, retry_after_header: str | None = None
    ) -> GcsHttpError:
        """Build from a response's status, reason phrase, body and ``Retry-After``."""
        message = (reason or "").strip()
        text = body[:_MAX_BODY].decode("utf-8", "replace").strip()
        code: str | None = None
        try:
            doc = json.loads(text)
            detail = doc["error"]["message"] if isinstance(doc.get("error"), dict) else doc.get("error")
            found = (doc["error"].get("errors") or [{}])[0].get("reason")
            code = found if isinstance(found, str) else None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            detail = text.splitlines()[0] if text and not text.startswith("<") else ""
        if isinstance(detail, str) and detail and detail != message:
            message = f"{message}: {detail}" if message else detail
        return cls(status, message or f"HTTP {status}", retry_after(retry_after_header), code)


class GcsMalformedAnswer(Exception):
    """A success answer whose body is not the JSON document the API sends (an
    HTML page from a captive portal or proxy, a truncated document): a temporary
    :class:`~pystorage.errors.Unexpected`, never a raw ``JSONDecodeError``."""


def from_status(
    status: int,
    message: str,
    *,
    operation: str = "",
    path: str = "",
    retry_after: float | None = None,
) -> Error:
    """The pystorage error for an HTTP status (not chained yet: ``raise ... from exc``).

    Args:
        status: the HTTP status of the failed response.
        message: what went wrong, in words (no URLs, no secrets).
        operation: the operation that failed.
        path: the path it failed on, relative to the root.
        retry_after: seconds the service asked to wait (``Retry-After``).
    """
    cls = _BY_STATUS.get(status)
    text = f"GCS answered {status}: {message}"
    if cls is not None:
        return cls(text, operation=operation, path=path, service=SERVICE, retry_after=retry_after)
    temporary = status == 408 or status >= 500
    return Unexpected(
        text, operation=operation, path=path, service=SERVICE, temporary=temporary, retry_after=retry_after
    )


def from_native(exc: BaseException, *, operation: str = "", path: str = "") -> Error | None:
    """The pystorage error for a native exception, or ``None`` if it is not one
    this driver translates (``asyncio.CancelledError``, programming errors ...).

    Args:
        exc: the native error.
        operation: the operation that failed.
        path: the path it failed on, relative to the root.
    """
    if isinstance(exc, GcsMalformedAnswer):
        text = f"GCS's answer is malformed ({exc})"
        return Unexpected(text, operation=operation, path=path, service=SERVICE, temporary=True)
    if isinstance(exc, GcsHttpError):
        if exc.status == 400 and exc.reason in CSEK_MISMATCH_REASONS:
            return PermissionDenied(
                f"GCS answered 400 ({exc.reason}): {CSEK_MISMATCH_MESSAGE}",
                operation=operation,
                path=path,
                service=SERVICE,
            )
        return from_status(
            exc.status, exc.message, operation=operation, path=path, retry_after=exc.retry_after
        )
    if isinstance(exc, aiohttp.ClientResponseError):
        # raised by gcloud-aio-auth while fetching a token; its message may quote the token
        # endpoint's answer, never the credential, but keep only the status to be safe
        return from_status(exc.status, "the OAuth token request failed", operation=operation, path=path)
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ConnectionError)):
        reason = type(exc).__name__
        detail = str(exc).split("\n", 1)[0][:200] if isinstance(exc, aiohttp.ClientConnectionError) else ""
        text = f"connection to GCS failed ({reason}{': ' + detail if detail else ''})"
        return Unexpected(text, operation=operation, path=path, service=SERVICE, temporary=True)
    return None


class map_errors:  # a class used as a function: ``with map_errors(operation, path):``
    """Translate errors raised in the block.

    pystorage errors pass through with their empty context fields filled in;
    native errors are translated by :func:`from_native` and chained.

    Args:
        operation: the operation name put on the error.
        path: the path (relative to the root) put on the error.

    A class, not a ``@contextmanager`` generator: every request enters one,
    and this costs a third as much.
    """

    __slots__ = ("operation", "path")

    def __init__(self, operation: str, path: str) -> None:
        self.operation = operation
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        if isinstance(exc, Error):
            exc.with_context(operation=self.operation, path=self.path, service=SERVICE)
            return
        mapped = from_native(exc, operation=self.operation, path=self.path)
        if mapped is not None:
            raise mapped from exc
