"""The resume journal: a local SQLite file (standard library ``sqlite3``).

Schema (version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)
        -- "schema" = "1"; "job" = JSON naming the source and destination
    done(path TEXT PRIMARY KEY, source TEXT, dst_size INTEGER, dst_etag TEXT)
        -- an object copied and verified: the source fingerprint it was copied
        -- from, and what the destination reported after the write
    uploads(path TEXT PRIMARY KEY, upload_id TEXT, part_size INTEGER, source TEXT)
        -- a multipart upload started and not yet completed
    parts(path TEXT, number INTEGER, etag TEXT, size INTEGER, PRIMARY KEY (path, number))
        -- the parts of those uploads written so far

``path`` is relative to the transfer's prefixes; a *source fingerprint* is
``"size|etag|mtime"`` of the source's listing entry, so an object changed
since it was journaled is never taken as done, nor resumed.

Writes that must survive a ``SIGKILL`` are committed at once: an upload is
committed *before* its first part is sent, and each part after it is
written. Only a kill in the one round trip between the service creating an
upload and that commit leaves an upload the journal never saw (no part of it
sent); ``Operator.abort_multipart_uploads(prefix, older_than=...)`` removes it. ``done``
rows are committed in batches (at most :data:`DONE_BATCH` rows or
:data:`DONE_SECONDS` seconds late): a row lost to a kill only means that
object is compared again, which finds it identical. The database runs in
WAL mode with ``synchronous=NORMAL``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Mapping

from .. import errors
from ..raw.closing import ClosesOnExit
from ..types import Metadata, Part
from .compare import effective_mtime, format_mtime

__all__ = ["DONE_BATCH", "DONE_SECONDS", "SCHEMA_VERSION", "Journal", "Upload", "fingerprint"]

SCHEMA_VERSION = "1"

#: ``done`` rows committed together at most
DONE_BATCH = 500
#: seconds a ``done`` row may wait for its commit
DONE_SECONDS = 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS done (
    path TEXT PRIMARY KEY, source TEXT NOT NULL, dst_size INTEGER, dst_etag TEXT);
CREATE TABLE IF NOT EXISTS uploads (
    path TEXT PRIMARY KEY, upload_id TEXT NOT NULL, part_size INTEGER NOT NULL, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts (
    path TEXT NOT NULL, number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (path, number));
"""


def fingerprint(meta: Metadata) -> str:
    """``"size|etag|mtime"`` of a source listing entry."""
    when = effective_mtime(meta)
    return f"{meta.content_length}|{meta.etag or ''}|{format_mtime(when) if when else ''}"


@dataclasses.dataclass(frozen=True, slots=True)
class Upload:
    """A multipart upload the journal knows: its id, part size and source fingerprint."""

    path: str
    upload_id: str
    part_size: int
    source: str


