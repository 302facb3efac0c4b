"""The ``s3`` service: objects in an Amazon S3 bucket or an S3-compatible store.

Every S3 call goes out on one aiohttp session per accessor (a request
builder and a small SigV4 signer; aiobotocore only resolves credentials and
the endpoint and presigns URLs; asyncio only), opened lazily on first use or
by ``async with op`` and closed by ``op.close()``. No retries below
:class:`~pystorage.layers.RetryLayer`, the only
retrier. Config keys are named as OpenDAL's s3 service names them
(``bucket``, ``root``, ``region``, ``endpoint``, ``access_key_id``,
``secret_access_key``, ``session_token``, ``enable_virtual_host_style`` ...).
See ``docs/services/s3.md`` for the capability, the quirks and the
compatibility of S3-compatibles (MinIO, Ceph RGW, R2, SeaweedFS, rclone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...raw.accessor import Accessor
from ...raw.config import parse_config
from .backend import CAPABILITY, S3Accessor, capability_for
from .config import S3Config

__all__ = ["CAPABILITY", "SCHEME", "URI_NAME_KEY", "S3Accessor", "S3Config", "build", "capability_for"]

SCHEME = "s3"
URI_NAME_KEY: str | None = "bucket"


def build(config: Mapping[str, Any]) -> Accessor:
    """Build an s3 accessor from its config (``bucket`` required).

    No request is sent: the client is created on first use. A
    ``server_side_encryption*`` key gives the spec the accessor reports as
    ``config_sse``, which :func:`~pystorage.services.build_accessor` applies.

    Raises:
        ConfigInvalid: an unknown key, a missing ``bucket``, or an invalid value.
    """
    parsed = parse_config(S3Config, SCHEME, config)
    return S3Accessor(parsed)
