"""Appends on gcs: upload the new bytes, then compose them onto the object.

:class:`GcsAppendWriter` streams the appended bytes into a temporary object
(a resumable upload, or one insert when small) kept at an upload-marker name
of the hidden folder (see :mod:`pystorage.services.gcs.multipart`, upload id
``append-<hex>``). On :meth:`~GcsAppendWriter.close` it composes
``[object, temporary]`` onto the object with
``ifGenerationMatch=<the object's generation>`` — or ``[temporary]`` with
``ifGenerationMatch=0`` when the object does not exist. When another writer
changed the object in between, GCS answers 412 and the compose is tried again
on the fresh generation, so two concurrent appenders never lose bytes (each
append lands exactly once, in some order). The temporary is deleted once its
compose succeeded; until then (and after a crash) it is listed by
``list_multipart_uploads`` and removed by ``abort_multipart_uploads``.

An append with an explicit condition (``if_match``, ``if_none_match``,
``if_not_exists``) is pinned to the generation that satisfied it and is not
tried again: a 412 is ``ConditionNotMatch``.
"""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import anyio

from ...errors import ConditionNotMatch, Error
from ...raw.checksum import crc32c_combine
from ...raw.ops import OpWrite
from ...raw.range_write import RangeWriter
from ...types import Metadata
from .conditions import write_preconditions
from .core import GcsCore
from .errors import SERVICE, GcsHttpError, from_native, map_errors
from .metadata import metadata_from_resource
from .multipart import CompositeUploads
from .writer import GcsUpload

__all__ = ["MAX_COMPOSE_ATTEMPTS", "GcsAppendWriter"]

logger = logging.getLogger("pystorage")

#: composes tried per append while other writers keep changing the object
MAX_COMPOSE_ATTEMPTS = 64
#: the object fields an append keeps from the existing object (unless the write gives them)
_KEPT = ("contentType", "cacheControl", "contentDisposition", "contentEncoding", "metadata")


