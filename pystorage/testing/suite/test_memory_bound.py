"""The writer's memory bound: a 1 GiB streamed write into fs keeps peak RSS growth under 80 MiB.

Runs in a child process so the measurement (``ru_maxrss``, the peak) is not
polluted by the rest of the suite. The data is the same 1 MiB block repeated,
so the source itself holds nothing.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import resource
    import sys

    import anyio

    from pystorage import Operator

    MiB = 1024 * 1024
    BLOCK = bytes(range(256)) * (MiB // 256)
    COUNT = 1024


    async def source():
        for _ in range(COUNT):
            yield BLOCK


    async def main(root):
        op = Operator("fs", root=root)
        # warm up the code paths (imports, worker threads) with a small streamed write
        await op.write("warmup", source_small(), chunk=8 * MiB, concurrent=4)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        await op.write("big", source(), chunk=8 * MiB, concurrent=4)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        meta = await op.stat("big")
        await op.delete("big")
        await op.close()
        print(before, after, meta.content_length)


    async def source_small():
        for _ in range(3):
            yield BLOCK[:1000]


    anyio.run(main, sys.argv[1], backend=sys.argv[2])
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_streamed_1gib_write_memory_bound(tmp_path: pathlib.Path, backend: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), backend],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    before_kib, after_kib, length = (int(x) for x in result.stdout.split())
    assert length == 1024 * 1024 * 1024
    growth_mib = (after_kib - before_kib) / 1024
    assert growth_mib < 80, f"peak RSS grew by {growth_mib:.1f} MiB while streaming 1 GiB"
