"""The gcs writer's memory bound: a 100 MiB upload streamed from an async generator keeps
peak RSS growth under 100 MiB, and the bytes read back (streamed) hash the same.

Runs in a child process so the measurement (``ru_maxrss``, the peak) is not
polluted by the rest of the suite; the child talks to the session's
fake-gcs-server directly.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.fixtures.gcs import FakeGcsServer

CHILD = textwrap.dedent(
    """
    import asyncio
    import hashlib
    import resource
    import sys

    from pystorage import Operator

    MiB = 1024 * 1024
    COUNT = 100
    BASE = bytes(range(256)) * (MiB // 256)


    def block(i):
        return i.to_bytes(8, "big") * 16 + BASE[128:]


    async def source(digest, count=COUNT):
        for i in range(count):
            piece = block(i)
            digest.update(piece)
            yield piece


    async def main(endpoint, bucket, root):
        op = Operator("gcs", bucket=bucket, root=root, endpoint=endpoint, disable_config_load=True)
        # warm up imports, the session and the code paths with a small streamed write and read
        await op.write("warmup", source(hashlib.sha256(), 2), chunk=256 * 1024)
        await op.read("warmup", size=10)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sent = hashlib.sha256()
        meta = await op.write("big", source(sent), chunk=8 * MiB)
        got = hashlib.sha256()
        async with op.open("big", "rb") as reader:
            async for piece in reader:
                got.update(piece)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        await op.delete("big")
        await op.delete("warmup")
        await op.close()
        print(before, after, meta.content_length, sent.hexdigest(), got.hexdigest())


    asyncio.run(main(*sys.argv[1:4]))
    """
)


@pytest.mark.slow
def test_streamed_100mib_upload_memory_bound(gcs_server: FakeGcsServer) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, gcs_server.url, gcs_server.bucket, "gcs-memory-bound/"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    before_kib, after_kib, length, sent, got = result.stdout.split()
    assert int(length) == 100 * 1024 * 1024
    assert sent == got, "the bytes read back differ from the bytes written"
    growth_mib = (int(after_kib) - int(before_kib)) / 1024
    assert growth_mib < 100, f"peak RSS grew by {growth_mib:.1f} MiB while streaming 100 MiB"
