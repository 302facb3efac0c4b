"""V4 signed URLs (``GOOG4-RSA-SHA256``) from a service-account key.

The canonical request, string to sign and query parameters follow Google's
"V4 signing process": the host is the only signed header unless the caller
must send others (``content-type`` for a presigned write with a content type),
the payload is ``UNSIGNED-PAYLOAD``, and the signature is RSA-SHA256
(PKCS #1 v1.5) over the string to sign, hex-encoded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ...errors import ConfigInvalid
from ...types import PresignedRequest
from .auth import ServiceAccount
from .errors import SERVICE

__all__ = ["MAX_EXPIRE", "UrlSigner", "canonical_request", "string_to_sign"]

#: the longest validity GCS accepts for a V4 signed URL (7 days)
MAX_EXPIRE = dt.timedelta(days=7)

ALGORITHM = "GOOG4-RSA-SHA256"


def _quote(value: str, safe: str = "") -> str:
    return urllib.parse.quote(value, safe="-_.~" + safe)


def canonical_request(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The V4 canonical request.

    Args:
        method: HTTP method.
        path: the percent-encoded resource path (``/bucket/object``).
        query: query parameters (unencoded), without ``X-Goog-Signature``.
        headers: signed headers, names lower-case.
    """
    canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
    canonical_headers = "".join(f"{k}:{' '.join(v.split())}\n" for k, v in sorted(headers.items()))
    signed = ";".join(sorted(headers))
    return "\n".join([method, path, canonical_query, canonical_headers, signed, "UNSIGNED-PAYLOAD"])


def string_to_sign(timestamp: str, scope: str, request: str) -> str:
    """The V4 string to sign for a canonical request."""
    digest = hashlib.sha256(request.encode()).hexdigest()
    return "\n".join([ALGORITHM, timestamp, scope, digest])


class UrlSigner:
    """Signs URLs with one service account's private key.

    Args:
        account: the service account (e-mail and PEM key).
        endpoint: scheme and host the URLs point at (``https://storage.googleapis.com``).
    """

    def __init__(self, account: ServiceAccount, endpoint: str) -> None:
        self._key = account.private_key
        self._email = account.client_email
        self._endpoint = endpoint.rstrip("/")
        self._host = urllib.parse.urlsplit(self._endpoint).netloc

    def __repr__(self) -> str:
        return f"UrlSigner(client_email={self._email!r})"

    def sign(
        self,
        method: str,
        bucket: str,
        key: str,
        expire: dt.timedelta,
        *,
        headers: Mapping[str, str] | None = None,
        now: dt.datetime | None = None,
    ) -> PresignedRequest:
        """A signed request for ``method`` on object ``key``.

        Args:
            method: ``GET``, ``PUT`` or ``HEAD``.
            bucket: the bucket.
            key: the object name.
            expire: validity, at most 7 days.
            headers: headers the caller must send, signed (e.g. ``Content-Type``).
            now: the signing time (default: now, UTC).

        Raises:
            ConfigInvalid: ``expire`` is longer than 7 days.
        """
        seconds = int(expire.total_seconds())
        if expire > MAX_EXPIRE or seconds < 1:
            raise ConfigInvalid(
                f"a GCS signed URL is valid for 1 second to 7 days, got {expire}", service=SERVICE
            )
        now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        timestamp = now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{now:%Y%m%d}/auto/storage/goog4_request"
        extra = {k.lower(): v for k, v in (headers or {}).items()}
        signed_headers = {"host": self._host, **extra}
        query = {
            "X-Goog-Algorithm": ALGORITHM,
            "X-Goog-Credential": f"{self._email}/{scope}",
            "X-Goog-Date": timestamp,
            "X-Goog-Expires": str(seconds),
            "X-Goog-SignedHeaders": ";".join(sorted(signed_headers)),
        }
        path = f"/{_quote(bucket)}/{_quote(key, safe='/')}"
        request = canonical_request(method, path, query, signed_headers)
        signature = self._key.sign(
            string_to_sign(timestamp, scope, request).encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        encoded = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
        url = f"{self._endpoint}{path}?{encoded}&X-Goog-Signature={signature.hex()}"
        return PresignedRequest(method, url, dict(headers or {}))
