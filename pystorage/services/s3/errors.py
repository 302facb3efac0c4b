"""Translation of S3 error answers, aiohttp errors and botocore's (the credential chain)
into :mod:`pystorage.errors`, in one place.

Every call to the SDK runs inside :func:`map_errors`. A service error is
classified by its HTTP status first and refined by its S3 error code (never by
matching the text of the error); transport errors (refused or dropped
connections, timeouts, truncated bodies) are temporary :class:`Unexpected`
errors. The native error is chained as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import aiohttp
import botocore.exceptions as bexc  # type: ignore[import-untyped]
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from ... import errors
from ...raw.error_map import ErrorContext, temporary_error, transport_error
from ...raw.http import ErrorAnswer, answer_error
from ...raw.http import parse_xml_error as parse_error
from ...raw.redact import redact
from .sse import SSE_C_MISMATCH_MESSAGE, SSE_MISMATCH_CODES, SSE_MISMATCH_OPERATIONS

__all__ = [
    "SCHEME",
    "MalformedAnswer",
    "S3ErrorAnswer",
    "classify",
    "error_for_code",
    "from_answer",
    "from_client_error",
    "is_html_page",
    "map_errors",
    "parse_error",
]

SCHEME = "s3"

# S3 error codes that ask the client to slow down, whatever the status (503, 429, 400)
_RATE_LIMIT_CODES = frozenset(
    {
        "SlowDown",
        "SlowDownRead",
        "SlowDownWrite",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequests",
        "TooManyRequestsException",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
    }
)
# 4xx codes worth retrying: the request itself was fine
_TEMPORARY_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "OperationAborted", "InternalError", "ServiceUnavailable"}
)
_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccountProblem",
        "InvalidSecurity",
        "RequestTimeTooSkewed",
    }
)
# codes that say the configuration (bucket, region, part sizes) is wrong
_CONFIG_CODES = frozenset(
    {
        "NoSuchBucket",
        "InvalidBucketName",
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraintException",
        "EntityTooSmall",
        "EntityTooLarge",
        "TooManyParts",
        "InvalidStorageClass",
        "MetadataTooLarge",
        "KeyTooLongError",
        "InvalidDigest",
        "BadDigest",
    }
)
_UNSUPPORTED_CODES = frozenset({"NotImplemented", "Unimplemented", "MethodNotAllowed"})
# failures of the transport (refused or dropped connections, timeouts, truncated bodies)
_TRANSPORT_ERRORS = (
    bexc.ConnectionError,
    bexc.HTTPClientError,
    bexc.IncompleteReadError,
    bexc.ChecksumError,
    bexc.FlexibleChecksumError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)


def classify(status: int | None, code: str) -> tuple[type[errors.Error], bool]:
    """The pystorage error class and ``temporary`` flag of an S3 error answer.

    The HTTP status decides first; the S3 error code refines it.

    Args:
        status: the HTTP status (``None`` when unknown).
        code: the S3 error code (``"NoSuchKey"`` ...; for HEAD answers, which
            carry no body, botocore uses the status as the code).

    Returns:
        ``(error class, temporary)``.
    """
    if code in _RATE_LIMIT_CODES or status == 429:
        return errors.RateLimited, True
    if status == 404:
        if code == "NoSuchBucket":
            return errors.ConfigInvalid, False
        return errors.NotFound, False
    if status == 403:
        return errors.PermissionDenied, False
    if status in (304, 412):
        # 304: if_none_match / if_modified_since on GET or HEAD; 412: a failed precondition
        return errors.ConditionNotMatch, False
    if status == 416:
        return errors.RangeNotSatisfied, False
    if status == 409:
        if code == "ConditionalRequestConflict":
            # a concurrent conditional write won the race: the condition is
            # decided by retrying (it then succeeds or answers 412)
            return errors.ConditionNotMatch, True
        return errors.Unexpected, code in _TEMPORARY_CODES
    if status is not None and status >= 500:
        if code in _UNSUPPORTED_CODES or status == 501:
            return errors.Unsupported, False
        return errors.Unexpected, True
    if status in (405,) or code in _UNSUPPORTED_CODES:
        return errors.Unsupported, False
    if code in _AUTH_CODES:
        return errors.PermissionDenied, False
    if code in _CONFIG_CODES or status == 301:
        return errors.ConfigInvalid, False
    if code in _TEMPORARY_CODES or status in (307, 408):
        return errors.Unexpected, True
    return errors.Unexpected, False


def error_for_code(
    code: str, message: str = "", *, status: int | None = None, path: str = ""
) -> errors.Error:
    """A pystorage error for an S3 error code met without an HTTP failure
    (the per-key errors of a DeleteObjects answer)."""
    cls, temporary = classify(status, code)
    return cls(redact(message or code), path=path, service=SCHEME, temporary=temporary)


class S3ErrorAnswer(ErrorAnswer):
    """An S3 error answer (see :mod:`.http`); :func:`map_errors` translates it
    exactly like botocore's ``ClientError`` (still met from the credential chain).
    ``code`` is the status as text when the answer had no body, as botocore does."""


class MalformedAnswer(Exception):
    """A success answer that is not what S3 sends: an HTML page (a captive portal,
    a misconfigured proxy), a truncated or foreign XML document. :func:`map_errors`
    turns it into a temporary :class:`~pystorage.errors.Unexpected` (a retry may
    reach the real service); it never passes for a result (an empty listing)."""


def is_html_page(headers: Mapping[str, Any], status: int) -> bool:
    """Whether a 2xx answer with ``headers`` is an HTML page rather than an S3 answer.

    An object that is an HTML page still carries its ``ETag``; an answer with no
    body (``204``, ``Content-Length: 0``: moto labels its empty DELETE answers
    ``text/html``) is no page."""
    if status == 204:
        return False
    lowered = {str(k).lower(): v for k, v in headers.items()}
    if str(lowered.get("content-length", "")).strip() == "0":
        return False
    content_type = str(lowered.get("content-type") or "").lower()
    return content_type.startswith(("text/html", "application/xhtml")) and "etag" not in lowered


def from_client_error(
    exc: bexc.ClientError,
    operation: str = "",
    path: str = "",
    bucket: str = "",
    *,
    conditional: bool = False,
) -> errors.Error:
    """Translate a botocore ``ClientError`` (the service answered with an error).

    ``conditional``: see :func:`map_errors`.
    """
    response: Mapping[str, Any] = exc.response or {}
    meta: Mapping[str, Any] = response.get("ResponseMetadata") or {}
    error: Mapping[str, Any] = response.get("Error") or {}
    status = meta.get("HTTPStatusCode")
    return from_answer(
        status if isinstance(status, int) else None,
        str(error.get("Code") or ""),
        str(error.get("Message") or ""),
        meta.get("HTTPHeaders") or {},
        operation,
        path,
        bucket,
        conditional=conditional,
    )


def from_answer(
    status: int | None,
    code: str,
    text: str,
    headers: Mapping[str, Any],
    operation: str = "",
    path: str = "",
    bucket: str = "",
    *,
    conditional: bool = False,
) -> errors.Error:
    """Translate an S3 error answer, whichever request path met it: by status,
    then by code (see :func:`classify`). ``conditional``: see :func:`map_errors`."""
    cls, temporary = classify(status, code)
    if conditional and code == "NoSuchKey":
        cls, text = errors.ConditionNotMatch, "if_match: the object does not exist"
    if status == 400 and code in SSE_MISMATCH_CODES and operation in SSE_MISMATCH_OPERATIONS:
        # S3 refuses a read whose SSE-C parameters do not fit the object (HEAD: a bare 400)
        cls, text = errors.PermissionDenied, SSE_C_MISMATCH_MESSAGE
    if code == "NoSuchBucket":
        text = f"bucket {bucket!r} does not exist (check the 'bucket' config key)"
    return answer_error(
        cls, temporary, status, code, text, headers, operation=operation, path=path, service=SCHEME
    )


def _translate(
    exc: Exception, operation: str = "", path: str = "", bucket: str = "", *, conditional: bool = False
) -> errors.Error | None:
    """The pystorage error for a native one met by a request (an error answer,
    a transport failure, botocore's errors of the credential chain), or ``None``
    if it is not one this driver translates. ``conditional``: see :func:`map_errors`."""
    if isinstance(exc, bexc.ClientError):
        return from_client_error(exc, operation, path, bucket, conditional=conditional)
    if isinstance(exc, S3ErrorAnswer):
        return from_answer(
            exc.status, exc.code, exc.message, exc.headers, operation, path, bucket, conditional=conditional
        )
    if isinstance(exc, (bexc.NoCredentialsError, bexc.PartialCredentialsError)):
        return errors.ConfigInvalid(
            "no usable credentials: set access_key_id and secret_access_key, or allow_anonymous",
            operation=operation,
            path=path,
            service=SCHEME,
        )
    if isinstance(exc, (MalformedAnswer, ET.ParseError, ResponseParserError)):
        text = f"the service's answer is malformed ({exc})"
        return temporary_error(text, operation=operation, path=path, service=SCHEME)
    if isinstance(exc, (bexc.ParamValidationError, bexc.ProfileNotFound)):
        return errors.ConfigInvalid(redact(str(exc)), operation=operation, path=path, service=SCHEME)
    if isinstance(exc, _TRANSPORT_ERRORS):
        return transport_error(exc, operation=operation, path=path, service=SCHEME)
    if isinstance(exc, bexc.BotoCoreError):
        return errors.Unexpected(
            redact(f"{type(exc).__name__}: {exc}"), operation=operation, path=path, service=SCHEME
        )
    return None


def map_errors(
    operation: str, path: str = "", *, bucket: str = "", conditional: bool = False
) -> AbstractContextManager[None]:
    """Run a block of SDK calls, translating what they raise.

    Args:
        operation: the pystorage operation (``"read"``, ``"write"`` ...).
        path: the path it works on, relative to the root.
        bucket: the bucket name, for the ``NoSuchBucket`` message.
        conditional: the block is a write with ``if_match``: S3 answers
            ``404 NoSuchKey`` when the object is missing, which is reported
            as ``ConditionNotMatch`` (the condition did not hold).

    Raises:
        errors.Error: the translated error, chaining the native one.
    """
    return ErrorContext(
        operation,
        path,
        SCHEME,
        lambda exc: _translate(exc, operation, path, bucket, conditional=conditional),
    )
