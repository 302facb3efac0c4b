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
        fsync: make every commit durable before it returns (default
            ``False``): the written file is flushed to disk (``fsync``) before
            it is renamed (or linked, or appended) to its target, and the
            target's directory is flushed after, so that a power loss or a
            kernel crash right after ``write()`` / ``close()`` / ``copy()`` /
            ``rename()`` returned cannot lose the object or leave an empty or
            partial file at its path. Off by default, like most file APIs:
            it costs one or two disk flushes per write (milliseconds on SSDs,
            more on network and spinning disks). A crash never exposes a torn
            object either way (the commit is an atomic rename); ``fsync``
            decides whether a write that reported success survives it.
    """

    root: str | None = None
    atomic_write_dir: str | None = None
    fsync: bool = False

    def __post_init__(self) -> None:
        if not self.root:
            raise ConfigInvalid("config key 'root' of service 'fs' is required", service="fs")
        for key in ("root", "atomic_write_dir"):
            value = getattr(self, key)
            if value is not None and "\x00" in value:
                raise ConfigInvalid(f"config key {key!r} of service 'fs' contains a NUL byte", service="fs")
