"""The instance cache and finaliser of :class:`~pystorage.fsspec.PyStorageFileSystem`:
instances built from an operator are cached by its pickled recipe, and an
instance's clients are closed on fsspec's loop when it is collected."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import threading
from typing import Any

from fsspec.spec import _Cached
from fsspec.utils import tokenize

from .._operator import Operator


class _Cache(_Cached):  # type: ignore[misc]
    """fsspec caches instances by the ``repr`` of their arguments, which for an
    operator does not include its endpoint or credentials: an instance built
    from an operator is cached by the operator's pickled recipe instead (or
    not at all, for an operator without one)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        operator = kwargs.get("operator", args[0] if args else None)
        if not isinstance(operator, Operator):
            return super().__call__(*args, **kwargs)
        if operator._origin is None or kwargs.pop("skip_instance_cache", False) or not cls.cachable:
            return super().__call__(*args, skip_instance_cache=True, **kwargs)
        try:
            recipe = hashlib.sha256(pickle.dumps(operator._origin)).hexdigest()
        except Exception:
            return super().__call__(*args, skip_instance_cache=True, **kwargs)
        rest = {k: v for k, v in kwargs.items() if k != "operator"}
        thread = threading.get_ident() if kwargs.get("asynchronous") else None
        token = tokenize(cls, os.getpid(), thread, recipe, args[1:], rest)
        with cls._instantiation_lock:
            if cls.__dict__.get("_pid") != os.getpid():
                cls._cache.clear()
                cls._pid = os.getpid()
            inst = cls._cache.get(token)
            if inst is None:
                inst = super().__call__(*args, skip_instance_cache=True, **kwargs)
                cls._cache[token] = inst
        return inst


def _close_quietly(loop: asyncio.AbstractEventLoop | None, operator: Operator, pid: int) -> None:
    """Finaliser: schedule closing the operator's clients on fsspec's loop, never
    waiting (it may run in a garbage-collection pass on any thread), and never in
    a forked child, where the parent's loop has no thread and its connections are
    not the child's to close."""
    if pid != os.getpid() or loop is None or loop.is_closed() or not loop.is_running():
        return
    closing = operator.close()
    try:
        asyncio.run_coroutine_threadsafe(closing, loop)
    except RuntimeError:
        closing.close()  # the loop stopped meanwhile: nothing to release
