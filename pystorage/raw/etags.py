"""Etags in the two forms services give them, written once for every driver.

HTTP answers carry an etag quoted (``"abc"``, or weak ``W/"abc"``); some
listings (Azure, S3-compatibles) and the GCS JSON API give it bare.
:func:`quote_etag` turns it into the HTTP form (what S3 and Azure report in
:class:`~pystorage.types.Metadata`), :func:`strip_etag` into the bare form
(what GCS reports).
"""

from __future__ import annotations

from typing import Any

__all__ = ["quote_etag", "strip_etag"]


def quote_etag(etag: Any) -> str | None:
    """The etag in its quoted HTTP form; ``None`` for a missing or empty one."""
    if not isinstance(etag, str) or not etag:
        return None
    if etag.startswith('"') or etag.startswith("W/"):
        return etag
    return f'"{etag}"'


def strip_etag(etag: str | None) -> str | None:
    """The etag without surrounding quotes, blanks or a weak ``W/`` prefix."""
    if not etag or (etag[0] not in '"W \t' and etag[-1] not in '" \t'):
        return etag  # already bare (the common case): as it is
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1]
    return etag
