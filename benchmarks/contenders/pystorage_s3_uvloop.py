"""pystorage's S3 service on uvloop: the ``pystorage_s3`` contender, another event loop."""

from __future__ import annotations

from ._pystorage import OnUvloop
from .pystorage_s3 import PystorageS3

__all__ = ["CONTENDER", "PystorageS3Uvloop"]


class PystorageS3Uvloop(OnUvloop, PystorageS3):
    """``Operator("s3", ...)`` exactly as ``pystorage_s3``, with the child on uvloop."""

    name = "pystorage_s3_uvloop"
    label = "pystorage Operator('s3') on uvloop"


CONTENDER = PystorageS3Uvloop
