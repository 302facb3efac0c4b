"""Fork safety, written once: after ``os.fork()`` a child forgets its parent's
connections, clients, locks and event-loop threads.

A forked child shares its parent's sockets (a TLS session used from two
processes is corrupted; an HTTP/1.1 connection read by both returns the other
one's answers) and has none of its threads (a call handed to the parent's
event-loop thread waits forever). An object that holds such state calls
:func:`register` once and implements ``after_fork_in_child()``, which drops
that state so the next use opens new connections in the child. The dropped
objects are handed to :func:`abandon`: they are never closed or garbage
collected in the child, since closing them could write to (or shut) sockets
the parent still uses.

Registration is weak: registering keeps nothing alive. On platforms without
``os.register_at_fork`` (Windows) there is no fork, and nothing to do.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "abandon", "register"]


class ForkAware(Protocol):
    """An object whose state must not cross a fork."""

    def after_fork_in_child(self) -> None:
        """Drop connections, clients, locks and threads inherited from the parent."""


_registered: weakref.WeakSet[ForkAware] = weakref.WeakSet()
#: objects inherited from the parent and deliberately kept (never closed) in this child
_abandoned: list[object] = []


def register(obj: ForkAware) -> None:
    """Call ``obj.after_fork_in_child()`` in every child forked from now on (held weakly)."""
    _registered.add(obj)


def abandon(*objs: object) -> None:
    """Keep the parent's ``objs`` referenced forever in this (child) process, so
    that no finaliser closes a connection the parent still uses."""
    _abandoned.extend(obj for obj in objs if obj is not None)


def _after_fork_in_child() -> None:
    for obj in list(_registered):
        try:
            obj.after_fork_in_child()
        except Exception:
            pass  # a failed reset must not kill the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
