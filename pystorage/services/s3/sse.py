"""Server-side encryption on S3: the config keys, and the parameters of each request kind.

Everything here is pure (no I/O): :func:`sse_headers` gives the HTTP headers
of a spec for one S3 API call (what every request sends), :func:`sse_params`
the same as botocore parameters (for presigned URLs, signed by botocore).

Which request carries what (as AWS documents it):

=========================  ==============================  =====================================
request kind               SSE-S3 / SSE-KMS                SSE-C (algorithm, key, key-MD5)
=========================  ==============================  =====================================
PutObject                  yes                             yes
CreateMultipartUpload      yes                             yes
UploadPart                 no (set by the initiate)        yes, on every part
CompleteMultipartUpload    no                              yes (required when the bucket
                                                           policy asks for SSE-C, accepted always)
GetObject / HeadObject     no (decrypted transparently)    yes
CopyObject                 yes (the destination)           destination, and ``CopySource...``
UploadPartCopy             no                              destination, and ``CopySource...``
ListParts                  no                              yes
=========================  ==============================  =====================================

The same spec is used for both sides of a copy: what a
:class:`~pystorage.layers.ServerSideEncryptionLayer` or the config asks for.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from ...raw.config import customer_key_from_config as _customer_key
from ...raw.config import invalid_key
from ...raw.redact import RedactedHeaders
from ...sse import CustomerKey, Kms, S3Managed, SseSpec

__all__ = [
    "KINDS",
    "PARAM_HEADERS",
    "RedactedHeaders",
    "RequestKind",
    "SSE_C_MISMATCH_MESSAGE",
    "SSE_MISMATCH_CODES",
    "SSE_MISMATCH_OPERATIONS",
    "customer_key_from_config",
    "sse_headers",
    "sse_params",
    "spec_from_config",
]

RequestKind = Literal[
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "GetObject",
    "HeadObject",
    "CopyObject",
    "UploadPartCopy",
    "ListParts",
]
"""The S3 API calls that take encryption parameters."""

#: every :data:`RequestKind`
KINDS: tuple[RequestKind, ...] = get_args(RequestKind)

# the calls that choose how a new object is encrypted (SSE-S3 / SSE-KMS)
_CREATES = frozenset({"PutObject", "CreateMultipartUpload", "CopyObject"})
# the calls whose source is an existing object (copy-source SSE-C)
_COPIES = frozenset({"CopyObject", "UploadPartCopy"})

#: the HTTP header of each botocore parameter built here
PARAM_HEADERS: Mapping[str, str] = {
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "SSEKMSEncryptionContext": "x-amz-server-side-encryption-context",
    "BucketKeyEnabled": "x-amz-server-side-encryption-bucket-key-enabled",
    "SSECustomerAlgorithm": "x-amz-server-side-encryption-customer-algorithm",
    "SSECustomerKey": "x-amz-server-side-encryption-customer-key",
    "SSECustomerKeyMD5": "x-amz-server-side-encryption-customer-key-MD5",
    "CopySourceSSECustomerAlgorithm": "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "CopySourceSSECustomerKey": "x-amz-copy-source-server-side-encryption-customer-key",
    "CopySourceSSECustomerKeyMD5": "x-amz-copy-source-server-side-encryption-customer-key-MD5",
}


#: the message of the error raised when S3 refuses a read's encryption parameters
SSE_C_MISMATCH_MESSAGE = (
    "the service refused the encryption parameters: the object is encrypted with a customer "
    "key (SSE-C) that was not given or does not match, or a customer key was given for an "
    "object not encrypted with one"
)

#: the S3 error codes of a 400 answer to a read whose SSE-C parameters do not fit the
#: object (``"400"``: a HEAD answer, which has no body to carry a code)
SSE_MISMATCH_CODES = frozenset({"InvalidRequest", "400"})

#: the operations whose 400 answers with :data:`SSE_MISMATCH_CODES` mean that
SSE_MISMATCH_OPERATIONS = frozenset({"read", "stat", "copy", "rename"})


def _customer(spec: CustomerKey, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}SSECustomerAlgorithm": "AES256",
        f"{prefix}SSECustomerKey": spec.key_b64,
        f"{prefix}SSECustomerKeyMD5": spec.key_md5_b64,
    }


def sse_params(spec: SseSpec | None, kind: RequestKind) -> dict[str, Any]:
    """The botocore parameters of ``spec`` for one S3 call.

    The SSE-C key goes out base64-encoded with its MD5, so botocore's own
    SSE-C customisation (which would encode a raw key) leaves it as is.

    Args:
        spec: the encryption spec (``None``: no parameters).
        kind: the S3 API call (see the module docs for which kind takes what).

    Returns:
        A new dict of parameters (empty when the call takes none for ``spec``).
    """
    if spec is None:
        return {}
    if kind not in KINDS:
        raise ValueError(f"not an S3 request kind: {kind!r}")
    params: dict[str, Any] = {}
    if isinstance(spec, CustomerKey):
        params.update(_customer(spec, ""))
        if kind in _COPIES:
            params.update(_customer(spec, "CopySource"))
    elif kind in _CREATES:
        if isinstance(spec, S3Managed):
            params["ServerSideEncryption"] = "AES256"
        elif isinstance(spec, Kms):
            params["ServerSideEncryption"] = "aws:kms"
            if spec.key_id is not None:
                params["SSEKMSKeyId"] = spec.key_id
            if spec.context is not None:
                encoded = json.dumps(dict(spec.context), separators=(",", ":"), sort_keys=True)
                params["SSEKMSEncryptionContext"] = base64.b64encode(encoded.encode()).decode()
            if spec.bucket_key is not None:
                params["BucketKeyEnabled"] = spec.bucket_key
    return params


def sse_headers(spec: SseSpec | None, kind: RequestKind) -> RedactedHeaders:
    """The raw HTTP headers of ``spec`` for one S3 call (what :func:`sse_params`
    makes botocore send), for a request path that builds its own requests.

    Returns:
        A :class:`RedactedHeaders` (its ``repr`` hides the key).
    """
    headers = RedactedHeaders()
    for name, value in sse_params(spec, kind).items():
        headers[PARAM_HEADERS[name]] = ("true" if value else "false") if isinstance(value, bool) else value
    return headers




# config ---------------------------------------------------------------------------------------------

_KEY = "server_side_encryption"
_KMS_KEY_ID = "server_side_encryption_aws_kms_key_id"
_C_ALGORITHM = "server_side_encryption_customer_algorithm"
_C_KEY = "server_side_encryption_customer_key"
_C_KEY_MD5 = "server_side_encryption_customer_key_md5"


def customer_key_from_config(scheme: str, key_b64: str, key_name: str = _C_KEY) -> CustomerKey:
    """A :class:`CustomerKey` from its base64 config value.

    Raises:
        ConfigInvalid: not base64 of exactly 32 bytes (the key is never shown).
    """
    return _customer_key(scheme, key_b64, key_name)


def spec_from_config(
    scheme: str,
    *,
    server_side_encryption: str | None = None,
    aws_kms_key_id: str | None = None,
    customer_algorithm: str | None = None,
    customer_key: str | None = None,
    customer_key_md5: str | None = None,
) -> SseSpec | None:
    """The spec the ``server_side_encryption*`` config keys describe (OpenDAL's names).

    Args:
        scheme: the service, for error messages.
        server_side_encryption: ``"AES256"`` (SSE-S3) or ``"aws:kms"`` (SSE-KMS).
        aws_kms_key_id: the KMS key (only with ``"aws:kms"``; default: the account's key).
        customer_algorithm: ``"AES256"`` (the only SSE-C algorithm; the default when a key is given).
        customer_key: the base64 32-byte SSE-C key (secret).
        customer_key_md5: the base64 MD5 of the key; checked against it when given.

    Returns:
        The spec, or ``None`` when no key is set.

    Raises:
        ConfigInvalid: an unknown value or an invalid combination, naming the key.
    """
    if server_side_encryption is not None and server_side_encryption not in ("AES256", "aws:kms"):
        raise invalid_key(scheme, _KEY, f'must be "AES256" or "aws:kms", got {server_side_encryption!r}')
    if aws_kms_key_id is not None and server_side_encryption != "aws:kms":
        raise invalid_key(scheme, _KMS_KEY_ID, f'needs {_KEY}="aws:kms"')
    if customer_key is None:
        for name, value in ((_C_ALGORITHM, customer_algorithm), (_C_KEY_MD5, customer_key_md5)):
            if value is not None:
                raise invalid_key(scheme, name, f"needs {_C_KEY!r}")
    else:
        if server_side_encryption is not None:
            raise invalid_key(
                scheme, _C_KEY, f"cannot be combined with {_KEY!r} (an object has one encryption)"
            )
        if customer_algorithm is not None and customer_algorithm != "AES256":
            raise invalid_key(scheme, _C_ALGORITHM, f'must be "AES256", got {customer_algorithm!r}')
        spec = customer_key_from_config(scheme, customer_key)
        if customer_key_md5 is not None and not hmac.compare_digest(
            customer_key_md5.strip(), spec.key_md5_b64
        ):
            raise invalid_key(scheme, _C_KEY_MD5, "does not match the MD5 of the customer key")
        return spec
    if server_side_encryption == "AES256":
        return S3Managed()
    if server_side_encryption == "aws:kms":
        return Kms(key_id=aws_kms_key_id)
    return None
