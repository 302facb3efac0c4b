"""pystorage's fs service on uvloop: the ``pystorage_fs`` contender, another event loop."""

from __future__ import annotations

from ._pystorage import OnUvloop
from .pystorage_fs import PystorageFs

__all__ = ["CONTENDER", "PystorageFsUvloop"]


class PystorageFsUvloop(OnUvloop, PystorageFs):
    """``Operator("fs", root=...)`` exactly as ``pystorage_fs``, with the child on uvloop."""

    name = "pystorage_fs_uvloop"
    label = "pystorage Operator('fs') on uvloop"


CONTENDER = PystorageFsUvloop
