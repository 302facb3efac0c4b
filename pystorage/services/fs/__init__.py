"""The ``fs`` service: files in a local directory.

Config: ``root`` (required; created when missing), ``atomic_write_dir``
(optional). Blocking file calls run in worker threads, one hand-off per
operation, so the driver works under asyncio and trio alike. See
``docs/services/fs.md`` for its capabilities and decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...raw.config import parse_config
from .backend import CAPABILITY, FsAccessor
from .config import FsConfig

__all__ = ["CAPABILITY", "SCHEME", "URI_NAME_KEY", "FsAccessor", "FsConfig", "build"]

SCHEME = "fs"
URI_NAME_KEY: str | None = None


def build(config: Mapping[str, Any]) -> FsAccessor:
    """Build an fs accessor from its config (``root`` required).

    Raises:
        ConfigInvalid: an unknown key, a missing ``root``, or a root that
            is not (and cannot be made) a directory.
    """
    return FsAccessor(parse_config(FsConfig, SCHEME, config))
