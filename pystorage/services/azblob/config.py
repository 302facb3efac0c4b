"""Config of the ``azblob`` service (keys named as OpenDAL's azblob service names them)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigInvalid
from ...raw.config import check_between, check_endpoint, secret_field
from ...raw.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_SIZE,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    check_http_limits,
)
from ...raw.session import check_http_transport
from ..s3.config import parse_capability_override as _parse_override

__all__ = [
    "ACCESS_TIERS",
    "DEV_ACCOUNT_KEY",
    "DEV_ACCOUNT_NAME",
    "MAX_BATCH_OPERATIONS",
    "AzblobConfig",
    "parse_capability_override",
    "split_uri_host",
]

_SCHEME = "azblob"

#: the most sub-requests one Blob Batch request may carry
MAX_BATCH_OPERATIONS = 256

#: the well-known development account of Azurite and the storage emulator (published by Microsoft)
DEV_ACCOUNT_NAME = "devstoreaccount1"
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

#: values of ``default_storage_class`` (``x-ms-access-tier``)
ACCESS_TIERS = frozenset({"Hot", "Cool", "Cold", "Archive"})

#: values of ``checksum_algorithm``
CHECKSUM_ALGORITHMS = frozenset({"md5"})


#: a container name: 3 to 63 lowercase letters, digits and single hyphens, a letter or digit at each end
_CONTAINER_NAME = re.compile(r"(?=.{3,63}\Z)[a-z0-9]+(?:-[a-z0-9]+)*\Z")

#: the service's special containers, whose names break the rule above
SPECIAL_CONTAINERS = frozenset({"$root", "$web", "$logs"})

#: URI schemes of adlfs whose host may be ``container@account-host``
_ADLFS_SCHEMES = frozenset({"az", "abfs", "abfss"})


def _invalid(message: str) -> ConfigInvalid:
    return ConfigInvalid(message, service=_SCHEME)


def parse_capability_override(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse ``capability_override`` (same syntax as the s3 service's:
    ``"name=false,..."`` or a mapping; only ``false`` for booleans, positive ints for limits).

    Raises:
        ConfigInvalid: an unknown capability or a value that would claim more.
    """
    try:
        return _parse_override(value)
    except ConfigInvalid as exc:
        raise _invalid(str(exc).replace("service 's3'", "service 'azblob'")) from None


