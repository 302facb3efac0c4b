"""The transfer's memory bound: ``jobs × chunk × (concurrent + 2)``.

A child process syncs 3 files of 40 MiB from fs to moto's S3 with ``jobs=3,
chunk=5 MiB, concurrent=2`` (bound: 60 MiB) and reports how much its peak
RSS grew; the child alone is measured (``ru_maxrss``), moto runs in the test
process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from ..fixtures.s3 import S3Server

MiB = 1024 * 1024
JOBS, CHUNK, CONCURRENT = 3, 5 * MiB, 2
BOUND = JOBS * CHUNK * (CONCURRENT + 2)

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys

    import anyio

    from pystorage import Operator
    from pystorage.transfer import sync

    MiB = 1024 * 1024

    async def main(root, config, jobs, chunk, concurrent):
        src = Operator("fs", root=root)
        block = os.urandom(MiB)
        for name in ("a", "b", "c"):
            with open(os.path.join(root, "big", name), "wb") as f:
                for _ in range(40):
                    f.write(block)
        with open(os.path.join(root, "warm", "w"), "wb") as f:
            f.write(block * 11)
        dst = Operator("s3", **config)
        async with dst:
            # warm up imports, clients and worker threads on a small multipart copy
            await sync(src, "warm/", dst, "warm/", jobs=jobs, chunk=chunk, concurrent=concurrent)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            report = await sync(src, "big/", dst, "big/", jobs=jobs, chunk=chunk, concurrent=concurrent)
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"before_kib": before, "after_kib": after, "copied": report.copied,
                          "bytes": report.bytes, "errors": [str(e) for e in report.errors]}))

    anyio.run(main, sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:6]))
    """
)


@pytest.mark.slow
def test_sync_peak_rss_growth_is_within_the_bound(tmp_path: Path, moto_s3: S3Server) -> None:
    (tmp_path / "big").mkdir()
    (tmp_path / "warm").mkdir()
    config = moto_s3.config(f"bound-{uuid.uuid4().hex}/")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), json.dumps(config),
         *map(str, (JOBS, CHUNK, CONCURRENT))],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["copied"], out["bytes"], out["errors"]) == (3, 120 * MiB, [])
    growth = (out["after_kib"] - out["before_kib"]) * 1024
    print(f"peak RSS growth {growth / MiB:.1f} MiB for 120 MiB moved; bound {BOUND / MiB:.0f} MiB")
    assert growth < BOUND, f"peak RSS grew by {growth / MiB:.1f} MiB, above the bound ({BOUND / MiB:.0f} MiB)"
