"""Plain value types of the public API: metadata, entries, capabilities."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

__all__ = [
    "Capability",
    "EncryptionInfo",
    "Entry",
    "EntryMode",
    "Metadata",
    "OperatorInfo",
    "Part",
    "PresignedRequest",
    "UploadInfo",
]


class EntryMode(enum.Enum):
    """Whether a path is a file, a directory, or unknown."""

    FILE = "file"
    DIR = "dir"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True)
class EncryptionInfo:
    """The server-side encryption a service reported for an object.

    ``str()`` starts with the algorithm: ``"AES256"``, ``"aws:kms"``,
    ``"SSE-C"``, ``"CSEK"`` or ``"CMEK"``.
    """

    algorithm: str
    kms_key_id: str | None = None
    customer_key_md5: str | None = None

    def __str__(self) -> str:
        extra = self.kms_key_id or self.customer_key_md5
        return f"{self.algorithm} ({extra})" if extra else self.algorithm


@dataclasses.dataclass(slots=True, kw_only=True)
class Metadata:
    """What is known about an object or directory.

    ``last_modified`` is timezone-aware UTC. Fields a service does not report
    are ``None``. ``user_metadata`` holds the caller's own key/value pairs.
    """

    mode: EntryMode = EntryMode.FILE
    content_length: int | None = None
    content_type: str | None = None
    content_md5: str | None = None
    etag: str | None = None
    last_modified: dt.datetime | None = None
    version: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    user_metadata: dict[str, str] | None = None
    encryption: EncryptionInfo | None = None

    @property
    def is_file(self) -> bool:
        """``True`` for files."""
        return self.mode is EntryMode.FILE

    @property
    def is_dir(self) -> bool:
        """``True`` for directories."""
        return self.mode is EntryMode.DIR


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One listing result: ``path`` is relative to the operator's root;
    directories end with ``/``."""

    path: str
    metadata: Metadata

    @property
    def name(self) -> str:
        """The last path segment (directories keep their trailing ``/``)."""
        stripped = self.path.rstrip("/")
        name = stripped.rsplit("/", 1)[-1]
        return name + "/" if self.path.endswith("/") else name


_new = object.__new__
_set_entry_path = Entry.__dict__["path"].__set__  # a frozen class's own slots, set once at creation
_set_entry_metadata = Entry.__dict__["metadata"].__set__


def new_metadata(
    mode: EntryMode,
    content_length: int | None = None,
    etag: str | None = None,
    last_modified: dt.datetime | None = None,
    content_type: str | None = None,
    content_md5: str | None = None,
    version: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    user_metadata: dict[str, str] | None = None,
    encryption: EncryptionInfo | None = None,
) -> Metadata:
    """``Metadata(mode=…, content_length=…, …)``: the same object, built at a
    quarter of the cost (0.13 µs instead of 0.54 for four fields, 0.4 instead
    of 1.6 for all: no keyword parsing when called positionally), for drivers
    that make one per listed entry or per answer. Every field of
    :class:`Metadata` must be set here (``tests/test_types_fast.py`` checks)."""
    meta: Metadata = _new(Metadata)
    meta.mode = mode
    meta.content_length = content_length
    meta.content_type = content_type
    meta.content_md5 = content_md5
    meta.etag = etag
    meta.last_modified = last_modified
    meta.version = version
    meta.cache_control = cache_control
    meta.content_disposition = content_disposition
    meta.content_encoding = content_encoding
    meta.user_metadata = user_metadata
    meta.encryption = encryption
    return meta


def new_entry(path: str, metadata: Metadata) -> Entry:
    """``Entry(path, metadata)`` without the frozen dataclass's
    ``object.__setattr__`` calls (0.4 µs instead of 0.65), for listings."""
    entry: Entry = _new(Entry)
    _set_entry_path(entry, path)
    _set_entry_metadata(entry, metadata)
    return entry


