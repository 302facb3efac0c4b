"""What the s3 driver still takes from aiobotocore: credentials, the endpoint, and presigned URLs.

No request is sent through aiobotocore. :func:`open_client` creates one
aiobotocore client per accessor only for:

* the **credential chain** (environment, shared config and credentials files,
  web identity, container and instance metadata, SSO ...), whose refreshing
  credentials :class:`~pystorage.services.s3.http.S3Http` reads before each
  request;
* the **endpoint and region** resolution (``AWS_ENDPOINT_URL_S3``, profile
  ``endpoint_url``, the regional AWS endpoint);
* **presigned URLs** (:func:`presign`: query-string SigV4 signing, no request).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.session import AioSession  # type: ignore[import-untyped]
from botocore import UNSIGNED  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from ...errors import ConfigInvalid
from ...raw.ops import OpPresign
from ...raw.redact import RedactedHeaders, register_secrets
from .builder import Requests
from .config import S3Config
from .sse import RequestKind, sse_headers, sse_params

__all__ = ["MAX_PRESIGN_SECONDS", "BotoClient", "open_client", "presign", "register_credentials"]

#: the longest a SigV4 presigned URL may live (7 days)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

_CLIENT_METHOD = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}
_PRESIGN_KIND: dict[str, RequestKind] = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}
_PRESIGNED_HEADERS = {
    "content-type": ("ContentType", "Content-Type"),
    "cache-control": ("CacheControl", "Cache-Control"),
    "content-disposition": ("ContentDisposition", "Content-Disposition"),
    "content-encoding": ("ContentEncoding", "Content-Encoding"),
}


async def register_credentials(credentials: Any) -> Any:
    """Register the secret parts of credentials found by botocore's default chain
    (environment, config files, web identity, instance metadata) with the redacting
    filter, so no log record shows them; returns the frozen credentials."""
    frozen = credentials.get_frozen_credentials()
    if hasattr(frozen, "__await__"):
        frozen = await frozen
    register_secrets((frozen.access_key, frozen.secret_key, frozen.token))
    return frozen


class BotoClient:
    """An opened aiobotocore client and what was resolved with it.

    Attributes:
        client: the aiobotocore client (for presigning only).
        credentials: botocore's (refreshing) credentials, ``None`` for anonymous requests.
        endpoint: the endpoint URL, without the bucket.
        region: the signing region.
    """

    def __init__(self, client: Any, credentials: Any) -> None:
        self.client = client
        self.credentials = credentials
        self.endpoint: str = client.meta.endpoint_url
        self.region: str = client.meta.region_name or "us-east-1"


async def open_client(config: S3Config, stack: contextlib.AsyncExitStack) -> BotoClient:
    """Resolve credentials, endpoint and region, and open the client on ``stack``.

    Raises:
        ConfigInvalid: no credentials configured or found, and neither
            ``allow_anonymous`` nor an ``endpoint`` given.
    """
    session = AioSession()
    if config.disable_config_load:
        for name in ("config_file", "credentials_file"):
            session.set_config_variable(name, os.devnull)
        session.set_config_variable("ignore_configured_endpoint_urls", True)
    given: dict[str, Any] = {}
    signature: Any = "s3v4"
    found: Any = None
    if config.access_key_id is not None:
        given = {
            "aws_access_key_id": config.access_key_id,
            "aws_secret_access_key": config.secret_access_key,
            "aws_session_token": config.session_token,
        }
        found = Credentials(config.access_key_id, config.secret_access_key, config.session_token)
    else:
        if not config.disable_config_load:
            found = await session.get_credentials()
            if found is not None:
                await register_credentials(found)
        if found is None:
            if not (config.allow_anonymous or config.endpoint):
                raise ConfigInvalid(
                    "no credentials configured or found: set access_key_id and "
                    "secret_access_key, or allow_anonymous",
                    service="s3",
                )
            signature = UNSIGNED
    region = config.region
    if region is None and not config.disable_config_load:
        region = session.get_config_variable("region")
    client_config = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "virtual" if config.enable_virtual_host_style else "path"},
        signature_version=signature,
    )
    creator = session.create_client(
        "s3", region_name=region or "us-east-1", endpoint_url=config.endpoint, config=client_config, **given
    )
    client = await stack.enter_async_context(creator)
    return BotoClient(client, None if signature is UNSIGNED else found)


async def presign(
    client: Any, requests: Requests, bucket: str, key: str, op: OpPresign
) -> tuple[str, dict[str, str]]:
    """A presigned URL for ``op.method`` (``GET``, ``PUT``, ``HEAD``) and the
    headers the caller must send with it.

    With ``op.sse``, its headers are signed into the URL and returned with
    the others (for SSE-C that includes the key: the returned dict's
    ``repr`` hides it, but whoever sends the request needs it).

    Raises:
        ConfigInvalid: an unknown method, or ``expire`` outside 1 second .. 7 days (SigV4's limit).
    """
    method, expire, write, sse = op.method, op.expire, op.write, op.sse
    client_method = _CLIENT_METHOD.get(method)
    if client_method is None:
        raise ConfigInvalid(f"cannot presign method {method!r}", service="s3")
    seconds = int(expire.total_seconds())
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise ConfigInvalid(f"presign expire must be between 1 second and 7 days, got {expire}", service="s3")
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    headers: dict[str, str] = {}
    if method == "PUT" and write is not None:
        # the content headers only: x-amz-meta-* and the storage class would have to be signed
        for name, value in requests.content(write).items():
            if name in _PRESIGNED_HEADERS:
                param, shown = _PRESIGNED_HEADERS[name]
                params[param] = value
                headers[shown] = value
    kind = _PRESIGN_KIND[method]
    params.update(sse_params(sse, kind))
    if sse is not None:
        headers = RedactedHeaders({**headers, **sse_headers(sse, kind)})
    url: str = await client.generate_presigned_url(
        client_method, Params=params, ExpiresIn=seconds, HttpMethod=method
    )
    return url, headers
