"""How the gcs driver authorises its requests: credentials and OAuth tokens.

:func:`resolve_auth` picks, from the config, a static token, OAuth tokens
obtained by gcloud-aio-auth (from a configured credential, Application
Default Credentials or the GCE metadata server), or anonymous requests (an
emulator, a public bucket). A service-account key, when there is one, is
loaded once (:class:`ServiceAccount`) for signing tokens and URLs. Every
secret met is registered for redaction from the logs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import os
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import anyio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ...errors import ConfigInvalid
from ...raw.redact import register_secrets
from .config import GcsConfig
from .errors import SERVICE

__all__ = ["TOKEN_TIMEOUT", "Auth", "ServiceAccount", "resolve_auth"]

#: seconds allowed for one OAuth token request
TOKEN_TIMEOUT = 30


@dataclasses.dataclass(frozen=True)
class ServiceAccount:
    """The parts of a service-account key used to sign URLs.

    Attributes:
        client_email: the account's e-mail (the signed URL's credential).
        private_key: the RSA private key, loaded (secret; not in repr).
    """

    client_email: str
    private_key: rsa.RSAPrivateKey = dataclasses.field(repr=False)


def _load_credential(config: GcsConfig) -> dict[str, Any] | None:
    """The credential JSON of ``credential`` / ``credential_path``, parsed and checked."""
    if config.credential:
        text = config.credential.strip()
        if not text.startswith("{"):
            try:
                text = base64.b64decode(text, validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ConfigInvalid(
                    "config key 'credential' of service 'gcs' is neither JSON nor base64-encoded JSON",
                    service=SERVICE,
                ) from None
        key = "credential"
    elif config.credential_path:
        try:
            with open(os.path.expanduser(config.credential_path), encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise ConfigInvalid(
                f"config key 'credential_path' of service 'gcs': cannot read the file ({exc.strerror})",
                service=SERVICE,
            ) from None
        key = "credential_path"
    else:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigInvalid(
            f"config key {key!r} of service 'gcs' does not hold a valid credential JSON document",
            service=SERVICE,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ConfigInvalid(
            f"config key {key!r} of service 'gcs' does not hold a credential (no 'type' field)",
            service=SERVICE,
        )
    return data


def _default_credential(config: GcsConfig) -> dict[str, Any] | None:
    """Application Default Credentials, unless ``disable_config_load``."""
    if config.disable_config_load:
        return None
    from gcloud.aio.auth.token import get_service_data

    try:
        data = get_service_data(None)
    except OSError as exc:
        raise ConfigInvalid(
            f"GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read ({exc.strerror})",
            service=SERVICE,
        ) from None
    return data or None


def _service_account(data: Mapping[str, Any] | None) -> ServiceAccount | None:
    if not data or data.get("type") != "service_account":
        return None
    email_, pem = data.get("client_email"), data.get("private_key")
    if not isinstance(email_, str) or not isinstance(pem, str):
        raise ConfigInvalid(
            "the gcs service-account credential lacks 'client_email' or 'private_key'", service=SERVICE
        )
    try:
        # the key is the user's own configuration, not untrusted input: skipping the
        # (~40 ms) consistency check keeps building an operator cheap
        key = serialization.load_pem_private_key(
            pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError):
        raise ConfigInvalid(
            "the gcs service-account credential's 'private_key' is not a PEM private key", service=SERVICE
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigInvalid("the gcs service-account credential's key is not an RSA key", service=SERVICE)
    return ServiceAccount(email_, key)


class Auth:
    """Where the ``Authorization`` header comes from: nothing (anonymous), a
    static token, or OAuth tokens from gcloud-aio-auth, cached until shortly
    before they expire.

    gcloud-aio-auth's own ``Token.get()`` retries failed refreshes five times
    with waits of up to a minute; this class calls ``Token.refresh()`` once
    instead, so that the retry layer stays the only retrier.
    """

    def __init__(
        self,
        mode: str,
        *,
        static: str | None = None,
        data: dict[str, Any] | None = None,
        scope: str = "",
        account: ServiceAccount | None = None,
    ) -> None:
        self.mode = mode
        self._static = static
        self._data = data
        self._scope = scope
        self._account = account
        self._value: str | None = None
        self._refresh_at = 0.0
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"Auth({self.mode})"

    async def header(self, session: aiohttp.ClientSession) -> dict[str, str]:
        """The ``Authorization`` header of a request (empty when anonymous),
        refreshing the OAuth token on ``session`` when it is due."""
        if self.mode == "anonymous":
            return {}
        if self.mode == "static":
            return {"Authorization": f"Bearer {self._static}"}
        if self._value is None or time.monotonic() >= self._refresh_at:
            async with self._lock:
                if self._value is None or time.monotonic() >= self._refresh_at:
                    await self._refresh(session)
        return {"Authorization": f"Bearer {self._value}"}

    async def _refresh(self, session: aiohttp.ClientSession) -> None:
        from gcloud.aio.auth import Token

        # ``{}`` makes gcloud-aio-auth use the GCE metadata server instead of searching ADC again
        service_file = io.StringIO(json.dumps(self._data or {}))
        token = Token(service_file=service_file, session=session, scopes=[self._scope])  # type: ignore[arg-type]
        if self._account is not None:
            # sign the token request's JWT with the key loaded once at build time, not a key
            # PyJWT would parse and check again from PEM (~40 ms on the event loop)
            token.service_data["private_key"] = self._account.private_key
        started = time.monotonic()
        response = await token.refresh(timeout=TOKEN_TIMEOUT)
        lifetime = max(60, int(response.expires_in))
        self._value = response.value
        register_secrets((response.value,))  # a fresh OAuth token: keep it out of the logs
        # refresh when 90% of the lifetime has passed and at least a minute early
        # (but never before half of it, for very short-lived tokens)
        self._refresh_at = started + max(lifetime * 0.5, min(lifetime * 0.9, lifetime - 60))

    def after_fork_in_child(self) -> None:
        """In a forked child: a fresh lock (the parent's may be held); the cached token is kept."""
        self._lock = anyio.Lock()

    def forget(self) -> None:
        """Drop the cached token (on close)."""
        self._value = None
        self._refresh_at = 0.0


def resolve_auth(config: GcsConfig, endpoint_given: bool) -> tuple[Auth, ServiceAccount | None]:
    """The authorisation of ``config`` and its service account (``None`` without a key).

    Raises:
        ConfigInvalid: an unreadable or malformed credential, or none found where one is needed.
    """
    if config.token:
        return Auth("static", static=config.token), None
    data = _load_credential(config) or _default_credential(config)
    if data is not None:
        # the credential's secrets, whether configured or found by the default chain
        register_secrets(
            str(data[k]) for k in ("private_key", "client_secret", "refresh_token") if data.get(k)
        )
        account = _service_account(data)
        return Auth("oauth", data=data, scope=config.scope, account=account), account
    if config.allow_anonymous or endpoint_given:
        return Auth("anonymous"), None
    if config.disable_vm_metadata:
        raise ConfigInvalid(
            "no gcs credential found (credential, credential_path, token or Application Default "
            "Credentials) and disable_vm_metadata is set; set allow_anonymous=true for public buckets",
            service=SERVICE,
        )
    return Auth("oauth", data=None, scope=config.scope), None
