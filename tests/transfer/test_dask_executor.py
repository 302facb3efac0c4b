"""``sync(executor=client)`` on a dask ``LocalCluster`` of two worker
processes: 2,000 objects, one worker killed with SIGKILL mid-run (when the
destination holds 300 objects); dask re-runs its tasks, and the result is
complete, counted once, and ``check`` is clean.

fs → fs: fs operators pickle as they are. Operators of network services
pickle once they have been used only with the portable-operator work of the
fsspec branch (DESIGN.md §2 "Portable operators"); until it is merged the
s3 destination of the issue is not exercised here.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pystorage import Operator
from pystorage.transfer import check, sync

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
    # distributed's own shutdown noise (closed comms of the killed worker) is not ours to fail on
    pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::DeprecationWarning"),
]

OBJECTS = 2000


@pytest.fixture
def dask_client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def files_below(root: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(root))


async def test_sync_on_dask_survives_a_killed_worker(tmp_path: Path, dask_client: object) -> None:
    client = dask_client
    (tmp_path / "src").mkdir()
    for i in range(OBJECTS):
        sub = tmp_path / "src" / f"d{i % 20:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:05d}.bin").write_bytes(os.urandom(512 + i % 4096))
    src = Operator("fs", root=str(tmp_path / "src"))
    dst = Operator("fs", root=str(tmp_path / "dst"))
    pids: dict[str, int] = client.run(os.getpid)  # type: ignore[attr-defined]
    victim = next(iter(pids.values()))
    killed = threading.Event()

    def killer() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (tmp_path / "dst").exists() and files_below(tmp_path / "dst") >= 300:
                os.kill(victim, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.005)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    report = await sync(src, "", dst, "", executor=client, jobs=4)
    thread.join(5)
    assert killed.is_set(), "the worker was not killed during the run"
    assert report.ok, report.errors
    assert (report.copied, report.skipped, report.failed) == (OBJECTS, 0, 0)
    found = await check(src, "", dst, "", compare="checksum")
    assert found.ok and found.matched == OBJECTS
    assert victim not in client.run(os.getpid).values()  # type: ignore[attr-defined]
    again = await sync(src, "", dst, "", executor=client)
    assert (again.copied, again.skipped) == (0, OBJECTS)
