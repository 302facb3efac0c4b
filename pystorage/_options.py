"""The options of the Operator's calls, checked once against the service's capability.

An option is declared once, as a field of its op dataclass
(:mod:`pystorage.raw.ops`); the capability that gates it is found by name:
a field ``f`` of a read needs ``read_with_f`` (``stat_with_f`` for a stat,
``write_with_f`` for a write) when the :class:`~pystorage.types.Capability`
has such a flag, and ``append`` needs ``write_can_append``. A value left at
its default needs nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from . import errors
from .raw.ops import OpRead, OpStat, OpWrite
from .raw.read import check_range
from .types import Capability

__all__ = ["Options", "given", "positive", "seconds"]

Op = TypeVar("Op", OpRead, OpStat, OpWrite)

#: options of a field whose capability is not named ``<prefix>_with_<field>``
_FLAGS = {"append": "write_can_append"}

#: fields a caller never gives (layers set them)
_INTERNAL = frozenset({"sse"})


def given(cls: type[Op], scope: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``cls`` among a call's arguments (``locals()`` of a
    public method whose keyword parameters are named as the op's fields), so
    that each option is spelled once in the signature and nowhere else."""
    names = (f.name for f in dataclasses.fields(cls))
    return {name: scope[name] for name in names if name in scope and name not in _INTERNAL}


def positive(name: str, value: object, *, allow_none: bool = True, minimum: int = 1) -> None:
    """Check that ``value`` is an int >= ``minimum`` (or ``None`` if allowed).

    Raises:
        ConfigInvalid: naming the option.
    """
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise errors.ConfigInvalid(f"{name} must be an int >= {minimum}, got {value!r}")


def seconds(expire: float | dt.timedelta) -> dt.timedelta:
    """A presign's ``expire`` (seconds or a timedelta) as a positive timedelta."""
    if isinstance(expire, dt.timedelta):
        delta = expire
    elif isinstance(expire, (int, float)) and not isinstance(expire, bool):
        delta = dt.timedelta(seconds=expire)
    else:
        raise TypeError(f"expire must be seconds or a timedelta, not {type(expire).__name__}")
    if delta <= dt.timedelta(0):
        raise errors.ConfigInvalid(f"expire must be positive, got {expire!r}")
    return delta


def _aware(name: str, value: object) -> None:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


class Options:
    """Builds the op of a call from a caller's keyword options, refusing
    before any request what the service cannot honour.

    Args:
        scheme: the service, for error messages.
        capability: what it can do.
    """

    def __init__(self, scheme: str, capability: Capability) -> None:
        self.scheme = scheme
        self.capability = capability

    def unsupported(self, operation: str, path: str, what: str) -> errors.Unsupported:
        """The error of an option or call the service lacks."""
        return errors.Unsupported(
            f"{what} is not supported by service {self.scheme!r}",
            operation=operation,
            path=path,
            service=self.scheme,
        )

    def require(self, ok: object, operation: str, path: str, what: str) -> None:
        """Raise :meth:`unsupported` unless ``ok``."""
        if not ok:
            raise self.unsupported(operation, path, what)

    def build(self, cls: type[Op], prefix: str, operation: str, path: str, options: Mapping[str, Any]) -> Op:
        """``cls(**options)`` once every option given is one the service takes.

        Raises:
            TypeError: an option ``cls`` does not have.
            Unsupported: the service lacks the capability an option needs.
        """
        inner = _INTERNAL.intersection(options)
        if inner:
            raise TypeError(f"{operation}() got an unexpected keyword argument {sorted(inner)[0]!r}")
        op = cls(**options)
        for field in dataclasses.fields(cls):
            value = getattr(op, field.name)
            if value is None or value is False or value == field.default:
                continue
            if "datetime" in str(field.type):
                _aware(field.name, value)
            flag = _FLAGS.get(field.name, f"{prefix}_with_{field.name}")
            if hasattr(self.capability, flag):
                what = "append" if field.name == "append" else f"{prefix} with {field.name}"
                self.require(getattr(self.capability, flag), operation, path, what)
        return op

    def read(self, path: str, prefix: str = "read", **options: Any) -> OpRead:
        """The :class:`OpRead` of a ``read`` (``prefix="stat"`` checks ``stat_with_*``)."""
        check_range(options.get("offset", 0), options.get("size"))
        return self.build(OpRead, prefix, prefix, path, options)

    def stat(self, path: str, **options: Any) -> OpStat:
        """The :class:`OpStat` of a ``stat``."""
        return self.build(OpStat, "stat", "stat", path, options)

    def write(self, path: str, operation: str = "write", **options: Any) -> OpWrite:
        """The :class:`OpWrite` of a write; ``if_none_match="*"`` is ``if_not_exists``."""
        self.require(self.capability.write, operation, path, "write")
        positive("chunk", options.get("chunk"))
        positive("concurrent", options.get("concurrent", 1), allow_none=False)
        if options.get("if_none_match") == "*":
            options = {**options, "if_none_match": None, "if_not_exists": True}
        user = options.get("user_metadata")
        if user is not None:
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in user.items()):
                raise TypeError("user_metadata keys and values must be str")
            options = {**options, "user_metadata": dict(user)}
        if options.get("if_not_exists"):
            options = {**options, "if_not_exists": True}
        return self.build(OpWrite, "write", operation, path, options)

    def reading(self, path: str, chunk: object, concurrent: object, prefetch: object) -> None:
        """Check the engine options of a read: ``chunk``, ``concurrent`` and ``prefetch``."""
        self.require(self.capability.read, "read", path, "read")
        positive("chunk", chunk)
        positive("concurrent", concurrent, allow_none=False)
        positive("prefetch", prefetch, allow_none=False, minimum=0)
