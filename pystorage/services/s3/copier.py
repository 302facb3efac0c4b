"""Server-side copies of sources above CopyObject's 5 GiB limit.

The copy is a multipart upload whose parts are UploadPartCopy ranges of the
source, ``copy_part_size`` bytes each (the last shorter), up to
:data:`COPY_CONCURRENCY` in flight. The destination keeps the source's
content headers and user metadata (as CopyObject does); SSE specs apply to
both sides. On any failure or cancellation the upload is aborted under a
shielded scope, so no billed parts are left behind. Every part is pinned to
the source's etag (``CopySourceIfMatch``): a source replaced during the copy
fails it with ``ConditionNotMatch`` instead of splicing two versions (and the
source's etag is checked once more before the upload is completed, for
servers that ignore the header).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from ...errors import ConditionNotMatch
from ...raw.etags import quote_etag
from ...raw.objects import rewrite_op
from ...raw.ops import OpCopy, OpStat
from ...raw.tasks import run_concurrently
from ...types import Metadata, Part
from .core import S3Core
from .errors import SCHEME

if TYPE_CHECKING:
    from .backend import S3Accessor

__all__ = ["COPY_CONCURRENCY", "copy_in_parts"]

#: UploadPartCopy requests in flight for one copy
COPY_CONCURRENCY = 4


async def copy_in_parts(
    accessor: S3Accessor, core: S3Core, src: str, dst: str, source: Metadata, op: OpCopy
) -> None:
    """Copy ``src`` (whose metadata is ``source``) to ``dst`` with UploadPartCopy."""
    size = source.content_length or 0
    part_size = max(1, accessor._config.copy_part_size)
    write_op = rewrite_op(source, op.sse)
    src_key, dst_key = core.key(src), core.key(dst)
    # every part copies the version that was stat'ed: a source replaced
    # meanwhile fails the copy (412) instead of splicing two versions
    pin = source.etag
    upload_id = await accessor.initiate_multipart(dst, write_op)
    try:

        def part(number: int, first: int) -> Callable[[], Awaitable[Part]]:
            last = min(size, first + part_size) - 1

            async def copy() -> Part:
                with accessor._errors("copy", src):
                    etag, checksum = await core.upload_part_copy(
                        src_key, dst_key, upload_id, number, first=first, last=last, op=op, if_match=pin
                    )
                return Part(number, quote_etag(etag) or "", last - first + 1, checksum)

            return copy

        jobs = [part(n + 1, first) for n, first in enumerate(range(0, size, part_size))]
        parts = await run_concurrently(jobs, COPY_CONCURRENCY)
        # servers that ignore CopySourceIfMatch (moto, rclone) still cannot
        # splice two versions: the source must be unchanged before completing
        now = await accessor.stat(src, OpStat(sse=op.sse))
        if pin is not None and now.etag != pin:
            raise ConditionNotMatch(
                "the source changed during the copy", operation="copy", path=src, service=SCHEME
            )
        await accessor.complete_multipart(dst, upload_id, parts, write_op)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await accessor.abort_multipart(dst, upload_id)
        raise
