"""Parallel composite uploads: the multipart primitives of the gcs driver.

GCS has no multipart upload of its own in the JSON API; the same surface is
built from temporary objects and ``objects.compose``. Everything an upload
holds lives under a hidden prefix inside the operator's root (``R`` is the
root's key, ``""`` for ``/``)::

    R.pystorage-multipart/uploads/<q>/<upload_id>          marker (written by initiate)
    R.pystorage-multipart/parts/<q>/<upload_id>/<nnnnn>    part nnnnn (1-based, 5 digits)
    R.pystorage-multipart/parts/<q>/<upload_id>/c<r>-<i>   intermediate composite (round r)

``<q>`` is the target path percent-encoded with no safe character (``/`` →
``%2F``), so one path segment per upload and a path prefix maps to a name
prefix; a path whose encoding is longer than 512 bytes becomes ``%~`` and
its SHA-256 instead (object names are limited to 1,024 bytes). The marker
is an empty object whose custom metadata holds the target path and the
write options given at ``initiate`` (content headers, user metadata); its
``timeCreated`` is the upload's ``initiated``. The listing of the driver
never shows a ``.pystorage-multipart/`` segment.

``complete`` composes the parts in number order, at most 32 sources per
compose: more than 32 parts are composed in rounds into intermediate
composites, then the last compose writes the target with the write options
and preconditions (``if_not_exists`` → ``ifGenerationMatch=0``). A part's
``etag`` is its object generation and every source is pinned to it, so a
part replaced after it was recorded fails the compose instead of being used.
Then the parts, intermediates and marker are deleted by generation (so
nothing is left as a noncurrent version in a versioned bucket).

Appends (:mod:`pystorage.services.gcs.append`) keep their temporary object
at a marker name (``upload_id`` ``append-…``): a crashed append is listed by
``list_multipart_uploads`` and cleaned up by ``abort_multipart_uploads``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from ...errors import ConfigInvalid, NotFound
from ...raw.accessor import Buffer
from ...raw.dates import parse_rfc3339
from ...raw.ops import OpWrite
from ...raw.pages import paginate
from ...raw.tasks import run_concurrently
from ...sse import SseSpec
from ...types import Metadata, Part, UploadInfo
from .conditions import write_preconditions
from .core import GcsCore
from .errors import SERVICE, GcsHttpError, map_errors
from .metadata import metadata_from_resource

__all__ = [
    "CLEANUP_CONCURRENCY",
    "HIDDEN",
    "MAX_COMPOSE_SOURCES",
    "MAX_PARTS",
    "CompositeUploads",
    "is_hidden",
]

logger = logging.getLogger("pystorage")

#: the hidden folder (one per root) holding uploads in progress
HIDDEN = ".pystorage-multipart"
#: the most source objects one ``objects.compose`` takes
MAX_COMPOSE_SOURCES = 32
#: the part numbers accepted (1..MAX_PARTS), as S3's
MAX_PARTS = 10_000
#: deletes and intermediate composes in flight while completing or aborting
CLEANUP_CONCURRENCY = 16

#: the longest percent-encoded path used as a name segment (GCS names are at most 1,024 bytes)
MAX_SEGMENT = 512
#: starts the segment of a longer path (never produced by percent-encoding)
HASHED = "%~"

#: custom metadata keys of a marker object
META_PATH = "pystorage-path"
META_KIND = "pystorage-kind"
META_WRITE = "pystorage-write"

_UPLOAD_ID = re.compile(r"(?:append-)?[0-9a-f]{32}")
_PART = re.compile(r"\d{5}")
#: the write options a marker remembers, as object-resource fields
_RESOURCE_FIELDS = ("contentType", "cacheControl", "contentDisposition", "contentEncoding", "metadata")


def is_hidden(name: str) -> bool:
    """Whether object name (or prefix) ``name`` lies in a hidden upload folder."""
    return f"/{HIDDEN}/" in f"/{name}"


def quote_path(path: str) -> str:
    """The path as one name segment: percent-encoded (``/`` included), or, when
    that is longer than :data:`MAX_SEGMENT` bytes, :data:`HASHED` followed by the
    path's SHA-256 (the marker's metadata then tells the path)."""
    quoted = urllib.parse.quote(path, safe="")
    if len(quoted) <= MAX_SEGMENT:
        return quoted
    return HASHED + hashlib.sha256(path.encode()).hexdigest()


class CompositeUploads:
    """The multipart primitives of one gcs accessor (see the module docs).

    Args:
        core: the JSON API calls.
        resource: builds the object resource of a write (``resource(key, op)``).
    """

    def __init__(self, core: GcsCore, resource: Callable[[str, OpWrite], dict[str, Any]]) -> None:
        self._core = core
        self._resource = resource

    # names -----------------------------------------------------------------------
    def hidden(self) -> str:
        """The hidden folder's name prefix (``<root>.pystorage-multipart/``)."""
        return f"{self._core.key('/')}{HIDDEN}/"

    def marker_key(self, path: str, upload_id: str) -> str:
        """The marker object of an upload."""
        return f"{self.hidden()}uploads/{quote_path(path)}/{upload_id}"

    def parts_prefix(self, path: str, upload_id: str) -> str:
        """The name prefix of an upload's parts and intermediates."""
        return f"{self.hidden()}parts/{quote_path(path)}/{upload_id}/"

    def _check_id(self, path: str, upload_id: str, operation: str) -> None:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise NotFound(
                f"no multipart upload {upload_id!r}", operation=operation, path=path, service=SERVICE
            )

    def marker_resource(self, path: str, upload_id: str, op: OpWrite, kind: str) -> dict[str, Any]:
        """The resource of an upload's marker (or an append's temporary object)."""
        key = self.marker_key(path, upload_id)
        written = {k: v for k, v in self._resource(key, op).items() if k in _RESOURCE_FIELDS}
        resource: dict[str, Any] = {
            "name": key,
            "metadata": {META_PATH: path, META_KIND: kind, META_WRITE: json.dumps(written)},
        }
        storage_class = self._core.config.default_storage_class
        if storage_class:
            resource["storageClass"] = storage_class
        return resource

    # primitives ------------------------------------------------------------------
    async def initiate(self, path: str, op: OpWrite) -> str:
        """Write the marker of a new upload; return its id (32 hex digits)."""
        upload_id = uuid.uuid4().hex
        key = self.marker_key(path, upload_id)
        with map_errors("create_multipart", path):
            await self._core.objects_insert(
                key,
                b"",
                self.marker_resource(path, upload_id, op, "multipart"),
                {"ifGenerationMatch": "0", "predefinedAcl": self._core.config.predefined_acl},
                sse=op.sse,
            )
        return upload_id

    async def _marker(
        self, path: str, upload_id: str, operation: str, sse: SseSpec | None = None
    ) -> dict[str, Any]:
        self._check_id(path, upload_id, operation)
        try:
            return await self._core.objects_get(self.marker_key(path, upload_id), sse=sse)
        except GcsHttpError as exc:
            if exc.status != 404:
                raise
            raise NotFound(
                f"no multipart upload {upload_id!r} of this path (completed or aborted?)",
                operation=operation,
                path=path,
                service=SERVICE,
            ) from exc

    async def write_part(self, path: str, upload_id: str, number: int, data: Buffer, op: OpWrite) -> Part:
        """Upload part ``number`` as a temporary object; its ``etag`` is the generation.

        The marker is checked first, so a part is never written for an
        upload that does not exist (it would be garbage no listing finds).
        """
        if not 1 <= number <= MAX_PARTS:
            raise ConfigInvalid(f"part number {number} is outside 1..{MAX_PARTS}", path=path)
        key = f"{self.parts_prefix(path, upload_id)}{number:05d}"
        with map_errors("write_part", path):
            await self._marker(path, upload_id, "write_part", op.sse)
            resource: dict[str, Any] = {"name": key}
            if self._core.config.default_storage_class:
                resource["storageClass"] = self._core.config.default_storage_class
            answer = await self._core.objects_insert(
                key, data, resource, {"predefinedAcl": self._core.config.predefined_acl}, sse=op.sse
            )
        return Part(number, str(answer.get("generation", "")), len(data))

    async def complete(self, path: str, upload_id: str, parts: Sequence[Part], op: OpWrite) -> Metadata:
        """Compose ``parts`` (in number order, 32 at a time, in rounds) into the
        target, then delete the temporaries and the marker."""
        ordered = sorted(parts, key=lambda p: p.number)
        target = self._core.key(path)
        prefix = self.parts_prefix(path, upload_id)
        with map_errors("complete_multipart", path):
            marker = await self._marker(path, upload_id, "complete_multipart", op.sse)
            sources: list[dict[str, Any]] = [_source(f"{prefix}{p.number:05d}", p.etag) for p in ordered]
            round_ = 0
            while len(sources) > MAX_COMPOSE_SOURCES:
                round_ += 1
                sources = await self._compose_round(prefix, round_, sources, op.sse)
            params = await write_preconditions(self._core, target, op, path=path)
            params["destinationPredefinedAcl"] = self._core.config.predefined_acl
            destination = _remembered(marker)
            destination.update({k: v for k, v in self._resource(target, op).items() if k in _RESOURCE_FIELDS})
            destination["name"] = target
            resource = await self._core.objects_compose(
                target, sources, destination=destination, params=params, sse=op.sse
            )
        await self._cleanup(path, upload_id, marker)
        return metadata_from_resource(resource)

    async def _compose_round(
        self, prefix: str, round_: int, sources: list[dict[str, Any]], sse: SseSpec | None
    ) -> list[dict[str, Any]]:
        groups = [sources[i : i + MAX_COMPOSE_SOURCES] for i in range(0, len(sources), MAX_COMPOSE_SOURCES)]

        def composer(index: int, group: list[dict[str, Any]]) -> Callable[[], Awaitable[dict[str, Any]]]:
            async def compose() -> dict[str, Any]:
                if len(group) == 1:
                    return group[0]
                key = f"{prefix}c{round_}-{index:05d}"
                answer = await self._core.objects_compose(
                    key, group, destination={"name": key}, params={}, sse=sse
                )
                return _source(key, str(answer.get("generation", "")))

            return compose

        return await run_concurrently(
            [composer(i, group) for i, group in enumerate(groups)], CLEANUP_CONCURRENCY
        )

    async def _cleanup(self, path: str, upload_id: str, marker: Mapping[str, Any]) -> None:
        """Delete an upload's temporaries, then its marker (best effort after a
        successful compose: a failure is logged and the marker kept, so
        ``abort_multipart_uploads`` finds the upload later)."""
        try:
            with map_errors("complete_multipart", path):
                await self._delete_parts(path, upload_id)
                await self._delete(str(marker["name"]), str(marker.get("generation") or "") or None)
        except Exception:
            logger.warning(
                "could not delete the temporaries of upload %r of %r", upload_id, path, exc_info=True
            )

    async def _delete(self, key: str, generation: str | None) -> None:
        try:
            await self._core.objects_delete(key, generation=generation)
        except GcsHttpError as exc:
            if exc.status != 404:
                raise

    async def _delete_parts(self, path: str, upload_id: str) -> None:
        items = [item async for item in self._items(self.parts_prefix(path, upload_id))]

        def deleter(item: Mapping[str, Any]) -> Callable[[], Awaitable[None]]:
            async def delete() -> None:
                await self._delete(str(item["name"]), str(item.get("generation") or "") or None)

            return delete

        if items:
            await run_concurrently([deleter(item) for item in items], CLEANUP_CONCURRENCY)

    async def abort(self, path: str, upload_id: str) -> None:
        """Delete an upload's parts, intermediates and marker (or an append's
        temporary object); an unknown upload succeeds."""
        if not _UPLOAD_ID.fullmatch(upload_id):
            return
        with map_errors("abort_multipart", path):
            await self._delete_parts(path, upload_id)
            key = self.marker_key(path, upload_id)
            try:
                generation = str((await self._core.objects_get(key)).get("generation") or "") or None
            except GcsHttpError as exc:
                if exc.status != 404:
                    raise
                return
            await self._delete(key, generation)

    async def list_parts(self, path: str, upload_id: str) -> AsyncIterator[Part]:
        """The part objects of an upload, by number.

        Raises:
            NotFound: no such upload.
        """
        with map_errors("list_parts", path):
            await self._marker(path, upload_id, "list_parts")
        prefix = self.parts_prefix(path, upload_id)
        async for item in self._items(prefix, operation="list_parts", path=path):
            name = str(item["name"])[len(prefix) :]
            if _PART.fullmatch(name):
                yield Part(int(name), str(item.get("generation", "")), int(item.get("size") or 0))

    async def list_uploads(self, prefix: str) -> AsyncIterator[UploadInfo]:
        """Uploads (and unfinished appends) whose path starts with ``prefix``."""
        base = f"{self.hidden()}uploads/"
        quoted_prefix = urllib.parse.quote(prefix, safe="")
        for hashed in (False, True):
            # long paths have hashed segments: list those too and match their stored path
            start = base + (HASHED if hashed else quoted_prefix)
            async for item in self._items(start, operation="list_multipart_uploads", path=prefix):
                segment, _, upload_id = str(item["name"])[len(base) :].partition("/")
                if not _UPLOAD_ID.fullmatch(upload_id) or segment.startswith(HASHED) != hashed:
                    continue
                path = urllib.parse.unquote(segment)
                if hashed:
                    meta = item.get("metadata")
                    path = str(meta.get(META_PATH, "")) if isinstance(meta, Mapping) else ""
                    if not path.startswith(prefix):
                        continue
                initiated = parse_rfc3339(item.get("timeCreated"))
                yield UploadInfo(path, upload_id, _utc(initiated))

    async def _items(
        self, prefix: str, *, operation: str = "", path: str = ""
    ) -> AsyncIterator[dict[str, Any]]:
        async def fetch(token: str | None) -> tuple[dict[str, Any], str | None]:
            with map_errors(operation, path):
                page = await self._core.objects_list(prefix, page_token=token)
            return page, page.get("nextPageToken") or None

        async for page in paginate(fetch):
            for item in page.get("items") or ():
                if str(item.get("name", "")).startswith(prefix):
                    yield item


def _source(name: str, generation: str | None) -> dict[str, Any]:
    source: dict[str, Any] = {"name": name}
    if generation:
        source["generation"] = generation
    return source


def _remembered(marker: Mapping[str, Any]) -> dict[str, Any]:
    """The write options stored in a marker at ``initiate``."""
    meta = marker.get("metadata")
    if not isinstance(meta, Mapping):
        return {}
    try:
        written = json.loads(str(meta.get(META_WRITE) or "{}"))
    except ValueError:
        return {}
    return {k: v for k, v in written.items() if k in _RESOURCE_FIELDS} if isinstance(written, dict) else {}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.timezone.utc) if value is not None else None
