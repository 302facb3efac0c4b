"""Config of the ``fs`` service."""

from __future__ import annotations

import dataclasses

from ...errors import ConfigInvalid

__all__ = ["FsConfig"]


@dataclasses.dataclass(frozen=True)
class FsConfig:
    """Config of the ``fs`` service.

    Attributes:
        root: the directory every path is relative to (required). A relative
            root is made absolute against the current directory. It is
            created (with its parents) when missing.
        atomic_write_dir: where writers keep their temporary files
            (default ``None``: next to the target, as ``.{name}.{random}.pystorage-tmp``).
            Must be on the same filesystem as ``root`` (the commit is a
            rename); created when missing.
    """

    root: str | None = None
    atomic_write_dir: str | None = None

    def __post_init__(self) -> None:
        if not self.root:
            raise ConfigInvalid("config key 'root' of service 'fs' is required", service="fs")
        for key in ("root", "atomic_write_dir"):
            value = getattr(self, key)
            if value is not None and "\x00" in value:
                raise ConfigInvalid(f"config key {key!r} of service 'fs' contains a NUL byte", service="fs")
