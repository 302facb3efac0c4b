"""A small AWS Signature Version 4 signer for the lean S3 request path.

Signs one request's headers (``Authorization``, ``x-amz-date``,
``x-amz-content-sha256``, ``x-amz-security-token``) the way S3 expects,
with the payload sent as ``UNSIGNED-PAYLOAD`` (S3 accepts it over HTTP and
HTTPS; hashing every body would cost ~1.8 s of CPU per GiB uploaded) and the
empty-body hash for requests without a body. The derived signing key is
cached per (secret, day, region, service), so a request costs two small
HMACs and one SHA-256 of the canonical request.

Credentials are not resolved here: the caller passes the frozen credentials
of the moment (from botocore's credential chain, which refreshes them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["EMPTY_SHA256", "UNSIGNED_PAYLOAD", "SigV4Signer", "canonical_query", "quote_path"]

#: the SHA-256 of an empty body
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: the payload hash value telling S3 the body is not part of the signature
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_ALGORITHM = "AWS4-HMAC-SHA256"


def quote_path(path: str) -> str:
    """A URL path as S3 wants it in the request and the canonical request:
    every byte but ``A-Za-z0-9-._~`` and ``/`` percent-encoded (UTF-8)."""
    return quote(path, safe="/~")


def canonical_query(params: Mapping[str, str]) -> str:
    """The canonical (and sent) query string: names sorted, names and values
    percent-encoded with only ``A-Za-z0-9-._~`` left as is."""
    return "&".join(
        f"{quote(name, safe='~')}={quote(value, safe='~')}" for name, value in sorted(params.items())
    )


class SigV4Signer:
    """Signs S3 requests for one region.

    Args:
        region: the signing region (``us-east-1`` ...).
        service: the signing service name (default ``"s3"``).
    """

    def __init__(self, region: str, service: str = "s3") -> None:
        self.region = region
        self.service = service
        self._key_for: tuple[str, str] | None = None  # (secret, day) of the cached key
        self._key = b""
        self._second = -1  # the second of the cached time stamp
        self._stamp = ""

    def _stamp_now(self) -> str:
        # one strftime per second, not per request (a third of the signing time)
        second = int(time.time())
        if second != self._second:
            self._stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._second = second
        return self._stamp

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key_for != (secret, day):
            key = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
            key = hmac.digest(key, self.region.encode(), "sha256")
            key = hmac.digest(key, self.service.encode(), "sha256")
            self._key = hmac.digest(key, b"aws4_request", "sha256")
            self._key_for = (secret, day)
        return self._key

    def sign(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        *,
        access_key: str,
        secret_key: str,
        token: str | None = None,
        payload_hash: str = UNSIGNED_PAYLOAD,
        now: dt.datetime | None = None,
    ) -> None:
        """Add the signature headers to ``headers`` (in place).

        Every header already in ``headers`` is signed (``host`` must be
        there); names must be lower case.

        Args:
            method: ``GET``, ``PUT`` ...
            path: the encoded URL path (see :func:`quote_path`).
            query: the canonical query string (see :func:`canonical_query`).
            headers: the request's headers, lower-case names.
            access_key: the access key id.
            secret_key: the secret access key.
            token: the session token, if any.
            payload_hash: :data:`UNSIGNED_PAYLOAD` (default) or the body's hex SHA-256.
            now: the signing time (default: the current UTC time).
        """
        stamp = now.strftime("%Y%m%dT%H%M%SZ") if now is not None else self._stamp_now()
        day = stamp[:8]
        headers["x-amz-date"] = stamp
        headers["x-amz-content-sha256"] = payload_hash
        if token:
            headers["x-amz-security-token"] = token
        names = sorted(headers)
        signed = ";".join(names)
        canonical_headers = "".join(f"{name}:{' '.join(str(headers[name]).split())}\n" for name in names)
        request = f"{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload_hash}"
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(secret_key, day), to_sign.encode(), "sha256").hexdigest()
        headers["authorization"] = (
            f"{_ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