class Journal(ClosesOnExit):
    """A transfer's resume journal (see the module docs). A context manager.

    Args:
        path: the SQLite file (created when missing).
        job: what the transfer is (source and destination); a journal made
            for another job is refused.

    Raises:
        ConfigInvalid: the file is not a journal, is of another schema
            version, or belongs to another job.
    """

    def __init__(self, path: str | os.PathLike[str], job: Mapping[str, str]) -> None:
        self.path = os.fspath(path)
        self._job = json.dumps(dict(job), sort_keys=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            stored = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise errors.ConfigInvalid(f"journal {self.path!r} is not a pystorage journal: {exc}") from exc
        if not stored:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("schema", SCHEMA_VERSION), ("job", self._job)],
                )
        elif stored.get("schema") != SCHEMA_VERSION:
            self._db.close()
            raise errors.ConfigInvalid(
                f"journal {self.path!r} has schema {stored.get('schema')!r}, expected {SCHEMA_VERSION!r}"
            )
        elif stored.get("job") != self._job:
            self._db.close()
            raise errors.ConfigInvalid(
                f"journal {self.path!r} belongs to another transfer ({stored.get('job')}): "
                "use one journal per source and destination"
            )
        self._pending = 0
        self._since = time.monotonic()
        self._db.execute("BEGIN")

    # lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Commit what is pending and close the file. Idempotent."""
        if self._db is None:
            return
        try:
            self._db.execute("COMMIT")
        finally:
            self._db.close()
            self._db = None  # type: ignore[assignment]

    def _commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._pending = 0
        self._since = time.monotonic()

    def flush(self) -> None:
        """Commit pending ``done`` rows now."""
        self._commit()

    # done objects ----------------------------------------------------------------------
    def is_done(self, path: str, source: Metadata, dst: Metadata | None) -> bool:
        """Whether ``path`` was copied from this very source and the
        destination still is what the copy left (size, and etag when both known)."""
        row = self._db.execute(
            "SELECT source, dst_size, dst_etag FROM done WHERE path = ?", (path,)
        ).fetchone()
        if row is None or dst is None or row[0] != fingerprint(source):
            return False
        if row[1] is not None and row[1] != dst.content_length:
            return False
        return not (row[2] and dst.etag and row[2] != dst.etag)

    def record_done(self, path: str, source: Metadata, dst: Metadata | None) -> None:
        """Journal ``path`` as copied from ``source`` (committed in batches)."""
        self._db.execute(
            "INSERT OR REPLACE INTO done (path, source, dst_size, dst_etag) VALUES (?, ?, ?, ?)",
            (
                path,
                fingerprint(source),
                None if dst is None else dst.content_length,
                None if dst is None else dst.etag,
            ),
        )
        self._pending += 1
        if self._pending >= DONE_BATCH or time.monotonic() - self._since >= DONE_SECONDS:
            self._commit()

    def forget_done(self, path: str) -> None:
        """Drop ``path``'s ``done`` row (it was deleted at the destination)."""
        self._db.execute("DELETE FROM done WHERE path = ?", (path,))
        self._pending += 1

    # uploads ---------------------------------------------------------------------------
    def upload(self, path: str) -> Upload | None:
        """The upload journaled for ``path``, if any."""
        row = self._db.execute(
            "SELECT upload_id, part_size, source FROM uploads WHERE path = ?", (path,)
        ).fetchone()
        return None if row is None else Upload(path, row[0], int(row[1]), row[2])

    def uploads(self) -> list[Upload]:
        """Every journaled upload."""
        rows = self._db.execute("SELECT path, upload_id, part_size, source FROM uploads").fetchall()
        return [Upload(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def record_upload(self, path: str, upload_id: str, part_size: int, source: Metadata) -> None:
        """Journal a started upload (committed at once, before any part is sent)."""
        self._db.execute("DELETE FROM parts WHERE path = ?", (path,))
        self._db.execute(
            "INSERT OR REPLACE INTO uploads (path, upload_id, part_size, source) VALUES (?, ?, ?, ?)",
            (path, upload_id, part_size, fingerprint(source)),
        )
        self._commit()

    def record_part(self, path: str, part: Part) -> None:
        """Journal one uploaded part (committed at once)."""
        self._db.execute(
            "INSERT OR REPLACE INTO parts (path, number, etag, size) VALUES (?, ?, ?, ?)",
            (path, part.number, part.etag, part.size),
        )
        self._commit()

    def parts(self, path: str) -> list[Part]:
        """The parts journaled for ``path``'s upload, by number."""
        rows = self._db.execute(
            "SELECT number, etag, size FROM parts WHERE path = ? ORDER BY number", (path,)
        ).fetchall()
        return [Part(int(r[0]), r[1], int(r[2])) for r in rows]

    def forget_upload(self, path: str) -> None:
        """Drop ``path``'s upload and its parts (completed or aborted; committed at once)."""
        self._db.execute("DELETE FROM parts WHERE path = ?", (path,))
        self._db.execute("DELETE FROM uploads WHERE path = ?", (path,))
        self._commit()
