"""Service drivers, one package per scheme, and the registry that finds them.

A service package exposes ``SCHEME`` (str), ``URI_NAME_KEY`` (the config key
the URI's host fills, e.g. ``"bucket"``, or ``None``) and
``build(config: Mapping[str, Any]) -> Accessor``, and optionally
``split_uri_host(scheme, netloc) -> (name, config)`` for a URI host that
carries more than the name (adlfs's ``container@account.dfs.core.windows.net``):
``name`` fills ``URI_NAME_KEY``, ``config`` holds keys the host implies, which
the URI's query parameters override. Drivers are imported lazily,
so a service's optional dependencies are only needed when it is used.

Server-side encryption given as config keys (``server_side_encryption*``,
GCS's ``kms_key_name``) is applied here, by :func:`build_accessor`: the
driver reports the spec its config keys give as ``Accessor.config_sse``, and
the accessor is wrapped in :class:`~pystorage.layers.ServerSideEncryptionLayer`
with it. No service imports a layer.
"""

from __future__ import annotations

import importlib
import urllib.parse
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import ConfigInvalid
from ..raw.accessor import Accessor

__all__ = ["ALIASES", "SERVICES", "build_accessor", "config_from_uri", "service_module"]

#: scheme -> module implementing it; a new service adds one line here
SERVICES: dict[str, str] = {
    "memory": "pystorage.services.memory",
    "fs": "pystorage.services.fs",
    "gcs": "pystorage.services.gcs",
    "s3": "pystorage.services.s3",
    "azblob": "pystorage.services.azblob",
}

#: other names of a scheme (URI forms users bring from other libraries) -> the scheme
ALIASES: dict[str, str] = {
    "az": "azblob",  # adlfs
    "abfs": "azblob",  # adlfs
    "abfss": "azblob",
}


def service_module(scheme: str) -> ModuleType:
    """Import and return the module of ``scheme``.

    Raises:
        ConfigInvalid: for an unknown scheme, or one whose extra is not installed.
    """
    if not isinstance(scheme, str):
        raise ConfigInvalid(f"scheme must be a str, not {type(scheme).__name__}")
    scheme = ALIASES.get(scheme, scheme)
    module_name = SERVICES.get(scheme)
    if module_name is None:
        known = ", ".join(sorted(SERVICES))
        raise ConfigInvalid(f"unknown service scheme {scheme!r} (known: {known})")
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigInvalid(
            f"service {scheme!r} needs its extra: pip install 'pystorage[{scheme}]' ({exc.name} is missing)",
            service=scheme,
        ) from exc


def build_accessor(scheme: str, config: Mapping[str, Any]) -> Accessor:
    """Build the accessor of ``scheme`` from its config; when its config keys
    ask for server-side encryption, wrapped in
    :class:`~pystorage.layers.ServerSideEncryptionLayer` with that spec, so
    every request that needs it carries it and a capability turned off by
    ``capability_override`` refuses before any request."""
    accessor: Accessor = service_module(scheme).build(config)
    spec = accessor.config_sse
    if spec is None:
        return accessor
    from ..layers.sse import ServerSideEncryptionLayer

    return ServerSideEncryptionLayer(spec).layer(accessor)


def config_from_uri(uri: str) -> tuple[str, dict[str, Any]]:
    """``(scheme, config)`` of a URI such as
    ``s3://bucket/prefix?region=us-east-1``, ``fs:///srv/data`` or ``memory://``:
    query parameters are config keys, the host fills the service's
    ``URI_NAME_KEY`` (else it starts the root; a service's ``split_uri_host``
    may take more config keys from it) and the path is the root.

    Raises:
        ConfigInvalid: no scheme, or an unknown one.
    """
    parsed = urllib.parse.urlsplit(uri)
    if not parsed.scheme:
        raise ConfigInvalid(f"URI {uri!r} has no scheme (expected e.g. 's3://bucket/')")
    scheme = parsed.scheme.lower()
    module = service_module(scheme)
    values: dict[str, Any] = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
    name_key: str | None = getattr(module, "URI_NAME_KEY", None)
    if name_key is not None:
        name = parsed.netloc
        split_host = getattr(module, "split_uri_host", None)
        if split_host is not None and name:
            name, implied = split_host(scheme, name)
            values = {**implied, **values}
        if name:
            values[name_key] = name
        if parsed.path.strip("/"):
            values["root"] = parsed.path
    elif parsed.netloc or parsed.path:
        values["root"] = parsed.netloc + parsed.path if parsed.netloc else parsed.path
    return scheme, values
