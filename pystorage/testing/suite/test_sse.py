"""Server-side encryption through the public API, gated on the capability each service declares.

A declared spec round-trips (one-shot, streamed multi-part, ranged read,
stat, copy, rename) and ``Metadata.encryption``, when the service reports
one, names the mode asked for; an undeclared spec is refused with
``Unsupported`` by every call that would carry it, and nothing is written.
"""

from __future__ import annotations

import pytest

from pystorage import Operator, errors, sse
from pystorage.layers import ServerSideEncryptionLayer

from .helpers import MiB, lacking, need, payload

pytestmark = pytest.mark.anyio

#: a KMS key name valid in form on every service (GCS CMEK needs a key; S3 takes any key id)
KMS_KEY = "projects/pystorage/locations/global/keyRings/test/cryptoKeys/behaviour"

SPECS = [
    ("write_with_sse_s3", sse.S3Managed()),
    ("write_with_sse_kms", sse.Kms(key_id=KMS_KEY)),
    ("write_with_sse_c", sse.CustomerKey(bytes(range(32)))),
]
IDS = ["sse-s3", "sse-kms", "sse-c"]

#: the ``EncryptionInfo.algorithm`` values a service may report for each spec
REPORTED = {
    sse.S3Managed: {"AES256"},
    sse.Kms: {"aws:kms", "CMEK"},
    sse.CustomerKey: {"SSE-C", "CSEK"},
}


def _check_reported(spec: sse.SseSpec, encryption: object) -> None:
    if encryption is not None:
        assert getattr(encryption, "algorithm", None) in REPORTED[type(spec)], encryption


@pytest.mark.parametrize(("capability", "spec"), SPECS, ids=IDS)
async def test_declared_spec_round_trips(op: Operator, capability: str, spec: sse.SseSpec) -> None:
    need(op, capability)
    enc = op.layer(ServerSideEncryptionLayer(spec))
    meta = await enc.write("small", b"hello encrypted world")
    _check_reported(spec, meta.encryption)
    assert await enc.read("small") == b"hello encrypted world"
    assert await enc.read("small", offset=6, size=9) == b"encrypted"
    stat = await enc.stat("small")
    assert stat.content_length == 21
    _check_reported(spec, stat.encryption)
    await enc.copy("small", "copied")
    assert await enc.read("copied") == b"hello encrypted world"
    _check_reported(spec, (await enc.stat("copied")).encryption)
    await enc.rename("copied", "renamed")
    assert await enc.read("renamed") == b"hello encrypted world"
    assert not await enc.exists("copied")


@pytest.mark.parametrize(("capability", "spec"), SPECS, ids=IDS)
async def test_declared_spec_multipart_write(op: Operator, capability: str, spec: sse.SseSpec) -> None:
    need(op, capability)
    part = max(op.capability().write_multi_min_size or 0, 256 * 1024)
    data = payload(2 * part + 1000, seed=5)
    enc = op.layer(ServerSideEncryptionLayer(spec))
    async with enc.open("big", "wb", chunk=part) as writer:
        for start in range(0, len(data), MiB):
            await writer.write(data[start : start + MiB])
    assert await enc.read("big") == data
    _check_reported(spec, (await enc.stat("big")).encryption)


@pytest.mark.parametrize(("capability", "spec"), SPECS, ids=IDS)
async def test_undeclared_spec_is_refused_everywhere(
    op: Operator, capability: str, spec: sse.SseSpec
) -> None:
    lacking(op, capability)
    await op.write("existing", b"plaintext")
    enc = op.layer(ServerSideEncryptionLayer(spec))
    with pytest.raises(errors.Unsupported):
        await enc.write("new", b"must not be written")
    with pytest.raises(errors.Unsupported):
        async with enc.open("streamed", "wb") as writer:
            await writer.write(b"must not be written")
    with pytest.raises(errors.Unsupported):
        await enc.read("existing")
    with pytest.raises(errors.Unsupported):
        await enc.stat("existing")
    if op.capability().copy:
        with pytest.raises(errors.Unsupported):
            await enc.copy("existing", "copy")
    if op.capability().rename:
        with pytest.raises(errors.Unsupported):
            await enc.rename("existing", "moved")
    if op.capability().presign_read:
        with pytest.raises(errors.Unsupported):
            await enc.presign_read("existing", 60)
    assert not await op.exists("new")
    assert not await op.exists("streamed")
    assert not await op.exists("copy")
    assert not await op.exists("moved")
    assert await op.read("existing") == b"plaintext"
