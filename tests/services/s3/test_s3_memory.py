"""Bounded memory: a 200 MiB streamed upload (chunk 8 MiB, 4 parts in flight)
from an async generator, measured in a subprocess that holds only the client
(the server is rclone, its own process). Peak RSS growth must stay under
100 MiB, and the bytes read back must hash to what was sent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import make_random_root
from tests.fixtures.s3 import S3Server

MiB = 1024 * 1024

SCRIPT = textwrap.dedent(
    r"""
    import asyncio, hashlib, json, os, re, sys

    from pystorage import Operator

    MiB = 1024 * 1024
    config = json.loads(sys.argv[1])
    total, piece, chunk, concurrent = (int(x) for x in sys.argv[2:6])


    def status(field):
        with open("/proc/self/status") as f:
            return int(re.search(field + r":\s+(\d+) kB", f.read()).group(1)) * 1024


    def reset_peak():
        # the peak RSS (VmHWM) is inherited from the forking parent and kept
        # across exec: reset it so it measures this process from here on
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")


    async def main():
        sent = hashlib.sha256()

        async def source():
            for _ in range(total // piece):
                data = os.urandom(piece)
                sent.update(data)
                yield data

        async with Operator("s3", **config) as op:
            await op.write("warm-up", b"x" * (6 * MiB), chunk=5 * MiB)  # load models, open the pool
            await op.delete("warm-up")
            before = status("VmRSS")
            reset_peak()
            meta = await op.write("big", source(), chunk=chunk, concurrent=concurrent)
            peak = status("VmHWM")
            got = hashlib.sha256()
            async with op.open("big", "rb") as reader:
                async for data in reader:
                    got.update(data)
            left = [u async for u in op.list_multipart_uploads()]
            await op.delete("big")
        print(json.dumps({
            "growth": peak - before,
            "length": meta.content_length,
            "sent": sent.hexdigest(),
            "got": got.hexdigest(),
            "uploads_left": len(left),
        }))


    asyncio.run(main())
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_streamed_upload_memory_is_bounded(rclone_s3: S3Server) -> None:
    config = rclone_s3.config(make_random_root("s3-rss"))
    total, piece, chunk, concurrent = 200 * MiB, MiB, 8 * MiB, 4
    answer = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(config), *map(str, (total, piece, chunk, concurrent))],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    assert result["length"] == total
    assert result["got"] == result["sent"]
    assert result["uploads_left"] == 0
    # the writer holds at most chunk × (concurrent + 2) = 48 MiB, plus the SDK's own copies
    assert result["growth"] < 100 * MiB, f"peak RSS grew by {result['growth'] / MiB:.1f} MiB"
