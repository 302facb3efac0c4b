"""Service drivers, one package per scheme, and the registry that finds them.

A service package exposes ``SCHEME`` (str), ``URI_NAME_KEY`` (the config key
the URI's host fills, e.g. ``"bucket"``, or ``None``) and
``build(config: Mapping[str, Any]) -> Accessor``. Drivers are imported lazily,
so a service's optional dependencies are only needed when it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import ConfigInvalid
from ..raw.accessor import Accessor

__all__ = ["ALIASES", "SERVICES", "build_accessor", "service_module"]

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
    """Build the accessor of ``scheme`` from its config."""
    accessor: Accessor = service_module(scheme).build(config)
    return accessor
