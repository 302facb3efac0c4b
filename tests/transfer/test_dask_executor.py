"""``sync(executor=client)`` on a dask ``LocalCluster`` of two worker
processes: 2,000 objects fs → s3 (moto) and fs → fs, one worker killed with
SIGKILL mid-run (once the destination holds 300 objects); dask re-runs its
tasks, and the result is complete, each object counted once, and ``check``
is clean. The operators reach the workers pickled (DESIGN.md §2, "Portable
operators"), the s3 one after the client has used it for listing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pystorage import Operator, errors
from pystorage.transfer import check, sync

from ..fixtures.s3 import S3Server
from .conftest import MakeOperator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
    # distributed's own shutdown noise (closed comms of the killed worker) is not ours to fail on
    pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::DeprecationWarning"),
]

OBJECTS = 2000


def _cluster(**kwargs: Any) -> Iterator[Any]:
    """A dask client on a LocalCluster of ``kwargs``, closed after the test."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(dashboard_address=None, silence_logs=40, **kwargs)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def dask_client() -> Iterator[Any]:
    """Two worker processes (one can be killed)."""
    yield from _cluster(n_workers=2, threads_per_worker=1, processes=True)


def files_below(root: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(root))


def arrived(dst: Operator, server: S3Server | None, root: Path) -> tuple[Callable[[], int], Any]:
    """``(count, client)``: how many objects the destination holds (a blocking count for the
    killer thread), and the boto client to close (or ``None``)."""
    if server is None:
        return (lambda: files_below(root) if root.exists() else 0), None
    client = server.boto_client()
    prefix = dst.info.root.lstrip("/")

    def count() -> int:
        answer = client.list_objects_v2(Bucket=server.bucket, Prefix=prefix, MaxKeys=1000)
        return int(answer.get("KeyCount", 0))

    return count, client


@pytest.mark.parametrize("dst_kind", ["s3-moto", "fs"])
async def test_sync_on_dask_survives_a_killed_worker(
    tmp_path: Path, dask_client: object, make_operator: MakeOperator, request: pytest.FixtureRequest,
    dst_kind: str,
) -> None:
    client = dask_client
    (tmp_path / "src").mkdir()
    for i in range(OBJECTS):
        sub = tmp_path / "src" / f"d{i % 20:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:05d}.bin").write_bytes(os.urandom(512 + i % 4096))
    src = Operator("fs", root=str(tmp_path / "src"))
    server: S3Server | None = request.getfixturevalue("moto_s3") if dst_kind == "s3-moto" else None
    dst = make_operator(dst_kind)
    count, boto = arrived(dst, server, Path(dst.info.root))
    pids: dict[str, int] = client.run(os.getpid)  # type: ignore[attr-defined]
    victim = next(iter(pids.values()))
    killed = threading.Event()

    def killer() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if count() >= 300:
                os.kill(victim, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    async with dst:
        report = await sync(src, "", dst, "", executor=client, jobs=4)
        found = await check(src, "", dst, "", compare="checksum")
        assert victim not in client.run(os.getpid).values()  # type: ignore[attr-defined]
        again = await sync(src, "", dst, "", executor=client)
        with pytest.raises(errors.ConfigInvalid, match="journal"):
            await sync(src, "", dst, "", executor=client, journal=tmp_path / "unused.journal")
    thread.join(5)
    if boto is not None:
        boto.close()
    assert killed.is_set(), "the worker was not killed during the run"
    assert report.ok, report.errors
    assert (report.copied, report.skipped, report.failed) == (OBJECTS, 0, 0)
    assert found.ok and found.matched == OBJECTS
    assert (again.copied, again.skipped) == (0, OBJECTS)


@pytest.fixture
def threaded_dask_client() -> Iterator[Any]:
    """A cheap in-process cluster (threads, no worker processes)."""
    yield from _cluster(n_workers=1, threads_per_worker=2, processes=False)


async def test_dry_run_on_dask_decides_checksums_as_a_local_run(
    tmp_path: Path, threaded_dask_client: Any
) -> None:
    """``compare="checksum"``: a dry run counts equal-checksum objects as skipped and
    a same-size differing one as a copy, on dask exactly as locally; nothing changes."""
    files = {f"d/f{i}.bin": os.urandom(2048) for i in range(5)}
    files["odd.bin"] = os.urandom(4096)
    src, dst = Operator("fs", root=str(tmp_path / "src")), Operator("fs", root=str(tmp_path / "dst"))
    for path, data in files.items():
        await src.write(path, data)
        await dst.write(path, data if path != "odd.bin" else os.urandom(4096))
    before = {path: await dst.read(path) for path in files}
    local = await sync(src, "", dst, "", compare="checksum", dry_run=True, jobs=2)
    events: list[tuple[str, str]] = []
    on_dask = await sync(
        src, "", dst, "", compare="checksum", dry_run=True, jobs=2, executor=threaded_dask_client,
        on_event=lambda e: events.append((e.action, e.path)),
    )
    assert (local.copied, local.skipped, local.failed) == (1, 5, 0)
    assert (on_dask.copied, on_dask.skipped, on_dask.failed) == (local.copied, local.skipped, local.failed)
    assert sorted(events) == [("copy", "odd.bin")] + [("skip", f"d/f{i}.bin") for i in range(5)]
    assert {path: await dst.read(path) for path in files} == before


async def test_bwlimit_with_an_executor_is_refused(tmp_path: Path, threaded_dask_client: Any) -> None:
    src, dst = Operator("fs", root=str(tmp_path / "src")), Operator("fs", root=str(tmp_path / "dst"))
    await src.write("a.bin", b"x" * 100)
    with pytest.raises(errors.ConfigInvalid, match="bwlimit"):
        await sync(src, "", dst, "", executor=threaded_dask_client, bwlimit=1_000_000)
    assert not (tmp_path / "dst" / "a.bin").exists()