@dataclasses.dataclass(frozen=True, slots=True)
class PresignedRequest:
    """A request anyone holding it can send until it expires.

    Attributes:
        method: HTTP method (``"GET"``, ``"PUT"``, ``"HEAD"``).
        url: the signed URL.
        headers: headers the caller must send with it.
    """

    method: str
    url: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        """Shows the method, the URL without its signature, credential and token
        values, and the headers without secret values (an SSE-C key ...): a log
        line or traceback showing the request never grants access."""
        from .raw.redact import RedactedHeaders, redact_url

        headers = RedactedHeaders(self.headers)
        return f"PresignedRequest(method={self.method!r}, url={redact_url(self.url)!r}, headers={headers!r})"

    __str__ = __repr__


@dataclasses.dataclass(frozen=True, slots=True)
class OperatorInfo:
    """``scheme`` (``"s3"`` ...), ``root`` (absolute, ends with ``/``) and
    ``name`` (bucket, or the root directory for fs)."""

    scheme: str
    root: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Part:
    """One uploaded part of a multipart upload.

    ``checksum`` is the part's checksum as the service keeps it (S3:
    base64 CRC32C when the upload carries checksums), ``None`` otherwise;
    ``complete`` repeats it where the service requires that.
    """

    number: int
    etag: str
    size: int
    checksum: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UploadInfo:
    """A multipart upload in progress: ``initiated`` is aware UTC or ``None``."""

    path: str
    upload_id: str
    initiated: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Capability:
    """What a service (as configured) can do; field names follow OpenDAL.

    Every field defaults to "cannot". The :class:`~pystorage.Operator` checks
    these before sending a request and raises
    :class:`~pystorage.errors.Unsupported` when an option is not supported.
    """

    stat: bool = False
    stat_with_if_match: bool = False
    stat_with_if_none_match: bool = False
    stat_with_if_modified_since: bool = False
    stat_with_if_unmodified_since: bool = False
    stat_with_version: bool = False

    read: bool = False
    read_with_if_match: bool = False
    read_with_if_none_match: bool = False
    read_with_if_modified_since: bool = False
    read_with_if_unmodified_since: bool = False
    read_with_version: bool = False

    write: bool = False
    write_can_empty: bool = False
    #: automatic writes above one chunk go through the core multipart engine
    #: (``initiate / write_part / complete / abort``); services without it
    #: stream through their own writer (fs files, GCS resumable uploads)
    write_can_multi: bool = False
    write_can_append: bool = False
    write_with_content_type: bool = False
    write_with_cache_control: bool = False
    write_with_content_disposition: bool = False
    write_with_content_encoding: bool = False
    write_with_user_metadata: bool = False
    write_with_if_not_exists: bool = False
    write_with_if_match: bool = False
    write_with_if_none_match: bool = False
    write_with_sse_s3: bool = False
    write_with_sse_kms: bool = False
    write_with_sse_c: bool = False
    write_multi_min_size: int | None = None
    write_multi_max_size: int | None = None
    write_multi_max_parts: int | None = None
    write_total_max_size: int | None = None

    #: the explicit, resumable, listable multipart API (``create_multipart`` ...);
    #: separate from ``write_can_multi``, which only says that automatic writes
    #: (``write``, ``open("wb")``) are driven through the core multipart engine
    multipart: bool = False

    create_dir: bool = False

    delete: bool = False
    delete_with_version: bool = False
    delete_max_size: int | None = None

    copy: bool = False
    rename: bool = False

    list: bool = False
    list_with_limit: bool = False
    list_with_start_after: bool = False
    list_with_recursive: bool = False
    list_with_versions: bool = False

    presign: bool = False
    presign_read: bool = False
    presign_stat: bool = False
    presign_write: bool = False

    shared: bool = False
    blocking: bool = True

    def replace(self, **changes: Any) -> Capability:
        """A copy with ``changes`` applied (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
