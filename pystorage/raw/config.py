"""Service config parsing shared by every driver.

Each service declares its config as a frozen dataclass; :func:`parse_config`
builds it from keyword arguments (or URI query strings), refusing unknown keys
and naming the bad key. Fields whose metadata has ``secret=True`` are never
shown by :func:`config_repr`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..errors import ConfigInvalid
from ..sse import CustomerKey

__all__ = [
    "SECRET",
    "check_between",
    "check_bucket",
    "check_endpoint",
    "check_size",
    "config_repr",
    "customer_key_from_config",
    "invalid_key",
    "parse_config",
    "secret_field",
]

C = TypeVar("C")

#: field metadata marking a secret value
SECRET: Mapping[str, bool] = {"secret": True}


def secret_field(default: Any = None) -> Any:
    """A config field holding a secret (redacted in ``repr`` and errors)."""
    return dataclasses.field(default=default, repr=False, metadata=SECRET)


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
#: the number types a field may have: how a value converts, the values it takes
#: as they are (and str), and its name in errors
_NUMBERS: dict[type, tuple[Callable[[Any], Any], tuple[type, ...], str]] = {
    int: (int, (int,), "an int"),
    float: (float, (int, float), "a number"),
}


def _coerce(scheme: str, name: str, value: Any, annotation: Any, secret: bool) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        last: ConfigInvalid | None = None
        for option in options:
            try:
                return _coerce(scheme, name, value, option, secret)
            except ConfigInvalid as exc:
                last = exc
        assert last is not None
        raise last
    shown = "<redacted>" if secret else repr(value)

    def bad(expected: str) -> ConfigInvalid:
        return ConfigInvalid(
            f"config key {name!r} of service {scheme!r} must be {expected}, got {shown}",
            service=scheme,
        )

    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise bad("a bool")
    number = _NUMBERS.get(annotation) if isinstance(annotation, type) else None
    if number is not None:
        convert, accepted, words = number
        if isinstance(value, accepted) and not isinstance(value, bool):
            return convert(value)
        if isinstance(value, str):
            try:
                return convert(value)
            except ValueError:
                raise bad(words) from None
        raise bad(words)
    if annotation is str:
        if isinstance(value, str):
            return value
        raise bad("a str")
    return value


def parse_config(cls: type[C], scheme: str, values: Mapping[str, Any]) -> C:
    """Build config dataclass ``cls`` from ``values``.

    Raises:
        ConfigInvalid: for an unknown key (named) or a value of the wrong type.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(fields))
            raise ConfigInvalid(
                f"unknown config key {key!r} for service {scheme!r} (known keys: {known})",
                service=scheme,
            )
        secret = bool(field.metadata.get("secret"))
        kwargs[key] = _coerce(scheme, key, value, hints[key], secret)
    try:
        return cls(**kwargs)
    except ConfigInvalid as exc:
        exc.service = exc.service or scheme
        raise


def config_repr(config: Any) -> str:
    """``repr`` of a config dataclass showing only set, non-secret fields."""
    shown = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value is None or value == f.default:
            continue
        shown.append(f"{f.name}=<redacted>" if f.metadata.get("secret") else f"{f.name}={value!r}")
    return f"{type(config).__name__}({', '.join(shown)})"


# checks of the keys several services share: one message each, naming the key and the service


def invalid_key(scheme: str, key: str, why: str) -> ConfigInvalid:
    """``ConfigInvalid("config key 'key' of service 'scheme' why")``."""
    return ConfigInvalid(f"config key {key!r} of service {scheme!r} {why}", service=scheme)


def check_bucket(scheme: str, bucket: str | None, *, strip: bool = False) -> str:
    """``bucket``, which is required and holds no ``/`` or NUL (with ``strip``:
    nor leading or trailing white space); the service checks the rest.

    Raises:
        ConfigInvalid: naming the key ``bucket``.
    """
    if not bucket:
        raise invalid_key(scheme, "bucket", "is required")
    if "/" in bucket or "\x00" in bucket or (strip and bucket.strip() != bucket):
        raise invalid_key(scheme, "bucket", f"is not a bucket name: {bucket!r}")
    return bucket


def check_endpoint(scheme: str, endpoint: str | None) -> None:
    """An ``endpoint`` (optional) is an ``http://`` or ``https://`` URL.

    Raises:
        ConfigInvalid: naming the key ``endpoint``.
    """
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise invalid_key(scheme, "endpoint", "must start with http:// or https://")


def check_size(scheme: str, key: str, value: Any) -> None:
    """``value`` is an int >= 0 (a byte count; a bool is not one).

    Raises:
        ConfigInvalid: naming ``key``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid_key(scheme, key, f"must be an int >= 0, got {value!r}")


def check_between(scheme: str, key: str, value: int, low: int, high: int) -> None:
    """``low <= value <= high``.

    Raises:
        ConfigInvalid: naming ``key`` and the bounds.
    """
    if not low <= value <= high:
        raise invalid_key(scheme, key, f"must be between {low} and {high}, got {value!r}")


def customer_key_from_config(scheme: str, key_b64: str, key_name: str) -> CustomerKey:
    """A :class:`~pystorage.sse.CustomerKey` from its base64 config value ``key_b64``
    (key ``key_name``: S3's SSE-C, GCS's CSEK).

    Raises:
        ConfigInvalid: not base64 of exactly 32 bytes (the key is never shown).
    """
    try:
        raw = base64.b64decode(key_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_key(scheme, key_name, "must be base64 (of a 32-byte key)") from None
    if len(raw) != 32:
        raise invalid_key(scheme, key_name, f"must be the base64 of a 32-byte key, got {len(raw)} bytes")
    return CustomerKey(raw)
