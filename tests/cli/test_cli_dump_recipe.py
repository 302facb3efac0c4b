"""The dump recipe of ``docs/guide/moving-data.md``, end to end: a generated
SQLite database dumped as SQL text through ``pystorage cp - PROFILE:KEY`` to
moto's S3 with SSE-C from the profile (the SSE-C headers proven on the wire
by the recording proxy), restored with ``pystorage cp PROFILE:KEY -``, and the
restored database equal to the original.

The database is at least 50 MiB (its dump about 90 MiB: eighteen 5 MiB
parts): a multipart upload with SSE-C on every part, still run in seconds
against moto. The dump and the restore use the standard library's
``sqlite3`` (``iterdump`` / ``executescript``), as ``sqlite3 db .dump`` and
``sqlite3 restored.db`` would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.fixtures.s3 import S3Server
from tests.fixtures.s3_proxy import S3Proxy

from .conftest import RunCli

pytestmark = pytest.mark.skipif(
    "s3" not in __import__("pystorage.services", fromlist=["SERVICES"]).SERVICES,
    reason="the s3 service is not registered",
)

KEY = bytes(range(32))
KEY_B64 = base64.b64encode(KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(KEY, usedforsecurity=False).digest()).decode()

DUMP = "import sqlite3, sys\nfor line in sqlite3.connect(sys.argv[1]).iterdump():\n    print(line)\n"
RESTORE = "import sqlite3, sys\nsqlite3.connect(sys.argv[1]).executescript(sys.stdin.read())\n"


#: rows of the generated table: a database of at least 50 MiB (about 124 bytes a row)
ROWS = 440_000


def make_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, kind TEXT, body TEXT, blob BLOB)")
        db.execute("CREATE INDEX events_kind ON events (kind)")
        db.execute("CREATE TABLE 'naïve ☃' (k TEXT PRIMARY KEY, v REAL)")
        rows = (
            (i, f"2026-01-{1 + i % 28:02d}T00:00:{i % 60:02d}Z", f"kind-{i % 17}",
             os.urandom(48).hex() + " it's \"quoted\"\n", os.urandom(16))
            for i in range(ROWS)
        )
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO 'naïve ☃' VALUES (?, ?)", [(f"ключ-{i}", i / 7) for i in range(1000)])


def dump_lines(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def write_profile(path: Path, server: S3Server, root: str) -> None:
    path.write_text(
        "[profiles.backup]\n"
        'service = "s3"\n'
        f'bucket = "{server.bucket}"\n'
        f'root = "{root}"\n'
        f'endpoint = "{server.url}"\n'
        f'region = "{server.region}"\n'
        f'access_key_id = "{server.access_key_id}"\n'
        f'secret_access_key = "{server.secret_access_key}"\n'
        "disable_config_load = true\n"
        'server_side_encryption_customer_algorithm = "AES256"\n'
        'server_side_encryption_customer_key = "${DUMP_KEY}"\n',
        encoding="utf-8",
    )


def header(record_headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in record_headers.items() if k.lower() == name.lower()), None)


def test_sqlite_dump_to_s3_with_sse_c_and_back(cli: RunCli, s3_proxy: tuple[S3Proxy, S3Server]) -> None:
    proxy, server = s3_proxy
    original = cli.cwd / "app.db"
    make_database(original)
    assert original.stat().st_size >= 50 * 1024 * 1024
    config = cli.cwd.parent / "config.toml"
    write_profile(config, server, f"/dumps-{uuid.uuid4().hex}/")
    env = {**cli.env, "PYSTORAGE_CONFIG": str(config), "DUMP_KEY": KEY_B64}
    pystorage = f"{sys.executable} -m pystorage"

    up = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f'{sys.executable} -c "$DUMP" app.db | {pystorage} cp --chunk 5MiB - backup:db/app.sql'],
        cwd=cli.cwd, env={**env, "DUMP": DUMP}, capture_output=True, timeout=180, check=False,
    )
    assert up.returncode == 0, up.stderr.decode()
    assert KEY_B64 not in up.stderr.decode()

    # every write request carried the SSE-C headers: the initiate and each part
    writes = [r for r in proxy.recorded() if r.key.endswith("db/app.sql") and r.method in ("PUT", "POST")]
    parts = [r for r in writes if "partNumber" in r.query]
    assert len(parts) >= 5, [(r.method, r.query) for r in writes]
    for record in writes:
        if "uploadId" in record.query and "partNumber" not in record.query:
            continue  # CompleteMultipartUpload takes no SSE-C headers
        assert header(record.headers, "x-amz-server-side-encryption-customer-algorithm") == "AES256"
        assert header(record.headers, "x-amz-server-side-encryption-customer-key-MD5") == KEY_MD5
    proxy.clear()

    restored = cli.cwd / "restored.db"
    down = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f'{pystorage} cp backup:db/app.sql - | {sys.executable} -c "$RESTORE" restored.db'],
        cwd=cli.cwd, env={**env, "RESTORE": RESTORE}, capture_output=True, timeout=180, check=False,
    )
    assert down.returncode == 0, down.stderr.decode()
    reads = [r for r in proxy.recorded() if r.key.endswith("db/app.sql") and r.method in ("GET", "HEAD")]
    assert reads
    for record in reads:
        assert header(record.headers, "x-amz-server-side-encryption-customer-key-MD5") == KEY_MD5

    assert dump_lines(restored) == dump_lines(original)
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM events").fetchone() == (ROWS,)
