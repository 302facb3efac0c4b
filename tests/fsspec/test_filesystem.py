"""The adapter's own behaviour, beyond fsspec's abstract suites: ranges,
pinning, file modes, callbacks, signing, checksums, pickling and forks."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import pickle
import urllib.request
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.callbacks import Callback

from pystorage import Operator, errors
from pystorage.fsspec import PyStorageFileSystem

from .conftest import MakeOperator

DATA = bytes(range(256)) * 400  # 102,400 bytes


def test_info_ls_find(pfs: PyStorageFileSystem, case_id: str) -> None:
    pfs.pipe({"d/a": b"1", "d/sub/b": b"22", "d/sub/deep/c": b"333", "top": b"x"})
    info = pfs.info("d/sub/b")
    assert info["name"] == "d/sub/b" and info["type"] == "file" and info["size"] == 2
    assert isinstance(info["mtime"], dt.datetime) and info["mtime"].tzinfo is not None
    assert pfs.info("d/sub")["type"] == "directory"
    assert pfs.info("pystorage://d/sub/")["type"] == "directory"
    with pytest.raises(FileNotFoundError):
        pfs.info("d/missing")
    assert pfs.ls("d", detail=False) == ["d/a", "d/sub"]
    assert pfs.ls("d/a", detail=False) == ["d/a"]
    assert pfs.find("d") == ["d/a", "d/sub/b", "d/sub/deep/c"]
    assert pfs.find("d", withdirs=True) == ["d", "d/a", "d/sub", "d/sub/b", "d/sub/deep", "d/sub/deep/c"]
    assert pfs.find("d", maxdepth=1) == ["d/a"]
    assert pfs.find("top") == ["top"]
    assert pfs.glob("d/**/c") == ["d/sub/deep/c"]
    assert pfs.du("d") == 6
    assert pfs.isdir("d") and pfs.isfile("d/a") and not pfs.exists("nothing")
    pfs.rm("d", recursive=True)
    assert not pfs.exists("d") and pfs.exists("top")


def test_cat_file_ranges(pfs: PyStorageFileSystem) -> None:
    pfs.pipe_file("blob", DATA)
    assert pfs.cat_file("blob") == DATA
    assert pfs.cat_file("blob", start=10, end=20) == DATA[10:20]
    assert pfs.cat_file("blob", start=-10) == DATA[-10:]
    assert pfs.cat_file("blob", start=5, end=-5) == DATA[5:-5]
    assert pfs.cat_file("blob", start=len(DATA) + 5) == b""
    assert pfs.cat_file("blob", start=30, end=20) == b""
    starts = [0, 100, 5000, -100, 99_000]
    ends = [10, 300, 5100, None, 200_000]
    got = pfs.cat_ranges(["blob"] * 5 + ["missing"], [*starts, 0], [*ends, 1])
    assert got[:5] == [DATA[s:e] for s, e in zip(starts, ends, strict=True)]
    assert isinstance(got[5], FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        pfs.cat_ranges(["missing"], [0], [1], on_error="raise")


def test_cat_ranges_is_one_read_ranges_call_per_file(pfs: PyStorageFileSystem, monkeypatch: Any) -> None:
    pfs.pipe_file("blob", DATA)
    calls: list[tuple[str, list[Any]]] = []
    original = Operator.read_ranges

    async def spy(self: Operator, path: str, ranges: Any, **kwargs: Any) -> list[bytes]:
        calls.append((path, list(ranges)))
        return await original(self, path, ranges, **kwargs)

    monkeypatch.setattr(Operator, "read_ranges", spy)
    assert pfs.cat_ranges(["blob"] * 3, [0, 10, 50], [5, 20, 60]) == [DATA[0:5], DATA[10:20], DATA[50:60]]
    assert calls == [("blob", [(0, 5), (10, 10), (50, 10)])]


def test_open_read_seek_and_pinning(pfs: PyStorageFileSystem) -> None:
    pfs.pipe_file("blob", DATA)
    with pfs.open("blob", "rb", block_size=4096, cache_type="readahead") as f:
        assert f.seekable() and f.size == len(DATA)
        f.seek(1000)
        assert f.read(10) == DATA[1000:1010]
        f.seek(-6, 2)
        assert f.read() == DATA[-6:]
        f.seek(0)
        assert f.read(5) == DATA[:5]
        if pfs.operator.capability().read_with_if_match:
            pfs.pipe_file("blob", b"y" * len(DATA))  # changed while open
            f.seek(50_000)
            with pytest.raises(errors.ConditionNotMatch):
                f.read(10)


def test_large_file_reads_skip_the_block_cache(pfs: PyStorageFileSystem, monkeypatch: Any) -> None:
    """A read of at least ``block_size`` bytes is one ranged read of exactly those bytes
    (no read-ahead past it); smaller reads go through the cache, and stay pinned."""
    pfs.pipe_file("blob", DATA)
    reads: list[tuple[int, int | None]] = []
    original = Operator.read

    async def spy(self: Operator, path: str, **kwargs: Any) -> bytes:
        reads.append((kwargs.get("offset", 0), kwargs.get("size")))
        return await original(self, path, **kwargs)

    monkeypatch.setattr(Operator, "read", spy)
    with pfs.open("blob", "rb", block_size=4096, cache_type="readahead") as f:
        f.seek(10_000)
        assert f.read(50_000) == DATA[10_000:60_000]
        assert reads == [(10_000, 50_000)]
        assert f.read(10) == DATA[60_000:60_010]  # a cache miss: the block read ahead
        assert reads[1] == (60_000, 10 + 4096)
        assert f.read(20) == DATA[60_010:60_030] and len(reads) == 2  # a cache hit
        f.seek(100_000)
        assert f.read() == DATA[100_000:] and reads[-1] == (100_000, len(DATA) - 100_000)  # clipped
        f.seek(0)
        assert f.read() == DATA and reads[-1] == (0, len(DATA))
        assert f.read(4096) == b""


def test_large_reads_fill_whole_rounds_of_requests() -> None:
    fs = PyStorageFileSystem(Operator("memory"), chunk=8 << 20, concurrent=4)
    assert fs._chunking(None) == {} and fs._chunking(16 << 20) == {}  # up to 2 chunks: one request
    assert fs._chunking(40 << 20) == {"chunk": 5 << 20, "concurrent": 4}  # 8 x 5 MiB, two rounds
    assert fs._chunking(32 << 20) == {"chunk": 8 << 20, "concurrent": 4}
    piece = fs._chunking(65 << 20)["chunk"]
    assert piece <= 8 << 20 and -(-(65 << 20) // piece) == 12  # three rounds of four


def test_open_write_modes(pfs: PyStorageFileSystem) -> None:
    with pfs.open("w/file", "wb", block_size=5 * 1024 * 1024) as f:
        for _ in range(3):
            f.write(DATA)
    assert pfs.cat_file("w/file") == DATA * 3
    with pytest.raises(RuntimeError), pfs.open("w/aborted", "wb") as f:
        f.write(b"never visible")
        raise RuntimeError("boom")
    assert not pfs.exists("w/aborted")
    with pytest.raises(FileExistsError):
        pfs.open("w/file", "xb")
    if pfs.operator.capability().write_with_if_not_exists:
        with pfs.open("w/new", "xb") as f:
            f.write(b"exclusive")
        assert pfs.cat_file("w/new") == b"exclusive"
    if pfs.operator.capability().write_can_append:
        with pfs.open("w/file", "ab") as f:
            f.write(b"tail")
        assert pfs.cat_file("w/file") == DATA * 3 + b"tail"
    else:
        with pytest.raises(errors.Unsupported):
            pfs.open("w/file", "ab")
        assert pfs.cat_file("w/file") == DATA * 3  # never overwritten


class _Sizes(Callback):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int | None, int]] = []

    def call(self, *args: Any, **kwargs: Any) -> None:
        self.seen.append((self.size, self.value))


def test_put_get_stream_with_callbacks(pfs: PyStorageFileSystem, tmp_path: Path) -> None:
    local = tmp_path / "up.bin"
    local.write_bytes(DATA * 30)  # ~3 MiB
    pfs.chunk = 1024 * 1024  # several pieces and parts
    up = _Sizes()
    pfs.put_file(str(local), "t/up.bin", callback=up)
    assert pfs.cat_file("t/up.bin") == DATA * 30
    assert up.seen and up.seen[-1] == (len(DATA) * 30, len(DATA) * 30)
    down = _Sizes()
    pfs.get_file("t/up.bin", str(tmp_path / "down.bin"), callback=down)
    assert (tmp_path / "down.bin").read_bytes() == DATA * 30
    assert down.seen[-1] == (len(DATA) * 30, len(DATA) * 30)
    pfs.cp_file("t/up.bin", "t/copy.bin")
    assert pfs.size("t/copy.bin") == len(DATA) * 30


def test_checksum_ukey_modified(pfs: PyStorageFileSystem) -> None:
    pfs.pipe_file("c", b"one")
    first, key = pfs.checksum("c"), pfs.ukey("c")
    assert pfs.checksum("c") == first
    modified = pfs.modified("c")
    assert modified.tzinfo is not None
    pfs.pipe_file("c", b"two, longer")
    assert pfs.checksum("c") != first and pfs.ukey("c") != key


def test_sign_presigns_a_get(case_id: str, make_operator: MakeOperator) -> None:
    if case_id != "s3-moto":
        pytest.skip("presign is tested on s3 (moto)")
    fs = PyStorageFileSystem(make_operator(case_id))
    fs.pipe_file("signed", b"signed bytes")
    url = fs.sign("signed", expiration=60)
    with urllib.request.urlopen(url) as answer:  # a 127.0.0.1 test server
        assert answer.read() == b"signed bytes"


def test_pickle_round_trip(pfs: PyStorageFileSystem, case_id: str) -> None:
    pfs.pipe_file("p", b"pickled")
    again = pickle.loads(pickle.dumps(pfs))
    assert isinstance(again, PyStorageFileSystem)
    if case_id != "memory":  # a memory operator's copy is a new, empty store
        assert again.cat_file("p") == b"pickled"
    from_options = fsspec.filesystem("pystorage", scheme="memory", root="/x/")
    assert pickle.loads(pickle.dumps(from_options)).operator.info.root == "/x/"


def test_instances_are_cached_by_recipe_not_repr(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    fs_a = PyStorageFileSystem(Operator("fs", root=str(a)))
    assert PyStorageFileSystem(Operator("fs", root=str(a))) is fs_a  # same recipe
    fs_b = PyStorageFileSystem(Operator("fs", root=str(b)))
    assert fs_b is not fs_a
    op = Operator.from_accessor(Operator("memory").accessor)  # no recipe: never cached
    assert PyStorageFileSystem(op) is not PyStorageFileSystem(op)


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="operator or scheme"):
        PyStorageFileSystem()
    with pytest.raises(errors.ConfigInvalid):
        PyStorageFileSystem(scheme="s3", bucket="b", no_such_key=1)
    with pytest.raises(TypeError):
        PyStorageFileSystem(Operator("memory"), scheme="memory")


def _child(fs: PyStorageFileSystem, queue: Any) -> None:
    try:
        fs.pipe_file("from-child", b"child")
        queue.put(("ok", fs.cat_file("shared")))
    except BaseException as exc:
        queue.put(("error", repr(exc)))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_uses_the_filesystem(case_id: str, make_operator: MakeOperator) -> None:
    if case_id not in ("s3-moto", "fs"):
        pytest.skip("fork is tested on s3-moto and fs")
    fs = PyStorageFileSystem(make_operator(case_id))
    fs.pipe_file("shared", b"parent")  # the parent's pools and fsspec's loop are live
    for i in range(20):  # cached instances: fsspec drops them in the child, whose finalisers
        PyStorageFileSystem(Operator("memory", root=f"/fork-{i}/"))  # must not wait on the parent's loop
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fs, queue))
    proc.start()
    assert fs.cat_file("shared") == b"parent"  # the parent keeps working
    status, value = queue.get(timeout=15)
    proc.join(timeout=15)
    assert status == "ok", value
    assert value == b"parent"
    assert fs.cat_file("from-child") == b"child"
