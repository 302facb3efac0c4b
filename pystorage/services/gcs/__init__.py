"""The ``gcs`` service: objects in a Google Cloud Storage bucket.

Built on the JSON API over one shared aiohttp session per accessor, with
OAuth tokens from gcloud-aio-auth (part of gcloud-aio-storage); asyncio only.
Config keys are named as OpenDAL's gcs service names them (``bucket``,
``root``, ``endpoint``, ``credential``, ``credential_path``, ``token``,
``allow_anonymous`` ...). See ``docs/services/gcs.md`` for the capability and
the decisions behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...raw.accessor import Accessor
from ...raw.config import parse_config
from .backend import CAPABILITY, GcsAccessor
from .config import GcsConfig

__all__ = ["CAPABILITY", "SCHEME", "URI_NAME_KEY", "GcsAccessor", "GcsConfig", "build"]

SCHEME = "gcs"
URI_NAME_KEY: str | None = "bucket"


def build(config: Mapping[str, Any]) -> Accessor:
    """Build a gcs accessor from its config (``bucket`` required).

    With ``kms_key_name`` or ``server_side_encryption_customer_key`` set, the
    accessor reports that spec as ``config_sse``, which
    :func:`~pystorage.services.build_accessor` applies.

    Raises:
        ConfigInvalid: an unknown key, a missing ``bucket``, or an unreadable credential.
    """
    parsed = parse_config(GcsConfig, SCHEME, config)
    return GcsAccessor(parsed)
