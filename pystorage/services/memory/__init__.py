"""The ``memory`` service: objects in a dict, for tests and caches.

Config: ``root`` (default ``/``), ``name`` (default ``"memory"``). Each
operator has its own store; nothing is shared between operators.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...raw.config import parse_config
from .backend import MemoryAccessor, MemoryConfig

__all__ = ["SCHEME", "URI_NAME_KEY", "MemoryAccessor", "MemoryConfig", "build"]

SCHEME = "memory"
URI_NAME_KEY: str | None = None


def build(config: Mapping[str, Any]) -> MemoryAccessor:
    """Build a memory accessor from its config."""
    return MemoryAccessor(parse_config(MemoryConfig, SCHEME, config))
