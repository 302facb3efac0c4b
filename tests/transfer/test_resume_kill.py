"""A ``pystorage sync`` subprocess killed with SIGKILL in the middle of a
multipart upload, then started again with the same journal: it resumes the
upload from the parts already sent, completes, leaves no upload behind, and
sends a small fraction of the bytes the second time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ..fixtures.s3 import S3Server
from .helpers import MiB

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

ROOT = Path(__file__).resolve().parents[2]

#: the big file's parts (5 MiB each) and how many must be journaled before the kill
PARTS, KILL_AT = 8, 7


def s3_uri(server: S3Server, prefix: str) -> str:
    query = (
        f"endpoint={server.url}&region={server.region}&access_key_id={server.access_key_id}"
        f"&secret_access_key={server.secret_access_key}&disable_config_load=true"
    )
    return f"s3://{server.bucket}/{prefix}?{query}"


def pystorage(*args: str) -> list[str]:
    return [sys.executable, "-m", "pystorage", *args]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYSTORAGE_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    return env


def journaled_parts(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM parts").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


def test_sigkill_mid_multipart_then_resume(tmp_path: Path, moto_s3: S3Server) -> None:
    src = tmp_path / "src"
    for i in range(40):
        path = src / "a" / f"d{i % 4}" / f"small-{i:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(64 * 1024))
    (src / "z").mkdir()
    (src / "z" / "big.bin").write_bytes(os.urandom(PARTS * 5 * MiB))
    whole = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    prefix = f"resume-{uuid.uuid4().hex}/"
    dst = s3_uri(moto_s3, prefix)
    journal = tmp_path / "sync.journal"
    env = environment(tmp_path)
    common = ["--journal", str(journal), "--chunk", "5MiB", "--concurrent", "1", "-j", "2"]

    # first run, slowed down so that the kill lands mid-upload; killed once KILL_AT parts are journaled
    first = subprocess.Popen(
        pystorage("--json", "sync", f"{src}/", dst, *common, "--bwlimit", "6MiB"),
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while journaled_parts(journal) < KILL_AT:
            assert first.poll() is None, f"the sync ended before the kill: {first.stderr.read()!r}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the journal never reached the kill point"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(30)
        assert first.stderr is not None
        first.stderr.close()
    assert first.returncode == -signal.SIGKILL

    # killed mid-upload: the upload is open at the service, and the journal knows its id
    client = moto_s3.boto_client()
    try:
        open_uploads = client.list_multipart_uploads(Bucket=moto_s3.bucket, Prefix=prefix).get("Uploads", [])
        with sqlite3.connect(journal) as db:
            journaled = db.execute("SELECT path, upload_id FROM uploads").fetchall()
        assert [(u["Key"], u["UploadId"]) for u in open_uploads] == [
            (prefix + path, upload_id) for path, upload_id in journaled
        ]
        assert [path for path, _ in journaled] == ["z/big.bin"]

        # second run: completes, resuming the upload
        second = subprocess.run(
            pystorage("--json", "sync", f"{src}/", dst, *common),
            env=env, cwd=tmp_path, capture_output=True, timeout=120, check=False,
        )
        assert second.returncode == 0, second.stderr.decode()
        summary = json.loads(second.stdout.decode().splitlines()[-1])
        print(f"second run: {summary['bytes']} bytes sent, {summary['bytes_resumed']} resumed, of {whole}")
        assert summary["op"] == "sync" and summary["ok"] and summary["failed"] == 0
        assert summary["bytes_resumed"] >= KILL_AT * 5 * MiB
        assert summary["bytes"] <= whole // 4, (summary["bytes"], whole)
        assert summary["bytes"] + summary["bytes_resumed"] <= whole

        # the trees are equal (MD5 of every object: multipart ETags are not MD5s, so hashed)
        checked = subprocess.run(
            pystorage("--json", "check", "--checksum", f"{src}/", dst),
            env=env, cwd=tmp_path, capture_output=True, timeout=120, check=False,
        )
        assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
        result = json.loads(checked.stdout)
        assert result["ok"] and result["matched"] == 41

        # and nothing is left open, at the service or in the journal
        assert client.list_multipart_uploads(Bucket=moto_s3.bucket, Prefix=prefix).get("Uploads", []) == []
        with sqlite3.connect(journal) as db:
            assert db.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM parts").fetchone()[0] == 0
    finally:
        client.close()
