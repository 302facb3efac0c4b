"""Moving trees between any two services: :func:`sync`, :func:`copy_tree`, :func:`check`.

Example::

    from pystorage import Operator
    from pystorage.transfer import check, sync

    src = Operator("fs", root="/srv/media")
    dst = Operator("s3", bucket="backup", region="eu-west-1")
    report = await sync(src, "", dst, "media/", delete=True, journal="media.journal")
    assert report.ok
    assert (await check(src, "", dst, "media/", compare="checksum")).ok

See ``docs/guide/moving-data.md`` for compare modes, filters, resume, the
memory bound and the dask executor.
"""

from __future__ import annotations

from .compare import COMPARE_MODES, MTIME_KEY
from .copier import CopySettings, copy_object
from .filters import PathFilter
from .journal import Journal
from .report import CheckReport, Event, FailedObject, TransferReport
from .runner import check, copy_tree, sync

__all__ = [
    "COMPARE_MODES",
    "MTIME_KEY",
    "CheckReport",
    "CopySettings",
    "Event",
    "FailedObject",
    "Journal",
    "PathFilter",
    "TransferReport",
    "check",
    "copy_object",
    "copy_tree",
    "sync",
]
