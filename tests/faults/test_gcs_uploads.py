"""GCS uploads: checksummed, and resumable uploads resume instead of restarting.

Through the fault proxy in front of fake-gcs-server: a resumable chunk whose
answer is lost (the session did persist it) or whose request fails with a
503 (it did not) is resent from the offset the session reports, so the
object is exact and no chunk is uploaded from zero; the last chunk carries
``X-Goog-Hash`` with the whole object's CRC32C.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from pystorage import Operator, errors
from pystorage.raw.checksum import crc32c_b64
from tests.conftest import make_random_root
from tests.fixtures.fault_proxy import Answer, DropAnswer, FaultTarget, Request, When

MiB = 1024 * 1024
DATA = os.urandom(3 * MiB + 12345)  # four 1 MiB resumable chunks


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp (gcs) is asyncio-only."""
    return "asyncio"


@pytest.fixture
async def op(faulty_gcs: FaultTarget) -> AsyncIterator[Operator]:
    """An operator reaching fake-gcs-server through the fault proxy."""
    operator = Operator("gcs", **faulty_gcs.config(make_random_root("gcs-up")))
    yield operator
    await operator.close()


def _is_status_query(r: Request) -> bool:
    return r.headers.get("Content-Range", "").startswith("bytes */")


#: the data PUTs of a resumable session (not its status queries)
CHUNK_PUT = When(method="PUT", query={"upload_id": None}, predicate=lambda r: not _is_status_query(r))


def _session_puts(target: FaultTarget) -> list[Request]:
    return [
        rec.request
        for rec in target.proxy.requests
        if rec.request.method == "PUT" and "upload_id" in rec.request.query
    ]


async def _write(op: Operator) -> None:
    async with op.open("big", "wb", chunk=MiB) as writer:
        for start in range(0, len(DATA), 256 * 1024):
            await writer.write(DATA[start : start + 256 * 1024])


@pytest.mark.anyio
@pytest.mark.parametrize("action", [DropAnswer(), Answer(status=503)], ids=["lost-answer", "503"])
async def test_a_failed_chunk_is_resent_from_the_persisted_offset(
    faulty_gcs: FaultTarget, op: Operator, action: object
) -> None:
    fault = faulty_gcs.proxy.inject(action, CHUNK_PUT, nth=2)  # type: ignore[arg-type]
    await _write(op)
    assert fault.hits == 1
    assert await op.read("big") == DATA
    puts = _session_puts(faulty_gcs)
    assert len([r for r in puts if _is_status_query(r)]) == 1  # asked once where the session stood
    # no chunk was sent from zero again: every data PUT starts at or after the previous one
    data_puts = [r for r in puts if not _is_status_query(r)]
    starts = [int(r.headers["Content-Range"].split()[1].split("-")[0]) for r in data_puts]
    assert starts == sorted(starts) and starts[0] == 0


@pytest.mark.anyio
async def test_last_chunk_carries_the_objects_crc32c(faulty_gcs: FaultTarget, op: Operator) -> None:
    await _write(op)
    puts = _session_puts(faulty_gcs)
    assert puts[-1].headers["X-Goog-Hash"] == f"crc32c={crc32c_b64(DATA)}"
    assert all("X-Goog-Hash" not in r.headers for r in puts[:-1])
    assert (await op.stat("big")).content_length == len(DATA)


@pytest.mark.anyio
async def test_fake_gcs_server_finalises_on_a_status_query(faulty_gcs: FaultTarget) -> None:
    """Why ``GcsFaultProxy`` answers status queries itself (see tests/fixtures/gcs_sessions.py)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        start = await session.post(
            f"{faulty_gcs.direct['endpoint']}/upload/storage/v1/b/{faulty_gcs.bucket}/o",
            params={"uploadType": "resumable", "name": make_random_root("quirk") + "obj"},
            json={},
        )
        uri = start.headers["Location"]
        first = await session.put(uri, data=b"x" * 262144, headers={"Content-Range": "bytes 0-262143/*"})
        assert first.status == 308
        status = await session.put(uri, headers={"Content-Range": "bytes */*"})
        assert status.status == 200  # GCS answers 308 here: the session is still open


#: the compose that lands an append on its object
COMPOSE = When(method="POST", path="/compose")


@pytest.mark.anyio
@pytest.mark.parametrize("exists", [True, False], ids=["onto-object", "new-object"])
async def test_an_append_whose_compose_answer_is_lost_is_reconciled(
    faulty_gcs: FaultTarget, op: Operator, exists: bool
) -> None:
    """The compose landed but its answer was lost: the append reports success once
    the object is proven to be the composition (size and CRC32C), appended once."""
    before = b"first part\n" if exists else b""
    if exists:
        await op.write("log", before)
    fault = faulty_gcs.proxy.inject(DropAnswer(), COMPOSE)
    meta = await op.write("log", b"appended bytes\n", append=True)
    assert fault.hits == 1
    assert await op.read("log") == before + b"appended bytes\n"
    assert meta.content_length == len(before) + 15
    assert [u async for u in op.list_multipart_uploads()] == []  # the temporary is gone


@pytest.mark.anyio
async def test_an_append_whose_compose_never_ran_fails_and_changes_nothing(
    faulty_gcs: FaultTarget, op: Operator
) -> None:
    """A compose answered 503 without reaching the server: the append fails (a
    temporary error) and the object is as before."""
    await op.write("log", b"first part\n")
    faulty_gcs.proxy.inject(
        Answer(status=503, body=b"{}", headers={"Content-Type": "application/json"}), COMPOSE
    )
    with pytest.raises(errors.Unexpected) as caught:
        await op.write("log", b"lost\n", append=True)
    assert caught.value.temporary
    assert await op.read("log") == b"first part\n"
