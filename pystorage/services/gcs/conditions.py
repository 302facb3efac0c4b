"""Etag and date conditions, turned into GCS generation preconditions.

The JSON API takes preconditions on generations (``ifGenerationMatch``), not
on etags or dates. A condition is therefore checked against the object's
metadata (``objects.get``) and the request that follows is pinned to the
generation that was checked (``ifGenerationMatch=<generation>``): if the
object changes in between, GCS answers 412 and the call fails with
``ConditionNotMatch`` instead of acting on an object that was never checked.
"""

from __future__ import annotations

from ...errors import ConditionNotMatch
from ...raw.etags import strip_etag
from ...raw.ops import OpRead, OpStat, OpWrite
from ...types import Metadata
from .core import GcsCore
from .errors import SERVICE, GcsHttpError
from .metadata import metadata_from_resource

__all__ = ["check_read_conditions", "has_read_conditions", "write_preconditions"]


def _same(etag: str, current: str | None) -> bool:
    return etag == "*" or (current is not None and strip_etag(etag) == current)


def has_read_conditions(op: OpRead | OpStat) -> bool:
    """Whether ``op`` carries an etag or date condition."""
    return not (
        op.if_match is None
        and op.if_none_match is None
        and op.if_modified_since is None
        and op.if_unmodified_since is None
    )


def check_read_conditions(meta: Metadata, op: OpRead | OpStat, *, operation: str, path: str) -> None:
    """Raise ``ConditionNotMatch`` unless ``meta`` satisfies ``op``'s conditions.

    ``if_modified_since`` fails when the object was not modified *after* the
    date; ``if_unmodified_since`` fails when it was.
    """

    def fail(message: str) -> ConditionNotMatch:
        return ConditionNotMatch(message, operation=operation, path=path, service=SERVICE)

    if op.if_match is not None and not _same(op.if_match, meta.etag):
        raise fail("if_match does not match the current etag")
    if op.if_none_match is not None and _same(op.if_none_match, meta.etag):
        raise fail("if_none_match matches the current etag")
    modified = meta.last_modified
    if modified is not None:
        if op.if_modified_since is not None and modified <= op.if_modified_since:
            raise fail("not modified since if_modified_since")
        if op.if_unmodified_since is not None and modified > op.if_unmodified_since:
            raise fail("modified since if_unmodified_since")


async def write_preconditions(core: GcsCore, key: str, op: OpWrite, *, path: str) -> dict[str, str | None]:
    """The ``ifGenerationMatch`` a write's conditions come down to.

    ``if_not_exists`` is ``ifGenerationMatch=0`` (no request needed). An etag
    condition (``if_match`` / ``if_none_match``) is checked against the
    current object and the write is pinned to its generation (``0`` when it
    is missing and that satisfies the condition).

    Raises:
        ConditionNotMatch: the condition does not hold now.
    """
    if op.if_not_exists:
        return {"ifGenerationMatch": "0"}
    if op.if_match is None and op.if_none_match is None:
        return {}
    try:
        resource = await core.objects_get(key, sse=op.sse)
    except GcsHttpError as exc:
        if exc.status != 404:
            raise
        if op.if_match is not None:
            raise ConditionNotMatch(
                "if_match given but the object does not exist", operation="write", path=path, service=SERVICE
            ) from exc
        return {"ifGenerationMatch": "0"}
    meta = metadata_from_resource(resource)
    if op.if_match is not None and not _same(op.if_match, meta.etag):
        raise ConditionNotMatch(
            "if_match does not match the current etag", operation="write", path=path, service=SERVICE
        )
    if op.if_none_match is not None and _same(op.if_none_match, meta.etag):
        raise ConditionNotMatch(
            "if_none_match matches the current etag", operation="write", path=path, service=SERVICE
        )
    return {"ifGenerationMatch": meta.version}
