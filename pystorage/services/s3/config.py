"""Config of the ``s3`` service (keys named as OpenDAL's s3 service names them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigInvalid
from ...raw.config import check_between, check_bucket, check_endpoint, check_size, secret_field
from ...raw.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_SIZE,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    check_http_limits,
)
from ...raw.session import HTTP_TRANSPORTS, check_http_transport
from ...sse import SseSpec
from ...types import Capability
from .sse import spec_from_config

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "HTTP_TRANSPORTS",
    "MAX_BATCH_OPERATIONS",
    "S3Config",
    "parse_capability_override",
]

#: values of ``checksum_algorithm`` (lower case; ``"none"`` or ``None``: checksums only where the
#: S3 API requires one, and no verification of downloads)
CHECKSUM_ALGORITHMS = frozenset({"crc32", "crc32c", "sha1", "sha256", "md5", "none"})

#: the most keys one DeleteObjects request may carry
MAX_BATCH_OPERATIONS = 1000

_SCHEME = "s3"


def _invalid(message: str) -> ConfigInvalid:
    return ConfigInvalid(message, service=_SCHEME)


@dataclasses.dataclass(frozen=True)
class S3Config:
    """Config of the ``s3`` service.

    Attributes:
        bucket: the bucket name (required).
        root: the prefix every path is relative to (default ``/``: the whole bucket).
        region: the bucket's region (default ``None``: the SDK's configured
            region, else ``us-east-1``).
        endpoint: the service endpoint, e.g. ``http://127.0.0.1:9000`` for
            MinIO or ``https://<account>.r2.cloudflarestorage.com`` (default
            ``None``: AWS's endpoint for ``region``).
        access_key_id: the access key id. Secret (never shown).
        secret_access_key: the secret access key. Secret.
        session_token: a session token for temporary credentials. Secret.
        enable_virtual_host_style: address the bucket as
            ``https://<bucket>.<endpoint>/`` (default ``False``: path style
            ``https://<endpoint>/<bucket>/``, which every S3-compatible serves).
        disable_config_load: do not read credentials or region from the
            environment, the AWS config files, web identity or the instance
            metadata service (default ``False``: botocore's default chain is
            used when no key is configured).
        allow_anonymous: send unsigned requests when no credential is
            configured or found (default ``False``; implied by ``endpoint``).
        checksum_algorithm: the checksum sent with every object and part
            uploaded, as a header the server verifies (default ``crc32c``:
            ``x-amz-checksum-crc32c``, computed by pystorage with a
            C-accelerated CRC32C, never trailing checksums, which
            break several S3-compatibles); ``md5`` sends ``Content-MD5``
            (the one most S3-compatibles verify, e.g. rclone); ``crc32``,
            ``sha1``, ``sha256`` send ``x-amz-checksum-<name>``, computed by
            pystorage too; ``none`` sends
            checksums only where the S3 API requires one. Unless ``none``,
            whole-object downloads are verified against the checksum the
            service reports (``x-amz-checksum-crc32c``, else a single-part
            MD5 ETag) and a mismatch raises ``ChecksumMismatch``.
        max_range_skip: when a server answers a ranged GET with the whole
            object (``200``), up to this many bytes before the offset are
            read and discarded; more raises ``Unexpected`` instead of
            downloading gigabytes to throw away (default 8 MiB).
        default_storage_class: ``StorageClass`` of every object written
            (``STANDARD``, ``STANDARD_IA``, ``GLACIER_IR`` ...; default
            ``None``: the bucket's default).
        batch_max_operations: keys per DeleteObjects request (1 to 1000,
            default 1000); some S3-compatibles accept fewer.
        enable_versioning: the bucket has versioning enabled: declare
            ``stat_with_version``, ``read_with_version``,
            ``delete_with_version`` and ``list_with_versions`` (default ``False``).
        disable_write_with_if_match: the service does not support ``If-Match``
            on PutObject/CompleteMultipartUpload (default ``False``).
        capability_override: capabilities to switch off (or limits to lower)
            for an S3-compatible that accepts a header but ignores it, as
            ``"read_with_if_match=false,create_dir=false"`` or a mapping
            ``{"read_with_if_match": False}`` (default ``None``). Only
            ``false`` is accepted for booleans, and a positive int for limits
            (``write_multi_min_size`` ...): an override can never claim what
            the driver does not implement. See
            ``docs/services/s3.md`` for the values each S3-compatible needs.
        server_side_encryption: ``"AES256"`` (SSE-S3) or ``"aws:kms"``
            (SSE-KMS) for every object written (default ``None``: the
            bucket's default encryption).
        server_side_encryption_aws_kms_key_id: the KMS key of SSE-KMS (needs
            ``server_side_encryption="aws:kms"``; default ``None``: the
            account's ``aws/s3`` key).
        server_side_encryption_customer_algorithm: ``"AES256"``, the only
            SSE-C algorithm (default ``None``: ``AES256`` when a customer key
            is given).
        server_side_encryption_customer_key: the base64 of a 32-byte SSE-C
            key, sent with every request that touches an object (default
            ``None``). Secret. Losing the key loses the data.
        server_side_encryption_customer_key_md5: the base64 MD5 of the
            customer key, checked against it (default ``None``: computed).
        lean_http: accepted for compatibility and ignored: every call goes
            out on the one HTTP transport (before, ``False`` sent every
            call through aiobotocore).
        copy_multipart_threshold: sources larger than this are copied with
            UploadPartCopy instead of CopyObject (default 5 GiB, S3's
            CopyObject limit).
        copy_part_size: the part size of such copies (default 512 MiB).
        connect_timeout: seconds to open a connection (default 10).
        read_timeout: seconds without a byte from the server (status line,
            headers or body) before a request fails with a temporary
            :class:`~pystorage.errors.Unexpected`, which ``RetryLayer`` retries
            (default 60); aiohttp's ``sock_read``.
            A slow transfer that keeps moving never trips it.
        pool_timeout: seconds a request waits for a free pooled connection
            when ``pool_size`` are in use, before failing with a temporary
            error (default 60).
        pool_size: connections kept to the endpoint (default 128).
        http_transport: the HTTP client every call goes out on: ``"h1"``
            (default), pystorage's own HTTP/1.1 keep-alive pool on asyncio
            protocols with httptools' llhttp parser (a fraction of aiohttp's
            client CPU per request; same timeouts, pool bounds and error
            mapping), or ``"aiohttp"`` (an :class:`aiohttp.ClientSession`).
            ``"h1"`` uses aiohttp anyway when the environment names a proxy
            for the endpoint (``HTTPS_PROXY`` ...) or the endpoint carries
            credentials.

    A ``server_side_encryption*`` setting makes the accessor behave exactly
    as if wrapped in :class:`~pystorage.layers.ServerSideEncryptionLayer`
    with the matching spec (see :meth:`sse_spec`).
    """

    bucket: str | None = None
    root: str | None = None
    region: str | None = None
    endpoint: str | None = None
    access_key_id: str | None = secret_field()
    secret_access_key: str | None = secret_field()
    session_token: str | None = secret_field()
    enable_virtual_host_style: bool = False
    disable_config_load: bool = False
    allow_anonymous: bool = False
    checksum_algorithm: str | None = "crc32c"
    max_range_skip: int = 8 * 1024 * 1024
    default_storage_class: str | None = None
    batch_max_operations: int = MAX_BATCH_OPERATIONS
    enable_versioning: bool = False
    disable_write_with_if_match: bool = False
    capability_override: str | Mapping[str, Any] | None = None
    server_side_encryption: str | None = None
    server_side_encryption_aws_kms_key_id: str | None = None
    server_side_encryption_customer_algorithm: str | None = None
    server_side_encryption_customer_key: str | None = secret_field()
    server_side_encryption_customer_key_md5: str | None = None
    lean_http: bool = True
    copy_multipart_threshold: int = 5 * 1024**3
    copy_part_size: int = 512 * 1024**2
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    pool_size: int = DEFAULT_POOL_SIZE
    http_transport: str = "h1"

    def sse_spec(self) -> SseSpec | None:
        """The encryption spec of the ``server_side_encryption*`` keys (``None`` when unset).

        Raises:
            ConfigInvalid: an invalid value or combination, naming the key.
        """
        return spec_from_config(
            _SCHEME,
            server_side_encryption=self.server_side_encryption,
            aws_kms_key_id=self.server_side_encryption_aws_kms_key_id,
            customer_algorithm=self.server_side_encryption_customer_algorithm,
            customer_key=self.server_side_encryption_customer_key,
            customer_key_md5=self.server_side_encryption_customer_key_md5,
        )

    def __post_init__(self) -> None:
        check_bucket(_SCHEME, self.bucket, strip=True)
        check_endpoint(_SCHEME, self.endpoint)
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise _invalid(
                "config keys 'access_key_id' and 'secret_access_key' of service 's3' must be given together"
            )
        if self.session_token is not None and self.access_key_id is None:
            raise _invalid("config key 'session_token' of service 's3' needs 'access_key_id'")
        if self.checksum_algorithm is not None:
            algorithm = self.checksum_algorithm.lower()
            if algorithm not in CHECKSUM_ALGORITHMS:
                known = ", ".join(sorted(CHECKSUM_ALGORITHMS))
                raise _invalid(
                    f"config key 'checksum_algorithm' of service 's3' must be one of {known}, "
                    f"got {self.checksum_algorithm!r}"
                )
            object.__setattr__(self, "checksum_algorithm", None if algorithm == "none" else algorithm)
        check_size(_SCHEME, "max_range_skip", self.max_range_skip)
        check_between(_SCHEME, "batch_max_operations", self.batch_max_operations, 1, MAX_BATCH_OPERATIONS)
        check_http_limits(_SCHEME, self)
        check_http_transport(_SCHEME, self.http_transport)
        parse_capability_override(self.capability_override)
        self.sse_spec()


_FALSE = {"false", "0", "no", "off"}


def parse_capability_override(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse and check a ``capability_override`` config value.

    Args:
        value: ``"name=value,name=value"``, a mapping, or ``None``.

    Returns:
        ``{capability field: new value}`` (empty for ``None``).

    Raises:
        ConfigInvalid: an unknown capability name, a boolean set to anything
            but ``false``, or a limit that is not a positive int.
    """
    if value is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(value, str):
        items = []
        for raw in value.split(","):
            raw = raw.strip()
            if not raw:
                continue
            name, sep, setting = raw.partition("=")
            if not sep:
                raise _invalid(f"config key 'capability_override' of service 's3': {raw!r} is not name=value")
            items.append((name.strip(), setting.strip()))
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise _invalid("config key 'capability_override' of service 's3' must be a str or a mapping")
    fields = {f.name: f for f in dataclasses.fields(Capability)}
    result: dict[str, Any] = {}
    for name, setting in items:
        field = fields.get(name)
        if field is None:
            raise _invalid(f"config key 'capability_override' of service 's3': unknown capability {name!r}")
        if field.type in ("bool", bool):
            if setting is False or (isinstance(setting, str) and setting.lower() in _FALSE):
                result[name] = False
                continue
            raise _invalid(
                f"config key 'capability_override' of service 's3': {name!r} can only be set to false"
            )
        # an int limit (write_multi_min_size ...): a positive int
        try:
            number = int(setting) if isinstance(setting, (int, str)) and not isinstance(setting, bool) else -1
        except ValueError:
            number = -1
        if number <= 0:
            raise _invalid(
                f"config key 'capability_override' of service 's3': {name!r} must be a positive int"
            )
        result[name] = number
    return result
