"""The real ``pystorage`` command against moto's S3 server: trees round-trip
byte for byte between fs and s3, through URIs and through a profile."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.fixtures.s3 import S3Server

from .conftest import RunCli

pytestmark = pytest.mark.skipif(
    "s3" not in __import__("pystorage.services", fromlist=["SERVICES"]).SERVICES,
    reason="the s3 service is not registered",
)

#: files in the round-tripped tree
TREE_FILES = 200


def s3_uri(server: S3Server, key: str) -> str:
    """A URI reaching ``key`` in the test bucket, every config key in the query."""
    query = "&".join(
        f"{k}={v}"
        for k, v in {
            "endpoint": server.url,
            "region": server.region,
            "access_key_id": server.access_key_id,
            "secret_access_key": server.secret_access_key,
            "disable_config_load": "true",
        }.items()
    )
    return f"s3://{server.bucket}/{key}?{query}"


def write_profile(path: Path, server: S3Server, root: str) -> None:
    """A config file with profile ``moto``, its secret read from ``$CLI_TEST_SECRET``."""
    path.write_text(
        "[profiles.moto]\n"
        'service = "s3"\n'
        f'bucket = "{server.bucket}"\n'
        f'root = "{root}"\n'
        f'endpoint = "{server.url}"\n'
        f'region = "{server.region}"\n'
        f'access_key_id = "{server.access_key_id}"\n'
        'secret_access_key = "${CLI_TEST_SECRET}"\n'
        "disable_config_load = true\n",
        encoding="utf-8",
    )


def make_tree(root: Path, count: int) -> dict[str, bytes]:
    """``count`` files: one of 11 MiB (multipart with ``--chunk 5MiB``), the
    others from 0 B to ~40 KiB, in nested directories."""
    files: dict[str, bytes] = {}
    for i in range(count):
        rel = f"d{i % 7}/sub{i % 3}/file-{i:03d}.bin" if i % 5 else f"top-{i:03d}.bin"
        size = 11 * 1024 * 1024 + 5 if i == 1 else (i * 211) % 40_000
        data = os.urandom(size)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[rel] = data
    return files


def digest_tree(root: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file below ``root``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_tree_of_200_files_round_trips_fs_to_s3_and_back(cli: RunCli, moto_s3: S3Server) -> None:
    prefix = f"cli-{uuid.uuid4().hex}"
    files = make_tree(cli.cwd / "src", TREE_FILES)
    # up through a URI: multipart parts of 5 MiB for the large file
    up = cli("--json", "cp", "-r", "-j", "16", "--chunk", "5MiB", "src", s3_uri(moto_s3, f"{prefix}/tree/"),
             timeout=120)
    assert up.returncode == 0, up.stderr
    reports = [json.loads(line) for line in up.out.splitlines()]
    base = f"s3://{moto_s3.bucket}/{prefix}/tree/"
    assert sorted(r["dst"] for r in reports) == sorted(base + rel for rel in files)

    listing = cli("ls", "-r", "--json", s3_uri(moto_s3, f"{prefix}/tree/"), check=True)
    entries = [json.loads(line) for line in listing.out.splitlines()]
    sizes = {e["path"]: e["size"] for e in entries if e["type"] == "file"}
    assert sizes == {rel: len(data) for rel, data in files.items()}

    # back down through a profile whose secret comes from the environment; ranged reads of 2 MiB
    config = cli.cwd.parent / "config.toml"
    write_profile(config, moto_s3, f"/{prefix}/")
    env = {"PYSTORAGE_CONFIG": str(config), "CLI_TEST_SECRET": moto_s3.secret_access_key}
    down = cli("cp", "-r", "--chunk", "2MiB", "moto:tree", "back", env=env, timeout=120)
    assert down.returncode == 0, down.stderr
    assert digest_tree(cli.cwd / "back") == digest_tree(cli.cwd / "src")
    assert len(digest_tree(cli.cwd / "back")) == TREE_FILES

    # a presigned GET of one of them works without credentials
    signed = cli("presign", "--json", "--expire", "5m", "moto:tree/top-000.bin", env=env, check=True)
    request_info = json.loads(signed.out)
    assert request_info["method"] == "GET" and request_info["expires_in"] == 300
    assert "X-Amz-Signature" in request_info["url"]
    request = urllib.request.Request(request_info["url"], headers=request_info["headers"], method="GET")
    with urllib.request.urlopen(request, timeout=10) as response:  # moto on 127.0.0.1
        assert response.read() == files["top-000.bin"]


def test_s3_errors_are_one_line_and_never_show_the_secret(cli: RunCli, moto_s3: S3Server) -> None:
    config = cli.cwd.parent / "config.toml"
    write_profile(config, moto_s3, "/")
    missing, unset = cli.many(
        ["cat", s3_uri(moto_s3, f"cli-{uuid.uuid4().hex}/missing.bin")],
        ["--config", str(config), "ls", "moto:"],
    )
    assert missing.returncode == 3
    assert "NotFound" in missing.one_error_line()
    assert moto_s3.secret_access_key not in missing.stderr
    assert unset.returncode == 2
    assert "CLI_TEST_SECRET is not set" in unset.one_error_line()
