"""Path normalisation and validation, shared by the operator and the drivers.

A normalised path is relative to the operator's root and never starts with
``/``; a directory ends with ``/``; the root itself is ``"/"``.
"""

from __future__ import annotations

from ..errors import InvalidPath

__all__ = ["is_dir_path", "join_root", "normalize_path", "normalize_root", "parent_dirs"]


def normalize_path(path: str) -> str:
    """Normalise a user path: ignore a leading ``/``, collapse ``//`` and ``.``.

    Raises:
        InvalidPath: for a ``..`` segment or a NUL byte (before any I/O).
        TypeError: when ``path`` is not a ``str``.
    """
    if not isinstance(path, str):
        raise TypeError(f"path must be str, not {type(path).__name__}")
    if "\x00" in path:
        raise InvalidPath("path contains a NUL byte", path=path.replace("\x00", "\\x00"))
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidPath("path contains a '..' segment", path=path)
    if not segments:
        return "/"
    joined = "/".join(segments)
    return joined + "/" if path.endswith("/") or path.endswith("/.") else joined


def is_dir_path(path: str) -> bool:
    """Whether a normalised path names a directory."""
    return path.endswith("/")


def normalize_root(root: str | None) -> str:
    """Normalise a configured root to ``/a/b/`` form (``/`` when empty)."""
    root = root or "/"
    if "\x00" in root:
        raise InvalidPath("root contains a NUL byte")
    segments = [s for s in root.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidPath("root contains a '..' segment", path=root)
    return "/" + "".join(s + "/" for s in segments)


def join_root(root: str, path: str) -> str:
    """Join a normalised root (``/a/``) and a normalised path, without the
    leading ``/``: the key an object store uses (``a/b/c``)."""
    key = root.lstrip("/") + ("" if path == "/" else path)
    return key


def parent_dirs(path: str) -> list[str]:
    """The directories above a normalised path, outermost first:
    ``"a/b/c"`` → ``["a/", "a/b/"]``."""
    segments = path.rstrip("/").split("/")[:-1]
    return ["/".join(segments[: i + 1]) + "/" for i in range(len(segments))]
