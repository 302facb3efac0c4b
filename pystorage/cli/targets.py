"""What a command-line argument names: a service, its config, and a path in it.

A target is one of:

* a URI ``SCHEME://NAME/PATH?key=value&...``: for services whose URI names a
  bucket (``s3``, ``gcs``) the operator's root is the bucket and ``PATH`` is
  the key; query parameters are config keys (``endpoint``, ``region`` ...).
  ``fs:///abs/path`` is a local path (root ``/``); ``memory://path`` names a
  path in a fresh, empty in-memory store;
* ``PROFILE:PATH``: ``PATH`` under the root of a profile of the config file
  (see :mod:`pystorage.cli.profiles`);
* a plain local path, relative or absolute (write ``./a:b`` for a local file
  whose name holds a colon);
* ``-``: standard input or output (``cp`` and ``cat`` only).

The path of a URI is taken literally (no percent-decoding); query values are
decoded. A trailing ``/`` means a directory.
"""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..services import ALIASES, SERVICES, service_module
from .profiles import Profile, ProfileError

__all__ = ["Target", "TargetError", "TargetKind", "parse_target"]

#: how a target was written
TargetKind = Literal["uri", "profile", "local", "stdio"]

_PROFILE_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*):(.*)$", re.DOTALL)


class TargetError(Exception):
    """A target cannot be understood: a bad URI, an unknown scheme or profile.

    The message is one line and never contains a secret.
    """


@dataclasses.dataclass(frozen=True)
class Target:
    """A resolved target.

    Attributes:
        kind: how it was written: ``"uri"``, ``"profile"``, ``"local"`` or ``"stdio"``.
        scheme: the service scheme (``""`` for ``stdio``).
        config: the operator's config keys (may hold secrets: never printed).
        path: the path relative to the operator's root, without a leading
            ``/``; ``""`` is the root; a trailing ``/`` names a directory.
        base: what :meth:`display` puts before a path (``"s3://bucket/"``,
            ``"backup:"``, ``"/"``).
    """

    kind: TargetKind
    scheme: str
    config: Mapping[str, Any] = dataclasses.field(repr=False, compare=False)
    path: str
    base: str

    @property
    def operator_key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Equal for targets that share one operator (same scheme and config)."""
        return self.scheme, tuple(sorted((k, repr(v)) for k, v in self.config.items()))

    @property
    def is_stdio(self) -> bool:
        """Whether the target is ``-`` (standard input or output)."""
        return self.kind == "stdio"

    @property
    def names_dir(self) -> bool:
        """Whether the path names a directory by its form (the root, or a trailing ``/``)."""
        return self.path == "" or self.path.endswith("/")

    def with_path(self, path: str) -> Target:
        """The same service and config, another path (relative to the root)."""
        return dataclasses.replace(self, path=path.lstrip("/"))

    def display(self, path: str | None = None) -> str:
        """How to show ``path`` (default: this target's path) to the user,
        in the form the target was written in (no query, no secrets)."""
        if self.kind == "stdio":
            return "-"
        return self.base + (self.path if path is None else path.lstrip("/"))


def _local(text: str) -> Target:
    absolute = os.path.abspath(os.path.expanduser(text))
    if absolute != "/" and (text.endswith("/") or text.endswith(os.sep)):
        absolute += "/"
    return Target("local", "fs", {"root": "/"}, absolute.lstrip("/"), "/")


def _shown(parsed: urllib.parse.SplitResult) -> str:
    """A URI for messages: the query (which may hold secrets) is left out."""
    return urllib.parse.urlunsplit(parsed._replace(query="")) + ("?..." if parsed.query else "")


def _uri(text: str) -> Target:
    parsed = urllib.parse.urlsplit(text, allow_fragments=False)
    text = _shown(parsed)
    scheme = parsed.scheme.lower()
    if not scheme:
        raise TargetError(f"bad URI {text!r}: no scheme (expected e.g. s3://bucket/key)")
    given, scheme = scheme, ALIASES.get(scheme, scheme)
    if scheme not in SERVICES:
        known = ", ".join(f"{s}://" for s in sorted(SERVICES))
        raise TargetError(f"bad URI {text!r}: unknown scheme {scheme!r} (known: {known})")
    config: dict[str, Any] = {}
    try:
        pairs = urllib.parse.parse_qsl(
            parsed.query, keep_blank_values=True, strict_parsing=bool(parsed.query)
        )
    except ValueError as exc:
        raise TargetError(f"bad URI {text!r}: malformed query string") from exc
    for key, value in pairs:
        if key in config:
            raise TargetError(f"bad URI {text!r}: query parameter {key!r} given twice")
        config[key] = value
    module = service_module(scheme)  # ConfigInvalid when the service's extra is missing
    name_key: str | None = getattr(module, "URI_NAME_KEY", None)
    if name_key is not None:
        if not parsed.netloc:
            raise TargetError(
                f"bad URI {text!r}: no {name_key} (expected {scheme}://{name_key.upper()}/path)"
            )
        if name_key in config:
            raise TargetError(
                f"bad URI {text!r}: the {name_key} is given both as host and as query parameter"
            )
        name, split_host = parsed.netloc, getattr(module, "split_uri_host", None)
        if split_host is not None:  # e.g. adlfs's abfs://container@account.dfs.core.windows.net
            name, implied = split_host(given, name)
            config = {**implied, **config}
        config[name_key] = name
        return Target("uri", scheme, config, parsed.path.lstrip("/"), f"{given}://{parsed.netloc}/")
    if scheme == "fs":
        if parsed.netloc not in ("", "localhost"):
            raise TargetError(f"bad URI {text!r}: fs URIs take an absolute path (fs:///abs/path)")
        config.setdefault("root", "/")
        return Target("uri", scheme, config, parsed.path.lstrip("/"), "fs:///")
    path = (parsed.netloc + parsed.path).lstrip("/")
    return Target("uri", scheme, config, path, f"{scheme}://")


def _profile(name: str, path: str, profiles: Mapping[str, Profile]) -> Target:
    profile = profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none defined"
        raise TargetError(
            f"unknown profile {name!r} (profiles: {known}; "
            f"for a local file named like this, write ./{name}:...)"
        )
    if profile.service not in SERVICES:
        known = ", ".join(sorted(SERVICES))
        raise TargetError(f"profile {name!r}: unknown service {profile.service!r} (known: {known})")
    try:
        config = profile.config()
    except ProfileError as exc:
        raise TargetError(str(exc)) from exc
    return Target("profile", profile.service, config, path.lstrip("/"), f"{name}:")


def parse_target(text: str, profiles: Callable[[], Mapping[str, Profile]]) -> Target:
    """Resolve a command-line argument (see the module docs for the forms).

    Args:
        text: the argument.
        profiles: returns the profiles by name; called only for ``NAME:PATH``
            targets, so the config file is read only when needed.

    Raises:
        TargetError: a malformed URI, an unknown scheme or profile.
        ProfileError: the config file cannot be read.
        pystorage.errors.ConfigInvalid: the service's extra is not installed.
    """
    if text == "-":
        return Target("stdio", "", {}, "", "")
    if not text:
        raise TargetError("empty target (expected a URI, PROFILE:path or a local path)")
    if "\x00" in text:
        raise TargetError("bad target: contains a NUL byte")
    if "://" in text:
        return _uri(text)
    match = _PROFILE_REF.match(text)
    if match and not (os.name == "nt" and len(match.group(1)) == 1):  # C:\... is a Windows drive
        return _profile(match.group(1), match.group(2), profiles())
    return _local(text)
