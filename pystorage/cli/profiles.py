"""Named profiles: service config kept in a TOML file.

The file is found, first match wins, at:

1. the ``--config PATH`` option;
2. the ``PYSTORAGE_CONFIG`` environment variable;
3. ``$XDG_CONFIG_HOME/pystorage/config.toml`` (``~/.config/pystorage/config.toml``
   when ``XDG_CONFIG_HOME`` is unset).

A file named by 1 or 2 must exist; the default one may be missing (no
profiles then). Each table under ``[profiles]`` is one profile: ``service``
names the scheme (``type`` is accepted too, as in OpenDAL's ``oli``) and
every other key is a config key of that service::

    [profiles.backup]
    service = "s3"
    bucket = "nightly"
    root = "db/"
    region = "eu-west-1"
    access_key_id = "${AWS_ACCESS_KEY_ID}"
    secret_access_key = "${AWS_SECRET_ACCESS_KEY}"

String values may reference environment variables as ``${NAME}``; a
reference to an unset variable is an error naming the variable (never its
value). ``$${`` writes a literal ``${``; any other ``$`` is kept as is.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_ENV",
    "Profile",
    "ProfileError",
    "default_config_path",
    "expand_env",
    "find_config",
    "load_profiles",
    "parse_profiles",
]

#: the environment variable naming the config file
CONFIG_ENV = "PYSTORAGE_CONFIG"

_PROFILE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ENV_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProfileError(Exception):
    """The config file cannot be read, or a profile in it is invalid or unknown.

    The message is one line, names the file and the profile, and never
    contains a secret.
    """


@dataclasses.dataclass(frozen=True)
class Profile:
    """One named profile.

    Attributes:
        name: the profile's name (the ``NAME`` of ``NAME:path`` targets).
        service: the service scheme (``"s3"``, ``"fs"`` ...).
        raw_config: the service's config keys as written, environment
            references not yet expanded (see :meth:`config`).
        source: the file the profile was read from.
    """

    name: str
    service: str
    raw_config: Mapping[str, Any] = dataclasses.field(repr=False)
    source: str = ""

    def config(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The service config with ``${NAME}`` references expanded.

        Expanding only when a profile is used means one profile referencing
        an unset variable does not break the others.

        Args:
            environ: the environment (default: ``os.environ``).

        Raises:
            ProfileError: a referenced variable is not set.
        """
        env = os.environ if environ is None else environ
        where = f"{self.source}: profile {self.name!r}"
        return {key: _expand(value, env, f"{where} key {key!r}") for key, value in self.raw_config.items()}

    def __repr__(self) -> str:
        # config values may be secrets: show only the keys
        return f"Profile(name={self.name!r}, service={self.service!r}, keys={sorted(self.raw_config)!r})"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/pystorage/config.toml``, or ``~/.config/pystorage/config.toml``.

    Args:
        environ: the environment to read (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "pystorage" / "config.toml"


def find_config(option: str | None, environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The config file to read and whether it must exist.

    Args:
        option: the ``--config`` value, or ``None``.
        environ: the environment to read (default: ``os.environ``).

    Returns:
        ``(path, required)``: ``required`` is ``True`` when the path was named
        by ``--config`` or ``PYSTORAGE_CONFIG``.
    """
    env = os.environ if environ is None else environ
    if option:
        return Path(option).expanduser(), True
    named = env.get(CONFIG_ENV)
    if named:
        return Path(named).expanduser(), True
    return default_config_path(env), False


def expand_env(value: str, environ: Mapping[str, str], *, where: str) -> str:
    """Replace ``${NAME}`` references in ``value`` by environment variables.

    Args:
        value: the string from the config file.
        environ: the environment.
        where: what the value is (for messages), e.g. ``"profile 'x' key 'secret'"``.

    Raises:
        ProfileError: a variable is unset, or a reference is malformed.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _ENV_NAME.match(name):
            raise ProfileError(f"{where}: invalid environment reference '${{{name}}}'")
        if name not in environ:
            raise ProfileError(f"{where}: environment variable {name} is not set")
        return environ[name]

    return _ENV_REF.sub(replace, value)


def _expand(value: Any, environ: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        return expand_env(value, environ, where=where)
    if isinstance(value, list):
        return [_expand(v, environ, where) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, environ, f"{where}.{k}") for k, v in value.items()}
    return value


def parse_profiles(data: Mapping[str, Any], *, source: str) -> dict[str, Profile]:
    """The profiles of a parsed config file (environment references are
    expanded later, by :meth:`Profile.config`).

    Args:
        data: the parsed TOML document.
        source: the file name, for messages.

    Raises:
        ProfileError: the document's shape is wrong.
    """
    unknown = sorted(set(data) - {"profiles"})
    if unknown:
        raise ProfileError(
            f"{source}: unknown top-level key {unknown[0]!r} (expected [profiles.NAME] tables)"
        )
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfileError(f"{source}: 'profiles' must be a table of [profiles.NAME] tables")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        where = f"{source}: profile {name!r}"
        if not _PROFILE_NAME.match(name):
            raise ProfileError(
                f"{where}: invalid name (letters, digits, '_', '.', '-'; not starting with a digit)"
            )
        if not isinstance(table, dict):
            raise ProfileError(f"{where}: must be a table")
        config = dict(table)
        service = config.pop("service", None)
        alias = config.pop("type", None)
        if service is not None and alias is not None:
            raise ProfileError(f"{where}: give 'service' or 'type', not both")
        service = service if service is not None else alias
        if not isinstance(service, str) or not service:
            raise ProfileError(f"{where}: 'service' (the scheme, e.g. \"s3\") is required")
        profiles[name] = Profile(name, service, config, source)
    return profiles


def _toml_module() -> Any:
    """``tomllib`` (Python 3.11+), else the ``tomli`` package it came from."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # imported by name: type checkers for 3.10 need no stubs for it
        return importlib.import_module("tomli")
    except ImportError as exc:
        raise ProfileError(
            "reading profiles on Python 3.10 needs the 'tomli' package: pip install tomli"
        ) from exc


def _load_toml(path: Path) -> dict[str, Any]:
    toml = _toml_module()
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = toml.load(f)
    except toml.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: invalid TOML: {exc}") from exc
    return data


def load_profiles(option: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Profile]:
    """Read the profiles of the config file (see the module docs for where it is).

    Args:
        option: the ``--config`` value, or ``None``.
        environ: the environment (default: ``os.environ``).

    Returns:
        Profiles by name; ``{}`` when the default file does not exist.

    Raises:
        ProfileError: a named file is missing or unreadable, or invalid.
    """
    env = os.environ if environ is None else environ
    path, required = find_config(option, env)
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if not exists:
        if required:
            raise ProfileError(f"config file {str(path)!r} does not exist")
        return {}
    try:
        data = _load_toml(path)
    except OSError as exc:
        raise ProfileError(f"cannot read config file {str(path)!r}: {exc.strerror or exc}") from exc
    return parse_profiles(data, source=str(path))
