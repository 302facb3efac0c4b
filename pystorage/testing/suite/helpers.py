"""Small helpers shared by the behaviour tests."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from pystorage import Entry, Operator, errors

KiB = 1024
MiB = 1024 * KiB


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def need(op: Operator, *capabilities: str) -> None:
    """Skip the test unless ``op`` has every capability named."""
    cap = op.capability()
    missing = [name for name in capabilities if not getattr(cap, name)]
    if missing:
        pytest.skip("no " + ", ".join(missing))


def lacking(op: Operator, capability: str) -> None:
    """Skip the test when ``op`` HAS ``capability`` (for the converse tests)."""
    if getattr(op.capability(), capability):
        pytest.skip(f"has {capability}")


#: keyword options of one call
Options = dict[str, Any]
#: ``(capability, options)``: options and the capability a service needs for them
OptionCase = tuple[str, Options]

_AWARE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def conditional_options(operation: str) -> list[OptionCase]:
    """The conditional and version options of ``read`` or ``stat`` (``operation``),
    each with the capability it needs (``"read_with_if_match"`` ...)."""
    values: Options = {
        "if_match": '"0123"',
        "if_none_match": '"0123"',
        "if_modified_since": _AWARE,
        "if_unmodified_since": _AWARE,
        "version": "1",
    }
    return [(f"{operation}_with_{name}", {name: value}) for name, value in values.items()]


def per_option(cases: list[OptionCase]) -> pytest.MarkDecorator:
    """Parametrise a test's ``(capability, options)`` over ``cases``, with the capability as id."""
    return pytest.mark.parametrize(("capability", "options"), cases, ids=[c for c, _ in cases])


async def collect(op: Operator, path: str, **options: Any) -> list[Entry]:
    """Every entry ``op.list(path, **options)`` yields."""
    return [entry async for entry in op.list(path, **options)]


async def paths(op: Operator, path: str, **options: Any) -> set[str]:
    """The set of ``Entry.path`` that ``op.list(path, **options)`` yields."""
    return {entry.path for entry in await collect(op, path, **options)}


async def stat_missing(op: Operator, path: str) -> errors.NotFound:
    """Assert that ``op.stat(path)`` raises ``NotFound`` for the ``stat`` operation; the error."""
    with pytest.raises(errors.NotFound) as info:
        await op.stat(path)
    assert info.value.operation == "stat"
    return info.value


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    """An async generator yielding ``chunks``."""
    for chunk in chunks:
        yield chunk


def split(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into pieces of ``size`` bytes (the last may be shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def fs_dir(op: Operator, rel_dir: str) -> list[str] | None:
    """For an fs operator: the names actually on disk in ``rel_dir`` (temp files
    included); ``None`` for other services."""
    if op.info.scheme != "fs":
        return None
    directory = os.path.join(op.info.root, rel_dir)
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


class Progress:
    """Records ``progress(done, total)`` calls; ``sync`` picks a plain or an async callable."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def sync(self, done: int, total: int | None) -> None:
        """The plain callable."""
        self.calls.append((done, total))

    async def asynchronous(self, done: int, total: int | None) -> None:
        """The async callable."""
        self.calls.append((done, total))

    def callback(self, kind: str) -> Callable[[int, int | None], Awaitable[None] | None]:
        """``"sync"`` or ``"async"`` callable."""
        return self.sync if kind == "sync" else self.asynchronous

    def check(self, size: int, total: int | str | None = "any") -> None:
        """Assert at least one call, ``done`` never decreasing and ending at ``size``,
        and (unless ``total == "any"``) every total equal to ``total``."""
        assert self.calls, "progress was never called"
        dones = [done for done, _ in self.calls]
        assert dones == sorted(dones), f"done went backwards: {dones}"
        assert dones[-1] == size, f"final done {dones[-1]} != {size}"
        assert all(0 <= d <= size for d in dones)
        if total != "any":
            totals = {t for _, t in self.calls}
            assert totals == {total}, f"totals {totals} != {{{total}}}"


def chunk_size(op: Operator, preferred: int) -> int:
    """``preferred``, raised to the service's smallest multipart part size if it has one."""
    minimum = op.capability().write_multi_min_size or 0
    return max(preferred, minimum)
