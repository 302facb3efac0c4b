"""Keep secrets out of SDK logs.

SDKs log requests at DEBUG (botocore logs headers, signatures and sometimes
bodies). Drivers call :func:`install_redaction` with the logger prefixes of
the SDK they use and the secret values of their config; every record those
loggers emit then has known secrets and secret-looking header values
replaced by ``<redacted>`` before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactedHeaders",
    "RedactingFilter",
    "install_redaction",
    "redact",
    "redact_url",
    "register_secrets",
]

REDACTED = "<redacted>"

# header or query names whose values are secret, in the shapes SDKs log them:
# 'name': 'value'  /  name: value  /  name=value
_SECRET_NAMES = (
    r"authorization|x-amz-security-token|x-amz-signature|x-amz-credential|signature"
    r"|x-amz-server-side-encryption-customer-key(?!-md5)"
    r"|x-amz-copy-source-server-side-encryption-customer-key(?!-md5)"
    r"|x-goog-encryption-key(?!-sha256)|x-goog-copy-source-encryption-key(?!-sha256)"
    r"|x-goog-signature|x-goog-credential|sse_?customer_?key(?!_?md5)|copy_?source_?sse_?customer_?key(?!_?md5)"
    r"|aws_secret_access_key|secret_access_key|aws_session_token|session_token|private_key|access_token|token"
)
_PATTERN = re.compile(
    rf"""(?ix)
    (?P<name>["']?(?:{_SECRET_NAMES})["']?)      # the name, maybe quoted
    (?P<sep>\s*[:=]\s*b?)                        # : or = (bytes reprs too)
    (?P<value>"[^"]*"|'[^']*'|[^\s,&}}\]]+)      # the value, quoted or bare
    """
)


_SECRET_HEADER = re.compile(rf"(?:{_SECRET_NAMES})", re.IGNORECASE)

# query parameters of presigned URLs whose values grant access (SigV4, SigV2, GCS V4, SAS)
_SECRET_QUERY = re.compile(
    r"(?i)^(?:x-amz-signature|x-amz-security-token|x-amz-credential|signature|x-goog-signature"
    r"|x-goog-credential|googleaccessid|sig|awsaccesskeyid|security-token|token)$"
)


def redact_url(url: str) -> str:
    """``url`` with the values of its signing query parameters (signature,
    credential, security token) replaced by ``<redacted>``; the rest (host, path,
    expiry, signed headers) is kept, so that a redacted URL still says what it is for."""
    head, sep, query = url.partition("?")
    if not sep:
        return url
    fragment = ""
    if "#" in query:
        query, fragment = query.split("#", 1)
        fragment = "#" + fragment
    pieces = []
    for item in query.split("&"):
        name, eq, _value = item.partition("=")
        pieces.append(f"{name}={REDACTED}" if eq and _SECRET_QUERY.match(name) else item)
    return f"{head}?{'&'.join(pieces)}{fragment}"


class RedactedHeaders(dict[str, str]):
    """A header dict whose ``repr`` hides secret values (SSE customer keys,
    authorization, tokens). The values themselves are the real ones: the
    caller must send them; only ``repr`` (so any log or traceback showing the
    dict) hides them."""

    def __repr__(self) -> str:
        shown = {k: (REDACTED if _SECRET_HEADER.fullmatch(k) else v) for k, v in self.items()}
        return repr(shown)

    __str__ = __repr__


def _mask(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('name')}{match.group('sep')}{quote}{REDACTED}{quote}"


class RedactingFilter(logging.Filter):
    """Replaces known secret values and secret-looking fields in records."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Also redact these literal values (empty ones are ignored)."""
        with self._lock:
            self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _PATTERN.sub(_mask, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format: leave it to logging's own handling
            return True
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # handlers format the traceback later, from exc_info, after every filter
            # has run: format it now, redacted; formatters use exc_text when it is set
            try:
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            except Exception:
                pass
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


#: formats tracebacks the way :class:`logging.Formatter` does by default
_TRACEBACKS = logging.Formatter()


_FILTER = RedactingFilter()
_installed: set[str] = set()
_install_lock = threading.Lock()


def redact(text: str) -> str:
    """``text`` with every registered secret and secret-looking field replaced."""
    return _FILTER.redact(text)


def register_secrets(secrets: Iterable[str | None]) -> None:
    """Redact these literal values from every filtered logger from now on
    (credentials found at run time: the default chain, refreshed tokens)."""
    _FILTER.add_secrets(secrets)


def install_redaction(prefixes: Iterable[str], secrets: Iterable[str | None] = ()) -> None:
    """Attach the redacting filter to every logger named by or under ``prefixes``
    (those that exist now: SDKs create theirs at import), and register ``secrets``.

    Filters on a logger only see records created on that logger, so the filter
    goes on each one, not just on the prefix.
    """
    _FILTER.add_secrets(secrets)
    prefixes = tuple(prefixes)
    with _install_lock:
        names = [
            name
            for name in list(logging.Logger.manager.loggerDict)
            if any(name == p or name.startswith(p + ".") for p in prefixes)
        ]
        for name in {*prefixes, *names}:
            if name in _installed:
                continue
            logging.getLogger(name).addFilter(_FILTER)
            _installed.add(name)