@dataclasses.dataclass(frozen=True)
class AzblobConfig:
    """Config of the ``azblob`` service.

    Attributes:
        container: the container name (required).
        root: the prefix every path is relative to (default ``/``: the whole container).
        endpoint: the blob service endpoint, e.g. ``https://<account>.blob.core.windows.net``
            or Azurite's ``http://127.0.0.1:10000/devstoreaccount1`` (default ``None``:
            ``https://<account_name>.blob.core.windows.net``).
        account_name: the storage account (default ``None``: taken from the endpoint's
            host, or :data:`DEV_ACCOUNT_NAME` for an emulator endpoint).
        account_key: the account's base64 access key, for Shared Key signing. Secret.
        sas_token: a SAS token (``sv=...&sig=...``, with or without the leading ``?``)
            appended to every request instead of signing. Secret.
        credential: ``"default"`` authenticates with Entra ID tokens from
            ``azure.identity.aio.DefaultAzureCredential`` (environment, workload
            identity, managed identity, Azure CLI; needs ``pystorage[azblob-identity]``),
            ``"dev"`` uses the well-known development account, ``"anonymous"``
            sends unsigned requests (public containers). Default ``None``: the
            account key or SAS token when given; else the development account when
            ``endpoint`` is set (an emulator); else ``DefaultAzureCredential``.
        encryption_key: the base64 of a 32-byte customer-provided key (CPK), sent with
            every request that reads or writes blob data. Secret. Losing the key loses the data.
        encryption_key_sha256: the base64 SHA-256 of ``encryption_key``, checked against
            it (default ``None``: computed).
        encryption_algorithm: ``"AES256"``, the only CPK algorithm (default ``None``:
            ``AES256`` when a key is given).
        encryption_scope: the encryption scope every blob is written with
            (``x-ms-encryption-scope``; default ``None``: the container's default).
        batch_max_operations: sub-requests per Blob Batch delete (1 to 256, default 256).
        enable_versioning: the account has blob versioning on: declare ``stat_with_version``,
            ``read_with_version``, ``delete_with_version`` and ``list_with_versions``
            (default ``False``).
        disable_batch: delete many paths with concurrent Delete Blob calls instead of
            Blob Batch (default ``False``), for endpoints without batch.
        default_storage_class: the access tier of every blob written (``Hot``, ``Cool``,
            ``Cold``, ``Archive``; default ``None``: the account's default tier).
        checksum_algorithm: ``"md5"`` sends ``Content-MD5`` with every Put Blob and
            Put Block, which the service verifies (default ``"md5"``; ``None`` turns it off).
            Whole-blob downloads are verified against the blob's stored
            ``Content-MD5`` whatever this says.
        capability_override: capabilities to switch off (or limits to lower) for an
            endpoint that accepts a feature but does not honour it, as
            ``"write_with_sse_c=false,..."`` or a mapping (default ``None``).
            Only ``false`` for booleans and a positive int for limits: an override
            can never claim what the driver does not do.
        connect_timeout: seconds to wait for a connection to be established (default 10).
        read_timeout: seconds without a byte from the service before a request fails
            (aiohttp ``sock_read``; default 60).
        pool_timeout: seconds a request waits for a free pooled connection (default 60).
        pool_size: connections kept to the endpoint (default 128).
        http_transport: the HTTP client: ``"h1"`` (default), pystorage's
            HTTP/1.1 keep-alive pool (:class:`~pystorage.raw.session.H1Session`;
            aiohttp when a proxy is named for the endpoint), or ``"aiohttp"``.
        copy_poll_interval: seconds between polls of a pending Copy Blob (default 0.2).
        copy_timeout: seconds a pending Copy Blob may take before it is aborted (default 3600).
    """

    container: str | None = None
    root: str | None = None
    endpoint: str | None = None
    account_name: str | None = None
    account_key: str | None = secret_field()
    sas_token: str | None = secret_field()
    credential: str | None = None
    encryption_key: str | None = secret_field()
    encryption_key_sha256: str | None = None
    encryption_algorithm: str | None = None
    encryption_scope: str | None = None
    batch_max_operations: int = MAX_BATCH_OPERATIONS
    enable_versioning: bool = False
    disable_batch: bool = False
    default_storage_class: str | None = None
    checksum_algorithm: str | None = "md5"
    capability_override: str | Mapping[str, Any] | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    pool_size: int = DEFAULT_POOL_SIZE
    http_transport: str = "h1"
    copy_poll_interval: float = 0.2
    copy_timeout: float = 3600.0

    def __post_init__(self) -> None:
        if not self.container:
            raise _invalid("config key 'container' of service 'azblob' is required")
        if self.container not in SPECIAL_CONTAINERS and not _CONTAINER_NAME.match(self.container):
            raise _invalid(
                f"config key 'container' of service 'azblob' is not a container name: {self.container!r} "
                "(3 to 63 lowercase letters, digits and single hyphens, starting and ending with a "
                "letter or digit; or $root, $web, $logs)"
            )
        check_endpoint(_SCHEME, self.endpoint)
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        if self.endpoint is None and not self.account_name:
            raise _invalid("service 'azblob' needs config key 'account_name' or 'endpoint'")
        if self.account_key is not None:
            try:
                base64.b64decode(self.account_key, validate=True)
            except (binascii.Error, ValueError):
                raise _invalid("config key 'account_key' of service 'azblob' is not base64") from None
        if self.sas_token is not None:
            object.__setattr__(self, "sas_token", self.sas_token.lstrip("?"))
        if self.credential is not None and self.credential not in ("default", "dev", "anonymous"):
            raise _invalid(
                "config key 'credential' of service 'azblob' must be 'default', 'dev' or 'anonymous', "
                f"got {self.credential!r}"
            )
        self.customer_key()
        if self.default_storage_class is not None and self.default_storage_class not in ACCESS_TIERS:
            known = ", ".join(sorted(ACCESS_TIERS))
            raise _invalid(f"config key 'default_storage_class' of service 'azblob' must be one of {known}")
        if self.checksum_algorithm is not None:
            algorithm = self.checksum_algorithm.lower()
            if algorithm not in CHECKSUM_ALGORITHMS:
                raise _invalid("config key 'checksum_algorithm' of service 'azblob' must be 'md5' or None")
            object.__setattr__(self, "checksum_algorithm", algorithm)
        check_between(_SCHEME, "batch_max_operations", self.batch_max_operations, 1, MAX_BATCH_OPERATIONS)
        check_http_limits(_SCHEME, self)
        for name in ("copy_poll_interval", "copy_timeout"):
            value = getattr(self, name)
            if not value > 0 or value == float("inf"):
                raise _invalid(f"config key {name!r} of service 'azblob' must be a finite number > 0")
        check_http_transport(_SCHEME, self.http_transport)
        parse_capability_override(self.capability_override)

    def customer_key(self) -> bytes | None:
        """The 32-byte customer-provided key of ``encryption_key`` (``None`` when unset).

        Raises:
            ConfigInvalid: not base64 of 32 bytes, a wrong ``encryption_key_sha256``,
                or an algorithm other than ``AES256``.
        """
        if self.encryption_key is None:
            if self.encryption_key_sha256 is not None or self.encryption_algorithm is not None:
                raise _invalid(
                    "config keys 'encryption_key_sha256'/'encryption_algorithm' need 'encryption_key'"
                )
            return None
        if self.encryption_algorithm not in (None, "AES256"):
            raise _invalid("config key 'encryption_algorithm' of service 'azblob' must be 'AES256'")
        try:
            key = base64.b64decode(self.encryption_key, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise _invalid("config key 'encryption_key' of service 'azblob' must be the base64 of 32 bytes")
        if self.encryption_key_sha256 is not None:
            digest = base64.b64encode(hashlib.sha256(key).digest()).decode()
            if digest != self.encryption_key_sha256:
                raise _invalid(
                    "config key 'encryption_key_sha256' of service 'azblob' does not match the key"
                )
        return key


def split_uri_host(scheme: str, netloc: str) -> tuple[str, dict[str, str]]:
    """The container, and the config keys the host implies, of a URI's host.

    For adlfs's forms (``az://``, ``abfs://``, ``abfss://``) the host may be
    ``container@host``: ``account_name`` is the host's first label and
    ``endpoint`` the account's Blob endpoint (``https://<account>.blob.core.windows.net``
    for a ``<account>.dfs.core.<cloud>`` or ``<account>.blob.core.<cloud>`` host,
    as the driver speaks the Blob API; ``https://<host>`` for any other host).
    Any other host is the container alone.
    """
    if scheme not in _ADLFS_SCHEMES or "@" not in netloc:
        return netloc, {}
    container, _, host = netloc.partition("@")
    host = host.lower()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    labels = hostname.split(".")
    implied: dict[str, str] = {}
    if len(labels) > 3 and labels[1] in ("dfs", "blob") and labels[2] == "core":
        implied["endpoint"] = "https://" + ".".join([labels[0], "blob", *labels[2:]])
    elif host:
        implied["endpoint"] = f"https://{host}"
    if len(labels) > 1 and labels[0] and not _is_ip(hostname):
        implied["account_name"] = labels[0]
    return container, implied


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
