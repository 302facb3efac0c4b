"""Shared Key request signing and service SAS URLs for Azure Blob Storage.

:class:`SharedKeySigner` adds ``Authorization: SharedKey <account>:<sig>``
to one request, computed as the service documents it ("Authorize with Shared
Key"): the verb, eleven standard headers, the ``x-ms-*`` headers sorted by
name, and the canonicalised resource (``/<account><url path>`` plus every
query parameter, names lower-cased and sorted). :func:`service_sas` builds a
blob service SAS (``sr=b``) query string signed with the same key.

The key is decoded once and never shown: it lives only in the signer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["API_VERSION", "SharedKeySigner", "quote_blob", "service_sas"]

#: the REST API version every request is sent with (``x-ms-version``) and SAS are signed for
API_VERSION = "2021-08-06"

_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def quote_blob(name: str) -> str:
    """A blob name as a URL path: every byte but ``A-Za-z0-9-._~`` and ``/`` percent-encoded."""
    return quote(name, safe="/~")


class SharedKeySigner:
    """Signs requests with an account's Shared Key.

    Args:
        account: the storage account name.
        key: the account key, base64 (as the portal shows it).
    """

    def __init__(self, account: str, key: str) -> None:
        self.account = account
        self._key = base64.b64decode(key)

    def __repr__(self) -> str:
        return f"SharedKeySigner(account={self.account!r}, key=<redacted>)"

    def signature(self, text: str) -> str:
        """The base64 HMAC-SHA256 of ``text`` under the account key."""
        return base64.b64encode(hmac.digest(self._key, text.encode(), "sha256")).decode()

    def sign(self, method: str, path: str, query: Mapping[str, str], headers: dict[str, str]) -> None:
        """Add ``authorization`` to ``headers`` (in place; names must be lower case).

        Args:
            method: ``GET``, ``PUT`` ...
            path: the URL path as sent (percent-encoded).
            query: the decoded query parameters.
            headers: the request headers, ``x-ms-date`` and ``x-ms-version`` included.
        """
        standard = []
        for name in _SIGNED_HEADERS:
            value = headers.get(name, "")
            if name == "content-length" and value == "0":
                value = ""
            standard.append(value)
        canonical_headers = "".join(
            f"{name}:{headers[name]}\n" for name in sorted(h for h in headers if h.startswith("x-ms-"))
        )
        resource = f"/{self.account}{path}"
        for name in sorted(query, key=str.lower):
            resource += f"\n{name.lower()}:{query[name]}"
        text = f"{method}\n" + "\n".join(standard) + "\n" + canonical_headers + resource
        headers["authorization"] = f"SharedKey {self.account}:{self.signature(text)}"


def _sas_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_sas(
    signer: SharedKeySigner,
    *,
    container: str,
    blob: str,
    permissions: str,
    expiry: dt.datetime,
    start: dt.datetime | None = None,
    encryption_scope: str | None = None,
) -> str:
    """The query string of a blob service SAS (``sr=b``), without the leading ``?``.

    Args:
        signer: holds the account and its key.
        container: the container.
        blob: the blob name (not encoded).
        permissions: ``r`` (read), ``w`` (write), ``c`` (create) ... in the order
            the service wants them (``racwd``).
        expiry: when the SAS stops working (aware).
        start: when it starts (default: not set, valid at once).
        encryption_scope: signed into the SAS when writes must use a scope.
    """
    fields = {
        "sp": permissions,
        "st": _sas_time(start) if start else "",
        "se": _sas_time(expiry),
        "sv": API_VERSION,
        "sr": "b",
        "ses": encryption_scope or "",
    }
    resource = f"/blob/{signer.account}/{container}/{blob}"
    text = "\n".join(
        [
            fields["sp"],
            fields["st"],
            fields["se"],
            resource,
            "",  # signed identifier
            "",  # signed IP
            "",  # signed protocol
            fields["sv"],
            fields["sr"],
            "",  # snapshot time
            fields["ses"],
            "",  # rscc
            "",  # rscd
            "",  # rsce
            "",  # rscl
            "",  # rsct
        ]
    )
    fields["sig"] = signer.signature(text)
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in fields.items() if value)
