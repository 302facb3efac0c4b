"""Groups of capability flags that object-store drivers declare alike.

A driver's :class:`~pystorage.types.Capability` is spelled out in its
backend; the groups below name the flags that go together on the HTTP object
stores (the same conditional headers on ``stat`` and ``read``, the same
content headers and preconditions on writes), so that each driver lists only
where it differs::

    CAPABILITY = Capability(stat=True, read=True, write=True, **CONDITIONAL_READS, **CONTENT_HEADERS, ...)
"""

from __future__ import annotations

__all__ = [
    "BASICS",
    "CONDITIONAL_READS",
    "CONTENT_HEADERS",
    "LISTING",
    "OBJECT_STORE",
    "PRESIGN",
    "SERVER_SIDE_ENCRYPTION",
    "VERSIONS",
    "WRITE_PRECONDITIONS",
]

#: what every built-in service does: stat, read, write (empty objects too), create_dir, delete,
#: copy, rename, and the blocking API
BASICS: dict[str, bool] = {
    name: True
    for name in (
        "stat",
        "read",
        "write",
        "write_can_empty",
        "create_dir",
        "delete",
        "copy",
        "rename",
        "blocking",
    )
}

#: ``if_match`` / ``if_none_match`` / ``if_modified_since`` / ``if_unmodified_since`` on ``stat`` and ``read``
CONDITIONAL_READS: dict[str, bool] = {
    f"{op}_with_{cond}": True
    for op in ("stat", "read")
    for cond in ("if_match", "if_none_match", "if_modified_since", "if_unmodified_since")
}

#: writes set the content headers and the user metadata
CONTENT_HEADERS: dict[str, bool] = {
    "write_with_content_type": True,
    "write_with_cache_control": True,
    "write_with_content_disposition": True,
    "write_with_content_encoding": True,
    "write_with_user_metadata": True,
}

#: writes take ``if_not_exists``, ``if_match`` and ``if_none_match``
WRITE_PRECONDITIONS: dict[str, bool] = {
    "write_with_if_not_exists": True,
    "write_with_if_match": True,
    "write_with_if_none_match": True,
}

#: writes take every :mod:`pystorage.sse` spec (service-managed, KMS, customer key)
SERVER_SIDE_ENCRYPTION: dict[str, bool] = {
    "write_with_sse_s3": True,
    "write_with_sse_kms": True,
    "write_with_sse_c": True,
}

#: ``list`` with ``limit``, ``start_after`` and ``recursive``
LISTING: dict[str, bool] = {
    "list": True,
    "list_with_limit": True,
    "list_with_start_after": True,
    "list_with_recursive": True,
}

#: ``presign_read``, ``presign_stat`` and ``presign_write``
PRESIGN: dict[str, bool] = {
    "presign": True,
    "presign_read": True,
    "presign_stat": True,
    "presign_write": True,
}

#: ``version`` on ``stat``, ``read`` and ``delete``, and ``list`` with ``versions``
VERSIONS: dict[str, bool] = {f"{op}_with_version": True for op in ("stat", "read", "delete")} | {
    "list_with_versions": True
}

#: what the HTTP object stores (s3, gcs, azblob) share: the basics, conditional
#: reads, content headers, write preconditions, server-side encryption, listing,
#: and one store behind every operator
OBJECT_STORE: dict[str, bool] = {
    **BASICS,
    **CONDITIONAL_READS,
    **CONTENT_HEADERS,
    **WRITE_PRECONDITIONS,
    **SERVER_SIDE_ENCRYPTION,
    **LISTING,
    "shared": True,
}
