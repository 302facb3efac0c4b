"""Config of the ``gcs`` service (keys named as OpenDAL's gcs service names them)."""

from __future__ import annotations

import dataclasses

from ...errors import ConfigInvalid
from ...raw.config import check_bucket, check_endpoint, check_size, secret_field
from ...raw.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_SIZE,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    check_http_limits,
)
from ...raw.session import check_http_transport
from ...sse import SseSpec
from .sse import spec_from_config

__all__ = ["DEFAULT_SCOPE", "PREDEFINED_ACLS", "GcsConfig"]

#: the OAuth scope requested by default (read and write objects, no ACL or IAM changes)
DEFAULT_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"

#: values GCS accepts for ``predefinedAcl``
PREDEFINED_ACLS = frozenset(
    {
        "authenticatedRead",
        "bucketOwnerFullControl",
        "bucketOwnerRead",
        "private",
        "projectPrivate",
        "publicRead",
    }
)


@dataclasses.dataclass(frozen=True)
class GcsConfig:
    """Config of the ``gcs`` service.

    Attributes:
        bucket: the bucket name (required).
        root: the prefix every path is relative to (default ``/``: the whole bucket).
        endpoint: the JSON API endpoint, e.g. ``http://127.0.0.1:4443`` for an
            emulator or a private endpoint (default ``None``: the
            ``STORAGE_EMULATOR_HOST`` environment variable if set, else
            ``https://storage.googleapis.com``).
        credential: a credential JSON document (usually a service-account
            key), raw or base64-encoded. Secret.
        credential_path: path of a credential JSON file.
        token: a static OAuth 2.0 access token, sent as is (it is not
            refreshed). Secret.
        scope: the OAuth scope requested with ``credential`` / ``credential_path``
            or the default chain (default: ``devstorage.read_write``).
        allow_anonymous: send unauthenticated requests when no credential is
            configured or found (default ``False``; implied by ``endpoint``
            when nothing is found).
        disable_config_load: do not look for Application Default Credentials
            (``GOOGLE_APPLICATION_CREDENTIALS``, the gcloud config file)
            (default ``False``).
        disable_vm_metadata: do not fall back to the GCE metadata server for a
            token (default ``False``).
        predefined_acl: ``predefinedAcl`` applied to every object written
            (``private``, ``publicRead`` ...); default ``None``: the bucket's
            default object ACL.
        default_storage_class: ``storageClass`` of every object written
            (``STANDARD``, ``NEARLINE`` ...); default ``None``: the bucket's default.
        kms_key_name: CMEK: the Cloud KMS key
            (``projects/P/locations/L/keyRings/R/cryptoKeys/K``) of every
            object written (default ``None``: the bucket's default encryption).
        server_side_encryption_customer_key: CSEK: the base64 of a 32-byte
            key sent with every request that touches an object (default
            ``None``). Secret. Losing the key loses the data.
        server_side_encryption_customer_algorithm: ``"AES256"``, the only
            CSEK algorithm (default ``None``: implied by a key).
        server_side_encryption_customer_key_sha256: the base64 SHA-256 of the
            customer key, checked against it (default ``None``).
        connect_timeout: seconds to open a connection (default 10).
        read_timeout: seconds without a byte from the server (status line,
            headers or body) before a request fails with a temporary
            :class:`~pystorage.errors.Unexpected`, which ``RetryLayer`` retries
            (default 60; aiohttp's ``sock_read``). A slow transfer that keeps
            moving never trips it.
        pool_timeout: seconds a request waits for a free pooled connection
            when ``pool_size`` are in use, before failing with a temporary
            error (default 60).
        pool_size: connections kept to the endpoint (default 128).
        http_transport: the HTTP client: ``"h1"`` (default), pystorage's
            HTTP/1.1 keep-alive pool (:class:`~pystorage.raw.session.H1Session`;
            aiohttp when a proxy is named for the endpoint), or ``"aiohttp"``.
        checksum_algorithm: ``crc32c`` (default) sends the CRC32C of every
            upload for GCS to verify (``crc32c`` in the insert's metadata;
            ``X-Goog-Hash`` on a resumable upload's last chunk, and the
            committed object's CRC32C compared) and verifies whole-object
            downloads against ``X-Goog-Hash``, raising ``ChecksumMismatch``;
            ``none`` turns both off.
        max_range_skip: bytes before the offset read and discarded when a
            server answers a ranged download with the whole object; more
            raises ``Unexpected`` (default 8 MiB).

    An encryption setting makes the accessor behave exactly as if wrapped in
    :class:`~pystorage.layers.ServerSideEncryptionLayer` with the matching
    spec (see :meth:`sse_spec`).
    """

    bucket: str | None = None
    root: str | None = None
    endpoint: str | None = None
    credential: str | None = secret_field()
    credential_path: str | None = None
    token: str | None = secret_field()
    scope: str = DEFAULT_SCOPE
    allow_anonymous: bool = False
    disable_config_load: bool = False
    disable_vm_metadata: bool = False
    predefined_acl: str | None = None
    default_storage_class: str | None = None
    kms_key_name: str | None = None
    server_side_encryption_customer_key: str | None = secret_field()
    server_side_encryption_customer_algorithm: str | None = None
    server_side_encryption_customer_key_sha256: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    pool_size: int = DEFAULT_POOL_SIZE
    http_transport: str = "h1"
    checksum_algorithm: str | None = "crc32c"
    max_range_skip: int = 8 * 1024 * 1024

    def sse_spec(self) -> SseSpec | None:
        """The encryption spec of the config keys (``None`` when unset).

        Raises:
            ConfigInvalid: an invalid value or combination, naming the key.
        """
        return spec_from_config(
            kms_key_name=self.kms_key_name,
            customer_key=self.server_side_encryption_customer_key,
            customer_algorithm=self.server_side_encryption_customer_algorithm,
            customer_key_sha256=self.server_side_encryption_customer_key_sha256,
        )

    def __post_init__(self) -> None:
        check_bucket("gcs", self.bucket)
        check_endpoint("gcs", self.endpoint)
        if self.predefined_acl is not None and self.predefined_acl not in PREDEFINED_ACLS:
            known = ", ".join(sorted(PREDEFINED_ACLS))
            raise ConfigInvalid(
                f"config key 'predefined_acl' of service 'gcs' must be one of {known}, "
                f"got {self.predefined_acl!r}",
                service="gcs",
            )
        given = [k for k in ("credential", "credential_path", "token") if getattr(self, k)]
        if len(given) > 1:
            raise ConfigInvalid(
                f"config keys {' and '.join(repr(k) for k in given)} of service 'gcs' "
                "are exclusive: give one",
                service="gcs",
            )
        check_http_limits("gcs", self)
        check_http_transport("gcs", self.http_transport)
        algorithm = None if self.checksum_algorithm is None else self.checksum_algorithm.lower()
        if algorithm not in (None, "crc32c", "none"):
            raise ConfigInvalid(
                f"config key 'checksum_algorithm' of service 'gcs' must be crc32c or none, "
                f"got {self.checksum_algorithm!r}",
                service="gcs",
            )
        object.__setattr__(self, "checksum_algorithm", None if algorithm == "none" else algorithm)
        check_size("gcs", "max_range_skip", self.max_range_skip)
        self.sse_spec()
