"""The Operator itself: construction, URIs, capability, info, lifecycle, presign."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import pathlib

import pytest

from pystorage import Capability, Operator, PresignedRequest, errors

from ..case import ServiceCase

pytestmark = pytest.mark.anyio


# -- construction (plain sync tests) ------------------------------------------------------------

def test_unknown_scheme() -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator("nope")
    assert "nope" in str(info.value)
    assert isinstance(info.value, errors.Error)


def test_unknown_config_key_memory() -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator("memory", bukcet="typo")
    assert "bukcet" in str(info.value)


def test_unknown_config_key_fs(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator("fs", root=str(tmp_path), roott="typo")
    assert "roott" in str(info.value)


def test_from_uri_unknown_scheme() -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator.from_uri("nope://bucket/x")
    assert "nope" in str(info.value)


def test_from_uri_unknown_query_key() -> None:
    with pytest.raises(errors.ConfigInvalid) as info:
        Operator.from_uri("memory://?bogus_key=1")
    assert "bogus_key" in str(info.value)


async def test_from_uri_memory() -> None:
    op = Operator.from_uri("memory://")
    assert op.info.scheme == "memory"
    try:
        await op.write("k", b"v")
        assert await op.read("k") == b"v"
    finally:
        await op.close()


async def test_from_uri_fs(tmp_path: pathlib.Path) -> None:
    op = Operator.from_uri(f"fs://{tmp_path}")
    assert op.info.scheme == "fs"
    try:
        await op.write("dir/file", b"on disk")
        assert (tmp_path / "dir" / "file").read_bytes() == b"on disk"
        assert await op.read("dir/file") == b"on disk"
    finally:
        await op.close()


async def test_fs_root_config(tmp_path: pathlib.Path) -> None:
    op = Operator("fs", root=str(tmp_path / "root"))
    try:
        await op.write("file", b"x")
        assert (tmp_path / "root" / "file").read_bytes() == b"x"
        assert op.info.root.rstrip("/") == str(tmp_path / "root")
    finally:
        await op.close()


async def test_memory_operators_do_not_share(random_root: str) -> None:
    a = Operator("memory", root=random_root)
    b = Operator("memory", root=random_root)
    await a.write("file", b"x")
    assert not await b.exists("file")
    await a.close()
    await b.close()


# -- capability and info --------------------------------------------------------------------------

async def test_capability_frozen(op: Operator) -> None:
    cap = op.capability()
    assert isinstance(cap, Capability)
    assert not inspect.iscoroutine(cap)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cap.read = False  # type: ignore[misc]
    assert op.capability() == cap


async def test_capability_basics(op: Operator) -> None:
    cap = op.capability()
    for name in ("read", "write", "stat", "list", "delete"):
        assert getattr(cap, name) is True, name


async def test_info(op: Operator, service_case: ServiceCase, random_root: str) -> None:
    info = op.info
    assert info.scheme == service_case.scheme
    assert info.root.startswith("/") and info.root.endswith("/")
    assert info.root.endswith("/" + random_root)
    assert isinstance(info.name, str)


async def test_async_with(op: Operator) -> None:
    async with op as entered:
        assert entered is op
        await op.write("file", b"inside")
        assert await op.read("file") == b"inside"


async def test_usable_after_close(op: Operator) -> None:
    async with op:
        await op.write("file", b"x")
    await op.close()
    await op.write("file2", b"y")
    assert await op.read("file2") == b"y"


async def test_close_without_use(op: Operator) -> None:
    await op.close()
    await op.close()
    assert op.capability().read


# -- presign ------------------------------------------------------------------------------------

PRESIGN = ["presign_read", "presign_write", "presign_stat"]


@pytest.mark.parametrize("method", PRESIGN)
async def test_presign_unsupported(op: Operator, method: str) -> None:
    if getattr(op.capability(), method):
        pytest.skip(f"has {method}")
    with pytest.raises(errors.Unsupported):
        await getattr(op, method)("file", 60)
    with pytest.raises(errors.Unsupported):
        await getattr(op, method)("file", dt.timedelta(minutes=1))


@pytest.mark.parametrize(("method", "http"), [("presign_read", "GET"), ("presign_write", "PUT"),
                                              ("presign_stat", "HEAD")])
async def test_presign(op: Operator, method: str, http: str) -> None:
    if not getattr(op.capability(), method):
        pytest.skip(f"no {method}")
    await op.write("file", b"x")
    for expire in (300, dt.timedelta(minutes=5)):
        req = await getattr(op, method)("file", expire)
        assert isinstance(req, PresignedRequest)
        assert req.method == http
        assert req.url.startswith(("http://", "https://"))
