"""The ``azblob`` service: blobs in an Azure Blob Storage container (or Azurite).

Built directly on aiohttp (asyncio only): one session per accessor, opened
lazily on first use and closed by ``op.close()``, with finite timeouts
(``connect_timeout``, ``read_timeout``, ``pool_timeout``) and requests
signed by a small Shared Key signer (or a SAS token, or Entra ID tokens
from the optional ``azure-identity``). Config keys are named as OpenDAL's
azblob service names them (``container``, ``root``, ``endpoint``,
``account_name``, ``account_key``, ``sas_token``, ``encryption_key`` ...).
``Operator.from_uri`` takes ``azblob://container/prefix``, and the
``az://`` / ``abfs://`` / ``abfss://`` forms adlfs users bring, including
``abfs://container@account.dfs.core.windows.net/prefix`` (see
:func:`~pystorage.services.azblob.config.split_uri_host`). See
``docs/services/azblob.md`` for the capability and Azurite's quirks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...layers.sse import ServerSideEncryptionLayer
from ...raw.accessor import Accessor
from ...raw.config import parse_config
from ...sse import CustomerKey, Kms, SseSpec
from .backend import CAPABILITY, AzblobAccessor, capability_for
from .config import AzblobConfig, split_uri_host

__all__ = [
    "CAPABILITY",
    "SCHEME",
    "URI_NAME_KEY",
    "AzblobAccessor",
    "AzblobConfig",
    "build",
    "capability_for",
    "split_uri_host",
]

SCHEME = "azblob"
URI_NAME_KEY: str | None = "container"


def _spec(config: AzblobConfig) -> SseSpec | None:
    key = config.customer_key()
    if key is not None:
        if config.encryption_scope is not None:
            from ...errors import ConfigInvalid

            raise ConfigInvalid(
                "config keys 'encryption_key' and 'encryption_scope' of service 'azblob' exclude each other",
                service=SCHEME,
            )
        return CustomerKey(key)
    if config.encryption_scope is not None:
        return Kms(key_id=config.encryption_scope)
    return None


def build(config: Mapping[str, Any]) -> Accessor:
    """Build an azblob accessor from its config (``container`` required).

    No request is sent. When ``encryption_key`` or ``encryption_scope`` is set
    the accessor is returned wrapped in
    :class:`~pystorage.layers.ServerSideEncryptionLayer` with the matching spec
    (``sse.CustomerKey`` / ``sse.Kms(key_id=<scope>)``), so every request that
    needs it carries it, and a capability switched off by ``capability_override``
    refuses before any request.

    Raises:
        ConfigInvalid: an unknown key, a missing ``container``, or an invalid value.
    """
    parsed = parse_config(AzblobConfig, SCHEME, config)
    spec = _spec(parsed)
    accessor = AzblobAccessor(parsed)
    return accessor if spec is None else ServerSideEncryptionLayer(spec).layer(accessor)
