"""Translation of Azure Blob error answers and aiohttp failures into :mod:`pystorage.errors`.

Every request runs inside :func:`map_errors`. An error answer is classified
by its HTTP status first, refined by its service error code (the
``x-ms-error-code`` header, or ``<Code>`` of the XML body; never by
matching the message text). Transport failures (refused or dropped
connections, timeouts, short bodies) are temporary :class:`Unexpected`
errors. The native error is chained as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import aiohttp

from ... import errors
from ...raw.error_map import ErrorContext, transport_error
from ...raw.http import ErrorAnswer, answer_error
from ...raw.http import parse_xml_error as parse_error

__all__ = ["SCHEME", "AzureErrorAnswer", "classify", "from_answer", "map_errors", "parse_error"]

SCHEME = "azblob"

_RATE_LIMIT_CODES = frozenset({"ServerBusy", "OperationTimedOut", "TooManyRequests"})
_TEMPORARY_CODES = frozenset({"InternalError", "PendingCopyOperation", "ServiceUnavailable"})
_CONDITION_CODES = frozenset(
    {
        "ConditionNotMet",
        "TargetConditionNotMet",
        "SourceConditionNotMet",
        "AppendPositionConditionNotMet",
        "MaxBlobSizeConditionNotMet",
        "BlobAlreadyExists",
    }
)
_CONFIG_CODES = frozenset(
    {
        "InvalidHeaderValue",
        "InvalidQueryParameterValue",
        "InvalidBlockList",
        "InvalidBlockId",
        "InvalidBlobTier",
        "InvalidResourceName",
        "InvalidUri",
        "OutOfRangeInput",
        "OutOfRangeQueryParameterValue",
        "RequestBodyTooLarge",
        "InvalidBlobType",
        "MissingRequiredHeader",
        "InvalidXmlDocument",
    }
)
_UNSUPPORTED_CODES = frozenset(
    {
        "NotImplemented",
        "FeatureNotSupported",
        "UnsupportedHeader",
        "UnsupportedQueryParameter",
        "UnsupportedHttpVerb",
        "FeatureVersionMismatch",
    }
)
_CHECKSUM_CODES = frozenset({"Md5Mismatch", "Crc64Mismatch", "InvalidMd5"})
_CPK_CODES = frozenset({"BlobUsesCustomerSpecifiedEncryption", "BlobDoesNotUseCustomerSpecifiedEncryption"})


def classify(status: int | None, code: str) -> tuple[type[errors.Error], bool]:
    """The pystorage error class and ``temporary`` flag of an error answer:
    the HTTP status decides, the service error code refines."""
    if code in _RATE_LIMIT_CODES or status in (429, 503):
        return errors.RateLimited, True
    if status == 404:
        return errors.NotFound, False
    if status == 403:
        return errors.PermissionDenied, False
    if status in (304, 412) or code in _CONDITION_CODES:
        return errors.ConditionNotMatch, False
    if status == 416 or code == "InvalidRange":
        return errors.RangeNotSatisfied, False
    if code in _CHECKSUM_CODES:
        return errors.ChecksumMismatch, True
    if code in _CPK_CODES:
        return errors.PermissionDenied, False
    if code in _UNSUPPORTED_CODES or status in (405, 501):
        return errors.Unsupported, False
    if status is not None and status >= 500:
        return errors.Unexpected, True
    if code in _TEMPORARY_CODES or status == 408:
        return errors.Unexpected, True
    if code in _CONFIG_CODES:
        return errors.ConfigInvalid, False
    if code.startswith("Authentication") or code.startswith("Authorization"):
        return errors.PermissionDenied, False
    return errors.Unexpected, False


class AzureErrorAnswer(ErrorAnswer):
    """An error answer (status >= 300) of the blob service (``code``: ``BlobNotFound`` ...)."""


def from_answer(
    status: int | None,
    code: str,
    text: str,
    headers: Mapping[str, Any],
    operation: str = "",
    path: str = "",
    container: str = "",
) -> errors.Error:
    """Translate an error answer (see :func:`classify`)."""
    cls, temporary = classify(status, code)
    if code == "ContainerNotFound":
        text = f"container {container!r} does not exist (check the 'container' config key)"
    elif code == "BlobAlreadyExists":
        text = "if_not_exists: the blob exists"
    elif code in _CPK_CODES:
        text = "the blob's customer-provided key does not match the request's (or one is missing)"
    return answer_error(
        cls, temporary, status, code, text, headers, operation=operation, path=path, service=SCHEME
    )


def _translate(
    exc: Exception, operation: str = "", path: str = "", container: str = ""
) -> errors.Error | None:
    """The pystorage error for a native one met by a request (an error answer,
    a transport failure), or ``None`` if it is not one this driver translates."""
    if isinstance(exc, AzureErrorAnswer):
        return from_answer(exc.status, exc.code, exc.message, exc.headers, operation, path, container)
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, OSError, ET.ParseError, ValueError)):
        return transport_error(exc, operation=operation, path=path, service=SCHEME)
    return None


def map_errors(operation: str, path: str = "", *, container: str = "") -> AbstractContextManager[None]:
    """Run a block of requests, translating what they raise.

    Args:
        operation: the pystorage operation (``"read"``, ``"write"`` ...).
        path: the path it works on, relative to the root.
        container: the container, for the ``ContainerNotFound`` message.

    Raises:
        errors.Error: the translated error, chaining the native one.
    """
    return ErrorContext(operation, path, SCHEME, lambda exc: _translate(exc, operation, path, container))