class GcsAppendWriter(RangeWriter[dict[str, Any]]):
    """An append to one object (see the module docs).

    Args:
        core: the JSON API calls.
        uploads: the driver's composite uploads (names of the temporary).
        path: the target path.
        op: the write options (``op.append`` is set).
        resource: the object resource the write options give (for the target).
        chunk: bytes per resumable chunk of the temporary, a multiple of 256 KiB.
    """

    def __init__(
        self,
        core: GcsCore,
        uploads: CompositeUploads,
        *,
        path: str,
        op: OpWrite,
        resource: dict[str, Any],
        chunk: int,
    ) -> None:
        self._core = core
        self._op = op
        self._key = core.key(path)
        self._given = {k: v for k, v in resource.items() if k in _KEPT}
        self._upload_id = f"append-{uuid.uuid4().hex}"
        temp = uploads.marker_resource(path, self._upload_id, op, "append")
        self._temp_key = str(temp["name"])
        self._temp_generation: str | None = None
        upload = GcsUpload(
            core, path=path, key=self._temp_key, resource=temp, preconditions=_absent, sse=op.sse
        )
        super().__init__(upload, chunk=chunk, path=path, service=SERVICE)
        self._done = False

    def __repr__(self) -> str:
        return f"<GcsAppendWriter path={self._path!r} temporary={self._temp_key!r}>"

    async def close(self) -> Metadata:
        """Finish the temporary, compose it onto the object, delete it; return
        the object's metadata."""
        if self._done:
            raise ValueError("the GCS append writer is already finished")
        temp = await super().close()
        self._temp_generation = temp.version
        with map_errors("write", self._path):
            resource = await self._compose()
        self._done = True
        await self._delete_temp()
        return metadata_from_resource(resource)

    async def _compose(self) -> dict[str, Any]:
        op = self._op
        temp: dict[str, Any] = {"name": self._temp_key, "generation": self._temp_generation}
        pinned: str | None = None
        if op.if_not_exists or op.if_match is not None or op.if_none_match is not None:
            pinned = (await write_preconditions(self._core, self._key, op, path=self._path))[
                "ifGenerationMatch"
            ]
        for _ in range(MAX_COMPOSE_ATTEMPTS):
            current: dict[str, Any] | None = None
            if pinned != "0":
                try:
                    current = await self._core.objects_get(self._key, generation=None, sse=op.sse)
                except GcsHttpError as exc:
                    if exc.status != 404:
                        raise
            generation = str(current.get("generation")) if current is not None else "0"
            if pinned is not None and generation != pinned:
                raise ConditionNotMatch(
                    "the object changed after its condition was checked",
                    operation="write",
                    path=self._path,
                    service=SERVICE,
                )
            destination: dict[str, Any] = {"name": self._key}
            if current is not None:
                destination.update({k: current[k] for k in _KEPT if current.get(k) is not None})
            destination.update(self._given)
            sources: list[dict[str, Any]] = [temp]
            if current is not None:
                sources.insert(0, {"name": self._key, "generation": generation})
            params = {
                "ifGenerationMatch": generation,
                "destinationPredefinedAcl": self._core.config.predefined_acl,
            }
            try:
                return await self._core.objects_compose(
                    self._key, sources, destination=destination, params=params, sse=op.sse
                )
            except Exception as exc:
                # 412: another writer got there first; 404: the object went away in between
                if isinstance(exc, GcsHttpError) and exc.status in (404, 412):
                    if pinned is None and (exc.status == 412 or current):
                        continue
                    raise
                if not _may_have_landed(exc):
                    raise
                landed = await self._landed(current)
                if landed is None:
                    raise
                return landed
        raise ConditionNotMatch(
            f"the object kept changing: {MAX_COMPOSE_ATTEMPTS} composes failed their precondition",
            operation="write",
            path=self._path,
            service=SERVICE,
            temporary=True,
        )

    async def _landed(self, before: dict[str, Any] | None) -> dict[str, Any] | None:
        """After a compose whose answer never came: the object when that compose
        landed (its size and CRC32C are those of ``before`` followed by the
        temporary), else ``None``. A lost answer is then a success, never a second
        append on retry nor a false failure. (The generation is not compared:
        fake-gcs-server composes in place, keeping it.)"""
        try:
            now = await self._core.objects_get(self._key, generation=None, sse=self._op.sse)
            temp = await self._core.objects_get(self._temp_key, sse=self._op.sse)
        except Exception:
            return None
        old_size, old_crc = (int(before.get("size") or 0), _crc(before)) if before is not None else (0, 0)
        temp_size, temp_crc, now_crc = int(temp.get("size") or 0), _crc(temp), _crc(now)
        if int(now.get("size") or -1) != old_size + temp_size or None in (old_crc, temp_crc, now_crc):
            return None
        return now if crc32c_combine(old_crc, temp_crc, temp_size) == now_crc else None  # type: ignore[arg-type]

    async def abort(self) -> None:
        """Discard the appended bytes: cancel the upload, delete the temporary."""
        if self._done:
            return
        self._done = True
        await super().abort()
        await self._delete_temp()

    async def _delete_temp(self) -> None:
        """Delete the temporary by generation (looked up when not known: its upload
        may have completed on the server even though the answer was lost)."""
        with anyio.CancelScope(shield=True):
            try:
                generation = self._temp_generation
                if generation is None:
                    found = await self._core.objects_get(self._temp_key, sse=self._op.sse)
                    generation = str(found.get("generation") or "") or None
                await self._core.objects_delete(self._temp_key, generation=generation)
            except GcsHttpError as exc:
                if exc.status != 404:
                    logger.warning("could not delete the temporary object %r: %s", self._temp_key, exc)
            except Exception:
                logger.warning("could not delete the temporary object %r", self._temp_key, exc_info=True)


def _may_have_landed(exc: Exception) -> bool:
    """Whether a failed compose may have been carried out all the same: its answer
    was lost or was a server error (not a refusal such as 400, 403 or 412)."""
    if isinstance(exc, GcsHttpError):
        return exc.status >= 500
    mapped = exc if isinstance(exc, Error) else from_native(exc)
    return mapped is not None and mapped.temporary


def _crc(resource: dict[str, Any]) -> int | None:
    """The CRC32C a GCS object resource reports (``crc32c``: base64, big-endian)."""
    value = resource.get("crc32c")
    if not value:
        return None
    return int.from_bytes(base64.b64decode(value), "big")


async def _absent() -> dict[str, str | None]:
    """The temporary is new: ``ifGenerationMatch=0``."""
    return {"ifGenerationMatch": "0"}
